# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""_journal: the record of reloads still owed, beside the file (how the transaction uses it: test_transaction.py)."""

from __future__ import annotations

import json
import os
import stat

from ansible_collections.tokenops.tiflux.plugins.module_utils import _io, _journal
from ansible_collections.tokenops.tiflux.plugins.module_utils._token import fingerprint

NEW = "newTokenValue-fedcba9876543210"


def test_mark_pending_clear(tmp_path):
    path = str(tmp_path / "app.env")
    assert _journal.pending(path) == set()
    _journal.mark(path, path, [fingerprint(NEW), None])
    journal = _journal.journal_path(path)
    assert os.path.basename(journal) == ".app.env.tiflux-journal"
    assert stat.S_IMODE(os.stat(journal).st_mode) == 0o600
    entry = json.load(open(journal))
    assert entry["fingerprints"] == [fingerprint(NEW)] and NEW not in open(journal).read()
    assert _journal.pending(path) == {fingerprint(NEW)}
    assert not [n for n in os.listdir(str(tmp_path)) if _io.TEMP_MARK in n], "written through a temp file, renamed"
    _journal.clear(path)
    assert _journal.pending(path) == set() and os.listdir(str(tmp_path)) == []
    _journal.clear(path)  # nothing pending: nothing to do


def test_a_journal_someone_else_wrote_is_ignored(other_user, tmp_path):
    path = str(tmp_path / "app.env")
    journal = _journal.journal_path(path)
    with open(journal, "w") as handle:
        json.dump(dict(fingerprints=[fingerprint(NEW)]), handle)
    assert _journal.pending(path) == {fingerprint(NEW)}
    other_user.own(journal)
    assert _journal.pending(path) == set(), "a planted record must not make a run execute commands"


def test_a_torn_or_foreign_journal_is_no_record(tmp_path):
    path = str(tmp_path / "app.env")
    for content in ('{"fingerprints": ["sha256:', "[1, 2]", '{"fingerprints": [1, "%s"]}' % fingerprint(NEW)):
        with open(_journal.journal_path(path), "w") as handle:
            handle.write(content)
        assert _journal.pending(path) in (set(), {fingerprint(NEW)})
    os.unlink(_journal.journal_path(path))
    os.symlink(str(tmp_path / "elsewhere"), _journal.journal_path(path))
    assert _journal.pending(path) == set(), "a link there is not followed"
