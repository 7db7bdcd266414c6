# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The API client against the real simulator on loopback (no mocked HTTP)."""

from __future__ import annotations

import json
import socket

import pytest

from ansible_collections.tokenops.tiflux.plugins.module_utils._api import ApiConfigError, Client, check_api_url, expectation_failure
from ansible_collections.tokenops.tiflux.plugins.module_utils._token import fingerprint
from ansible_collections.tokenops.tiflux.tests.simulator.tiflux_sim import start_simulator


class Sleeps:
    """Records waits and really sleeps a little, so retries hit the server again."""

    def __init__(self):
        self.waits = []

    def __call__(self, seconds):
        import time
        self.waits.append(seconds)
        time.sleep(min(seconds, 3.0))


def client(sim, **kwargs):
    kwargs.setdefault("allow_http", True)
    return Client(api_url=sim.info["api_url"], **kwargs)


def assert_secret_free(result, token):
    assert token not in json.dumps(result)


def test_valid_token_names_its_user(sim, account):
    user, token = account
    result = client(sim).check(token)
    assert result["status"] == "valid" and result["valid"] is True
    assert result["http_status"] == 200
    assert result["user"] == {"id": user["id"], "name": user["name"], "email": user["email"]}
    assert result["probes"] == [{"path": "/users/me", "http_status": 200, "status": "valid"}]
    assert result["fingerprint"] == fingerprint(token)
    assert user["email"] in result["message"]
    assert_secret_free(result, token)


def test_revoked_token_is_invalid_with_the_sessoes_api_remedy(sim, account):
    _user, token = account
    sim.control.revoke(token=token)
    result = client(sim).check(token)
    assert (result["status"], result["http_status"], result["valid"]) == ("invalid", 401, False)
    assert "Configurações > Minha conta > Sessões > Sessões API" in result["message"]
    assert "cannot be shown again" in result["message"]
    assert fingerprint(token) in result["message"]
    assert_secret_free(result, token)


def test_deactivated_user_makes_every_token_invalid(sim, account):
    user, token = account
    second = sim.control.issue_token(user["id"])["token"]
    sim.control.deactivate(user["id"])
    assert client(sim).check(token)["status"] == "invalid"
    assert client(sim).check(second)["status"] == "invalid"


def test_mistyped_token_is_invalid(sim, account):
    _user, token = account
    assert client(sim).check(token[:-1] + ("A" if token[-1] != "A" else "B"))["status"] == "invalid"


def test_users_probe_without_users_manage_is_forbidden(sim, account):
    _user, token = account
    result = client(sim).check(token, ["/users/me", "/users"])
    assert result["status"] == "forbidden" and result["http_status"] == 403
    assert result["user"]["id"] == _user["id"], "the /users/me probe passed before"
    assert "error_code 40301" in result["message"] and "permissions" in result["message"]
    assert [p["status"] for p in result["probes"]] == ["valid", "forbidden"]


def test_users_probe_with_users_manage_is_valid(sim, make_account):
    _user, token = make_account(sim, permissions=["users_manage"])
    assert client(sim).check(token, ["/users", "/tickets?limit=1"])["status"] == "valid"


def test_first_failing_probe_decides_and_stops(sim, account):
    _user, token = account
    sim.control.revoke(token=token)
    result = client(sim).check(token, ["/users/me", "/users", "/tickets"])
    assert len(result["probes"]) == 1 and result["status"] == "invalid"


def test_one_429_with_retry_after_is_waited_out(sim, account):
    _user, token = account
    sim.control.add_fault(kind="rate_limit", count=1, retry_after=1)
    sleeps = Sleeps()
    result = client(sim, sleep=sleeps).check(token)
    sim.control.clear_faults()
    assert result["status"] == "valid" and result["attempts"] == 2
    assert len(sleeps.waits) == 1 and 1.0 <= sleeps.waits[0] <= 2.5


def test_429_longer_than_max_retry_wait_gives_up_at_once(sim, account):
    _user, token = account
    sim.control.add_fault(kind="rate_limit", count=1, retry_after=30)
    sleeps = Sleeps()
    result = client(sim, sleep=sleeps, max_retry_wait=5).check(token)
    sim.control.clear_faults()
    assert result["status"] == "rate_limited" and result["http_status"] == 429
    assert sleeps.waits == []
    assert "shared by every token" in result["message"]


def test_real_quota_429_waits_for_ratelimit_reset():
    simulator = start_simulator(quota_per_minute=2, window_seconds=2)
    try:
        user = simulator.control.create_user(name="Q", email="q@example.com")
        token = simulator.control.issue_token(user["id"])["token"]
        sleeps = Sleeps()
        c = client(simulator, sleep=sleeps)
        statuses = [c.check(token)["status"] for _attempt in range(3)]
        assert statuses == ["valid", "valid", "valid"]
        # One wait for the window to reset (two if the machine is slow enough to straddle a window).
        assert 1 <= len(sleeps.waits) <= 2 and all(0 < w <= 2.5 for w in sleeps.waits)
        assert simulator.control.counters()["rejected_429"] >= 1
    finally:
        simulator.stop()


def test_5xx_is_retried_then_valid(sim, account):
    _user, token = account
    sim.control.add_fault(kind="status", status=503, count=2)
    sleeps = Sleeps()
    result = client(sim, sleep=sleeps).check(token)
    sim.control.clear_faults()
    assert result["status"] == "valid" and result["attempts"] == 3
    assert sleeps.waits == [0.5, 1.0]


def test_persistent_5xx_is_error_after_retries(sim, account):
    _user, token = account
    sim.control.add_fault(kind="status", status=500, count=-1)
    result = client(sim, retries=2, sleep=lambda s: None).check(token)
    sim.control.clear_faults()
    assert (result["status"], result["http_status"], result["attempts"]) == ("error", 500, 3)
    assert "try again later" in result["message"]


def test_dropped_connection_is_retried(sim, account):
    _user, token = account
    sim.control.add_fault(kind="drop", count=1)
    result = client(sim, sleep=lambda s: None).check(token)
    sim.control.clear_faults()
    assert result["status"] == "valid" and result["attempts"] == 2


def test_persistent_drop_is_unreachable(sim, account):
    _user, token = account
    sim.control.add_fault(kind="drop", count=-1)
    result = client(sim, retries=1, sleep=lambda s: None).check(token)
    sim.control.clear_faults()
    assert result["status"] == "unreachable" and result["http_status"] is None
    assert_secret_free(result, token)


def test_timeout_is_unreachable(sim, account):
    _user, token = account
    sim.control.add_fault(kind="latency", latency_ms=2500, count=-1)
    result = client(sim, timeout=1, retries=0).check(token)
    sim.control.clear_faults()
    assert result["status"] == "unreachable"
    assert "no answer" in result["message"] or "timed out" in result["message"]


def test_closed_port_is_unreachable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = Client("http://127.0.0.1:%d/api/v2" % port, allow_http=True, retries=1, sleep=lambda s: None).check("tok-en")
    assert result["status"] == "unreachable" and result["attempts"] == 2
    assert "cannot reach" in result["message"]


def test_wrong_base_path_is_error_with_hint(sim, account):
    _user, token = account
    result = Client(sim.info["url"] + "/api", allow_http=True).check(token)
    assert result["status"] == "error" and result["http_status"] == 404
    assert "/api/v2" in result["message"]


def test_self_signed_tls_fails_without_ca(tls_sim, make_account):
    _user, token = make_account(tls_sim)
    result = Client(tls_sim.info["api_url"], retries=0).check(token)
    assert result["status"] == "unreachable"
    assert "ca_path" in result["message"]
    assert Client(tls_sim.info["api_url"], ca_path=tls_sim.info["ca_path"]).check(token)["status"] == "valid"
    assert Client(tls_sim.info["api_url"], validate_certs=False).check(token)["status"] == "valid"


@pytest.mark.parametrize("url, cause", [
    ("http://api.example.com/api/v2", "plain http"),
    ("https://api.tiflux.com/api/v1", "API v1"),
    ("https://api.tiflux.com/api/v1/", "API v1"),
    ("api.tiflux.com/api/v2", "not an http(s) URL"),
    ("", "not an http(s) URL"),
])
def test_bad_api_url_is_refused(url, cause):
    with pytest.raises(ApiConfigError, match=cause.replace("(", r"\(").replace(")", r"\)")):
        check_api_url(url)


def test_http_allowed_on_request():
    assert check_api_url("http://127.0.0.1:1/api/v2/", allow_http=True) == "http://127.0.0.1:1/api/v2"


@pytest.mark.parametrize("probe", ["users/me", "https://evil.example/x", "/a b", 5])
def test_bad_probe_is_refused(sim, probe):
    with pytest.raises(ApiConfigError, match="not an API path"):
        client(sim).check("tok", [probe])


def test_expectations():
    valid = dict(status="valid", fingerprint="sha256:0", api_url="u", message="ok")
    invalid = dict(status="invalid", fingerprint="sha256:0", api_url="u", message="401 ...")
    down = dict(status="unreachable", fingerprint="sha256:0", api_url="u", message="down")
    assert expectation_failure(valid, "valid") is None
    assert expectation_failure(invalid, "valid") == "401 ..."
    assert "revoke it by hand" in expectation_failure(valid, "invalid")
    assert expectation_failure(invalid, "invalid") is None
    assert expectation_failure(down, "invalid").startswith("cannot prove")
    assert expectation_failure(down, "any") is None
