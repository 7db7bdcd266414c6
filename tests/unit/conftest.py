# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Shared fixtures: the Tiflux simulator on loopback and fresh accounts in it."""

from __future__ import annotations

import itertools

import pytest

from ansible_collections.tokenops.tiflux.tests.simulator.tiflux_sim import start_simulator

_ids = itertools.count(1)


@pytest.fixture(scope="session")
def sim():
    simulator = start_simulator()
    yield simulator
    simulator.stop()


@pytest.fixture(scope="session")
def tls_sim(tmp_path_factory):
    simulator = start_simulator(tls=True, state_dir=str(tmp_path_factory.mktemp("tls")))
    yield simulator
    simulator.stop()


def _account(simulator, **user_fields):
    n = next(_ids)
    user = simulator.control.create_user(name="User %d" % n, email="user%d@example.com" % n, **user_fields)
    issued = simulator.control.issue_token(user["id"])
    return user, issued["token"]


@pytest.fixture
def account(sim):
    """A fresh licensed user (own quota) and one of its tokens."""
    return _account(sim)


@pytest.fixture
def make_account():
    return _account
