# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The API client against the real simulator on loopback (no mocked HTTP)."""

from __future__ import annotations

import http.server
import json
import socket
import ssl
import threading
import time

import pytest

from ansible_collections.tokenops.tiflux.plugins.module_utils import _api
from ansible_collections.tokenops.tiflux.plugins.module_utils._api import (
    ApiConfigError, Client, _Answer, _not_tiflux, check_api_url, expectation_failure, expiry_warning, unchecked,
)
from ansible_collections.tokenops.tiflux.plugins.module_utils._token import claims, fingerprint, utc_iso
from ansible_collections.tokenops.tiflux.tests.simulator.tiflux_sim import start_simulator


class Sleeps:
    """Records waits and really sleeps a little, so retries hit the server again."""

    def __init__(self):
        self.waits = []

    def __call__(self, seconds):
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


def test_one_429_with_retry_after_1_is_retried_after_1_second(sim, account):
    _user, token = account
    sim.control.add_fault(kind="rate_limit", count=1, retry_after=1)
    sleeps = Sleeps()
    result = client(sim, sleep=sleeps).check(token)
    sim.control.clear_faults()
    assert result["status"] == "valid" and result["attempts"] == 2
    assert sleeps.waits == [1.0], "Retry-After says how long; RateLimit-Reset and the margin do not lengthen it"


def test_429_without_retry_after_waits_for_the_reset_plus_the_margin(sim, account):
    _user, token = account
    for margin in (3.0, 0.5):
        sim.control.add_fault(kind="rate_limit", count=1, retry_after=False)
        waits = []
        before = time.time()
        result = client(sim, sleep=waits.append, rate_limit_margin=margin).check(token)
        after = time.time()
        assert result["status"] == "valid" and result["attempts"] == 2
        resets = {(before // 60 + 1) * 60, (after // 60 + 1) * 60}  # the check may straddle a minute
        assert len(waits) == 1
        assert any(reset - after + margin - 1 <= waits[0] <= reset - before + margin + 1 for reset in resets)


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
    simulator = start_simulator(quota_per_minute=2, window_seconds=5)
    try:
        user = simulator.control.create_user(name="Q", email="q@example.com")
        token = simulator.control.issue_token(user["id"])["token"]
        waits = []
        c = client(simulator, sleep=lambda s: (waits.append(s), time.sleep(s)), rate_limit_margin=0.2)
        while time.time() % 5 > 0.5:  # start with a fresh window, so the third check meets the 429
            time.sleep(0.05)
        results = [c.check(token) for _attempt in range(3)]
        assert [r["status"] for r in results] == ["valid", "valid", "valid"]
        # One wait for the window to reset, no longer than the window plus the margin.
        assert len(waits) == 1 and 0 < waits[0] <= 5.2
        assert simulator.control.counters()["rejected_429"] >= 1
        assert results[0]["quota_limit"] == 2 and results[0]["quota_remaining"] in (0, 1)
    finally:
        simulator.stop()


def test_the_clock_skew_margin_keeps_a_retry_from_coming_too_early():
    """Tiflux's clock runs behind: a retry at its RateLimit-Reset, by our clock, still lands in the old minute."""
    simulator = start_simulator(quota_per_minute=1, window_seconds=5, clock_skew_seconds=-2)
    try:
        user = simulator.control.create_user(name="Skew", email="skew@example.com")
        token = simulator.control.issue_token(user["id"])["token"]
        outcomes = {}
        for margin in (0.0, 3.0):
            while not 0.5 < (time.time() - 2) % 5 < 3.5:  # start well inside one of its windows
                time.sleep(0.2)
            Client(simulator.info["api_url"], allow_http=True).check(token)  # uses the window's one request
            waits = []
            result = client(simulator, sleep=lambda s: (waits.append(s), time.sleep(s)), rate_limit_margin=margin,
                            retries=2).check(token)
            outcomes[margin] = (result["status"], result["attempts"])
        assert outcomes[3.0] == ("valid", 2)
        assert outcomes[0.0][1] == 3, "without the margin the first retry comes before Tiflux's minute has turned"
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
    assert "cannot reach" in result["message"] and "after 2 attempts:" in result["message"]
    once = Client("http://127.0.0.1:%d/api/v2" % port, allow_http=True, retries=0).check("tok-en")
    assert "after 1 attempt:" in once["message"]


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
    dated = dict(valid, issued_at="2025-10-06T10:29:00Z")
    assert "(the session whose Data da sessão is 06/10/2025 07:29, America/Sao_Paulo time)" in expectation_failure(dated, "invalid")


# -- claims: issued_at / expires_at / expires_in_days ------------------------------------------------

def test_check_carries_the_jwt_dates_and_the_quota(sim, account):
    _user, token = account
    before = time.time()
    result = client(sim).check(token)
    payload = claims(token)
    assert result["issued_at"] == utc_iso(payload["iat"]) and result["expires_at"] == utc_iso(payload["exp"])
    assert result["expires_in_days"] in (730, 731)
    assert (result["quota_limit"], result["quota_remaining"]) == (120, 119)
    assert result["quota_reset"] in {utc_iso((before // 60 + 1) * 60), utc_iso((time.time() // 60 + 1) * 60)}
    assert expiry_warning(result, 30) is None


def test_an_opaque_token_has_no_dates(sim):
    user = sim.control.create_user(name="Opaque", email="opaque@example.com")
    token = sim.control.issue_token(user["id"], opaque=True)["token"]
    result = client(sim).check(token)
    assert result["status"] == "valid"
    assert (result["issued_at"], result["expires_at"], result["expires_in_days"]) == (None, None, None)
    assert expiry_warning(result, 30) is None


def test_a_token_expiring_in_10_days_is_valid_with_a_warning_naming_it(sim):
    user = sim.control.create_user(name="Soon", email="soon@example.com")
    token = sim.control.issue_token(user["id"], lifetime_seconds=10 * 86400)["token"]
    result = client(sim).check(token)
    assert result["status"] == "valid" and result["expires_in_days"] == 10
    warning = expiry_warning(result, 30)
    assert fingerprint(token) in warning and result["expires_at"] in warning and "in 10 days" in warning
    assert "Sessões API" in warning and token not in warning
    assert expiry_warning(result, 9) is None and expiry_warning(result, 0) is None


def test_an_expired_token_is_invalid_and_says_since_when(sim):
    user = sim.control.create_user(name="Old", email="old@example.com")
    token = sim.control.issue_token(user["id"], issued_at=int(time.time()) - 2 * 366 * 86400)["token"]
    result = client(sim).check(token)
    assert (result["status"], result["http_status"]) == ("invalid", 401)
    assert result["expires_in_days"] < 0
    assert "expired on %s" % result["expires_at"] in result["message"]
    assert "generate a new one in Configurações > Minha conta > Sessões > Sessões API" in result["message"]
    assert expiry_warning(result, 30) is None, "the failure says it; no warning on top"


def test_expired_claims_on_a_token_tiflux_still_accepts_warn(sim, account):
    _user, token = account
    result = dict(client(sim).check(token), expires_in_days=-3, expires_at="2025-01-01T00:00:00Z")
    assert "expired on 2025-01-01T00:00:00Z by its claims, but Tiflux did not reject it" in expiry_warning(result, 30)


# -- answers that are not Tiflux's ----------------------------------------------------------------------

def test_a_captive_portal_answering_200_html_never_makes_a_token_valid(sim, account):
    _user, token = account
    sim.control.revoke(token=token)
    sim.control.add_fault(kind="html", count=-1, path_prefix="/")
    try:
        result = client(sim).check(token)
    finally:
        sim.control.clear_faults()
    assert (result["status"], result["valid"], result["http_status"]) == ("error", False, 200)
    assert "an HTML page" in result["message"] and "is not Tiflux's" in result["message"]
    assert "captive portal" in result["message"] and "api_url" in result["message"]
    assert result["user"] is None


@pytest.mark.parametrize("body, content_type, reason", [
    (b'{"name": "x"}', "application/json", "JSON without the user's id"),
    (b'[{"id": 1}]', "application/json", "JSON without the user's id"),
    (b'{"id": true}', "application/json", "JSON without the user's id"),
    (b"OK", "text/plain", "not JSON (Content-Type text/plain)"),
    (b"  <html></html>", "", "an HTML page"),
])
def test_users_me_must_be_a_json_object_with_an_id(body, content_type, reason):
    answer = _Answer(200, {"Content-Type": content_type}, body)
    assert _not_tiflux("/users/me", answer) == reason
    assert _not_tiflux("/users/me", _Answer(200, {}, b'{"id": 7, "name": "Ana"}')) is None
    assert _not_tiflux("/tickets?limit=1", _Answer(200, {}, b"[]")) is None


def test_a_trickled_body_ends_as_error_within_the_timeout(sim, account):
    _user, token = account
    sim.control.add_fault(kind="trickle", interval_ms=2000)
    try:
        result = client(sim, timeout=3).check(token)
    finally:
        sim.control.clear_faults()
    assert (result["status"], result["http_status"], result["attempts"]) == ("error", 200, 1)
    assert "did not arrive whole within 3s" in result["message"]
    assert result["elapsed_ms"] < 3000 + 2500, "bounded by the timeout, not by the server (generous bound)"


@pytest.mark.parametrize("content_length", [True, False])
def test_an_oversized_body_is_error_without_being_read_whole(sim, account, content_length):
    _user, token = account
    sim.control.reset_counters()
    sim.control.add_fault(kind="oversize", size_bytes=400 << 20, content_length=content_length)
    try:
        result = client(sim, timeout=20).check(token)
    finally:
        sim.control.clear_faults()
    assert (result["status"], result["http_status"]) == ("error", 200)
    assert "larger than 1024 KiB" in result["message"]
    deadline = time.time() + 20
    while time.time() < deadline and content_length is False and not sim.control.counters()["streamed_bytes"]:
        time.sleep(0.1)
    assert sim.control.counters()["streamed_bytes"] < 64 << 20, "the client hung up long before 400 MiB"


def test_user_fields_are_redacted_like_every_output(sim):
    user = sim.control.create_user(name="Echo", email="echo@example.com")
    token = sim.control.issue_token(user["id"])["token"]
    sim.control.update_user(user["id"], name="Echo " + token, email=token + "@example.com")
    result = client(sim).check(token)
    assert result["status"] == "valid"
    assert token not in json.dumps(result)
    assert fingerprint(token) in result["user"]["name"] and fingerprint(token) in result["user"]["email"]


# -- quota excess answered with 401 (observed) ------------------------------------------------------------

def test_a_401_after_a_429_is_asked_again_and_flagged():
    simulator = start_simulator(quota_per_minute=1, window_seconds=3600, quota_excess_401_after=1)
    try:
        user = simulator.control.create_user(name="Burst", email="burst@example.com")
        token = simulator.control.issue_token(user["id"])["token"]
        if time.time() % 3600 > 3590:
            time.sleep(11)
        assert client(simulator).check(token)["status"] == "valid"
        waits = []
        result = client(simulator, sleep=waits.append, max_retry_wait=7200).check(token)
        assert (result["status"], result["attempts"]) == ("invalid", 4)
        assert len(waits) == 3, "the 401s that followed the 429 were asked again after the reset"
        assert "came after a 429" in result["message"] and "before treating the token as revoked" in result["message"]
    finally:
        simulator.stop()


def test_a_plain_401_is_not_retried(sim, account):
    _user, token = account
    sim.control.revoke(token=token)
    waits = []
    result = client(sim, sleep=waits.append).check(token)
    assert (result["status"], result["attempts"], waits) == ("invalid", 1, [])
    assert "came after a 429" not in result["message"]


# -- reach: the network path without the token ----------------------------------------------------------

def test_reach_sends_no_token_and_spends_none_of_the_users_quota(sim, account):
    user, token = account
    sim.control.reset_counters()
    result = client(sim).reach()
    assert (result["reached"], result["status"], result["http_status"]) == (True, "reached", 401)
    assert set(result) >= {"reached", "status", "http_status", "message", "elapsed_ms"}
    counters = sim.control.counters()
    assert counters["total"] == 1 and counters["by_fingerprint"] == {} and counters["by_user"] == {}
    assert counters["by_ip"] == {"127.0.0.1": 1}


def test_reach_counts_a_429_as_reached():
    simulator = start_simulator(ip_quota_per_minute=1, window_seconds=3600)
    try:
        if time.time() % 3600 > 3590:
            time.sleep(11)
        c = client(simulator, sleep=lambda s: pytest.fail("an HTTP answer is final for reach"))
        assert [c.reach()["http_status"], c.reach()["http_status"]] == [401, 429]
        assert c.reach("/tickets?limit=1")["reached"] is True
    finally:
        simulator.stop()


def test_reach_is_not_fooled_by_a_captive_portal_answering_200(sim):
    sim.control.add_fault(kind="html", count=-1, path_prefix="/")
    try:
        result = client(sim).reach()
    finally:
        sim.control.clear_faults()
    assert (result["reached"], result["status"], result["http_status"]) == (False, "unreachable", 200)
    assert "captive portal" in result["message"] and "api_url" in result["message"]


def test_reach_fails_on_transport_failures(tls_sim):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    closed = Client("http://127.0.0.1:%d/api/v2" % port, allow_http=True, retries=1, sleep=lambda s: None).reach()
    assert (closed["reached"], closed["status"], closed["http_status"], closed["attempts"]) == (False, "unreachable", None, 2)
    assert "cannot reach" in closed["message"]
    no_ca = Client(tls_sim.info["api_url"], retries=0).reach()
    assert no_ca["reached"] is False and "ca_path" in no_ca["message"]
    assert Client(tls_sim.info["api_url"], ca_path=tls_sim.info["ca_path"]).reach()["reached"] is True


def test_reach_refuses_a_bad_path(sim):
    with pytest.raises(ApiConfigError, match="not an API path"):
        client(sim).reach("https://evil.example/x")


def test_unchecked_results_carry_the_dates(account):
    _user, token = account
    result = unchecked(token)
    assert result["status"] == "unchecked" and result["issued_at"] == utc_iso(claims(token)["iat"])
    assert result["quota_limit"] is None


# -- the transport: what Python's urllib is asked to do --------------------------------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    """A server that answers every GET with ``answer`` (status, headers) and records what it was sent."""

    answer = (200, {})
    seen = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        type(self).seen.append(dict(path=self.path, headers=dict(self.headers)))
        status, headers = type(self).answer
        body = b'{"message": "from the recorder"}'
        self.send_response(status)
        for name, value in dict(headers, **{"Content-Type": "application/json", "Content-Length": str(len(body))}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def recorder():
    handler = type("Recorder", (_Recorder,), dict(seen=[]))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, handler
    server.shutdown()
    server.server_close()


def test_a_redirect_is_the_answer_and_the_token_goes_nowhere_else(sim, account, recorder):
    _user, token = account
    server, handler = recorder
    elsewhere = type("Elsewhere", (_Recorder,), dict(seen=[]))
    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), elsewhere)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        handler.answer = (302, {"Location": "http://127.0.0.1:%d/api/v2/users/me" % other.server_address[1]})
        result = Client("http://127.0.0.1:%d/api/v2" % server.server_address[1], allow_http=True, retries=0).check(token)
    finally:
        other.shutdown()
        other.server_close()
    assert (result["status"], result["http_status"]) == ("error", 302)
    assert elsewhere.seen == []
    assert handler.seen[0]["headers"]["Authorization"] == "Bearer " + token
    assert handler.seen[0]["headers"]["User-Agent"] == "tokenops.tiflux"
    assert "Content-Type" not in handler.seen[0]["headers"]  # Tiflux answers 400 to a GET with one
    assert_secret_free(result, token)


def test_proxy_settings_of_the_environment_are_used(sim, account, recorder, monkeypatch):
    _user, token = account
    server, handler = recorder
    handler.answer = (401, {})
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:%d" % server.server_address[1])
    monkeypatch.setenv("no_proxy", "")
    through_proxy = client(sim, retries=0).check(token)
    assert (through_proxy["status"], through_proxy["http_status"]) == ("invalid", 401)
    # the proxy was asked for the API's own URL
    assert handler.seen and handler.seen[0]["path"] == sim.info["api_url"] + "/users/me"
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    assert client(sim, retries=0).check(token)["status"] == "valid"


def test_system_ca_bundle_is_found_when_openssl_has_no_default_paths(tls_sim, make_account, monkeypatch):
    _user, token = make_account(tls_sim)
    monkeypatch.setattr(ssl, "get_default_verify_paths", lambda: ssl.DefaultVerifyPaths(
        "/nonexistent/cert.pem", "/nonexistent/certs", "SSL_CERT_FILE", "/nonexistent/cert.pem", "SSL_CERT_DIR",
        "/nonexistent/certs"))
    monkeypatch.setattr(_api, "CA_BUNDLES", ("/nonexistent/bundle.crt", tls_sim.info["ca_path"]))
    assert Client(tls_sim.info["api_url"], retries=0).check(token)["status"] == "valid"
    monkeypatch.setattr(_api, "CA_BUNDLES", ())
    assert Client(tls_sim.info["api_url"], retries=0).check(token)["status"] == "unreachable"
