# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""token_deploy: several targets, one proof, all-or-nothing (real files, real simulator)."""

from __future__ import annotations

import os
import stat

from ansible_collections.tokenops.tiflux.plugins.module_utils._token import fingerprint
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
