# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The crash journal: which reload/health commands a file's integration still owes after a write.

Before a write that needs a reload or health command, the transaction records beside the file
(``.NAME.tiflux-journal``, 0600) the fingerprints of the tokens the file holds after it; the record is
cleared once the reload and health commands passed. A run killed in between (kill -9, OOM, power loss)
leaves it, and the next run that finds the file already up to date with one of those fingerprints runs
the reload and health commands again instead of reporting it unchanged. Fingerprints only, never a token.
"""

from __future__ import annotations

import json
import os
import time

from ansible_collections.tokenops.tiflux.plugins.module_utils import _io

MARK = ".tiflux-journal"


def journal_path(real_path):
    return os.path.join(os.path.dirname(real_path), ".%s%s" % (os.path.basename(real_path), MARK))


def pending(real_path):
    """The fingerprints whose reload/health is still pending for this file (empty when none)."""
    try:
        data, st = _io.read_bytes(real_path, journal_path(real_path))
    except _io.FileError:
        return set()
    if data is None or st.st_uid != os.geteuid():
        return set()  # not ours: a planted record must not trigger commands
    try:
        entry = json.loads(data.decode("utf-8"))
        return set(fp for fp in entry.get("fingerprints", []) if isinstance(fp, str))
    except (ValueError, AttributeError):
        return set()  # torn or foreign content: the file itself decides


def mark(path, real_path, fingerprints):
    """Record (atomically, durably) that the reload/health for these fingerprints is pending."""
    entry = dict(fingerprints=sorted(fp for fp in fingerprints if fp), since=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                 pid=os.getpid())
    try:
        tmp, _st = _io.write_private(os.path.dirname(real_path), _io.temp_name(real_path), json.dumps(entry).encode("utf-8"))
    except OSError as exc:
        raise _io.FileError("cannot record the pending reload of %s: %s; the file is unchanged" % (path, _io.describe_os_error(exc)))
    try:
        _io.rename(path, tmp, journal_path(real_path))
    except _io.FileError:
        _io.unlink(tmp)
        raise


def clear(real_path):
    """The reload and health commands passed: nothing is pending for this file any more."""
    name = journal_path(real_path)
    if os.path.lexists(name):
        _io.unlink(name)
        _io.fsync_dir(os.path.dirname(real_path))
