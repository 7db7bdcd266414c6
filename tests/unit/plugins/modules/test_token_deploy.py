# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""token_deploy: several targets, one proof, all-or-nothing (real files, real simulator)."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.tokenops.tiflux.plugins.module_utils._token import fingerprint
from ansible_collections.tokenops.tiflux.plugins.modules import token_deploy
from ansible_collections.tokenops.tiflux.plugins.modules.token_deploy import main

OLD = "oldTokenValue-0123456789abcdef"
NEW = "newTokenValue-fedcba9876543210"


def configs(tmp_path, token=OLD):
    env = tmp_path / "a.env"
    env.write_text("# a\nTIFLUX_API_TOKEN=%s\n" % token)
    js = tmp_path / "b.json"
    js.write_text('{"tiflux": {"token": "%s"}}\n' % token)
    os.chmod(str(js), 0o640)
    log = tmp_path / "reloads.log"
    targets = [
        dict(path=str(env), format="env", key="TIFLUX_API_TOKEN", reload_command="echo a >> %s" % log),
        dict(path=str(js), format="json", key="tiflux.token", reload_command="echo b >> %s" % log,
             health_command="test -f %s" % js, health_retries=1, health_delay=0),
    ]
    return targets, log


def run(run_module, sim, token, targets, check_mode=False, **kwargs):
    args = dict(token=token, targets=targets, api_url=sim.info["api_url"], allow_http=True, **kwargs)
    return run_module(main, args, check_mode=check_mode)


def snapshot(targets):
    return [(open(t["path"], "rb").read(), stat.S_IMODE(os.stat(t["path"]).st_mode)) for t in targets]


def test_deploys_everywhere_with_one_api_call(sim, account, run_module, tmp_path):
    _user, token = account
    targets, log = configs(tmp_path)
    result, out = run(run_module, sim, token, targets)
    assert result["changed"] and result["verified"] and result["status"] == "valid"
    assert [t["status"] for t in result["targets"]] == ["changed", "changed"]
    assert [t["previous_fingerprint"] for t in result["targets"]] == [fingerprint(OLD)] * 2
    assert log.read_text().split() == ["a", "b"] and result["reloads"] == 2
    assert sim.control.counters()["by_fingerprint"][fingerprint(token)] == 1
    assert token not in out and OLD not in out
    assert stat.S_IMODE(os.stat(targets[1]["path"]).st_mode) == 0o640


def test_second_run_changes_and_reloads_nothing(sim, account, run_module, tmp_path):
    _user, token = account
    targets, log = configs(tmp_path, token)
    result, _out = run(run_module, sim, token, targets)
    assert not result["changed"] and result["reloads"] == 0 and not log.exists()
    assert [t["status"] for t in result["targets"]] == ["unchanged", "unchanged"]


def test_health_failure_restores_every_file_and_reloads_again(sim, account, run_module, tmp_path):
    _user, token = account
    targets, log = configs(tmp_path)
    targets[1]["health_command"] = "false"
    before = snapshot(targets)
    result, out = run(run_module, sim, token, targets)
    assert result["failed"] and result["rolled_back"]
    assert "health command" in result["msg"]
    assert snapshot(targets) == before
    assert log.read_text().split() == ["a", "b", "a", "b"], "reloaded on the new token, then again on the old"
    assert [t["status"] for t in result["targets"]] == ["restored", "restored"]
    assert token not in out


def test_revoked_token_rolls_back(sim, account, run_module, tmp_path):
    _user, token = account
    sim.control.revoke(token=token)
    targets, _log = configs(tmp_path)
    before = snapshot(targets)
    result, _out = run(run_module, sim, token, targets)
    assert result["failed"] and result["rolled_back"] and result["status"] == "invalid"
    assert snapshot(targets) == before


def test_a_bad_target_changes_nothing(sim, account, run_module, tmp_path):
    _user, token = account
    targets, log = configs(tmp_path)
    (tmp_path / "bad.json").write_text("{broken")
    targets.append(dict(path=str(tmp_path / "bad.json"), format="json", key="token"))
    before = snapshot(targets[:2])
    result, _out = run(run_module, sim, token, targets)
    assert result["failed"] and result["msg"].startswith("nothing was changed")
    assert snapshot(targets[:2]) == before and not log.exists()


def test_check_mode(sim, account, run_module, tmp_path):
    _user, token = account
    targets, log = configs(tmp_path)
    before = snapshot(targets)
    result, _out = run(run_module, sim, token, targets, check_mode=True)
    assert result["changed"] and snapshot(targets) == before and not log.exists()
    assert result["verified"] is None


def test_state_verified(sim, account, run_module, tmp_path):
    _user, token = account
    targets, _log = configs(tmp_path)
    result, _out = run(run_module, sim, token, targets, state="verified")
    assert result["failed"] and "holds token %s" % fingerprint(OLD) in result["msg"]
    run(run_module, sim, token, targets)
    result, _out = run(run_module, sim, token, targets, state="verified")
    assert "failed" not in result and result["verified"] and not result["changed"]


def test_a_health_command_printing_its_config_shows_fingerprints(sim, account, run_module, tmp_path):
    _user, token = account
    targets, _log = configs(tmp_path)
    targets[0]["health_command"] = "cat %s; exit 1" % targets[0]["path"]
    targets[0]["health_retries"] = 1
    result, out = run(run_module, sim, token, targets)
    assert result["failed"] and result["rolled_back"]
    assert token not in out and OLD not in out
    assert "<token %s>" % fingerprint(token) in result["msg"]


def test_bad_owner_on_a_second_target_rolls_back_the_first(run_module, tmp_path):
    first, second = tmp_path / "a.env", tmp_path / "b.env"
    for path in (first, second):
        path.write_text("TIFLUX_API_TOKEN=%s\n" % OLD)
    targets = [dict(path=str(first), format="env", key="TIFLUX_API_TOKEN"),
               dict(path=str(second), format="env", key="TIFLUX_API_TOKEN", owner="no-such-user-tiflux")]
    result, _out = run_module(main, dict(token=NEW, targets=targets, verify=False))
    assert result["failed"] and result["rolled_back"]
    assert first.read_text() == second.read_text() == "TIFLUX_API_TOKEN=%s\n" % OLD


def test_two_keys_of_one_file_are_both_deployed(sim, account, run_module, tmp_path):
    _user, token = account
    shared = tmp_path / "shared.env"
    shared.write_text("# two integrations\nZABBIX_TIFLUX_TOKEN=%s\nSYNC_TIFLUX_TOKEN=%s\n" % (OLD, OLD))
    log = tmp_path / "reloads.log"
    targets = [dict(path=str(shared), format="env", key="ZABBIX_TIFLUX_TOKEN", reload_command="echo z >> %s" % log),
               dict(path=str(shared), format="env", key="SYNC_TIFLUX_TOKEN", reload_command="echo s >> %s" % log)]
    result, out = run(run_module, sim, token, targets)
    assert "failed" not in result, result["msg"]
    assert shared.read_text() == "# two integrations\nZABBIX_TIFLUX_TOKEN=%s\nSYNC_TIFLUX_TOKEN=%s\n" % (token, token)
    assert result["verified"] and result["changed_targets"] == 2 and log.read_text().split() == ["z", "s"]
    assert [t["previous_fingerprint"] for t in result["targets"]] == [fingerprint(OLD)] * 2
    assert result["targets"][0]["backup_file"] == result["targets"][1]["backup_file"]
    assert open(result["targets"][0]["backup_file"]).read().count(OLD) == 2, "one backup of the file as it was"
    assert token not in out and OLD not in out


def test_a_missing_file_fails_the_host_before_any_file_is_written(run_module, tmp_path):
    present = tmp_path / "a.env"
    present.write_text("TIFLUX_API_TOKEN=%s\n" % OLD)
    typo = tmp_path / "confg.json"
    targets = [dict(path=str(present), format="env", key="TIFLUX_API_TOKEN"),
               dict(path=str(typo), format="json", key="tiflux.token")]
    result, _out = run_module(main, dict(token=NEW, targets=targets, verify=False))
    assert result["failed"] and "%s does not exist: set create: true on the target to create it" % typo in result["msg"]
    assert "create_dirs" not in result["msg"] and "\n" not in result["msg"]
    assert present.read_text() == "TIFLUX_API_TOKEN=%s\n" % OLD and not typo.exists()
    assert sorted(os.listdir(str(tmp_path))) == ["a.env"]
    typo_dir = tmp_path / "nodir" / "config.json"
    result, _out = run_module(main, dict(token=NEW, targets=[dict(path=str(typo_dir), format="json", key="t")], verify=False))
    assert result["failed"] and "set create: true on the target" in result["msg"] and "create_dirs" not in result["msg"]


def test_create_true_makes_the_file_and_its_directories_private(run_module, tmp_path):
    path = tmp_path / "opt" / "sync" / "config.json"
    old = os.umask(0)
    try:
        result, _out = run_module(main, dict(token=NEW, verify=False, targets=[
            dict(path=str(path), format="json", key="tiflux.token", create=True)]))
    finally:
        os.umask(old)
    assert result["changed"] and result["targets"][0]["created"] is True and result["targets"][0]["status"] == "changed"
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600
    assert [stat.S_IMODE(os.stat(str(d)).st_mode) for d in (tmp_path / "opt", path.parent)] == [0o700, 0o700]
    result, _out = run_module(main, dict(token=NEW, verify=False, targets=[
        dict(path=str(path), format="json", key="tiflux.token", create=True)]))
    assert result["changed"] is False and result["targets"][0]["created"] is False


def test_reload_and_health_output_with_part_of_a_token_is_masked(sim, account, run_module, tmp_path):
    _user, token = account
    targets, _log = configs(tmp_path)
    # prints 40 characters of the file after the write: the first 23 of the new token (and of the old, on rollback)
    targets[0]["health_command"] = "head -c 40 %s | tail -c 23; exit 1" % targets[0]["path"]
    targets[0]["health_retries"] = 1
    targets[1]["reload_command"] = "cut -c 30-60 %s; true" % targets[1]["path"]
    result, out = run(run_module, sim, token, targets)
    assert result["failed"] and result["rolled_back"]
    for secret in (token, OLD):
        assert not [i for i in range(len(secret) - 11) if secret[i:i + 12] in out], "a run of 12 characters of a token"
    assert "<part of token %s>" % fingerprint(token) in result["msg"]


def test_an_int_token_is_refused_naming_the_option(run_module, tmp_path):
    targets, _log = configs(tmp_path)
    result, _out = run_module(main, dict(token=1234567890, targets=targets, verify=False))
    assert result["failed"] and result["msg"].startswith("token must be a string of printable ASCII")
    assert "got a number" in result["msg"]


def test_a_service_is_reloaded_through_systemctl_without_a_shell(run_module, tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    fake = bin_dir / "systemctl"
    fake.write_text("#!/bin/sh\nprintf '%%s|' \"$@\" >> %s\necho >> %s\n" % (calls, calls))
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", "%s:%s" % (bin_dir, os.environ["PATH"]))
    path = tmp_path / "a.env"
    path.write_text("TIFLUX_API_TOKEN=%s\n" % OLD)
    targets = [dict(path=str(path), format="env", key="TIFLUX_API_TOKEN", service="zabbix-server@main.service",
                    service_state="restarted")]
    result, _out = run_module(main, dict(token=NEW, targets=targets, verify=False))
    assert result["changed"] and result["reloads"] == 1
    assert calls.read_text() == "restart|zabbix-server@main.service|\n"
    targets[0]["service"] = "x; touch %s" % (tmp_path / "pwned")
    path.write_text("TIFLUX_API_TOKEN=%s\n" % OLD)
    result, _out = run_module(main, dict(token=NEW, targets=targets, verify=False))
    assert result["failed"] and "systemd unit name" in result["msg"] and not (tmp_path / "pwned").exists()
    assert path.read_text() == "TIFLUX_API_TOKEN=%s\n" % OLD


class Killed(BaseException):
    """What kill -9 does to the module between the write and the reload, in-process."""


def die(_self, _work):
    raise Killed()


def test_a_run_interrupted_before_its_reload_is_recovered_by_the_next(sim, account, run_module, tmp_path, monkeypatch):
    _user, token = account
    targets, log = configs(tmp_path)
    real_reload = token_deploy.Deployment._reload  # pylint: disable=protected-access
    monkeypatch.setattr(token_deploy.Deployment, "_reload", die)
    with pytest.raises(Killed):
        run(run_module, sim, token, targets)
    monkeypatch.setattr(token_deploy.Deployment, "_reload", real_reload)
    assert token in open(targets[0]["path"]).read() and not log.exists(), "written, never reloaded"

    result, out = run(run_module, sim, token, targets)
    assert "failed" not in result, result["msg"]
    assert [t["status"] for t in result["targets"]] == ["recovered", "recovered"]
    assert result["recovered_targets"] == 2 and result["changed_targets"] == 0 and result["changed"] is True
    assert log.read_text().split() == ["a", "b"] and result["verified"], "reloaded and proven although the files were up to date"
    assert token not in out
    result, _out = run(run_module, sim, token, targets)
    assert [t["status"] for t in result["targets"]] == ["unchanged", "unchanged"] and result["changed"] is False
    assert log.read_text().split() == ["a", "b"]
    assert sorted(n for n in os.listdir(str(tmp_path)) if "tiflux-journal" in n) == []


def test_a_recovery_whose_reload_fails_is_not_unchanged(sim, account, run_module, tmp_path, monkeypatch):
    _user, token = account
    targets, _log = configs(tmp_path)
    monkeypatch.setattr(token_deploy.Deployment, "_reload", die)
    with pytest.raises(Killed):
        run(run_module, sim, token, targets)
    monkeypatch.undo()
    targets[0]["reload_command"] = "exit 7"
    result, _out = run(run_module, sim, token, targets)
    assert result["failed"] and "reload of %s failed (rc=7)" % targets[0]["path"] in result["msg"]
    result, _out = run(run_module, sim, token, targets, state="verified")
    assert result["failed"] and [t["status"] for t in result["targets"]][0] == "pending"


def test_changed_is_a_bool_everywhere(sim, account, run_module, tmp_path):
    _user, token = account
    targets, _log = configs(tmp_path)
    for kwargs in (dict(check_mode=True), dict(), dict()):
        result, _out = run(run_module, sim, token, targets, **kwargs)
        assert isinstance(result["changed"], bool) and isinstance(result["changed_targets"], int)


def test_a_trusted_link_is_followed_and_named(run_module, tmp_path):
    real = tmp_path / "real.env"
    real.write_text("TIFLUX_API_TOKEN=%s\n" % OLD)
    (tmp_path / "link.env").symlink_to(real)
    result, _out = run_module(main, dict(token=NEW, verify=False, targets=[
        dict(path=str(tmp_path / "link.env"), format="env", key="TIFLUX_API_TOKEN")]))
    assert result["targets"][0]["real_path"] == str(real) and real.read_text() == "TIFLUX_API_TOKEN=%s\n" % NEW
    assert os.path.islink(str(tmp_path / "link.env"))


def test_a_link_another_user_planted_fails_the_host_before_anything_is_written(run_module, other_user, open_dir, tmp_path):
    first = tmp_path / "a.env"
    first.write_text("TIFLUX_API_TOKEN=%s\n" % OLD)
    victim = tmp_path / "victim"
    victim.write_text("")
    link = open_dir / "tiflux.env"
    link.symlink_to(victim)
    other_user.own(link)
    targets = [dict(path=str(first), format="env", key="TIFLUX_API_TOKEN"),
               dict(path=str(link), format="env", key="TIFLUX_API_TOKEN")]
    result, out = run_module(main, dict(token=NEW, targets=targets, verify=False))
    assert result["failed"] and result["msg"].startswith("nothing was changed") and other_user.name in result["msg"]
    assert [t["status"] for t in result["targets"]] == ["unchanged", "error"]
    assert first.read_text() == "TIFLUX_API_TOKEN=%s\n" % OLD and victim.read_text() == "" and NEW not in out


def warnings_about(result, token):
    """The result's warnings naming the token's fingerprint (a module process collects the warnings of every
    module run in it, so earlier tests' warnings may be there too). ansible-core 2.19 returns them as events."""
    texts = [w if isinstance(w, str) else w["event"]["msg"] for w in result.get("warnings") or []]
    return [text for text in texts if fingerprint(token) in text]


def closed_port_url():
    import socket  # pylint: disable=import-outside-toplevel

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return "http://127.0.0.1:%d/api/v2" % port


def test_path_proof_spends_none_of_the_users_quota(sim, account, run_module, tmp_path):
    _user, token = account
    targets, log = configs(tmp_path)
    result, out = run(run_module, sim, token, targets, verify_with="path")
    assert result["changed"] and result["verified"] is True and result["proof"] == "path"
    assert result["status"] == "reached" and result["http_status"] == 401
    assert sim.control.counters()["by_fingerprint"].get(fingerprint(token), 0) == 0
    assert result["quota_remaining"] is None and result["expires_at"] and result["issued_at"]
    assert log.read_text().split() == ["a", "b"]
    assert token not in out and OLD not in out


def test_path_proof_from_a_host_that_cannot_reach_tiflux_rolls_back(account, run_module, tmp_path):
    _user, token = account
    targets, _log = configs(tmp_path)
    before = snapshot(targets)
    result, out = run_module(main, dict(token=token, targets=targets, api_url=closed_port_url(), allow_http=True,
                                        verify_with="path", retries=0, timeout=2))
    assert result["failed"] and result["rolled_back"] and result["verified"] is False
    assert result["proof"] == "path" and result["status"] == "unreachable"
    assert "cannot reach" in result["msg"]
    assert snapshot(targets) == before
    assert token not in out


def test_path_proof_passes_when_tiflux_answers_429_to_the_request_without_token(sim, account, run_module, tmp_path):
    _user, token = account
    targets, _log = configs(tmp_path)
    sim.control.set_config(ip_quota_per_minute=1)
    try:
        first, _out = run(run_module, sim, token, targets, verify_with="path")
        (tmp_path / "two").mkdir()
        targets2, _log = configs(tmp_path / "two")
        second, out = run(run_module, sim, token, targets2, verify_with="path", retries=0)
    finally:
        sim.control.set_config(ip_quota_per_minute=0)
    assert first["http_status"] == 401 and first["verified"]
    assert second["http_status"] == 429 and second["verified"] and second["status"] == "reached"
    assert token not in out


def test_path_proof_fails_a_target_that_does_not_hold_the_token(sim, account, run_module, tmp_path):
    _user, token = account
    targets, _log = configs(tmp_path, token)
    targets[1]["path"] = str(tmp_path / "b.json")
    (tmp_path / "b.json").write_text('{"tiflux": {"token": "%s"}}\n' % OLD)
    result, out = run(run_module, sim, token, targets, state="verified", verify_with="path")
    assert result["failed"] and "holds token %s" % fingerprint(OLD) in result["msg"]
    assert sim.control.counters()["by_fingerprint"].get(fingerprint(token), 0) == 0, "no API call once a file is wrong"
    assert token not in out and OLD not in out


def test_token_proof_reports_dates_and_the_quota_left(sim, account, run_module, tmp_path):
    _user, token = account
    targets, _log = configs(tmp_path)
    result, _out = run(run_module, sim, token, targets)
    assert result["proof"] == "token" and result["quota_limit"] == 120 and result["quota_remaining"] < 120
    assert result["expires_in_days"] > 700 and result["expires_at"].endswith("Z")
    assert warnings_about(result, token) == []


def test_a_token_that_expires_soon_gets_a_warning_naming_its_fingerprint(sim, make_account, run_module, tmp_path):
    user, _token = make_account(sim)
    token = sim.control.issue_token(user["id"], lifetime_seconds=10 * 86400)["token"]
    targets, _log = configs(tmp_path)
    result, out = run(run_module, sim, token, targets)
    assert result["expires_in_days"] == 10
    texts = warnings_about(result, token)
    assert len(texts) == 1 and "expires on" in texts[0]
    assert token not in out


def test_no_expiry_warning_beyond_expiry_warning_days(sim, make_account, run_module, tmp_path):
    user, _token = make_account(sim)
    token = sim.control.issue_token(user["id"], lifetime_seconds=10 * 86400)["token"]
    result, _out = run(run_module, sim, token, configs(tmp_path)[0], expiry_warning_days=5)
    assert result["expires_in_days"] == 10 and warnings_about(result, token) == []


def test_the_old_token_in_a_file_no_target_lists_is_named(sim, account, run_module, tmp_path):
    _user, token = account
    targets, _log = configs(tmp_path)
    (tmp_path / "cron-report.sh").write_text("curl -H 'Authorization: Bearer %s' ...\n" % OLD)
    (tmp_path / "unrelated.conf").write_text("nothing here\n")
    result, out = run(run_module, sim, token, targets, old_tokens=[OLD], sweep_paths=[])
    assert result["changed"] and result["verified"], "a copy elsewhere does not fail the deploy"
    assert result["old_token_elsewhere"] == [str(tmp_path / "cron-report.sh")]
    assert result["sweep"]["complete"] and result["sweep"]["hits"][0]["fingerprint"] == fingerprint(OLD)
    assert "cron-report.sh" in result["message"] and "which no target lists" in result["message"]
    # the targets (now on the new token) and the backups of the old content are not copies
    assert all("a.env" not in path and "b.json" not in path for path in result["old_token_elsewhere"])
    assert token not in out and OLD not in out


def test_no_sweep_without_old_tokens_or_with_sweep_seconds_0(sim, account, run_module, tmp_path):
    _user, token = account
    targets, _log = configs(tmp_path)
    (tmp_path / "stray.env").write_text("TOKEN=%s\n" % OLD)
    result, _out = run(run_module, sim, token, targets, check_mode=True)
    assert result["sweep"] is None and result["old_token_elsewhere"] == []
    result, _out = run(run_module, sim, token, targets, check_mode=True, old_tokens=[OLD], sweep_seconds=0)
    assert result["sweep"] is None and result["old_token_elsewhere"] == []
    result, out = run(run_module, sim, token, targets, check_mode=True, old_tokens=[OLD, ""], sweep_paths=[])
    assert result["old_token_elsewhere"] == [str(tmp_path / "stray.env")]
    assert OLD not in out


def test_confirm_sweeps_too(sim, account, run_module, tmp_path):
    _user, token = account
    targets, _log = configs(tmp_path, token)
    (tmp_path / "stray.env").write_text("TOKEN=%s\n" % OLD)
    result, out = run(run_module, sim, token, targets, state="verified", verify_with="path", old_tokens=[OLD],
                      sweep_paths=[])
    assert "failed" not in result and result["old_token_elsewhere"] == [str(tmp_path / "stray.env")]
    assert OLD not in out


@pytest.mark.parametrize("old, says", [(12345, "old_tokens[0]"), ("two words here-0123456789", "old_tokens[0]")])
def test_a_bad_old_token_is_one_line_and_changes_nothing(run_module, tmp_path, old, says):
    targets, _log = configs(tmp_path)
    before = snapshot(targets)
    result, out = run_module(main, dict(token=NEW, targets=targets, old_tokens=[old]))
    assert result["failed"] and says in result["msg"] and "\n" not in result["msg"]
    assert snapshot(targets) == before
    assert "two words" not in out
