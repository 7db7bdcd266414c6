"""Tests of the Tiflux API v2 simulator itself: a real server on 127.0.0.1, real HTTP via urllib."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import os
import signal
import ssl
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # importable by path, whatever pytest's import mode
import tiflux_sim  # noqa: E402

SIM_SCRIPT = str(HERE / "tiflux_sim.py")
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never via a proxy
INVALID = {"error_code": 40101, "message": "Token de API inválido ou expirado", "detail": {}}
NOT_FOUND = {"error_code": 40401, "message": "not found", "detail": {}}


@pytest.fixture(scope="module")
def sim():
    simulator = tiflux_sim.start_simulator()
    yield simulator
    simulator.stop()


@pytest.fixture(autouse=True)
def clean(sim):
    sim.control.reset()


@pytest.fixture
def ctl(sim):
    return sim.control


@pytest.fixture
def user(ctl):
    return ctl.create_user("Ana Souza", "ana@example.com.br")


@pytest.fixture
def token(ctl, user):
    return ctl.issue_token(user["id"])["token"]


def call(url, token=None, method="GET", headers=None, opener=DIRECT, data=None):
    """(status, headers, decoded JSON body) of one request; HTTP errors are answers too."""
    headers = dict(headers or {})
    if token:
        headers["Authorization"] = "Bearer " + token
    request = urllib.request.Request(url, method=method, headers=headers, data=data)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.headers, json.loads(exc.read())


@pytest.fixture
def api(sim):
    return lambda path, token=None, **kw: call(sim.info["api_url"] + path, token, **kw)


def next_minute_iso(now):
    return tiflux_sim.utc_iso((now // 60 + 1) * 60)


# -- API behaviour -------------------------------------------------------------------------------

def test_me_answers_the_tokens_user_and_records_last_use(ctl, api, user, token):
    assert ctl.tokens(user["id"])[0]["last_used_at"] is None
    before = time.time()
    status, headers, body = api("/users/me", token)
    assert status == 200
    assert body == {"id": user["id"], "name": "Ana Souza", "email": "ana@example.com.br"}
    assert headers["RateLimit-Limit"] == "120" and headers["RateLimit-Remaining"] == "119"
    assert headers["RateLimit-Reset"] in {next_minute_iso(before), next_minute_iso(time.time())}
    assert ctl.tokens(user["id"])[0]["last_used_at"] is not None


@pytest.mark.parametrize("authorization", [None, "", "Basic abc", "Bearer", "Bearer unknown-token", "Bearer a b"])
def test_missing_malformed_or_unknown_credentials_are_401(api, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    assert api("/users/me", headers=headers)[::2] == (401, INVALID)


def test_revoked_tokens_are_401_at_once_and_others_keep_working(ctl, api, user):
    issued = [ctl.issue_token(user["id"]) for dummy in range(4)]
    assert len({t["token"] for t in issued}) == 4
    assert all(api("/users/me", t["token"])[0] == 200 for t in issued)

    ctl.revoke(token=issued[0]["token"])
    ctl.revoke(token_id=issued[1]["id"])
    ctl.revoke(fingerprint=issued[2]["fingerprint"])

    assert [api("/users/me", t["token"])[0] for t in issued] == [401, 401, 401, 200]
    assert [t["revoked"] for t in ctl.tokens(user["id"])] == [True, True, True, False]
    with pytest.raises(tiflux_sim.SimControlError) as err:
        ctl.revoke(token="never-issued")
    assert err.value.status == 404


def test_deactivated_user_tokens_are_401_until_reactivated(ctl, api, user):
    tokens = [ctl.issue_token(user["id"])["token"] for dummy in range(2)]
    ctl.deactivate(user["id"])
    assert [api("/users/me", t)[::2] for t in tokens] == [(401, INVALID)] * 2
    ctl.activate(user["id"])
    assert [api("/users/me", t)[0] for t in tokens] == [200, 200]


@pytest.mark.parametrize("use_token", [True, False])
def test_api_v1_rejects_v2_tokens(api, sim, token, use_token):
    status, body = call(sim.info["url"] + "/api/v1/users/me", token if use_token else None)[::2]
    assert (status, body["error_code"]) == (401, 40100)


def test_users_list_needs_users_manage(ctl, api, user, token):
    status, body = api("/users", token)[::2]
    assert (status, body["error_code"]) == (403, 40301)
    ctl.update_user(user["id"], permissions=["users_manage"])
    status, headers, body = api("/users", token)
    assert status == 200 and headers["X-Total-Items"] == "1"
    assert body == [{"id": user["id"], "name": "Ana Souza", "email": "ana@example.com.br", "active": True}]


@pytest.mark.parametrize("path, numbers", [
    ("/tickets", list(range(1, 21))),
    ("/tickets?offset=3", list(range(41, 46))),
    ("/tickets?offset=2&limit=10", list(range(11, 21))),
    ("/tickets?limit=200", list(range(1, 46))),
    ("/tickets?offset=4", []),
])
def test_tickets_pagination(api, token, path, numbers):
    status, headers, body = api(path, token)
    assert status == 200 and headers["X-Total-Items"] == "45"
    assert [t["ticket_number"] for t in body] == numbers


@pytest.mark.parametrize("path, total", [("/desks", 5), ("/clients", 12)])
def test_other_lists_are_bare_arrays_with_totals(api, token, path, total):
    status, headers, body = api(path + "?limit=200", token)
    assert (status, headers["X-Total-Items"], len(body)) == (200, str(total), total)
    assert body == api(path + "?limit=200", token)[2]  # deterministic fixtures


@pytest.mark.parametrize("query, code", [
    ("limit=201", 42202), ("limit=0", 42202), ("offset=0", 42202),
    ("offset=abc", 42201), ("limit=1.5", 42201), ("limit=", 42201), ("limit=%2B5", 42201),
])
def test_pagination_errors_are_422(api, token, query, code):
    status, body = api("/tickets?" + query, token)[::2]
    assert (status, body["error_code"]) == (422, code)


def test_ticket_by_number(api, token):
    assert api("/tickets/7", token)[2]["ticket_number"] == 7
    assert api("/tickets/999", token)[::2] == (404, NOT_FOUND)


def test_get_with_json_content_type_is_400_after_auth(api, token):
    json_type = {"Content-Type": "application/json; charset=utf-8"}
    assert api("/users/me", headers=json_type)[0] == 401
    assert api("/users/me", token, headers=json_type)[::2] == (
        400, {"error_code": 40001, "message": "unpermitted parameter", "detail": {"content_type": ["unpermitted parameter"]}})


def test_unknown_paths_and_methods(api, token):
    assert api("/nope", token)[::2] == (404, NOT_FOUND)
    status, headers, body = api("/users/me", token, method="POST", data=b"")
    assert (status, body["error_code"], headers["Allow"]) == (405, 40500, "GET")


# -- quota -------------------------------------------------------------------------------------

def test_quota_is_per_user_shared_by_its_tokens_and_resets_with_the_window(ctl, api, user):
    ctl.set_config(quota_per_minute=3, window_seconds=2)
    tokens = [ctl.issue_token(user["id"])["token"] for dummy in range(2)]
    other = ctl.issue_token(ctl.create_user("Bia", "bia@example.com.br")["id"])["token"]
    time.sleep(2 - time.time() % 2 + 0.02)  # start at a window boundary so all calls share one window
    window_end = (time.time() // 2 + 1) * 2

    remaining = [api("/users/me", tokens[i % 2])[1]["RateLimit-Remaining"] for i in range(3)]
    assert remaining == ["2", "1", "0"]
    status, headers, body = api("/users/me", tokens[0])
    assert (status, body["error_code"]) == (429, 42901)
    assert "Retry-After" not in headers  # documented headers only, unless quota_retry_after
    assert headers["RateLimit-Remaining"] == "0" and headers["RateLimit-Limit"] == "3"
    assert headers["RateLimit-Reset"] == tiflux_sim.utc_iso(window_end)
    assert api("/users/me", tokens[1])[0] == 429  # rejected again: a 429 consumes nothing
    assert api("/users/me", other)[0] == 200  # another user has its own quota

    time.sleep(window_end - time.time() + 0.02)
    status, headers = api("/users/me", tokens[0])[:2]
    assert (status, headers["RateLimit-Remaining"]) == (200, "2")

    counters = ctl.counters()
    assert counters["rejected_429"] == 2
    assert sum(counters["per_minute"][str(user["id"])].values()) == 4


def test_quota_holds_under_concurrent_requests(ctl, api, user, token):
    ctl.set_config(quota_per_minute=25, window_seconds=3600)
    if time.time() % 3600 > 3598:  # keep the burst inside one window
        time.sleep(3)
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = sorted(pool.map(lambda dummy: api("/users/me", token)[0], range(40)))
    assert statuses == [200] * 25 + [429] * 15
    assert ctl.counters()["rejected_429"] == 15


# -- faults ------------------------------------------------------------------------------------

def test_status_fault_answers_before_auth_then_runs_out(ctl, api, token):
    ctl.add_fault(kind="status", status=503, count=2)
    fault_body = {"error_code": 50300, "message": "simulated fault", "detail": {}}
    assert api("/users/me")[::2] == (503, fault_body)  # faults come before auth
    assert api("/users/me", token)[::2] == (503, fault_body)
    assert api("/users/me", token)[0] == 200
    assert ctl.faults() == []


def test_drop_fault_closes_the_connection_without_answer(ctl, api, token):
    ctl.add_fault(kind="drop")
    with pytest.raises((urllib.error.URLError, http.client.HTTPException, ConnectionError)):
        api("/users/me", token)
    assert api("/users/me", token)[0] == 200
    assert ctl.counters()["dropped"] == 1


def test_latency_fault_delays_then_answers_normally(ctl, api, token):
    ctl.add_fault(kind="latency", latency_ms=300)
    started = time.monotonic()
    assert api("/users/me", token)[0] == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    api("/users/me", token)
    assert time.monotonic() - started < 0.25


def test_rate_limit_fault_asks_to_retry_after_one_second_without_using_quota(ctl, api, token):
    ctl.add_fault(kind="rate_limit")
    now = time.time()
    status, headers, body = api("/users/me", token)
    assert (status, body["error_code"], headers["Retry-After"], headers["RateLimit-Remaining"]) == (429, 42901, "1", "0")
    reset = datetime.strptime(headers["RateLimit-Reset"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    assert now + 1 <= reset <= now + 3
    assert api("/users/me", token)[1]["RateLimit-Remaining"] == "119"


def test_fault_until_cleared_only_on_its_path_prefix(ctl, api, token):
    ctl.add_fault(kind="status", status=500, count=-1, path_prefix="/api/v2/tickets")
    assert [api("/tickets", token)[0] for dummy in range(3)] == [500, 500, 500]
    assert api("/users/me", token)[0] == 200
    assert ctl.faults()[0]["count"] == -1
    assert ctl.clear_faults() == {"cleared": 1}
    assert api("/tickets", token)[0] == 200


@pytest.mark.parametrize("fault", [
    {"kind": "bogus"}, {"kind": "status"}, {"kind": "status", "status": 200}, {"kind": "drop", "status": 500},
    {"kind": "latency", "latency_ms": -1}, {"kind": "drop", "count": 0}, {"kind": "drop", "path_prefix": "/_sim/"},
])
def test_invalid_faults_are_400(ctl, fault):
    with pytest.raises(tiflux_sim.SimControlError) as err:
        ctl.add_fault(**fault)
    assert err.value.status == 400


# -- TLS ---------------------------------------------------------------------------------------

def test_tls_needs_the_generated_ca(tmp_path):
    with tiflux_sim.start_simulator(tls=True, state_dir=str(tmp_path / "state")) as tls_sim:
        info = tls_sim.info
        assert info["url"].startswith("https://") and Path(info["ca_path"]).parent == tmp_path / "state"
        assert stat.S_IMODE(os.stat(tmp_path / "state" / "server.key").st_mode) == 0o600
        token = tls_sim.control.issue_token(tls_sim.control.create_user("Ana", "ana@example.com.br")["id"])["token"]

        with pytest.raises(urllib.error.URLError) as err:
            call(info["api_url"] + "/users/me", token)
        assert isinstance(err.value.reason, ssl.SSLCertVerificationError)

        trusting = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=info["ca_path"])))
        assert call(info["api_url"] + "/users/me", token, opener=trusting)[0] == 200
        assert call(info["url"].replace("127.0.0.1", "localhost") + "/api/v2/users/me", token, opener=trusting)[0] == 200


# -- control API -------------------------------------------------------------------------------

def test_counters_count_every_api_request(ctl, api, user, token):
    api("/users/me", token)
    api("/users/me", token)
    api("/users/me", "not-a-token")
    api("/nope", token)
    call(ctl.url + "/api/v1/users", token)
    counters = ctl.counters()
    token_id = str(ctl.tokens(user["id"])[0]["id"])
    fp = tiflux_sim.fingerprint(token)
    assert counters["total"] == 5
    assert counters["by_status"] == {"200": 2, "401": 2, "404": 1}
    assert counters["by_path"] == {"/api/v2/users/me": 3, "/api/v2/nope": 1, "/api/v1/users": 1}
    assert counters["by_token"] == {token_id: 4}
    assert counters["by_fingerprint"] == {fp: 4, tiflux_sim.fingerprint("not-a-token"): 1}
    assert counters["by_user"] == {str(user["id"]): 4}
    assert counters["by_ip"] == {"127.0.0.1": 1}  # the unknown token; v1 is refused before auth
    assert sum(counters["per_minute"][str(user["id"])].values()) == 3  # v1 and 401s use no quota
    assert counters["max_per_minute"][str(user["id"])] in (2, 3)
    ctl.reset_counters()
    assert ctl.counters()["total"] == 0 and ctl.counters()["by_status"] == {}


def test_tokens_need_the_licence_and_an_active_user(ctl):
    unlicensed = ctl.create_user("Caio", "caio@example.com.br", licensed=False)
    with pytest.raises(tiflux_sim.SimControlError) as err:
        ctl.issue_token(unlicensed["id"])
    assert err.value.status == 409 and 'licence \\"API por usuário\\" is not assigned to this user' in str(err.value)
    inactive = ctl.create_user("Duda", "duda@example.com.br", active=False)
    with pytest.raises(tiflux_sim.SimControlError) as err:
        ctl.issue_token(inactive["id"])
    assert err.value.status == 409
    ctl.update_user(unlicensed["id"], licensed=True)
    assert ctl.issue_token(unlicensed["id"])["user_id"] == unlicensed["id"]


def test_token_value_only_in_the_issuing_answer(ctl, api, user, caplog):
    caplog.set_level(logging.INFO, logger="tiflux_sim")
    issued = ctl.issue_token(user["id"])
    value = issued["token"]
    assert tiflux_sim.fingerprint(value) == issued["fingerprint"]
    api("/users/me?probe=" + value, value)
    api("/users/me", "Bearer " + value)
    answers = [ctl.users(), ctl.user(user["id"]), ctl.tokens(user["id"]), ctl.counters(), ctl.faults(), ctl.config(),
               ctl.revoke(token=value), ctl.reset_counters()]
    assert value not in json.dumps(answers)
    assert issued["fingerprint"] in caplog.text
    assert all(piece not in caplog.text for piece in (value, value[:12], value[-12:]))  # not even in part


def test_control_api_needs_the_admin_key(sim, ctl):
    url = sim.info["url"]
    assert call(url + "/_sim/health")[::2] == (200, {"ok": True})
    assert call(url + "/_sim/users")[::2] == (403, {"error": "admin key required"})
    assert call(url + "/_sim/users", headers={"X-Sim-Admin-Key": "wrong"})[0] == 403
    with pytest.raises(tiflux_sim.SimControlError) as err:
        tiflux_sim.SimControl(url, "wrong").users()
    assert err.value.status == 403


def test_reset_wipes_everything(ctl, user, token):
    ctl.add_fault(kind="drop", count=-1)
    ctl.set_config(quota_per_minute=1)
    ctl.reset()
    assert (ctl.users(), ctl.faults(), ctl.config()) == ([], [], tiflux_sim.CONFIG_DEFAULTS)
    assert ctl.counters()["total"] == 0


def test_user_patch_and_detail(ctl, user, token):
    detail = ctl.update_user(user["id"], name="Ana S.", permissions=["users_manage"])
    assert (detail["name"], detail["permissions"], len(detail["tokens"])) == ("Ana S.", ["users_manage"], 1)
    assert set(detail["tokens"][0]) == {"id", "user_id", "created_at", "expires_at", "expired", "last_used_at", "revoked",
                                        "revoked_reason", "device", "ip", "jwt", "fingerprint"}
    with pytest.raises(tiflux_sim.SimControlError) as err:
        ctl.update_user(user["id"], admin=True)
    assert err.value.status == 400


# -- CLI ---------------------------------------------------------------------------------------

def run_ctl(info_file, *args, check=True):
    done = subprocess.run([sys.executable, SIM_SCRIPT, "ctl", "--info-file", str(info_file), *args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=20, check=False)
    assert not check or done.returncode == 0, done.stderr
    return json.loads(done.stdout) if check else done


def test_cli_serve_and_ctl(tmp_path):
    info_file = tmp_path / "sim.json"
    server = subprocess.Popen([sys.executable, SIM_SCRIPT, "serve", "--port", "0", "--info-file", str(info_file), "--verbose"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        info = json.loads(server.stdout.readline())
        assert set(info) == {"url", "api_url", "admin_key", "ca_path", "pid"}
        assert info["pid"] == server.pid and info["ca_path"] is None and not info["url"].endswith(":0")
        assert json.loads(info_file.read_text()) == info
        assert stat.S_IMODE(info_file.stat().st_mode) == 0o600

        assert run_ctl(info_file, "wait-ready") == {"ok": True}
        user = run_ctl(info_file, "create-user", "--name", "Ana", "--email", "ana@example.com.br", "--permission", "users_manage")
        assert user["permissions"] == ["users_manage"] and user["licensed"] is True
        issued = run_ctl(info_file, "issue-token", "--user-id", str(user["id"]))
        assert call(info["api_url"] + "/users", issued["token"])[0] == 200

        run_ctl(info_file, "fault", "--kind", "status", "--status", "502")
        assert call(info["api_url"] + "/users/me", issued["token"])[0] == 502
        assert run_ctl(info_file, "config", "--quota-per-minute", "5")["quota_per_minute"] == 5

        token_file = tmp_path / "token"
        token_file.write_text(issued["token"] + "\n")
        assert run_ctl(info_file, "revoke", "--token-file", str(token_file))["revoked"] is True
        assert call(info["api_url"] + "/users/me", issued["token"])[0] == 401
        assert run_ctl(info_file, "tokens", "--user-id", str(user["id"]))[0]["revoked"] is True
        assert run_ctl(info_file, "counters")["by_status"] == {"200": 1, "401": 1, "502": 1}

        failed = run_ctl(info_file, "revoke", "--token-id", "999", check=False)
        assert failed.returncode == 1 and "404" in failed.stderr
        by_url = subprocess.run([sys.executable, SIM_SCRIPT, "ctl", "--url", info["url"], "--admin-key", info["admin_key"],
                                 "deactivate", "--user-id", str(user["id"])], stdout=subprocess.PIPE, text=True, timeout=20, check=True)
        assert json.loads(by_url.stdout)["active"] is False
    finally:
        server.send_signal(signal.SIGTERM)
        stderr = server.communicate(timeout=10)[1]
    assert server.returncode == 0
    assert not info_file.exists()
    assert issued["fingerprint"] in stderr and issued["token"] not in stderr


# -- facts from the shared API notes, one test each (README.md lists them with their sources) ----

def decode_jwt(token):
    """(header, claims, signing input, signature) of a compact JWT, without any secret."""
    import base64

    def part(text):
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

    head, body, signature = token.split(".")
    return json.loads(part(head)), json.loads(part(body)), (head + "." + body).encode(), part(signature)


def test_tokens_are_hs256_jwts_with_tifluxs_claims_and_two_years_of_life(sim, ctl, user):
    before = int(time.time())
    issued = ctl.issue_token(user["id"])
    header, claims, signing_input, signature = decode_jwt(issued["token"])
    assert header == {"alg": "HS256"}
    assert set(claims) == {"jti", "sub", "scp", "aud", "iat", "exp", "req_limit"}
    assert str(uuid.UUID(claims["jti"])) == claims["jti"]
    assert (claims["sub"], claims["scp"], claims["aud"], claims["req_limit"]) == (str(user["id"]), "user", None, 120)
    assert before <= claims["iat"] <= time.time()
    made = datetime.fromtimestamp(claims["iat"], timezone.utc)
    assert datetime.fromtimestamp(claims["exp"], timezone.utc) == made.replace(year=made.year + 2)
    assert hmac.new(sim.server.state.secret, signing_input, hashlib.sha256).digest() == signature
    assert issued["jwt"] is True and issued["expires_at"] == tiflux_sim.utc_iso(claims["exp"])


def test_two_years_from_29_february_ends_on_28_february():
    leap = int(datetime(2024, 2, 29, 10, 0, tzinfo=timezone.utc).timestamp())
    assert tiflux_sim.utc_iso(tiflux_sim.two_years_after(leap)) == "2026-02-28T10:00:00Z"


def test_lifetime_issue_date_and_opaque_tokens_on_request(ctl, api, user):
    short = ctl.issue_token(user["id"], lifetime_seconds=10 * 86400)
    claims = decode_jwt(short["token"])[1]
    assert claims["exp"] - claims["iat"] == 10 * 86400
    old = ctl.issue_token(user["id"], issued_at="2025-10-06T10:29:00Z")
    assert decode_jwt(old["token"])[1]["iat"] == 1759746540 and old["created_at"] == "2025-10-06T10:29:00Z"
    opaque = ctl.issue_token(user["id"], opaque=True)
    assert opaque["jwt"] is False and opaque["token"].count(".") == 0
    assert [api("/users/me", t["token"])[0] for t in (short, old, opaque)] == [200, 200, 200]
    ctl.set_config(token_lifetime_seconds=3600)
    claims = decode_jwt(ctl.issue_token(user["id"])["token"])[1]
    assert claims["exp"] - claims["iat"] == 3600


def test_req_limit_claim_follows_the_quota(ctl, user):
    ctl.set_config(quota_per_minute=7)
    assert decode_jwt(ctl.issue_token(user["id"])["token"])[1]["req_limit"] == 7


def test_a_token_past_exp_is_401_at_once(ctl, api, user):
    expired = ctl.issue_token(user["id"], issued_at=int(time.time()) - 2 * 366 * 86400)
    assert expired["expired"] is True
    assert api("/users/me", expired["token"])[::2] == (401, INVALID)
    soon = ctl.issue_token(user["id"], lifetime_seconds=2)
    assert api("/users/me", soon["token"])[0] == 200
    time.sleep(2.2)
    assert api("/users/me", soon["token"])[::2] == (401, INVALID)
    assert [t["expired"] for t in ctl.tokens(user["id"]) if t["id"] == soon["id"]] == [True]


def test_a_new_token_from_the_same_device_invalidates_its_previous_one_at_once(ctl, api, user):
    first = ctl.issue_token(user["id"], device="Chrome no Windows", ip="200.150.10.1")
    other = ctl.issue_token(user["id"], device="Firefox no Linux")
    assert api("/users/me", first["token"])[0] == 200
    second = ctl.issue_token(user["id"], device="Chrome no Windows")
    assert api("/users/me", first["token"])[::2] == (401, INVALID)
    assert [api("/users/me", t["token"])[0] for t in (second, other)] == [200, 200]
    replaced = [t for t in ctl.tokens(user["id"]) if t["id"] == first["id"]][0]
    assert (replaced["revoked"], replaced["revoked_reason"]) == (True, "replaced")
    # another user's session on the same browser is its own
    bia = ctl.create_user("Bia", "bia@example.com.br")
    ctl.issue_token(bia["id"], device="Chrome no Windows")
    assert api("/users/me", second["token"])[0] == 200


def test_sessoes_api_lists_device_ip_and_data_da_sessao_in_local_time(ctl, user):
    ctl.issue_token(user["id"], device="Chrome no Windows", ip="200.150.10.1", issued_at="2025-10-06T10:29:00Z")
    ctl.issue_token(user["id"], device="Firefox no Windows", issued_at="2025-10-06T18:13:00Z")
    sessions = ctl.sessions(user["id"])
    assert [(s["device"], s["ip"], s["data_da_sessao"]) for s in sessions] == [
        ("Firefox no Windows", "127.0.0.1", "06/10/2025 15:13"),
        ("Chrome no Windows", "200.150.10.1", "06/10/2025 07:29"),
    ]
    ctl.issue_token(user["id"], device="Chrome no Windows", issued_at="2025-10-06T19:13:00Z")
    assert [(s["device"], s["data_da_sessao"]) for s in ctl.sessions(user["id"])] == [
        ("Chrome no Windows", "06/10/2025 16:13"), ("Firefox no Windows", "06/10/2025 15:13")]
    ctl.set_config(timezone="UTC")
    assert ctl.sessions(user["id"])[0]["data_da_sessao"] == "06/10/2025 19:13"
    assert all(set(s) == {"id", "device", "ip", "data_da_sessao", "created_at", "last_used_at", "fingerprint"}
               for s in ctl.sessions(user["id"]))


def test_encerrar_sessao_makes_that_token_401_at_once(ctl, api, user):
    token = ctl.issue_token(user["id"], device="Chrome no Windows")
    [session] = ctl.sessions(user["id"])
    ctl.revoke(token_id=session["id"])
    assert api("/users/me", token["token"])[::2] == (401, INVALID)
    assert ctl.sessions(user["id"]) == []


def test_a_user_who_lost_the_licence_gets_40304(ctl, api, user, token):
    ctl.update_user(user["id"], licensed=False)
    status, headers, body = api("/users/me", token)
    assert (status, body["error_code"], headers["RateLimit-Limit"]) == (403, 40304, "120")


@pytest.mark.parametrize("path, ids", [
    ("/desks", [1, 2, 3, 4, 5]),
    ("/desks?active=true", [1, 2, 3, 4]),
    ("/desks?active=false", [5]),
    ("/clients/3/desks", [3, 4]),
    ("/clients?page=2&per_page=5", [6, 7, 8, 9, 10]),
    ("/clients?offset=2&limit=5", [6, 7, 8, 9, 10]),
])
def test_routes_real_integrations_call(api, token, path, ids):
    status, headers, body = api(path, token)
    assert status == 200 and isinstance(body, list) and [item["id"] for item in body] == ids
    assert int(headers["X-Total-Items"]) >= len(ids)


def test_unknown_client_desks_and_bad_filters(api, token):
    assert api("/clients/99/desks", token)[::2] == (404, NOT_FOUND)
    status, body = api("/desks?active=yes", token)[::2]
    assert (status, body["error_code"], body["detail"]) == (422, 42201, {"active": ["deve ser true ou false"]})


def test_error_bodies_are_tifluxs_errors_object(api, token):
    status, body = api("/tickets?limit=500", token)[::2]
    assert status == 422 and set(body) == {"error_code", "message", "detail"}
    assert isinstance(body["message"], str) and body["detail"] == {"limit": ["deve estar entre 1 e 200"]}
    assert all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in body["detail"].values())


@pytest.mark.parametrize("path, status", [("/users/me", 200), ("/users", 403), ("/nope", 404), ("/tickets?limit=0", 422)])
def test_every_answer_with_a_token_carries_the_ratelimit_headers(api, token, path, status):
    before = time.time()
    got, headers = api(path, token)[:2]
    assert got == status
    assert headers["RateLimit-Limit"] == "120" and int(headers["RateLimit-Remaining"]) < 120
    assert headers["RateLimit-Reset"] in {next_minute_iso(before), next_minute_iso(time.time())}


def test_requests_without_a_valid_token_have_their_own_limit_per_client_ip(ctl, api, user, token):
    ctl.set_config(ip_quota_per_minute=10, window_seconds=3600)
    if time.time() % 3600 > 3590:
        time.sleep(11)
    revoked = ctl.issue_token(user["id"])["token"]
    ctl.revoke(token=revoked)
    answers = [api("/users/me", (None, "unknown", revoked)[i % 3]) for i in range(12)]
    assert [a[0] for a in answers] == [401] * 10 + [429] * 2
    assert [a[1]["RateLimit-Remaining"] for a in answers[:10]] == [str(9 - i) for i in range(10)]
    assert {a[1]["RateLimit-Limit"] for a in answers} == {"10"} and answers[-1][2]["error_code"] == 42901
    # the user's own quota is untouched, and a valid token still works from the same IP
    status, headers = api("/users/me", token)[:2]
    assert (status, headers["RateLimit-Limit"], headers["RateLimit-Remaining"]) == (200, "120", "119")
    counters = ctl.counters()
    assert counters["rejected_429_ip"] == 2 and counters["by_ip"] == {"127.0.0.1": 12}
    assert sum(counters["per_minute"][str(user["id"])].values()) == 1


def test_the_per_ip_limit_is_off_unless_configured(api):
    assert {api("/users/me")[0] for dummy in range(12)} == {401}


def test_quota_429s_carry_retry_after_only_when_configured(ctl, api, user, token):
    ctl.set_config(quota_per_minute=1, window_seconds=3600, quota_retry_after=True)
    api("/users/me", token)
    status, headers = api("/users/me", token)[:2]
    assert status == 429 and 1 <= int(headers["Retry-After"]) <= 3600


def test_persistent_quota_excess_can_answer_401(ctl, api, token):
    ctl.set_config(quota_per_minute=1, window_seconds=3600, quota_excess_401_after=2)
    if time.time() % 3600 > 3590:
        time.sleep(11)
    statuses = [api("/users/me", token)[0] for dummy in range(5)]
    assert statuses == [200, 429, 429, 401, 401]


def test_clock_skew_moves_the_reset_and_token_times(ctl, api, user):
    ctl.set_config(clock_skew_seconds=-2, window_seconds=60)
    token = ctl.issue_token(user["id"])["token"]
    assert decode_jwt(token)[1]["iat"] <= time.time() - 1
    # keep away from a minute boundary, where the two clocks name different minutes
    while not 3 < time.time() % 60 < 57:
        time.sleep(0.5)
    reset = api("/users/me", token)[1]["RateLimit-Reset"]
    assert reset == next_minute_iso(time.time() - 2)


def test_rate_limit_fault_without_retry_after_names_the_window_end(ctl, api, token):
    ctl.add_fault(kind="rate_limit", retry_after=False)
    before = time.time()
    status, headers = api("/users/me", token)[:2]
    assert status == 429 and "Retry-After" not in headers
    assert headers["RateLimit-Reset"] in {next_minute_iso(before), next_minute_iso(time.time())}


# -- answers that are not Tiflux's (for the client's tests) ---------------------------------------

def raw_get(url, timeout=10, read=None):
    """(status, headers, body bytes) without JSON decoding; read limits the bytes taken."""
    with DIRECT.open(urllib.request.Request(url), timeout=timeout) as response:
        return response.status, response.headers, response.read(read) if read else response.read()


def test_html_fault_answers_200_html_for_every_path(sim, ctl, token):
    ctl.add_fault(kind="html", count=-1, path_prefix="/")
    for url in (sim.info["api_url"] + "/users/me", sim.info["url"] + "/portal/login", sim.info["url"] + "/"):
        status, headers, body = raw_get(url)
        assert status == 200 and headers["Content-Type"].startswith("text/html") and body.startswith(b"<!DOCTYPE html>")
    assert ctl.health() == {"ok": True}  # the control API is never faulted


def test_trickle_fault_sends_one_byte_per_interval(sim, ctl):
    ctl.add_fault(kind="trickle", interval_ms=300)
    started = time.monotonic()
    status, headers, body = raw_get(sim.info["api_url"] + "/users/me", timeout=60)
    assert status == 200 and json.loads(body)["id"] == 1
    assert time.monotonic() - started >= 0.3 * len(body)


@pytest.mark.parametrize("content_length", [True, False])
def test_oversize_fault_streams_a_big_json_body(sim, ctl, content_length):
    size = 3 * (1 << 20) + 7
    ctl.add_fault(kind="oversize", size_bytes=size, content_length=content_length)
    status, headers, body = raw_get(sim.info["api_url"] + "/users/me", timeout=60)
    assert status == 200 and len(body) == size and json.loads(body)["id"] == 1
    assert (headers.get("Content-Length") == str(size)) is content_length
    assert ctl.counters()["streamed_bytes"] == size


def test_oversize_fault_stops_when_the_client_hangs_up(sim, ctl):
    ctl.add_fault(kind="oversize", size_bytes=400 << 20)
    sock = __import__("socket").create_connection(("127.0.0.1", sim.server.server_port))
    sock.sendall(b"GET /api/v2/users/me HTTP/1.1\r\nHost: x\r\n\r\n")
    sock.recv(1 << 20)
    sock.close()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not ctl.counters()["streamed_bytes"]:
        time.sleep(0.1)
    assert 0 < ctl.counters()["streamed_bytes"] < 64 << 20


# -- device sessions from the CLI ---------------------------------------------------------------

def test_cli_issue_token_with_a_device_and_sessions(tmp_path):
    info_file = tmp_path / "sim.json"
    server = subprocess.Popen([sys.executable, SIM_SCRIPT, "serve", "--info-file", str(info_file),
                               "--ip-quota-per-minute", "10", "--clock-skew-seconds", "-2"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        info = json.loads(server.stdout.readline())
        user = run_ctl(info_file, "create-user", "--name", "Ana", "--email", "ana@example.com.br")
        first = run_ctl(info_file, "issue-token", "--user-id", str(user["id"]), "--device", "Chrome no Windows")
        second = run_ctl(info_file, "issue-token", "--user-id", str(user["id"]), "--device", "Chrome no Windows",
                         "--issued-at", "2025-10-06T10:29:00Z")
        opaque = run_ctl(info_file, "issue-token", "--user-id", str(user["id"]), "--opaque", "--lifetime-seconds", "60")
        assert call(info["api_url"] + "/users/me", first["token"])[0] == 401
        assert call(info["api_url"] + "/users/me", second["token"])[0] == 200
        assert opaque["jwt"] is False
        sessions = run_ctl(info_file, "sessions", "--user-id", str(user["id"]))
        assert [s["device"] for s in sessions] == [opaque["device"], "Chrome no Windows"]
        assert sessions[1]["data_da_sessao"] == "06/10/2025 07:29"
        config = run_ctl(info_file, "config")
        assert (config["ip_quota_per_minute"], config["clock_skew_seconds"]) == (10, -2)
        assert run_ctl(info_file, "config", "--quota-retry-after", "--timezone", "UTC")["quota_retry_after"] is True
        assert run_ctl(info_file, "fault", "--kind", "rate_limit", "--no-retry-after")["retry_after"] is False
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=10)
