# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one write path for config files holding secrets.

read -> (caller computes new bytes) -> temp file 0600 in the same directory -> validate ->
copy the destination's owner/mode/SELinux context onto the temp file -> atomic rename ->
fsync the directory. Ansible's atomic_move is not used because on create it widens the
new file to 0644 before the caller could narrow it, exposing the token for a moment.
"""

from __future__ import annotations

import errno
import os
import shlex
import stat
import tempfile

TEMP_MARK = ".tiflux-tmp"
# Temp files, backups and created files: whatever the original's mode, only the owner may read them.
PRIVATE_MODE = 0o600

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


class Snapshot:
    """What was on disk before a change, to diff against and to restore byte-identical."""

    def __init__(self, path, real_path, data, st):
        self.path = path
        self.real_path = real_path
        self.data = data  # bytes, or None when the file did not exist
        self.stat = st

    @property
    def exists(self):
        return self.data is not None


def read(path):
    """Read a config file, following symlinks (the link stays, its target is edited)."""
    real_path = os.path.realpath(path)
    try:
        st = os.stat(real_path)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return Snapshot(path, real_path, None, None)
        raise FileError("cannot read %s: %s" % (path, describe_os_error(exc)))
    if stat.S_ISDIR(st.st_mode):
        raise FileError("%s is a directory: set path to the config file inside it" % path)
    if not stat.S_ISREG(st.st_mode):
        raise FileError("%s is not a regular file: point path at the config file itself" % path)
    try:
        with open(real_path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise FileError("cannot read %s: %s" % (path, describe_os_error(exc)))
    return Snapshot(path, real_path, data, st)


def _remove_siblings(real_path, prefix, suffix):
    """Remove the files next to real_path named prefix + anything + suffix (no glob: nothing to escape)."""
    directory = os.path.dirname(real_path)
    try:
        names = os.listdir(directory or ".")
    except OSError:
        return
    for name in names:
        if name.startswith(prefix) and name.endswith(suffix) and len(name) > len(prefix) + len(suffix):
            try:
                os.unlink(os.path.join(directory, name))
            except OSError:
                pass


def remove_stale_temps(real_path):
    """Temp files of ours left by a killed run (kill -9, power loss) never hold the only copy."""
    _remove_siblings(real_path, ".%s." % os.path.basename(real_path), TEMP_MARK)


def write(module, snapshot, data, validate=None, redact=lambda text: text):
    """Replace snapshot.real_path with data atomically; keep its owner, mode and SELinux context.

    A file that did not exist is created 0600 (the caller applies a requested mode afterwards).
    On any failure the original file is untouched and the temp file removed.
    """
    real_path = snapshot.real_path
    directory = os.path.dirname(real_path)
    remove_stale_temps(real_path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(real_path), suffix=TEMP_MARK, dir=directory)
    except OSError as exc:
        raise FileError("cannot write %s: %s" % (snapshot.path, describe_os_error(exc)))
    try:
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise FileError("cannot write %s: %s; the file is unchanged" % (snapshot.path, describe_os_error(exc)))
        if validate:
            _validate(module, snapshot.path, tmp, validate, redact)
        _copy_attributes(module, snapshot, tmp)
        try:
            os.rename(tmp, real_path)
        except OSError as exc:
            raise FileError("cannot replace %s: %s; the file is unchanged" % (snapshot.path, describe_os_error(exc)))
        tmp = None
        _fsync_dir(directory)
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def restore(module, snapshot):
    """Put the file back as it was: same bytes, mode and owner; remove it if it did not exist."""
    if snapshot.exists:
        write(module, snapshot, snapshot.data)
        # write() copied the attributes of the file it replaced; set the snapshot's own.
        os.chmod(snapshot.real_path, stat.S_IMODE(snapshot.stat.st_mode))
        _chown(snapshot.real_path, snapshot.stat.st_uid, snapshot.stat.st_gid)
    elif os.path.lexists(snapshot.real_path):
        os.unlink(snapshot.real_path)
        _fsync_dir(os.path.dirname(snapshot.real_path))


def backup(module, snapshot):
    """A timestamped copy next to the file (name: path.PID.date~, never anything of the content)."""
    if not snapshot.exists:
        return None
    try:
        return module.backup_local(snapshot.real_path)
    except Exception as exc:  # pylint: disable=broad-except
        # backup_local names the copy path.PID.date~: remove what a failed copy left of it.
        _remove_siblings(snapshot.real_path, "%s.%d." % (os.path.basename(snapshot.real_path), os.getpid()), "~")
        cause = exc.__cause__ if isinstance(exc.__cause__, OSError) else None
        raise FileError("cannot back up %s: %s; the file is unchanged" % (
            snapshot.path, describe_os_error(cause) if cause else "copy failed"))


def set_attributes(module, file_args, changed):
    """module.set_fs_attributes_if_different, but a bad owner/group/mode raises FileError instead of exiting
    the module, so the caller can put the original file back first."""
    def fail(msg, **_kwargs):
        raise FileError("%s: %s" % (file_args.get("path"), " ".join(str(msg).split())))
    original, module.fail_json = module.fail_json, fail
    try:
        return module.set_fs_attributes_if_different(file_args, changed)
    finally:
        module.fail_json = original


def check_validate(command):
    """validate is a command template, as in ansible.builtin.copy: %s is the temp file, %% a literal %."""
    if "%s" not in command:
        raise FileError("validate must contain %s (the temp file to check), e.g. 'python3 -m json.tool %s'")
    try:
        command % "file"
    except (TypeError, ValueError):
        raise FileError("validate must hold one %s (the temp file) and write %% for a literal %, e.g. 'check --year $(date +%%Y) %s'")


def _validate(module, path, tmp, command, redact):
    try:
        check_validate(command)
    except FileError as exc:
        raise FileError("%s: %s; the file is unchanged" % (path, exc))
    rc, out, err = module.run_command(command % shlex.quote(tmp))
    if rc != 0:
        detail = " ".join(redact(err or out or "").split())[:300]
        raise FileError("validate command failed for %s (rc=%s%s); the file is unchanged" % (path, rc, ": " + detail if detail else ""))


def _copy_attributes(module, snapshot, tmp):
    if snapshot.exists:
        st = os.stat(snapshot.real_path)  # now, not the snapshot: someone may have fixed it meanwhile
        _chown(tmp, st.st_uid, st.st_gid)
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        if module.selinux_enabled():
            module.set_context_if_different(tmp, module.selinux_context(snapshot.real_path), False)
    elif module.selinux_enabled():
        module.set_context_if_different(tmp, module.selinux_default_context(snapshot.real_path), False)


def _chown(path, uid, gid):
    try:
        os.chown(path, uid, gid)
    except OSError as exc:
        if exc.errno != errno.EPERM:
            raise


def _fsync_dir(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
