# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The vars file of a promotion, on the controller: resolve, lock, read, replace.

- Symlinks are followed only where nobody but root or the running user could have planted or
  swapped them (the rule of the host-side writes): a link owned by another user, or sitting in a
  directory others can write without the sticky bit, is refused; so is a file owned by another
  user in a sticky world-writable directory such as /tmp.
- An exclusive flock on the file itself, from read to rename: a second promotion waits, then
  reads the file the first one wrote (the lock follows the inode, so it checks that the path
  still names the inode it locked, and starts again if not).
- The new bytes (only ciphertext and the file's own clear lines: a token is never written in
  clear) go to a temp file created 0600 with O_EXCL under an unpredictable name in the same
  directory, get the file's owner and mode, are fsynced, then renamed over the file. Just before
  the rename the file must still be the one read; an editor's change in between is kept and
  reported instead.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import tempfile
import time

# One write path: the constants, the temp-file naming and the directory fsync of the host-side writes.
from ansible_collections.tokenops.tiflux.plugins.module_utils._io import (
    PRIVATE_MODE, TEMP_MARK, _fsync_dir, describe_os_error, remove_stale_temps,
)

# How long a promotion waits for another one of the same file before it gives up.
LOCK_SECONDS = 120
_LOCK_POLL = 0.1
_MAX_LINKS = 40


class VaultFileError(Exception):
    """One line naming the file and what to do; the file is unchanged."""


def _trusted(uid):
    return uid in (0, os.geteuid())


def _swappable(directory_stat):
    """Others than its owner may rename entries of this directory (group/world writable, no sticky bit)."""
    mode = directory_stat.st_mode
    return bool(mode & (stat.S_IWGRP | stat.S_IWOTH)) and not mode & stat.S_ISVTX


def resolve(path):
    """The real path of path, refusing links (and a last file) that someone else controls."""
    given = path
    # Not abspath(): it would fold "link/.." before the link is resolved, where the kernel resolves it first.
    todo = [part for part in os.path.join(os.getcwd(), path).split(os.sep) if part]
    current, links = os.sep, 0
    while todo:
        part = todo.pop(0)
        if part == ".":
            continue
        if part == "..":
            current = os.path.dirname(current)
            continue
        candidate = os.path.join(current, part)
        try:
            st = os.lstat(candidate)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                raise VaultFileError("%s does not exist: set path (rotate_vault_file) to the vars file that holds the token" % given)
            raise VaultFileError("cannot read %s: %s" % (given, describe_os_error(exc)))
        if stat.S_ISLNK(st.st_mode):
            links += 1
            if links > _MAX_LINKS:
                raise VaultFileError("cannot read %s: %s" % (given, describe_os_error(OSError(errno.ELOOP, "loop"))))
            if not _trusted(st.st_uid):
                raise VaultFileError("%s goes through the symlink %s, owned by uid %d (not root or you): it could point anywhere; "
                                     "use the real path or fix the link's owner; the file is unchanged" % (given, candidate, st.st_uid))
            if _swappable(os.stat(current)):
                raise VaultFileError("%s goes through the symlink %s in %s, a directory others can write: it could be swapped; "
                                     "use the real path; the file is unchanged" % (given, candidate, current))
            target = os.readlink(candidate)
            todo = [p for p in target.split(os.sep) if p] + todo
            if os.path.isabs(target):
                current = os.sep
            continue
        current = candidate
    directory = os.stat(os.path.dirname(current))
    final = os.stat(current)
    if directory.st_mode & stat.S_ISVTX and directory.st_mode & stat.S_IWOTH and not _trusted(final.st_uid):
        raise VaultFileError("%s is owned by uid %d in %s, a directory anyone can write: move the vars file to a directory of "
                             "your own; the file is unchanged" % (given, final.st_uid, os.path.dirname(current)))
    return current


class LockedFile:
    """A vars file read under its lock (use as a context manager); replace() writes the new bytes."""

    def __init__(self, path, lock_seconds=LOCK_SECONDS):
        self.path = path
        self.real_path = resolve(path)
        self.lock_seconds = lock_seconds
        self.fd = None
        self.stat = None
        self.data = None

    def __enter__(self):
        deadline = time.monotonic() + self.lock_seconds
        while True:
            fd = self._open()
            try:
                self._lock(fd, deadline)
                now = os.stat(self.real_path)
            except (OSError, VaultFileError) as exc:
                os.close(fd)
                if isinstance(exc, VaultFileError):
                    raise
                if exc.errno == errno.ENOENT:
                    continue  # replaced, and the new one not yet there: look again
                raise VaultFileError("cannot read %s: %s" % (self.path, describe_os_error(exc)))
            st = os.fstat(fd)
            if (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino):
                break
            os.close(fd)  # another promotion replaced the file while we waited: lock the new one
        self.fd, self.stat = fd, st
        try:
            self.data = self._read_all(fd)
        except OSError as exc:
            self.__exit__(None, None, None)
            raise VaultFileError("cannot read %s: %s" % (self.path, describe_os_error(exc)))
        # Temp files of a promotion killed (kill -9) before its rename: it held this lock, we hold it now.
        remove_stale_temps(self.real_path)
        return self

    def __exit__(self, *exc_info):
        if self.fd is not None:
            os.close(self.fd)  # closing drops the flock
            self.fd = None

    def _open(self):
        try:
            fd = os.open(self.real_path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | getattr(os, "O_NONBLOCK", 0))
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise VaultFileError("%s was replaced by a symlink while the promotion ran: check who changes it; "
                                     "the file is unchanged" % self.path)
            raise VaultFileError("cannot read %s: %s" % (self.path, describe_os_error(exc)))
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
            raise VaultFileError("%s is %s: set path (rotate_vault_file) to the vars file itself" % (self.path, kind))
        return fd

    def _lock(self, fd, deadline):
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
            if time.monotonic() >= deadline:
                raise VaultFileError("another promotion of %s has held its lock for %d s: let it finish, then run again; "
                                     "the file is unchanged" % (self.path, self.lock_seconds))
            time.sleep(_LOCK_POLL)

    @staticmethod
    def _read_all(fd):
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)

    def _temp_names(self):
        directory, base = os.path.split(self.real_path)
        return directory, "." + base + ".", TEMP_MARK

    def replace(self, data):
        """Write data in place of the file (atomic rename), keeping its owner and mode."""
        directory, prefix, suffix = self._temp_names()
        try:
            fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=directory)
        except OSError as exc:
            raise VaultFileError("cannot write %s: %s; the file is unchanged" % (self.path, describe_os_error(exc)))
        try:
            try:
                os.fchmod(fd, PRIVATE_MODE)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
                self._keep_attributes(fd)
            except OSError as exc:
                raise VaultFileError("cannot write %s: %s; the file is unchanged" % (self.path, describe_os_error(exc)))
            finally:
                os.close(fd)
            self._check_unchanged()
            try:
                os.rename(tmp, self.real_path)
            except OSError as exc:
                raise VaultFileError("cannot replace %s: %s; the file is unchanged" % (self.path, describe_os_error(exc)))
            tmp = None
            _fsync_dir(directory)
        finally:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass

    def _keep_attributes(self, fd):
        st = self.stat
        if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
            try:
                os.fchown(fd, st.st_uid, st.st_gid)
            except OSError as exc:
                if exc.errno != errno.EPERM:
                    raise
                raise VaultFileError("cannot keep the owner of %s (uid %d, gid %d): run as that user or as root; "
                                     "the file is unchanged" % (self.path, st.st_uid, st.st_gid))
        os.fchmod(fd, stat.S_IMODE(st.st_mode))

    def _check_unchanged(self):
        try:
            now = os.lstat(self.real_path)
        except OSError as exc:
            raise VaultFileError("%s went away while the promotion ran (%s): nothing was written" % (self.path, describe_os_error(exc)))
        before = self.stat
        if (now.st_dev, now.st_ino, now.st_size, now.st_mtime_ns) != (before.st_dev, before.st_ino, before.st_size, before.st_mtime_ns):
            raise VaultFileError("%s was changed by someone else while the promotion ran: their version is kept; "
                                 "run the promotion again" % self.path)
