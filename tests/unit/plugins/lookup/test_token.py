# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

import pytest

from ansible import constants as C
from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import lookup_loader

from ansible_collections.tokenops.tiflux.plugins.module_utils._token import fingerprint


@pytest.fixture(autouse=True)
def run_tmp(tmp_path, monkeypatch):
    """Each test is its own 'run': a fresh per-run temp dir for the check cache."""
    monkeypatch.setattr(C, "DEFAULT_LOCAL_TMP", str(tmp_path))


@pytest.fixture
def lookup():
    return lookup_loader.get("tokenops.tiflux.token")


def opts(sim, **kwargs):
    kwargs.setdefault("api_url", sim.info["api_url"])
    kwargs.setdefault("allow_http", True)
    return kwargs


def api_requests(sim, token):
    return sim.control.counters()["by_fingerprint"].get(fingerprint(token), 0)


def test_returns_the_normalised_token_after_a_passing_check(sim, account, lookup):
    _user, token = account
    assert lookup.run([token + "\n"], variables={}, **opts(sim)) == [token]


def test_info_describes_without_the_token(sim, account, lookup):
    user, token = account
    [info] = lookup.run([token], variables={}, result="info", **opts(sim))
    assert info["status"] == "valid" and info["user"]["email"] == user["email"]
    assert info["fingerprint"] == fingerprint(token)
    assert token not in json.dumps(info)


def test_failing_check_raises_with_fingerprint_and_remedy(sim, account, lookup):
    _user, token = account
    sim.control.revoke(token=token)
    with pytest.raises(AnsibleLookupError) as err:
        lookup.run([token], variables={}, **opts(sim))
    assert fingerprint(token) in str(err.value) and "Sessões API" in str(err.value)
    assert token not in str(err.value)


def test_one_api_call_per_distinct_token_per_run(sim, make_account, lookup):
    (_u1, first), (_u2, second) = make_account(sim), make_account(sim)
    for _round in range(5):
        lookup.run([first, second, first], variables={}, result="info", **opts(sim))
    assert (api_requests(sim, first), api_requests(sim, second)) == (1, 1)


def test_variables_configure_the_connection(sim, account, lookup):
    _user, token = account
    variables = {"ansible_tiflux_api_url": sim.info["api_url"], "ansible_tiflux_allow_http": True}
    assert lookup.run([token], variables=variables, result="info")[0]["status"] == "valid"


def test_check_false_validates_shape_only(sim, account, lookup):
    _user, token = account
    [info] = lookup.run([token], variables={}, result="info", check=False, **opts(sim))
    assert info["status"] == "unchecked" and info["fingerprint"] == fingerprint(token)
    assert api_requests(sim, token) == 0
    assert lookup.run([" " + token], variables={}, check=False) == [token]


@pytest.mark.parametrize("term, cause", [("", "is empty"), ("ab cd", "whitespace"), (None, "is missing")])
def test_bad_token_is_a_clear_error(lookup, term, cause):
    with pytest.raises(AnsibleLookupError, match=cause):
        lookup.run([term], variables={}, check=False)


def test_v1_url_is_refused(lookup):
    with pytest.raises(AnsibleLookupError, match="API v1"):
        lookup.run(["tok"], variables={}, api_url="https://api.tiflux.com/api/v1")


def test_http_url_is_refused_unless_allowed(sim, lookup):
    with pytest.raises(AnsibleLookupError, match="plain http"):
        lookup.run(["tok"], variables={}, api_url=sim.info["api_url"])


def test_cached_false_asks_again_and_sees_a_revocation(sim, account, lookup):
    _user, token = account
    assert lookup.run([token], variables={}, result="info", **opts(sim))[0]["status"] == "valid"
    sim.control.revoke(token=token)
    assert lookup.run([token], variables={}, result="info", **opts(sim))[0]["status"] == "valid", "cached"
    assert lookup.run([token], variables={}, result="info", cached=False, **opts(sim))[0]["status"] == "invalid"
    assert lookup.run([token], variables={}, result="info", **opts(sim))[0]["status"] == "invalid", "replaced"
    assert api_requests(sim, token) == 2
