# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""_io: whom a path is trusted to, private files, locks, and telling whether someone changed a file."""

from __future__ import annotations

import errno
import os
import re
import stat
import subprocess
import sys
import time

import pytest

from ansible_collections.tokenops.tiflux.plugins.module_utils import _io

SECRET = "oldTokenValue-0123456789abcdef"


def mode_of(path):
    return stat.S_IMODE(os.lstat(str(path)).st_mode)


# -- resolve: what another user could have planted -------------------------------------------------

def test_a_plain_file_and_a_trusted_link_resolve(tmp_path):
    real = tmp_path / "real.env"
    real.write_text("A=1\n")
    (tmp_path / "link.env").symlink_to(real)
    assert _io.resolve(str(real)) == (str(real), True)
    assert _io.resolve(str(tmp_path / "link.env")) == (str(real), True)
    assert _io.resolve(str(tmp_path / "new.env")) == (str(tmp_path / "new.env"), False)
    assert _io.resolve(str(tmp_path / "a" / "b" / "c.env")) == (str(tmp_path / "a" / "b" / "c.env"), False)


def test_relative_links_and_dot_dot_resolve_like_the_kernel(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "app.env").write_text("A=1\n")
    (tmp_path / "conf").symlink_to("etc")
    path = str(tmp_path / "conf" / ".." / "conf" / "app.env")
    assert _io.resolve(path) == (os.path.realpath(path), True)


@pytest.mark.parametrize("path", ["", "  "])
def test_an_empty_path_says_so(path):
    # not "is a directory" (the working directory a relative empty path resolves to)
    with pytest.raises(_io.FileError, match="^the path is empty: set it to the file itself$"):
        _io.resolve(path)


def test_a_symlink_loop_is_one_line(tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(_io.FileError, match="too many levels of symbolic links"):
        _io.resolve(str(tmp_path / "a"))


def test_a_link_another_user_planted_in_a_sticky_directory_is_refused(other_user, open_dir, tmp_path):
    victim = tmp_path / "victim.env"  # what the link points at: the attacker's file, or a system file
    victim.write_text("A=1\n")
    link = open_dir / "tiflux.env"
    link.symlink_to(victim)
    other_user.own(link)
    with pytest.raises(_io.FileError) as err:
        _io.resolve(str(link))
    message = str(err.value)
    assert other_user.name in message and "symlink" in message and "follow: true" in message and "\n" not in message
    assert _io.resolve(str(link), follow=True) == (str(victim), True)


def test_a_root_link_in_a_directory_writable_by_others_without_sticky_bit_is_refused(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(str(shared), 0o777)  # anyone can replace the link
    target = tmp_path / "real.env"
    target.write_text("A=1\n")
    (shared / "tiflux.env").symlink_to(target)
    with pytest.raises(_io.FileError, match="writable by others without the sticky bit"):
        _io.resolve(str(shared / "tiflux.env"))
    (shared / "plain.env").write_text("A=1\n")
    with pytest.raises(_io.FileError, match="without the sticky bit"):
        _io.resolve(str(shared / "plain.env"))
    with pytest.raises(_io.FileError, match="without the sticky bit"):
        _io.resolve(str(shared / "absent.env"))  # creating it there: anyone could swap it afterwards


def test_a_directory_on_the_way_owned_by_another_user_is_refused(other_user, tmp_path):
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "tiflux.env").write_text("A=1\n")
    other_user.own(theirs)
    with pytest.raises(_io.FileError, match="is owned by %s" % other_user.name):
        _io.resolve(str(theirs / "tiflux.env"))
    assert _io.resolve(str(theirs / "tiflux.env"), follow=True)[1] is True


def test_a_directory_writable_by_another_group_is_refused(other_user, tmp_path):
    shared = tmp_path / "group"
    shared.mkdir()
    os.chown(str(shared), 0, other_user.gid)
    os.chmod(str(shared), 0o770)
    with pytest.raises(_io.FileError, match="without the sticky bit"):
        _io.resolve(str(shared / "tiflux.env"))


def test_a_file_another_user_created_in_a_sticky_directory_is_refused(other_user, open_dir):
    planted = open_dir / "tiflux.env"
    planted.write_text("TIFLUX_API_TOKEN=x\n")
    other_user.own(planted)
    with pytest.raises(_io.FileError, match="file .* is owned by %s" % other_user.name):
        _io.resolve(str(planted))
    assert _io.resolve(str(planted), follow=True) == (str(planted), True)


def test_a_file_of_its_service_user_in_a_trusted_directory_is_fine(other_user, tmp_path):
    config = tmp_path / "tiflux.env"
    config.write_text("A=1\n")
    other_user.own(config)  # /etc/zabbix/tiflux.env owned by zabbix: root put it there
    assert _io.resolve(str(config)) == (str(config), True)


def test_a_hard_link_in_a_sticky_directory_is_refused(open_dir, tmp_path):
    original = tmp_path / "system.conf"
    original.write_text("A=1\n")
    os.link(str(original), str(open_dir / "tiflux.env"))
    with pytest.raises(_io.FileError, match="hard links"):
        _io.resolve(str(open_dir / "tiflux.env"))


def test_a_file_planted_after_resolve_is_refused_when_read(other_user, open_dir):
    path = str(open_dir / "tiflux.env")
    real, exists = _io.resolve(path)
    assert not exists
    with open(path, "w") as handle:  # the attacker wins the race: their file appears before the read
        handle.write("A=1\n")
    other_user.own(path)
    with pytest.raises(_io.FileError, match="owned by %s" % other_user.name):
        _io.read(path, real)


def test_a_link_swapped_in_after_resolve_is_not_followed(tmp_path):
    path = tmp_path / "tiflux.env"
    path.write_text("A=1\n")
    real, _exists = _io.resolve(str(path))
    path.unlink()
    path.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(_io.FileError, match="became a symlink"):
        _io.read(str(path), real)


# -- files this collection makes -------------------------------------------------------------------

def test_backups_are_private_and_never_written_through_a_planted_link(tmp_path, monkeypatch):
    config = tmp_path / "tiflux.env"
    config.write_text("TIFLUX_API_TOKEN=%s\n" % SECRET)
    os.chmod(str(config), 0o644)
    bait = tmp_path / "attacker-owned"
    bait.write_text("")
    # ansible's backup_local names (path.PID.date~) for this second and the next ones, and the exact name the
    # first random draw will give: every one is a link to the attacker's file
    stamp = time.time()
    for delta in range(5):
        name = "%s.%d.%s~" % (config.name, os.getpid(), time.strftime("%Y-%m-%d@%H:%M:%S", time.localtime(stamp + delta)))
        (tmp_path / name).symlink_to(bait)
    draws = iter([b"\x00" * 6, b"\x01" * 6])
    monkeypatch.setattr(_io.os, "urandom", lambda n: next(draws))
    first = "%s.%s.%s~" % (config.name, time.strftime("%Y-%m-%d@%H:%M:%S", time.localtime()), "00" * 6)
    (tmp_path / first).symlink_to(bait)
    snapshot = _io.read(str(config), str(config))
    backup = _io.backup(snapshot)
    assert backup.endswith("010101010101~") and re.match(_io.BACKUP_NAME_PATTERN, os.path.basename(backup))
    assert bait.read_text() == "", "nothing was written through a planted link"
    assert open(backup).read() == "TIFLUX_API_TOKEN=%s\n" % SECRET
    assert mode_of(backup) == 0o600, "the backup is private whatever the original's mode"
    assert SECRET[:12] not in backup


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o277])
def test_private_files_are_0600_whatever_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        name, st = _io.write_private(str(tmp_path), _io.temp_name(str(tmp_path / "x.env")), b"data")
    finally:
        os.umask(old)
    assert mode_of(name) == 0o600 and stat.S_IMODE(st.st_mode) == 0o600
    assert os.path.basename(name).startswith(".x.env.") and name.endswith(_io.TEMP_MARK)


@pytest.mark.parametrize("umask, mode", [(0o000, 0o700), (0o000, 0o750), (0o077, 0o755)])
def test_made_directories_get_exactly_their_mode(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        made = _io.make_dirs("x", str(tmp_path / "a" / "b"), mode)
    finally:
        os.umask(old)
    assert made == [str(tmp_path / "a"), str(tmp_path / "a" / "b")]
    assert [mode_of(d) for d in made] == [mode, mode]


def test_only_our_own_stale_temp_files_are_swept(other_user, tmp_path):
    config = tmp_path / "tiflux.env"
    config.write_text("A=1\n")
    ours = tmp_path / (".tiflux.env.abc123%s" % _io.TEMP_MARK)
    ours.write_text("half")
    theirs = tmp_path / (".tiflux.env.def456%s" % _io.TEMP_MARK)
    theirs.write_text("")
    other_user.own(theirs)
    unrelated = tmp_path / (".other.env.abc%s" % _io.TEMP_MARK)
    unrelated.write_text("")
    _io.remove_stale_temps(str(config))
    assert not ours.exists() and theirs.exists() and unrelated.exists()


@pytest.mark.parametrize("value, mode", [("0750", 0o750), ("700", 0o700), (0o755, 0o755), (None, None)])
def test_parse_mode(value, mode):
    assert _io.parse_mode(value) == mode


@pytest.mark.parametrize("value", ["u=rwx", "0799", 4096, True, [7]])
def test_parse_mode_refuses_what_is_not_an_octal_mode(value):
    with pytest.raises(_io.FileError, match="dir_mode must be an octal mode"):
        _io.parse_mode(value)


# -- locks and concurrent changes ------------------------------------------------------------------

HOLD = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.read()
"""


def test_a_lock_held_by_another_run_makes_the_second_wait_then_fail_saying_why(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(_io.FileError) as err:
            _io.DirLock(str(tmp_path)).acquire("/x/tiflux.env", wait=0.3)
        assert "another run" in str(err.value) and "nothing was written" in str(err.value)
    finally:
        holder.communicate("")
    lock = _io.DirLock(str(tmp_path)).acquire("/x/tiflux.env", wait=0.3)
    lock.release()


def test_a_directory_replaced_while_waiting_is_not_trusted(tmp_path, monkeypatch):
    directory = tmp_path / "d"
    directory.mkdir()
    real_fstat = os.fstat

    def swapped(fd):
        directory.rmdir()
        directory.mkdir()
        return real_fstat(fd)

    monkeypatch.setattr(_io.os, "fstat", swapped)
    with pytest.raises(_io.FileError, match="removed or replaced"):
        _io.DirLock(str(directory)).acquire("/x/tiflux.env")


def test_is_unchanged_sees_appends_rewrites_and_replacements(tmp_path):
    path = tmp_path / "tiflux.env"
    path.write_bytes(b"A=1\n")
    snap = _io.read(str(path), str(path))
    assert _io.is_unchanged(str(path), str(path), snap.data, snap.stat)
    with open(str(path), "ab") as handle:
        handle.write(b"B=2\n")
    assert not _io.is_unchanged(str(path), str(path), snap.data, snap.stat)
    path.write_bytes(b"A=1\n")
    snap = _io.read(str(path), str(path))
    path.write_bytes(b"A=9\n")  # same size, and the clock may not have moved: the bytes tell
    os.utime(str(path), ns=(snap.stat.st_atime_ns, snap.stat.st_mtime_ns))
    assert not _io.is_unchanged(str(path), str(path), snap.data, snap.stat)
    (tmp_path / "other").write_bytes(b"A=1\n")
    os.rename(str(tmp_path / "other"), str(path))
    assert not _io.is_unchanged(str(path), str(path), b"A=1\n", snap.stat)
    path.unlink()
    assert not _io.is_unchanged(str(path), str(path), b"A=1\n", snap.stat)
    assert _io.is_unchanged(str(path), str(path), None, None), "absent as it was"


def test_describe_os_error_says_what_to_do():
    assert "become" in _io.describe_os_error(OSError(errno.EACCES, "x"))
    assert _io.describe_os_error(OSError(errno.EXDEV, "Invalid cross-device link")) == "Invalid cross-device link"
