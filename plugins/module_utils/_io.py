# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""File system steps of the write transaction (_transaction.py), each with one way to fail: FileError.

A config file holding a token is reached only through what root or the running user controls (resolve),
read and replaced under an advisory lock on its directory (DirLock), and every file this collection
creates next to it (temp files, backups, the journal) is made with O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600,
under a name nobody can predict. Ansible's atomic_move and backup_local are not used: the first widens a
created file to 0644 before the caller could narrow it, the second copies through a symlink planted at
its predictable name.

Backups, directory creation and validate, the steps a plain push does not take, are in _file_steps.py, imported
only when used (a module run compiles every module it imports); their names are still reached here.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import stat
import time

PRIVATE_MODE = 0o600  # temp files, backups, the journal, created files
DIR_MODE = 0o700  # directories made for a created file, unless dir_mode says otherwise
TEMP_MARK = ".tiflux-tmp"
# name.YYYY-MM-DD@HH:MM:SS.<12 hex>~ (this collection), or name.PID.YYYY-MM-DD@HH:MM:SS~ (ansible's backup_local,
# used by tokenops.tiflux 1.0): never anything of the content.
# A pattern, not compiled here: a push that never looks at backup names does not pay for it.
BACKUP_NAME_PATTERN = r"^(?P<name>.+)\.(\d+\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d|\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d\.[0-9a-f]{12})~$"
LOCK_WAIT_SECONDS = 60
EMPTY_PATH = "the path is empty: set it to the file itself"
FOLLOW_HINT = "nothing was written: point path at a file only root or the running user controls, or set follow: true to trust it"

_CAUSES = {
    errno.EACCES: "permission denied (run the task with become, or fix the permissions of the file and its directory)",
    errno.EPERM: "operation not permitted (run the task with become, or check immutable attributes)",
    errno.EROFS: "read-only file system (remount it read-write or choose another path)",
    errno.ENOSPC: "no space left on device (free space on that file system and run again)",
    errno.EDQUOT: "disk quota exceeded (free space or raise the quota and run again)",
    errno.ENOENT: "no such file or directory",
    errno.ENOTDIR: "a component of the path is not a directory",
    errno.ELOOP: "too many levels of symbolic links",
}


class FileError(Exception):
    """A one-line, secret-free message that names the file and the cause."""


def describe_os_error(exc):
    return _CAUSES.get(exc.errno, exc.strerror or str(exc))


# -- whom to trust on the way to a file -------------------------------------------------------------

def _trusted(uid):
    return uid in (0, os.geteuid())


def _open_to_others(st):
    """A directory someone else than root and the running user may add, remove or rename entries in."""
    mode = st.st_mode
    return bool(mode & stat.S_IWOTH or (mode & stat.S_IWGRP and st.st_gid not in (0, os.getegid())))


def _user(uid):
    import pwd  # pylint: disable=import-outside-toplevel

    try:
        return "%s (uid %d)" % (pwd.getpwuid(uid).pw_name, uid)
    except KeyError:
        return "uid %d" % uid


def _refuse(path, what, why):
    raise FileError("%s: %s %s: another user could swap it and get the token; %s" % (path, what, why, FOLLOW_HINT))


def _check_entry(path, entry, st, parent, kind):
    """Refuse an entry (symlink, directory on the way, or the file) that another user could have planted or swapped."""
    if _open_to_others(parent) and not parent.st_mode & stat.S_ISVTX:
        _refuse(path, "%s %s" % (kind, entry), "sits in a directory writable by others without the sticky bit")
    if kind != "file" or _open_to_others(parent):
        # Outside an open (sticky) directory the file may belong to its service user; whoever owns the
        # directory put it there. In /tmp-like directories anyone may have.
        if not _trusted(st.st_uid):
            _refuse(path, "%s %s" % (kind, entry), "is owned by %s, not by root or the running user" % _user(st.st_uid))
    if kind == "file" and _open_to_others(parent) and st.st_nlink > 1:
        _refuse(path, "file %s" % entry, "has other hard links in a directory writable by others")


def resolve(path, follow=False):
    """The real path of a config file, and whether it exists.

    Symlinks are resolved one by one, like the kernel does. Unless follow is true, a symlink or directory on
    the way that another user owns or could swap (it sits in a directory writable by others without the sticky
    bit), and, in a sticky directory writable by others such as /tmp, a link or a file owned by another user,
    are refused with FileError. Missing trailing components are allowed (the file or its directories are
    created later); the deepest existing directory must then be one nobody else can swap entries in.
    """
    if not path.strip():
        raise FileError(EMPTY_PATH)
    full = path if os.path.isabs(path) else os.path.join(os.getcwd(), path)
    pending = [part for part in full.split("/") if part not in ("", ".")]
    current, parent = "/", os.lstat("/")
    links = 0
    while pending:
        name = pending.pop(0)
        if name == "..":
            current = os.path.dirname(current)
            parent = os.lstat(current)
            continue
        candidate = os.path.join(current, name)
        try:
            st = os.lstat(candidate)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise FileError("cannot read %s: %s" % (path, describe_os_error(exc)))
            if ".." in pending:
                raise FileError("cannot read %s: %s" % (path, describe_os_error(exc)))
            if not follow and _open_to_others(parent) and not parent.st_mode & stat.S_ISVTX:
                _refuse(path, "directory %s" % current, "is writable by others without the sticky bit")
            return os.path.join(candidate, *pending), False
        if stat.S_ISLNK(st.st_mode):
            links += 1
            if links > 40:
                raise FileError("cannot read %s: %s" % (path, describe_os_error(OSError(errno.ELOOP, ""))))
            if not follow:
                _check_entry(path, candidate, st, parent, "symlink")
            target = os.readlink(candidate)
            if target.startswith("/"):
                current, parent = "/", os.lstat("/")
            pending = [part for part in target.split("/") if part not in ("", ".")] + pending
            continue
        if pending:
            if not stat.S_ISDIR(st.st_mode):
                raise FileError("cannot read %s: %s" % (path, describe_os_error(OSError(errno.ENOTDIR, ""))))
            if not follow:
                _check_entry(path, candidate, st, parent, "directory")
            current, parent = candidate, st
            continue
        if not follow and not stat.S_ISDIR(st.st_mode):
            _check_entry(path, candidate, st, parent, "file")
        return candidate, True
    return current, True


# -- reading, and telling whether someone changed the file since ------------------------------------

class Snapshot:
    """What was on disk before a change, to diff against, to detect a concurrent change and to restore."""

    def __init__(self, path, real_path, data=None, st=None, context=None):
        self.path = path
        self.real_path = real_path
        self.data = data  # bytes, or None when the file did not exist
        self.stat = st
        self.context = context  # SELinux context, when enabled

    @property
    def exists(self):
        return self.data is not None


def read_bytes(path, real_path):
    """(data, stat) of the resolved file, or (None, None) when it does not exist; a link there is refused."""
    try:
        fd = os.open(real_path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None, None
        if exc.errno == errno.ELOOP:
            raise FileError("%s became a symlink while it was read: %s" % (path, FOLLOW_HINT))
        raise FileError("cannot read %s: %s" % (path, describe_os_error(exc)))
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise FileError("%s is a directory: set path to the config file inside it" % path)
        if not stat.S_ISREG(st.st_mode):
            raise FileError("%s is not a regular file: point path at the config file itself" % path)
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks), st
    except OSError as exc:
        raise FileError("cannot read %s: %s" % (path, describe_os_error(exc)))
    finally:
        os.close(fd)


def read(path, real_path, follow=False):
    """Read the resolved file without following a link at its last component.

    Unless follow is true, the file read is checked again like resolve() checked its name: in a directory
    writable by others, a file another user created after resolve() is refused too.
    """
    data, st = read_bytes(path, real_path)
    if st is not None and not follow:
        _check_entry(path, real_path, st, os.lstat(os.path.dirname(real_path)), "file")
    return Snapshot(path, real_path, data, st)


def _identity(st):
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def is_unchanged(path, real_path, data, st):
    """Whether real_path still is the file read or written (same inode, size, mtime and bytes); data None: absent."""
    try:
        now = os.lstat(real_path)
    except OSError:
        return data is None
    if data is None or st is None or _identity(now) != _identity(st):
        return False
    return read_bytes(path, real_path)[0] == data


# -- locking ----------------------------------------------------------------------------------------

class DirLock:
    """flock on the directory of the files a run edits, held from the read to the end of verify/restore.

    A directory, not the file: the rename replaces the file's inode, and a lock file beside it would stay
    behind. Runs of this collection on one directory therefore take turns; other editors are caught by
    is_unchanged(). Where flock is not supported (some network file systems) or the directory cannot be
    opened the run goes on without it (held is false), and stale temp files are left alone.
    """

    def __init__(self, directory):
        self.directory = directory
        self.fd = None

    @property
    def held(self):
        return self.fd is not None

    def acquire(self, path, wait=None):
        wait = LOCK_WAIT_SECONDS if wait is None else wait
        try:
            fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            if exc.errno == errno.EACCES:
                return self  # a directory we may write but not list (mode 0300): is_unchanged() alone guards it
            raise FileError("cannot lock the directory of %s: %s" % (path, describe_os_error(exc)))
        deadline, pause = time.monotonic() + wait, 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EINTR):
                    os.close(fd)  # no flock here (EOPNOTSUPP, ENOLCK): is_unchanged() still guards the rename
                    return self
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise FileError("%s: another run of this collection has held the lock on %s for %d s; nothing was "
                                    "written: run again when it has finished" % (path, self.directory, wait))
                time.sleep(pause)
                pause = min(pause * 2, 0.1)
        now = os.fstat(fd)
        try:
            same = _identity(os.lstat(self.directory))[:2] == _identity(now)[:2]
        except OSError:
            same = False
        if not same:
            os.close(fd)
            raise FileError("%s: its directory was removed or replaced while this run waited for it; nothing was "
                            "written: run again" % path)
        self.fd = fd
        return self

    def release(self):
        if self.fd is not None:
            os.close(self.fd)  # closing the last descriptor releases the flock
            self.fd = None


# -- files this collection creates ------------------------------------------------------------------

def _create_private(directory, make_name):
    """A new 0600 file in directory under a name from make_name(random hex): O_CREAT|O_EXCL|O_NOFOLLOW."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    for _attempt in range(100):
        name = os.path.join(directory, make_name(os.urandom(6).hex()))
        try:
            fd = os.open(name, flags, PRIVATE_MODE)
        except OSError as exc:
            if exc.errno == errno.EEXIST:
                continue  # someone planted that name (or a rare collision): draw another
            raise
        os.fchmod(fd, PRIVATE_MODE)  # whatever the umask
        return fd, name
    raise OSError(errno.EEXIST, "could not find a free name")


def write_private(directory, make_name, data):
    """Write data to a new private file (see _create_private), fsync'ed; returns its path and stat."""
    fd, name = _create_private(directory, make_name)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
        st = os.fstat(fd)
    except BaseException:
        os.close(fd)
        unlink(name)
        raise
    os.close(fd)
    return name, st


def temp_name(real_path):
    base = os.path.basename(real_path)
    return lambda token: ".%s.%s%s" % (base, token, TEMP_MARK)


def remove_stale_temps(real_path):
    """Temp files of this collection left by a killed run (kill -9, power loss) next to real_path.

    Only called with the directory's lock held: no other run of ours is using one then. Only regular files
    of the running user are removed: a name planted by another user is not ours.
    """
    directory, base = os.path.dirname(real_path), os.path.basename(real_path)
    prefix = ".%s." % base
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if name.startswith(prefix) and name.endswith(TEMP_MARK) and len(name) > len(prefix) + len(TEMP_MARK):
            full = os.path.join(directory, name)
            try:
                st = os.lstat(full)
                if stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid():
                    os.unlink(full)
            except OSError:
                pass


def parse_mode(value, what="dir_mode"):
    """A mode given as an octal string ('0750') or an int (YAML reads 0750 as the octal number)."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0o777:
        return value
    if isinstance(value, str) and re.match(r"^0?[0-7]{3}$", value.strip()):
        return int(value.strip(), 8)
    raise FileError("%s must be an octal mode such as '0750', got %r" % (what, value))


def rename(path, src, dest):
    try:
        os.rename(src, dest)
    except OSError as exc:
        raise FileError("cannot replace %s: %s; the file is unchanged" % (path, describe_os_error(exc)))
    fsync_dir(os.path.dirname(dest))


def unlink(name):
    try:
        os.unlink(name)
    except OSError:
        pass


def fsync_dir(directory):
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- attributes -------------------------------------------------------------------------------------

def set_attributes(module, file_args, changed):
    """module.set_fs_attributes_if_different, but a bad owner/group/mode raises FileError instead of exiting
    the module, so the caller can leave or put the original file back first."""
    def fail(msg, **_kwargs):
        raise FileError("%s: %s" % (file_args.get("path"), " ".join(str(msg).split())))
    original, module.fail_json = module.fail_json, fail
    try:
        return module.set_fs_attributes_if_different(file_args, changed)
    except OSError as exc:
        raise FileError("%s: %s" % (file_args.get("path"), describe_os_error(exc)))
    finally:
        module.fail_json = original


def copy_attributes(module, tmp, st, context, real_path):
    """Give tmp the owner, group, mode and SELinux context of the file it replaces (st/context of the snapshot), or
    the default context of real_path for a new file."""
    if st is not None:
        try:
            os.chown(tmp, st.st_uid, st.st_gid)
        except OSError as exc:
            if exc.errno != errno.EPERM:  # not root: the file keeps the running user as owner
                raise
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
    if module.selinux_enabled():
        module.set_context_if_different(tmp, context or module.selinux_default_context(real_path), False)


# -- steps a plain push does not take ---------------------------------------------------------------

_FILE_STEPS = frozenset(("backup", "make_dirs", "remove_dirs", "check_validate", "run_validate"))


def __getattr__(name):
    """_io.backup, _io.make_dirs, ... as before: _file_steps.py is imported (compiled) on first use only."""
    if name in _FILE_STEPS:
        from ansible_collections.tokenops.tiflux.plugins.module_utils import _file_steps  # pylint: disable=import-outside-toplevel

        return getattr(_file_steps, name)
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
