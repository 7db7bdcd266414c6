# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The write transaction step by step: every step's failure, concurrent editors and runs, the journal."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest

from ansible.module_utils import basic

from ansible_collections.tokenops.tiflux.plugins.module_utils import _io, _journal
from ansible_collections.tokenops.tiflux.plugins.module_utils._push import Edit
from ansible_collections.tokenops.tiflux.plugins.module_utils._token import fingerprint
from ansible_collections.tokenops.tiflux.plugins.module_utils._transaction import Transaction

OLD = "oldTokenValue-0123456789abcdef"
NEW = "newTokenValue-fedcba9876543210"
ENV = "# app\nTIFLUX_API_TOKEN=%s\nSECOND_TOKEN=%s\n"


@pytest.fixture
def module(monkeypatch):
    args = dict(_ansible_check_mode=False, _ansible_remote_tmp="/tmp", _ansible_keep_remote_files=False)
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode())
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)
    return basic.AnsibleModule(argument_spec={})


def names(directory):
    return sorted(os.listdir(str(directory)))


def edit(key="TIFLUX_API_TOKEN", token=NEW):
    return Edit("env", (key,), token)


def test_two_keys_of_one_file_are_one_change(module, tmp_path):
    path = tmp_path / "app.env"
    path.write_text(ENV % (OLD, OLD))
    tx = Transaction(module, backup=True)
    first = tx.add(str(path), edit())
    second = tx.add(str(path), edit("SECOND_TOKEN"))
    assert first is second and len(tx.files) == 1
    assert tx.prepare() == []
    tx.commit()
    tx.close()
    assert path.read_text() == ENV % (NEW, NEW), "both keys hold the new token"
    assert [e.changed for e in first.edits] == [True, True]
    assert [e.previous_fingerprint for e in first.edits] == [fingerprint(OLD)] * 2
    assert open(first.backup_file).read() == ENV % (OLD, OLD)


def test_an_append_during_validate_is_kept_and_the_run_fails_saying_so(module, tmp_path):
    path = tmp_path / "app.env"
    path.write_text(ENV % (OLD, OLD))
    # validate runs while the push holds the temp file: an operator appends a line meanwhile
    tx = Transaction(module, backup=True, validate="sh -c 'echo EXTRA=1 >> %s' %%s" % path)
    change = tx.add(str(path), edit())
    assert tx.prepare() == []
    with pytest.raises(_io.FileError) as err:
        tx.commit()
    tx.close()
    assert "changed by someone else" in str(err.value) and "their version was kept" in str(err.value)
    assert path.read_text() == ENV % (OLD, OLD) + "EXTRA=1\n"
    assert names(tmp_path) == ["app.env"], "no temp file, no backup of a file left as it was"
    assert change.written is None


def test_a_restore_leaves_what_someone_wrote_after_the_commit(module, tmp_path):
    path = tmp_path / "app.env"
    path.write_text(ENV % (OLD, OLD))
    tx = Transaction(module)
    tx.add(str(path), edit())
    tx.prepare()
    tx.commit()
    with open(str(path), "a") as handle:
        handle.write("EDITED=1\n")
    restored, problems = tx.rollback()
    tx.close()
    assert restored == [] and len(problems) == 1 and "after this run wrote it" in problems[0]
    assert path.read_text() == ENV % (NEW, OLD) + "EDITED=1\n"


def test_rollback_puts_bytes_mode_and_owner_back_and_drops_the_backup(module, tmp_path):
    path = tmp_path / "app.env"
    path.write_bytes((ENV % (OLD, OLD)).encode())
    os.chmod(str(path), 0o640)
    os.chown(str(path), 1, 1)
    tx = Transaction(module, backup=True)
    change = tx.add(str(path), edit())
    tx.prepare()
    tx.commit()
    st = os.stat(str(path))
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o640, 1, 1), "the new file has the old one's attributes"
    restored, problems = tx.rollback()
    tx.close()
    assert restored == [change] and problems == []
    st = os.stat(str(path))
    assert path.read_bytes() == (ENV % (OLD, OLD)).encode() and (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o640, 1, 1)
    assert names(tmp_path) == ["app.env"]


def test_a_failure_on_the_second_file_leaves_it_and_rollback_restores_the_first(module, tmp_path):
    first, second = tmp_path / "a.env", tmp_path / "b.env"
    for path in (first, second):
        path.write_text(ENV % (OLD, OLD))
    tx = Transaction(module, backup=True)
    tx.add(str(first), edit())
    tx.add(str(second), edit(), file_args=dict(owner="no-such-user-tiflux"))
    assert tx.prepare() == []
    with pytest.raises(_io.FileError, match="no-such-user-tiflux.*the file is unchanged"):
        tx.commit()
    assert tx.failed is tx.files[1]
    assert first.read_text() == ENV % (NEW, OLD)
    restored, problems = tx.rollback()
    tx.close()
    assert restored == [tx.files[0]] and problems == []
    assert first.read_text() == second.read_text() == ENV % (OLD, OLD)
    assert names(tmp_path) == ["a.env", "b.env"]


def test_a_created_file_is_removed_again_with_the_directories_made_for_it(module, tmp_path):
    path = tmp_path / "x" / "y" / "app.env"
    tx = Transaction(module)
    change = tx.add(str(path), edit(), create_dirs=True)
    assert tx.prepare() == []
    tx.commit()
    assert change.created and path.read_text() == "TIFLUX_API_TOKEN=%s\n" % NEW
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600
    tx.rollback()
    tx.close()
    assert names(tmp_path) == []


def test_missing_file_and_directory_need_create(module, tmp_path):
    tx = Transaction(module)
    tx.add(str(tmp_path / "none.env"), edit(), create=False)
    tx.add(str(tmp_path / "d" / "none.env"), edit())
    problems = tx.prepare()
    assert problems == ["the directory of %s does not exist: create it first or set create_dirs: true" % (tmp_path / "d" / "none.env")]
    tx = Transaction(module)
    tx.add(str(tmp_path / "none.env"), edit(), create=False, on_target=True)
    assert tx.prepare() == ["%s does not exist: set create: true on the target to create it" % (tmp_path / "none.env")]
    assert names(tmp_path) == []


def test_check_mode_reads_without_locking_or_writing(module, tmp_path):
    path = tmp_path / "app.env"
    path.write_text(ENV % (OLD, OLD))
    (tmp_path / (".app.env.abc%s" % _io.TEMP_MARK)).write_text("another run's")
    tx = Transaction(module)
    change = tx.add(str(path), edit())
    assert tx.prepare(write=False) == [] and change.changed and tx._locks == []  # pylint: disable=protected-access
    assert len(names(tmp_path)) == 2, "a temp file is swept only under the lock"


HOLD = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.flock(fd, fcntl.LOCK_EX)
open(os.path.join(sys.argv[1], ".app.env.live%s"), "w").write("being validated")
print("locked", flush=True)
sys.stdin.read()
""" % _io.TEMP_MARK


def test_the_temp_file_of_a_live_run_is_not_swept(module, tmp_path, monkeypatch):
    path = tmp_path / "app.env"
    path.write_text(ENV % (OLD, OLD))
    monkeypatch.setattr(_io, "LOCK_WAIT_SECONDS", 0.3)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        tx = Transaction(module)
        tx.add(str(path), edit())
        problems = tx.prepare()
        tx.close()
    finally:
        holder.communicate("")
    assert len(problems) == 1 and "another run" in problems[0]
    assert (tmp_path / (".app.env.live%s" % _io.TEMP_MARK)).exists(), "the other run's temp file is still there"
    assert path.read_text() == ENV % (OLD, OLD)


def test_the_journal_records_fingerprints_before_the_rename_and_only_those(module, tmp_path, monkeypatch):
    path = tmp_path / "app.env"
    path.write_text(ENV % (OLD, OLD))
    seen = []
    real_rename = _io.rename

    def rename(name, src, dest):
        if dest == str(path):
            seen.append(_journal.pending(str(path)))
        return real_rename(name, src, dest)

    monkeypatch.setattr(_io, "rename", rename)
    tx = Transaction(module)
    change = tx.add(str(path), edit(), journal=True)
    tx.prepare()
    tx.commit()
    assert seen == [{fingerprint(NEW)}], "pending before the file holds the new token"
    journal = _journal.journal_path(str(path))
    assert stat.S_IMODE(os.stat(journal).st_mode) == 0o600
    assert NEW not in open(journal).read() and OLD not in open(journal).read()
    tx.rollback()
    assert seen[-1] == {fingerprint(OLD)} and _journal.pending(str(path)) == {fingerprint(OLD)}, "the restore owes a reload too"
    tx.settle([change])
    tx.close()
    assert _journal.pending(str(path)) == set() and names(tmp_path) == ["app.env"]


def test_an_immutable_file_leaves_no_backup(module, tmp_path):
    path = tmp_path / "app.env"
    path.write_text(ENV % (OLD, OLD))
    if subprocess.run(["chattr", "+i", str(path)], stderr=subprocess.DEVNULL, check=False).returncode != 0:
        pytest.skip("chattr +i is not supported here (needs root and ext4 or xfs)")
    try:
        tx = Transaction(module, backup=True)
        tx.add(str(path), edit())
        tx.prepare()
        with pytest.raises(_io.FileError, match="operation not permitted"):
            tx.commit()
        tx.close()
        assert names(tmp_path) == ["app.env"], "no backup holding the old token stays behind"
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=False)


def test_two_targets_of_one_file_must_agree_on_its_attributes(module, tmp_path):
    path = tmp_path / "app.env"
    path.write_text(ENV % (OLD, OLD))
    tx = Transaction(module)
    tx.add(str(path), edit(), file_args=dict(mode="0600", owner=None, group=None))
    tx.add(str(path), edit("SECOND_TOKEN"), file_args=dict(mode="0600", owner=None, group=None))
    with pytest.raises(_io.FileError, match="set different owner, group or mode"):
        tx.add(str(path), edit("SECOND_TOKEN"), file_args=dict(mode="0640", owner=None, group=None))
