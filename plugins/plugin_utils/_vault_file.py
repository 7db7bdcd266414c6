# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The vars file of a promotion, on the controller: resolve, lock, read, replace.

Every step is the one the host-side writes take (module_utils/_io.py), so a vars file is guarded like a config file:

- resolve() refuses a link, a directory on the way or (in a directory open to others such as /tmp) the file itself
  that another user controls; a promotion has no ``follow`` to trust them anyway;
- a DirLock on the file's directory is held from the read to the rename: a second promotion (or a token_push on this
  machine) waits up to LOCK_SECONDS, then reads what the first one wrote;
- the new bytes (only ciphertext and the file's own clear lines: a token is never written in clear) go to a private
  temp file in the same directory (write_private), get the file's owner and mode, and are renamed over the file only
  if it is still the one read (is_unchanged); an editor's change in between is kept and reported instead.

The adapters below cover what the host side does differently: its errors become VaultFileError with a hint that fits
a promotion; a lock that cannot be taken fails the promotion (the host side goes on without one); an owner that
cannot be kept fails it (the host side keeps the running user); owner and mode are copied without an AnsibleModule.
"""

from __future__ import annotations

import os

from ansible_collections.tokenops.tiflux.plugins.module_utils import _io

# How long a promotion waits for another one of the same directory before it gives up.
LOCK_SECONDS = 120
_HINT = "the file is unchanged: point path (rotate_vault_file) at a vars file only root or you control"


class VaultFileError(Exception):
    """One line naming the file and what to do; the file is unchanged."""


def _vault_error(exc):
    return VaultFileError(str(exc).replace(_io.FOLLOW_HINT, _HINT))


class _Controller:
    """What _io.copy_attributes asks of an AnsibleModule: a vars file gets no SELinux context of its own (as with ansible-vault)."""

    @staticmethod
    def selinux_enabled():
        return False


class LockedFile:
    """A vars file read under its directory's lock (use as a context manager); replace() writes the new bytes."""

    def __init__(self, path, lock_seconds=LOCK_SECONDS):
        self.path = path
        self.lock_seconds = lock_seconds
        self.lock = None
        self.stat = None
        self.data = None
        try:
            self.real_path, exists = _io.resolve(path)
        except _io.FileError as exc:
            raise _vault_error(exc)
        if not exists:
            raise self._missing()

    def _missing(self):
        return VaultFileError("%s does not exist: set path (rotate_vault_file) to the vars file that holds the token" % self.path)

    def __enter__(self):
        lock = _io.DirLock(os.path.dirname(self.real_path))
        try:
            if not lock.acquire(self.path, self.lock_seconds).held:
                raise VaultFileError("cannot lock the directory of %s (it cannot be listed, or its file system has no flock): "
                                     "move the vars file to a directory of your own; the file is unchanged" % self.path)
            snapshot = _io.read(self.path, self.real_path)
            if not snapshot.exists:
                raise self._missing()
            # Temp files of a promotion killed (kill -9) before its rename: it held this lock, we hold it now.
            _io.remove_stale_temps(self.real_path)
        except BaseException as exc:
            lock.release()
            if isinstance(exc, _io.FileError):
                raise _vault_error(exc)
            raise
        self.lock, self.data, self.stat = lock, snapshot.data, snapshot.stat
        return self

    def __exit__(self, *exc_info):
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def replace(self, data):
        """Write data in place of the file (atomic rename), keeping its owner and mode."""
        try:
            tmp, _st = _io.write_private(os.path.dirname(self.real_path), _io.temp_name(self.real_path), data)
        except OSError as exc:
            raise VaultFileError("cannot write %s: %s; the file is unchanged" % (self.path, _io.describe_os_error(exc)))
        try:
            self._keep_owner_and_mode(tmp)
            if not _io.is_unchanged(self.path, self.real_path, self.data, self.stat):
                raise VaultFileError("%s was changed by someone else while the promotion ran: their version is kept; "
                                     "run the promotion again" % self.path)
            _io.rename(self.path, tmp, self.real_path)
        except BaseException as exc:
            _io.unlink(tmp)
            if isinstance(exc, _io.FileError):
                raise _vault_error(exc)
            raise

    def _keep_owner_and_mode(self, tmp):
        st = self.stat
        try:
            _io.copy_attributes(_Controller, tmp, st, None, self.real_path)
            now = os.lstat(tmp)
        except OSError as exc:
            raise VaultFileError("cannot write %s: %s; the file is unchanged" % (self.path, _io.describe_os_error(exc)))
        if (now.st_uid, now.st_gid) != (st.st_uid, st.st_gid):
            raise VaultFileError("cannot keep the owner of %s (uid %d, gid %d): run as that user or as root; "
                                 "the file is unchanged" % (self.path, st.st_uid, st.st_gid))
