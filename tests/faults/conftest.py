# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fixtures of the fault matrix and the leak scan: an in-process simulator, fleets of local hosts,
ansible-playbook runs of the rotate role, and faults armed after the k-th API request.

Tests marked `slow` run only with TIFLUX_INCLUDE_SLOW=1 (set by `make test-full`).
"""

from __future__ import annotations

import itertools
import json
import os
import sys

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "perf"))
sys.path.insert(0, os.path.join(REPO, "tests", "utils"))
import fleet as F  # noqa: E402  pylint: disable=wrong-import-position

tiflux_sim = F.tiflux_sim
SLOW = os.environ.get("TIFLUX_INCLUDE_SLOW") == "1"
_names = itertools.count(1)


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: longer than the fast suite allows; runs with TIFLUX_INCLUDE_SLOW=1 (make test-full)")


def pytest_collection_modifyitems(config, items):
    if SLOW:
        return
    skip = pytest.mark.skip(reason="slow: set TIFLUX_INCLUDE_SLOW=1 (make test-full)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def sim():
    simulator = tiflux_sim.start_simulator(quota_per_minute=100000)
    yield simulator
    simulator.stop()


class Armed:
    """Faults that start after the first `after` API requests (e.g. after the controller preflight).

    The faults are added through the control API (validated, given ids), then held back and put into
    the simulator's queue, under its lock, by the request that follows the `after`-th one.
    """

    def __init__(self, simulator, after, faults):
        self.after_count = after
        self.state = simulator.server.state
        ids = [simulator.control.add_fault(**fault)["id"] for fault in faults]
        with self.state.lock:
            self.pending = [f for f in self.state.faults if f["id"] in ids]
            self.state.faults = [f for f in self.state.faults if f["id"] not in ids]
        self._original = self.state._count_received
        self.state._count_received = self._hook

    def _hook(self, req, record):
        self._original(req, record)
        if self.pending and self.state.counters["total"] > self.after_count:
            self.state.faults = self.pending + self.state.faults
            self.pending = []

    def disarm(self):
        self.state._count_received = self._original


@pytest.fixture
def armed(sim):
    made = []

    def arm(after, faults):
        a = Armed(sim, after, faults)
        made.append(a)
        return a
    yield arm
    for a in made:
        a.disarm()
    sim.control.clear_faults()


@pytest.fixture
def pair(sim):
    """A fresh user (own quota) with an OLD and a NEW token."""
    sim.control.clear_faults()
    return F.issue_pair(sim.control, "Fault User %d" % next(_names))


class Rotation:
    """One fleet and the ansible-playbook runs against it."""

    def __init__(self, root, simulator, old, new):
        self.root = str(root)
        self.sim = simulator
        self.old, self.new = old, new
        self.report_dir = os.path.join(self.root, "report")
        os.makedirs(self.report_dir)
        self.fleet = None

    def make_fleet(self, n=3, **kwargs):
        api_url = kwargs.pop("api_url", self.sim.info["api_url"])
        self.fleet = F.Fleet(self.root, n, self.old, self.new, api_url, **kwargs)
        return self.fleet

    def snapshot(self):
        return dict((h, self.fleet.state(h)) for h in self.fleet.hosts)

    def run(self, playbook="tokenops.tiflux.rotate", old=True, extra=None, env=None, args=(), timeout=600):
        data = dict(rotate_new_token=self.new, rotate_report_dir=self.report_dir, rotate_api_calls_per_minute=100000,
                    rotate_max_retry_wait=10, rotate_serial=["100%"])
        if old:
            data["rotate_old_token"] = self.old
        data.update(extra or {})
        varfile = F.write_secret_vars(self.root, "vars.json", data)
        try:
            rc, seconds, out = F.run_playbook(self.root, playbook, self.fleet.inventory, [varfile], list(args),
                                              env=F.ansible_env(self.root, **(env or {})), timeout=timeout)
        finally:
            os.unlink(varfile)
        self.last = dict(rc=rc, seconds=seconds, out=out)
        return self.last

    def report(self, phase="deploy"):
        path = os.path.join(self.report_dir, "rotate-%s.json" % phase)
        if not os.path.exists(path):
            return None
        with open(path) as handle:
            return json.load(handle)

    def clear_report(self):
        for name in os.listdir(self.report_dir):
            os.unlink(os.path.join(self.report_dir, name))


@pytest.fixture
def rotation(tmp_path, sim, pair):
    _user, old, new = pair
    sim.control.clear_faults()
    sim.control.reset_counters()
    return Rotation(tmp_path, sim, old, new)
