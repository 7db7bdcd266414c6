# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.tokenops.tiflux.plugins.module_utils._token import fingerprint
from ansible_collections.tokenops.tiflux.plugins.modules.token_check import main


def args(sim, **kwargs):
    return dict(kwargs, api_url=sim.info["api_url"], allow_http=True)


def test_token_param_valid(sim, account, run_module):
    user, token = account
    result, out = run_module(main, args(sim, token=token))
    assert result["status"] == "valid" and result["changed"] is False and result["source"] == "param"
    assert result["user"]["id"] == user["id"]
    assert token not in out


def test_check_mode_still_checks(sim, account, run_module):
    _user, token = account
    result, _out = run_module(main, args(sim, token=token), check_mode=True)
    assert result["status"] == "valid"


def test_env_fallback(sim, account, run_module, monkeypatch):
    _user, token = account
    monkeypatch.setenv("TIFLUX_API_TOKEN", token + "\n")
    monkeypatch.setenv("TIFLUX_API_URL", sim.info["api_url"])
    result, out = run_module(main, dict(allow_http=True))
    assert result["status"] == "valid" and token not in out


@pytest.mark.parametrize("fmt, key, content", [
    ("env", "TIFLUX_API_TOKEN", "# webhook\nTIFLUX_BASE_URL=x\nexport TIFLUX_API_TOKEN={t}\n"),
    ("ini", "tiflux.token", "[tiflux]\ntoken = {t}\n"),
    ("json", "tiflux.token", '{{"tiflux": {{"token": "{t}"}}}}'),
    ("yaml", "tiflux.token", "# app\ntiflux:\n  token: {t}  # from vault\n"),
    ("raw", None, "{t}\n"),
])
def test_reads_the_token_from_each_format(sim, account, run_module, tmp_path, fmt, key, content):
    _user, token = account
    path = tmp_path / "config"
    path.write_text(content.format(t=token))
    result, out = run_module(main, args(sim, path=str(path), format=fmt, key=key))
    assert result["status"] == "valid" and result["source"] == str(path)
    assert result["fingerprint"] == fingerprint(token)
    assert token not in out


def test_ini_section_and_key(sim, account, run_module, tmp_path):
    _user, token = account
    path = tmp_path / "agent.ini"
    path.write_text("[main]\nx=1\n[tiflux]\napi_token: %s\n" % token)
    result, _out = run_module(main, args(sim, path=str(path), format="ini", section="tiflux", key="api_token"))
    assert result["status"] == "valid"


def test_revoked_token_fails_with_remedy(sim, account, run_module):
    _user, token = account
    sim.control.revoke(token=token)
    result, out = run_module(main, args(sim, token=token))
    assert result["failed"] is True and result["status"] == "invalid" and result["http_status"] == 401
    assert "Sessões API" in result["msg"] and token not in out


def test_expect_invalid_after_revocation(sim, account, run_module):
    _user, token = account
    result, _out = run_module(main, args(sim, token=token, expect="invalid"))
    assert result["failed"] is True and "revoke it by hand" in result["msg"]
    sim.control.revoke(token=token)
    result, _out = run_module(main, args(sim, token=token, expect="invalid"))
    assert "failed" not in result and result["status"] == "invalid"


def test_expect_any_reports_without_failing(sim, account, run_module):
    _user, token = account
    sim.control.revoke(token=token)
    result, _out = run_module(main, args(sim, token=token, expect="any"))
    assert "failed" not in result and result["status"] == "invalid"


def test_forbidden_probe(sim, account, run_module):
    _user, token = account
    result, _out = run_module(main, args(sim, token=token, probes=["/users/me", "/users"]))
    assert result["failed"] is True and result["status"] == "forbidden"


@pytest.mark.parametrize("content, fmt, key, cause", [
    (None, "env", "TOKEN", "does not exist"),
    ("OTHER=1\n", "env", "TIFLUX_API_TOKEN", "TIFLUX_API_TOKEN"),
    ("{not json", "json", "tiflux.token", "json"),
    ("TIFLUX_API_TOKEN=\n", "env", "TIFLUX_API_TOKEN", "empty"),
    (b"\x00\x01binary", "raw", None, "binary"),
    (b"\xff\xfeTOKEN=1", "env", "TOKEN", "UTF-8"),
])
def test_bad_config_is_a_one_line_error(sim, run_module, tmp_path, content, fmt, key, cause):
    path = tmp_path / "config"
    if content is not None:
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    result, _out = run_module(main, args(sim, path=str(path), format=fmt, key=key))
    assert result["failed"] is True
    assert str(path) in result["msg"] and cause.lower() in result["msg"].lower()
    assert "\n" not in result["msg"]


def test_directory_is_refused(sim, run_module, tmp_path):
    result, _out = run_module(main, args(sim, path=str(tmp_path), format="raw"))
    assert result["failed"] is True and "is a directory" in result["msg"]


@pytest.mark.parametrize("bad, cause", [
    (dict(token=""), "is empty"),
    (dict(token="a b"), "whitespace"),
    (dict(token="x", api_url="https://api.tiflux.com/api/v1"), "API v1"),
    (dict(token="x", api_url="http://api.tiflux.com/api/v2", allow_http=False), "plain http"),
])
def test_bad_input(run_module, bad, cause):
    result, out = run_module(main, dict(dict(allow_http=True), **bad))
    assert result["failed"] is True and cause in result["msg"]
    assert "a b" not in out


def test_bad_probe_is_one_line(run_module):
    result, _out = run_module(main, dict(token="newTokenValue-fedcba9876543210", probes=["users/me"]))
    assert result["failed"] and "not an API path" in result["msg"]
