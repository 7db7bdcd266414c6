# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The way back of the write transaction: put a written file back as it was read.

Only a failed write, verify, reload or health command takes it, so it lives apart from _transaction.py: a module run
compiles every module it imports from the AnsiballZ zip, and a push that succeeds does not pay for this one.
FileChange.restore() and Transaction.rollback() are its callers.
"""

from __future__ import annotations

import errno
import os
import stat

from ansible_collections.tokenops.tiflux.plugins.module_utils import _io


def restore(change, module):
    """Put change's file back as it was read (bytes, owner, mode, context), unless someone changed it since."""
    snap = change.snapshot
    if change.written is None:
        if change.attrs_changed:
            _chown_chmod(change.path, change.real_path, snap.stat)
            change.attrs_changed = False
        return
    data, st = change.written
    if not _io.is_unchanged(change.path, change.real_path, data, st):
        raise _io.FileError("%s was changed by someone else after this run wrote it; their version was kept, not "
                            "restored" % change.path)
    try:
        change.journal_mark(edit.previous_fingerprint for edit in change.edits)
    except _io.FileError:
        pass  # putting the old file back matters more than recording that its reload is owed
    if snap.exists:
        tmp, _written = change.replace(module, snap.data, snap.stat, snap.context)
        try:
            _io.rename(change.path, tmp, change.real_path)
        except BaseException:
            _io.unlink(tmp)
            raise
    else:
        try:
            os.unlink(change.real_path)
        except OSError as exc:
            raise _io.FileError("cannot remove %s again: %s" % (change.path, _io.describe_os_error(exc)))
        _io.fsync_dir(os.path.dirname(change.real_path))
        change.remove_made_dirs()
    change.written = None
    change.discard_backup()


def _chown_chmod(path, real_path, st):
    try:
        try:
            os.chown(real_path, st.st_uid, st.st_gid)
        except OSError as exc:
            if exc.errno != errno.EPERM:
                raise
        os.chmod(real_path, stat.S_IMODE(st.st_mode))
    except OSError as exc:
        raise _io.FileError("cannot put back the owner and mode of %s: %s" % (path, _io.describe_os_error(exc)))
