# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The report action plugin: writes on the controller with no module run, refuses what _io refuses, check mode."""

from __future__ import annotations

import os
import stat
from unittest.mock import MagicMock

import pytest
import yaml

from ansible_collections.tokenops.tiflux.plugins.action.report import ActionModule
from ansible_collections.tokenops.tiflux.plugins.modules import report as module_doc


def run(args, check_mode=False):
    task = MagicMock()
    task.args = args
    task.async_val = 0
    task.check_mode = check_mode
    connection = MagicMock()
    action = ActionModule(task, connection, MagicMock(), MagicMock(), None, None)
    return action.run(task_vars={})


def mode_of(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_documented_options_are_the_argument_spec():
    options = yaml.safe_load(module_doc.DOCUMENTATION)["options"]
    assert sorted(options) == sorted(ActionModule.ARGUMENT_SPEC)
    for name, spec in ActionModule.ARGUMENT_SPEC.items():
        assert options[name]["type"] == spec["type"]
        assert options[name].get("default") == spec.get("default")
        assert bool(options[name].get("required")) == bool(spec.get("required"))


def test_writes_then_changes_nothing(tmp_path):
    dest = tmp_path / "rotate-deploy.md"
    result = run(dict(dest=str(dest), content="# Tiflux token deploy report\n\n| host | status |\n"))
    assert result["changed"] is True and not result.get("failed")
    assert result["dest"] == str(dest)
    assert dest.read_text() == "# Tiflux token deploy report\n\n| host | status |\n"
    assert mode_of(dest) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["rotate-deploy.md"]  # no temp file left
    again = run(dict(dest=str(dest), content="# Tiflux token deploy report\n\n| host | status |\n"))
    assert again["changed"] is False


def test_replaces_content_and_mode(tmp_path):
    dest = tmp_path / "audit.json"
    dest.write_text("{}")
    os.chmod(dest, 0o644)
    inode = os.lstat(dest).st_ino
    result = run(dict(dest=str(dest), content='{"hosts": {}}', mode="0600"))
    assert result["changed"] is True
    assert dest.read_text() == '{"hosts": {}}' and mode_of(dest) == 0o600
    assert os.lstat(dest).st_ino != inode  # renamed over, not rewritten in place
    assert run(dict(dest=str(dest), content='{"hosts": {}}', mode="0640"))["changed"] is True
    assert mode_of(dest) == 0o640


def test_check_mode_writes_nothing(tmp_path):
    dest = tmp_path / "rotate-deploy.json"
    result = run(dict(dest=str(dest), content="{}"), check_mode=True)
    assert result["changed"] is True and not dest.exists()
    dest.write_text("{}")
    os.chmod(dest, 0o640)
    assert run(dict(dest=str(dest), content="{}"), check_mode=True)["changed"] is False
    assert run(dict(dest=str(dest), content="[]"), check_mode=True)["changed"] is True
    assert dest.read_text() == "{}"


def test_missing_directory_fails_in_one_line(tmp_path):
    dest = tmp_path / "nowhere" / "rotate-deploy.md"
    result = run(dict(dest=str(dest), content="x"))
    assert result["failed"] is True
    assert result["msg"] == "the directory of %s does not exist: create it first; nothing was written" % dest
    assert not (tmp_path / "nowhere").exists()


def test_symlink_planted_in_a_shared_directory_is_refused(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)  # writable by others without the sticky bit: anyone could swap the entry
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    (shared / "rotate-deploy.md").symlink_to(victim)
    result = run(dict(dest=str(shared / "rotate-deploy.md"), content="report"))
    assert result["failed"] is True
    assert "nothing was written: point dest at a directory only root or the running user controls" in result["msg"]
    assert "follow" not in result["msg"] and "token" not in result["msg"]
    assert "\n" not in result["msg"]
    assert victim.read_text() == "keep me"


@pytest.mark.parametrize("args, words", [
    (dict(content="x"), "dest"),
    (dict(dest="DEST", content="x", mode="rw-r-----"), "mode must be an octal mode"),
    (dict(dest="DEST", content="x", owner="root"), "owner"),
])
def test_bad_options_fail_and_write_nothing(tmp_path, args, words):
    dest = tmp_path / "rotate-deploy.md"
    result = run(dict((name, str(dest) if value == "DEST" else value) for name, value in args.items()))
    assert result["failed"] is True and words in result["msg"] and "\n" not in result["msg"]
    assert not dest.exists()
