# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import time

import pytest

from ansible import constants as C
from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import lookup_loader

from ansible_collections.tokenops.tiflux.plugins.module_utils._token import claims, fingerprint, utc_iso


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


# -- claims, expiry warnings, quota ----------------------------------------------------------------

@pytest.fixture
def warnings(monkeypatch, lookup):
    seen = []
    module = __import__(type(lookup).__module__, fromlist=["display"])
    monkeypatch.setattr(module.display, "warning", seen.append)
    return seen


def test_info_carries_the_jwt_dates_and_the_quota(sim, account, lookup, warnings):
    _user, token = account
    [info] = lookup.run([token], variables={}, result="info", **opts(sim))
    payload = claims(token)
    assert (info["issued_at"], info["expires_at"]) == (utc_iso(payload["iat"]), utc_iso(payload["exp"]))
    assert info["expires_in_days"] in (730, 731)
    assert (info["quota_limit"], info["quota_remaining"]) == (120, 119) and info["quota_reset"].endswith(":00Z")
    assert warnings == []


def test_opaque_tokens_have_null_dates(sim, lookup):
    user = sim.control.create_user(name="Opaque lookup", email="opaque.lookup@example.com")
    token = sim.control.issue_token(user["id"], opaque=True)["token"]
    [info] = lookup.run([token], variables={}, result="info", **opts(sim))
    assert info["status"] == "valid" and (info["issued_at"], info["expires_at"], info["expires_in_days"]) == (None, None, None)


def test_a_token_expiring_in_10_days_passes_with_one_warning(sim, lookup, warnings):
    user = sim.control.create_user(name="Soon lookup", email="soon.lookup@example.com")
    token = sim.control.issue_token(user["id"], lifetime_seconds=10 * 86400)["token"]
    assert lookup.run([token], variables={}, **opts(sim)) == [token]
    [info] = lookup.run([token], variables={}, result="info", **opts(sim))
    assert info["status"] == "valid" and info["expires_in_days"] == 10
    assert len(warnings) == 2 and fingerprint(token) in warnings[0] and info["expires_at"] in warnings[0]
    assert token not in " ".join(warnings)
    lookup.run([token], variables={}, expiry_warning_days=5, **opts(sim))
    assert len(warnings) == 2, "not within 5 days"


def test_an_expired_token_fails_saying_so(sim, lookup, warnings):
    user = sim.control.create_user(name="Expired lookup", email="expired.lookup@example.com")
    token = sim.control.issue_token(user["id"], issued_at=int(time.time()) - 2 * 366 * 86400)["token"]
    with pytest.raises(AnsibleLookupError, match="expired on 20"):
        lookup.run([token], variables={}, **opts(sim))
    [info] = lookup.run([token], variables={}, result="info", **opts(sim))
    assert info["status"] == "invalid" and info["expires_in_days"] < 0
    assert warnings == []


def test_check_false_still_reads_the_dates(account, lookup, warnings):
    _user, token = account
    [info] = lookup.run([token], variables={}, result="info", check=False)
    assert info["status"] == "unchecked" and info["expires_at"] == utc_iso(claims(token)["exp"])


def test_a_captive_portal_never_lets_the_token_through(sim, account, lookup):
    _user, token = account
    sim.control.add_fault(kind="html", count=-1, path_prefix="/")
    try:
        with pytest.raises(AnsibleLookupError, match="is not Tiflux's"):
            lookup.run([token], variables={}, **opts(sim))
    finally:
        sim.control.clear_faults()


def test_the_pacer_learns_the_quota_from_the_check(sim, account, lookup, tmp_path):
    _user, token = account
    lookup.run([token], variables={}, result="info", quota_reserve=30, **opts(sim))
    ledger = json.loads((tmp_path / "tokenops_tiflux_pace.json").read_text())
    assert ledger["seen"]["limit"] == 120 and ledger["seen"]["remaining"] == 119
    assert len(ledger["stamps"]) == 1
