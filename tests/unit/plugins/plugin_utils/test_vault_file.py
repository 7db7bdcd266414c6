# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The vars file on the controller: lock, temp file, rename, owner and mode, links others control."""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import threading
import time

import pytest

from ansible_collections.tokenops.tiflux.plugins.module_utils._io import TEMP_MARK
from ansible_collections.tokenops.tiflux.plugins.plugin_utils import _vault_file
from ansible_collections.tokenops.tiflux.plugins.plugin_utils._vault_file import LockedFile, VaultFileError

ROOT = os.geteuid() == 0
OTHER_UID = 65534  # nobody: a uid that is neither root nor the test's user
needs_root = pytest.mark.skipif(not ROOT, reason="needs root to give files and links to another user")


@pytest.fixture
def vars_file(tmp_path):
    directory = tmp_path / "group_vars"
    directory.mkdir(mode=0o755)
    os.chmod(str(directory), 0o755)
    path = directory / "vault.yml"
    path.write_bytes(b"vault_tiflux_token: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6161\n")
    os.chmod(str(path), 0o640)
    return str(path)


def temps(path):
    directory, base = os.path.split(path)
    return [n for n in os.listdir(directory) if n.startswith("." + base + ".") and n.endswith(TEMP_MARK)]


def test_replace_writes_the_new_bytes_and_keeps_the_mode(vars_file):
    with LockedFile(vars_file) as handle:
        assert handle.data.startswith(b"vault_tiflux_token")
        handle.replace(b"new: 1\n")
    assert open(vars_file, "rb").read() == b"new: 1\n"
    assert stat.S_IMODE(os.stat(vars_file).st_mode) == 0o640
    assert temps(vars_file) == []


@needs_root
def test_replace_keeps_another_users_owner(vars_file):
    os.chown(vars_file, OTHER_UID, OTHER_UID)
    with LockedFile(vars_file) as handle:
        handle.replace(b"new: 1\n")
    st = os.stat(vars_file)
    assert (st.st_uid, st.st_gid) == (OTHER_UID, OTHER_UID)


@needs_root
def test_an_owner_that_cannot_be_kept_fails_before_the_rename(vars_file, monkeypatch):
    os.chown(vars_file, OTHER_UID, OTHER_UID)
    before = open(vars_file, "rb").read()

    def refuse(*_args):
        raise PermissionError(errno.EPERM, "Operation not permitted")
    monkeypatch.setattr(_vault_file.os, "chown", refuse)
    with LockedFile(vars_file) as handle:
        with pytest.raises(VaultFileError, match=r"cannot keep the owner of .* \(uid 65534, gid 65534\): run as that user or as root"):
            handle.replace(b"new: 1\n")
    assert open(vars_file, "rb").read() == before
    assert temps(vars_file) == []


def test_temp_file_is_created_private_exclusive_and_unpredictable(vars_file, monkeypatch):
    created = []
    real_open = os.open
    exclusive = os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW

    def spy(path, flags, mode=0o777, **kwargs):
        fd = real_open(path, flags, mode, **kwargs)
        if flags & os.O_CREAT:
            created.append((path, flags & exclusive == exclusive, stat.S_IMODE(os.fstat(fd).st_mode), os.fstat(fd).st_size))
        return fd
    monkeypatch.setattr(_vault_file.os, "open", spy)
    for _round in range(2):
        with LockedFile(vars_file) as handle:
            handle.replace(b"new: 1\n")
    (first, excl, mode, size), (second, _excl, _mode, _size) = created
    assert excl and mode == 0o600 and size == 0
    assert os.path.dirname(first) == os.path.dirname(vars_file)
    assert os.path.basename(first).startswith(".vault.yml.") and first.endswith(TEMP_MARK)
    assert first != second


def test_a_failed_rename_leaves_the_file_and_no_temp(vars_file, monkeypatch):
    before = open(vars_file, "rb").read()

    def fail(*_args):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(_vault_file.os, "rename", fail)
    with LockedFile(vars_file) as handle:
        with pytest.raises(VaultFileError, match="cannot replace .*vault.yml: no space left on device .*; the file is unchanged"):
            handle.replace(b"new: 1\n")
    assert open(vars_file, "rb").read() == before
    assert temps(vars_file) == []


def test_a_second_promotion_waits_for_the_lock_then_gives_up(vars_file):
    before = open(vars_file, "rb").read()
    with LockedFile(vars_file):
        with pytest.raises(VaultFileError, match="another run of this collection has held the lock on .*group_vars for 0 s"):
            with LockedFile(vars_file, lock_seconds=0.3):
                pass
    assert open(vars_file, "rb").read() == before


def test_a_directory_that_cannot_be_locked_fails_the_promotion(vars_file, monkeypatch):
    before = open(vars_file, "rb").read()

    def no_flock(*_args):
        raise OSError(errno.EOPNOTSUPP, "Operation not supported")
    monkeypatch.setattr(fcntl, "flock", no_flock)  # a file system without flock: the host side would go on unlocked
    with pytest.raises(VaultFileError, match="cannot lock the directory of .*vault.yml .*; the file is unchanged"):
        with LockedFile(vars_file) as handle:
            handle.replace(b"new: 1\n")
    assert open(vars_file, "rb").read() == before


def test_the_waiting_promotion_reads_what_the_first_one_wrote(vars_file):
    entered, seen = threading.Event(), []

    def first():
        with LockedFile(vars_file) as handle:
            entered.set()
            time.sleep(0.5)  # the second one is now waiting on this inode's lock
            handle.replace(b"written: by the first\n")

    worker = threading.Thread(target=first)
    worker.start()
    entered.wait(10)
    with LockedFile(vars_file, lock_seconds=30) as handle:
        seen.append(handle.data)
    worker.join(30)
    assert seen == [b"written: by the first\n"]


def test_a_change_by_someone_else_is_kept_and_reported(vars_file):
    with LockedFile(vars_file) as handle:
        with open(vars_file, "ab") as editor:  # an editor that does not take the lock
            editor.write(b"added: by hand\n")
        with pytest.raises(VaultFileError, match="was changed by someone else while the promotion ran: their version is kept"):
            handle.replace(b"new: 1\n")
    assert open(vars_file, "rb").read().endswith(b"added: by hand\n")
    assert temps(vars_file) == []


def test_stale_temps_of_a_killed_promotion_are_removed_under_the_lock(vars_file):
    stale = os.path.join(os.path.dirname(vars_file), ".vault.yml.abc123" + TEMP_MARK)
    unrelated = os.path.join(os.path.dirname(vars_file), ".other.yml.abc123" + TEMP_MARK)
    for name in (stale, unrelated):
        open(name, "wb").close()
    with LockedFile(vars_file):
        pass
    assert not os.path.exists(stale) and os.path.exists(unrelated)


@pytest.mark.parametrize("make, expected", [
    (os.unlink, "does not exist: set path .rotate_vault_file."),
    (lambda p: (os.unlink(p), os.mkdir(p)), "is a directory: set path"),
    (lambda p: (os.unlink(p), os.mkfifo(p)), "is not a regular file"),
    (lambda p: (os.unlink(p), os.symlink(os.path.basename(p), p)), "cannot read .*: too many levels of symbolic links"),
])
def test_what_is_not_a_vars_file(vars_file, make, expected):
    make(vars_file)
    with pytest.raises(VaultFileError, match=expected):
        with LockedFile(vars_file):
            pass


def test_own_symlink_is_followed_and_stays_a_link(vars_file, tmp_path):
    link = str(tmp_path / "vault-link.yml")
    os.symlink(vars_file, link)
    with LockedFile(link) as handle:
        assert handle.real_path == os.path.realpath(vars_file)
        handle.replace(b"new: 1\n")
    assert os.path.islink(link) and open(vars_file, "rb").read() == b"new: 1\n"


def test_relative_links_and_dotdot_resolve_like_realpath(vars_file, tmp_path):
    (tmp_path / "sub").mkdir()
    os.symlink("../group_vars", str(tmp_path / "sub" / "gv"))
    # sub/gv/.. is tmp_path (the link's target's parent), not sub: folding ".." first would miss the file.
    path = str(tmp_path / "sub" / "gv" / ".." / "group_vars" / "vault.yml")
    assert LockedFile(path).real_path == os.path.realpath(path) == os.path.realpath(vars_file)


@needs_root
def test_symlink_owned_by_another_user_is_refused(vars_file, tmp_path):
    link = str(tmp_path / "vault-link.yml")
    os.symlink(vars_file, link)
    os.lchown(link, OTHER_UID, OTHER_UID)
    before = open(vars_file, "rb").read()
    with pytest.raises(VaultFileError, match=r"symlink .*vault-link.yml is owned by (\S+ \()?uid 65534\)?, not by root or the running user"):
        with LockedFile(link):
            pass
    assert open(vars_file, "rb").read() == before


@needs_root
def test_symlinked_directory_owned_by_another_user_is_refused(vars_file, tmp_path):
    link = str(tmp_path / "gv")
    os.symlink(os.path.dirname(vars_file), link)
    os.lchown(link, OTHER_UID, OTHER_UID)
    with pytest.raises(VaultFileError, match=r"symlink .*gv is owned by (\S+ \()?uid 65534\)?"):
        LockedFile(os.path.join(link, "vault.yml"))


@pytest.mark.parametrize("mode", [0o777, pytest.param(0o775, marks=needs_root)])
def test_symlink_in_a_directory_others_can_write_is_refused(vars_file, tmp_path, mode):
    shared = tmp_path / "shared"
    shared.mkdir()
    if mode & 0o020:
        os.chown(str(shared), -1, OTHER_UID)  # writable by a group that is neither root's nor the running user's
    os.chmod(str(shared), mode)
    link = str(shared / "vault.yml")
    os.symlink(vars_file, link)
    with pytest.raises(VaultFileError, match="symlink .*shared/vault.yml sits in a directory writable by others without the sticky bit"):
        LockedFile(link)


def test_own_symlink_in_a_sticky_directory_is_followed(vars_file, tmp_path):
    sticky = tmp_path / "sticky"
    sticky.mkdir()
    os.chmod(str(sticky), 0o1777)
    link = str(sticky / "vault.yml")
    os.symlink(vars_file, link)
    assert LockedFile(link).real_path == os.path.realpath(vars_file)


@needs_root
def test_file_of_another_user_in_a_sticky_world_writable_directory_is_refused(tmp_path):
    sticky = tmp_path / "tmp"
    sticky.mkdir()
    os.chmod(str(sticky), 0o1777)
    planted = sticky / "vault.yml"
    planted.write_bytes(b"a: 1\n")
    os.chown(str(planted), OTHER_UID, OTHER_UID)
    with pytest.raises(VaultFileError, match=r"file .*tmp/vault.yml is owned by (\S+ \()?uid 65534\)?, not by root or the running user"):
        LockedFile(str(planted))
