"""Tests of the Tiflux API v2 simulator itself: a real server on 127.0.0.1, real HTTP via urllib."""

from __future__ import annotations

import http.client
import json
import logging
import math
import os
import signal
import ssl
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # importable by path, whatever pytest's import mode
import tiflux_sim  # noqa: E402

SIM_SCRIPT = str(HERE / "tiflux_sim.py")
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never via a proxy
INVALID = {"error_code": 40101, "message": "Token de API inválido ou expirado"}


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
    assert api("/tickets/999", token)[::2] == (404, {"error_code": 40400, "message": "not found"})


def test_get_with_json_content_type_is_400_after_auth(api, token):
    json_type = {"Content-Type": "application/json; charset=utf-8"}
    assert api("/users/me", headers=json_type)[0] == 401
    assert api("/users/me", token, headers=json_type)[::2] == (400, {"error_code": 40001, "message": "unpermitted parameter"})


def test_unknown_paths_and_methods(api, token):
    assert api("/nope", token)[::2] == (404, {"error_code": 40400, "message": "not found"})
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
    assert 1 <= int(headers["Retry-After"]) <= math.ceil(window_end - time.time()) + 1
    assert headers["RateLimit-Remaining"] == "0"
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
    fault_body = {"error_code": 50300, "message": "simulated fault"}
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
    assert (ctl.users(), ctl.faults(), ctl.config()) == ([], [], {"quota_per_minute": 120, "window_seconds": 60})
    assert ctl.counters()["total"] == 0


def test_user_patch_and_detail(ctl, user, token):
    detail = ctl.update_user(user["id"], name="Ana S.", permissions=["users_manage"])
    assert (detail["name"], detail["permissions"], len(detail["tokens"])) == ("Ana S.", ["users_manage"], 1)
    assert set(detail["tokens"][0]) == {"id", "user_id", "created_at", "last_used_at", "revoked", "fingerprint"}
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
