# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Regressions found by the bad-input corpus and the fault matrix (tests/perf/PROPOSED_FIXES.md F2, F3, F5)."""

from __future__ import annotations

import os

from ansible_collections.tokenops.tiflux.plugins.modules import token_check, token_deploy, token_push

OLD = "oldTokenValue-0123456789abcdef"
NEW = "newTokenValue-fedcba9876543210"


def test_bad_owner_restores_the_original_file(run_module, tmp_path):
    path = tmp_path / "tiflux.env"
    path.write_text("TIFLUX_API_TOKEN=%s\n" % OLD)
    result, out = run_module(token_push.main, dict(path=str(path), format="env", key="TIFLUX_API_TOKEN", token=NEW,
                                                   owner="no-such-user-tiflux"))
    assert result["failed"] and result["rolled_back"] and "restored" in result["msg"]
    assert path.read_text() == "TIFLUX_API_TOKEN=%s\n" % OLD
    assert NEW not in out and OLD not in out


def test_bad_owner_on_a_second_target_rolls_back_the_first(run_module, tmp_path):
    first, second = tmp_path / "a.env", tmp_path / "b.env"
    for path in (first, second):
        path.write_text("TIFLUX_API_TOKEN=%s\n" % OLD)
    targets = [dict(path=str(first), format="env", key="TIFLUX_API_TOKEN"),
               dict(path=str(second), format="env", key="TIFLUX_API_TOKEN", owner="no-such-user-tiflux")]
    result, _out = run_module(token_deploy.main, dict(token=NEW, targets=targets, verify=False))
    assert result["failed"] and result["rolled_back"]
    assert first.read_text() == second.read_text() == "TIFLUX_API_TOKEN=%s\n" % OLD


def test_bad_probe_fails_before_anything_is_written(run_module, tmp_path):
    path = tmp_path / "tiflux.env"
    path.write_text("TIFLUX_API_TOKEN=%s\n" % OLD)
    args = dict(path=str(path), format="env", key="TIFLUX_API_TOKEN", token=NEW, verify=True, probes=["users/me"])
    result, _out = run_module(token_push.main, args)
    assert result["failed"] and "not an API path" in result["msg"] and "\n" not in result["msg"]
    assert path.read_text() == "TIFLUX_API_TOKEN=%s\n" % OLD
    result, _out = run_module(token_check.main, dict(token=NEW, probes=["users/me"]))
    assert result["failed"] and "not an API path" in result["msg"]


def test_failed_backup_leaves_no_empty_copy(run_module, tmp_path, monkeypatch):
    from ansible.module_utils import basic

    def failing_copy(self, src, dest):
        open(dest, "w").close()
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(basic.AnsibleModule, "preserved_copy", failing_copy)
    path = tmp_path / "tiflux.env"
    path.write_text("TIFLUX_API_TOKEN=%s\n" % OLD)
    result, _out = run_module(token_push.main, dict(path=str(path), format="env", key="TIFLUX_API_TOKEN", token=NEW, backup=True))
    assert result["failed"] and "cannot back up" in result["msg"]
    assert sorted(os.listdir(str(tmp_path))) == ["tiflux.env"]
    assert path.read_text() == "TIFLUX_API_TOKEN=%s\n" % OLD
