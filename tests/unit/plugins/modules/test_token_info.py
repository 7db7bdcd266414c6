# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""token_info: where is which token, read from real files, never shown, no API call."""

from __future__ import annotations

import os

import pytest

from ansible_collections.tokenops.tiflux.plugins.module_utils._token import fingerprint
from ansible_collections.tokenops.tiflux.plugins.modules import token_info
from ansible_collections.tokenops.tiflux.plugins.modules.token_info import main
from ansible_collections.tokenops.tiflux.tests.utils.leak_scan import assert_no_leaks

TOKEN = "infoTokenValue-0123456789abcdefXYZ"
OTHER = "otherTokenValue-fedcba9876543210QRS"


def run(run_module, targets, check_mode=False, **kwargs):
    return run_module(main, dict(targets=targets, **kwargs), check_mode=check_mode)


def write(tmp_path, name, content, mode=None):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    if mode is not None:
        os.chmod(str(path), mode)
    return str(path)


@pytest.mark.parametrize("fmt, key, section, content", [
    ("env", "TIFLUX_API_TOKEN", None, "# webhook\nTIFLUX_BASE_URL=x\nexport TIFLUX_API_TOKEN={t}\n"),
    ("ini", "api_token", "tiflux", "[main]\nx = 1\n[tiflux]\napi_token: {t}\n"),
    ("ini", "tiflux.api_token", None, "[tiflux]\napi_token = {t}\n"),
    ("json", ["tiflux", "token"], None, '{{"tiflux": {{"token": "{t}"}}}}'),
    ("yaml", "tiflux.token", None, "tiflux:\n  token: '{t}'  # from vault\n"),
    ("raw", None, None, "{t}\n"),
])
def test_present_in_each_format(run_module, tmp_path, fmt, key, section, content):
    path = write(tmp_path, "config", content.format(t=TOKEN))
    result, out = run(run_module, [dict(path=path, format=fmt, key=key, section=section)])
    [target] = result["targets"]
    assert target == dict(path=path, format=fmt, key=key, section=section, state="present",
                          fingerprint=fingerprint(TOKEN), message="%s holds token %s" % (path, fingerprint(TOKEN)))
    assert result["fingerprints"] == [fingerprint(TOKEN)] and result["states"] == {"present": 1}
    assert result["changed"] is False
    assert_no_leaks(out, [TOKEN])


def test_every_state_one_target_each(run_module, tmp_path):
    targets = [
        dict(path=write(tmp_path, "ok.env", "TIFLUX_API_TOKEN=%s\n" % TOKEN), format="env", key="TIFLUX_API_TOKEN"),
        dict(path=str(tmp_path / "nope.env"), format="env", key="TIFLUX_API_TOKEN"),
        dict(path=str(tmp_path / "no_dir" / "nope.json"), format="json", key="token"),
        dict(path=str(tmp_path), format="raw"),
        dict(path=write(tmp_path, "other.env", "TOKEN_TIFLUX=%s\n" % OTHER), format="env", key="TIFLUX_API_TOKEN"),
        dict(path=write(tmp_path, "empty.txt", "\n"), format="raw"),
        dict(path=write(tmp_path, "broken.json", '{"token": "%s"' % OTHER), format="json", key="token"),
        dict(path=write(tmp_path, "latin1.json", b'{"token": "caf\xe9"}'), format="json", key="token"),
        dict(path=write(tmp_path, "spaced.env", 'TIFLUX_API_TOKEN="%s %s"\n' % (OTHER[:10], OTHER[10:])),
             format="env", key="TIFLUX_API_TOKEN"),
        dict(path=write(tmp_path, "blank.env", "TIFLUX_API_TOKEN=\n"), format="env", key="TIFLUX_API_TOKEN"),
    ]
    result, out = run(run_module, targets)
    assert [t["state"] for t in result["targets"]] == [
        "present", "missing_file", "missing_file", "unreadable", "no_key", "no_key", "malformed", "malformed",
        "invalid_token", "invalid_token"]
    assert [t["fingerprint"] for t in result["targets"]] == [fingerprint(TOKEN)] + [None] * 9
    assert result["states"] == dict(present=1, missing_file=2, unreadable=1, no_key=2, malformed=2, invalid_token=2)
    assert result["msg"] == ("1 of 10 target(s) hold a token (1 distinct); 2 invalid_token, 2 malformed, "
                             "2 missing_file, 2 no_key, 1 unreadable")
    messages = [t["message"] for t in result["targets"]]
    assert "does not exist" in messages[1] and "is a directory" in messages[3]
    assert "TIFLUX_API_TOKEN" in messages[4] and "whitespace" in messages[8] and "empty" in messages[9]
    assert all("\n" not in m for m in messages)
    assert not result["changed"] and "failed" not in result
    assert_no_leaks(out, [TOKEN, OTHER])


def test_distinct_fingerprints_in_order(run_module, tmp_path):
    targets = [
        dict(path=write(tmp_path, "a.env", "T=%s\n" % OTHER), format="env", key="T"),
        dict(path=write(tmp_path, "b.txt", TOKEN), format="raw"),
        dict(path=write(tmp_path, "c.json", '{"t": "%s"}' % OTHER), format="json", key="t"),
    ]
    result, out = run(run_module, targets)
    assert result["fingerprints"] == [fingerprint(OTHER), fingerprint(TOKEN)]
    assert result["msg"] == "3 of 3 target(s) hold a token (2 distinct)"
    assert_no_leaks(out, [TOKEN, OTHER])


def test_check_mode_reports_the_same(run_module, tmp_path):
    targets = [dict(path=write(tmp_path, "a.env", "T=%s\n" % TOKEN), format="env", key="T"),
               dict(path=str(tmp_path / "gone.env"), format="env", key="T")]
    normal, _out = run(run_module, targets)
    checked, _out = run(run_module, targets, check_mode=True)
    assert checked["targets"] == normal["targets"] and not checked["changed"]


def test_takes_token_deploy_targets_and_changes_nothing(run_module, tmp_path):
    """The inventory's tiflux_targets, reload and health keys included; nothing is run or written."""
    marker = tmp_path / "ran"
    path = write(tmp_path, "zabbix.env", "TIFLUX_API_TOKEN=%s\n" % TOKEN, mode=0o640)
    before = (open(path, "rb").read(), os.stat(path).st_mode, os.stat(path).st_mtime_ns)
    target = dict(path=path, format="env", key="TIFLUX_API_TOKEN", owner="root", mode="0600",
                  reload_command="touch %s" % marker, service="zabbix-server", service_state="restarted",
                  health_command="touch %s" % marker, health_retries=1, health_delay=0)
    result, _out = run(run_module, [target])
    assert result["targets"][0]["state"] == "present" and not result["changed"]
    assert (open(path, "rb").read(), os.stat(path).st_mode, os.stat(path).st_mtime_ns) == before
    assert not marker.exists()
    assert sorted(os.listdir(str(tmp_path))) == ["zabbix.env"], "no backup or temp file"


def test_no_api_call_even_with_connection_options(sim, run_module, tmp_path):
    """Connection options arrive from module_defaults / ansible_tiflux_* and are ignored."""
    before = sim.control.counters()["total"]
    path = write(tmp_path, "a.env", "T=%s\n" % TOKEN)
    result, _out = run(run_module, [dict(path=path, format="env", key="T")], api_url=sim.info["api_url"],
                       allow_http=True, probes=["/users/me", "/tickets?limit=1"], api_calls_per_minute=1)
    assert result["targets"][0]["state"] == "present"
    assert sim.control.counters()["total"] == before


@pytest.mark.parametrize("target, words", [
    (dict(format="env", key="TIFLUX_API_TOKEN", section="tiflux"), "section is only used with format=ini"),
    (dict(format="env", key="tiflux.token"), "not a valid environment variable name"),
    (dict(format="json"), "key is required"),
    (dict(format="raw", key="token"), "takes no key"),
])
def test_a_wrong_target_fails_before_reading(run_module, tmp_path, target, words):
    good = dict(path=write(tmp_path, "a.env", "T=%s\n" % TOKEN), format="env", key="T")
    result, out = run(run_module, [good, dict(target, path=str(tmp_path / "x"))])
    assert result["failed"] and words in result["msg"] and result["msg"].startswith(str(tmp_path / "x"))
    assert "targets" not in result
    assert_no_leaks(out, [TOKEN])


def test_unknown_format_is_refused(run_module, tmp_path):
    result, _out = run(run_module, [dict(path=str(tmp_path / "a"), format="toml", key="t")])
    assert result["failed"] and "toml" in result["msg"]


def test_no_targets(run_module):
    result, _out = run(run_module, [])
    assert result["targets"] == [] and result["fingerprints"] == [] and result["states"] == {}
    assert result["msg"] == "0 of 0 target(s) hold a token (0 distinct)"


def test_tokens_read_are_hidden_from_every_output(tmp_path):
    """A token read is added to no_log_values, so ansible masks it wherever it would appear."""

    class FakeModule:
        no_log_values = set()

    path = write(tmp_path, "a.env", "T=%s\n" % TOKEN)
    report = token_info.inspect(FakeModule, dict(path=path, format="env", key="T"), ("T",))
    assert FakeModule.no_log_values == {TOKEN} and TOKEN not in repr(report)


def test_a_target_a_deploy_would_refuse_is_unreadable_unless_trusted(run_module, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(str(shared), 0o777)  # anyone could swap the file: token_deploy refuses it, token_info agrees
    path = write(shared, "tiflux.env", "TIFLUX_API_TOKEN=%s\n" % TOKEN)
    result, out = run(run_module, [dict(path=path, format="env", key="TIFLUX_API_TOKEN")])
    assert result["targets"][0]["state"] == "unreadable" and "sticky bit" in result["targets"][0]["message"]
    result, out = run(run_module, [dict(path=path, format="env", key="TIFLUX_API_TOKEN", follow=True)])
    assert result["targets"][0]["state"] == "present" and TOKEN not in out


def test_old_tokens_are_searched_for_outside_the_targets(run_module, tmp_path):
    target = write(tmp_path, "app.env", "TIFLUX_API_TOKEN=%s\n" % TOKEN)
    write(tmp_path, "legacy.env", "OLD_TIFLUX=%s\n" % OTHER)
    write(tmp_path, "app.env.1234.2026-12-01@10:00:00~", "TIFLUX_API_TOKEN=%s\n" % OTHER)  # a backup of ours
    targets = [dict(path=target, format="env", key="TIFLUX_API_TOKEN")]
    result, out = run(run_module, targets, old_tokens=[OTHER], sweep_paths=[])
    assert result["old_token_elsewhere"] == [str(tmp_path / "legacy.env")]
    assert result["sweep"]["files"] >= 1 and "legacy.env" in result["msg"]
    assert OTHER not in out and TOKEN not in out
    result, _out = run(run_module, targets)
    assert result["old_token_elsewhere"] == [] and result["sweep"] is None
