# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""_undo: putting a written file back (test_transaction.py covers the content; here the attributes-only case)."""

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible.module_utils import basic

from ansible_collections.tokenops.tiflux.plugins.module_utils import _io, _undo
from ansible_collections.tokenops.tiflux.plugins.module_utils._push import Edit
from ansible_collections.tokenops.tiflux.plugins.module_utils._transaction import Transaction

TOKEN = "sameTokenValue-0123456789abcdef"


@pytest.fixture
def module(monkeypatch):
    args = dict(_ansible_check_mode=False, _ansible_remote_tmp="/tmp", _ansible_keep_remote_files=False)
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode())
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)
    return basic.AnsibleModule(argument_spec={}, add_file_common_args=True)


def test_a_rollback_of_a_mode_change_alone_puts_the_mode_back(module, tmp_path):
    path = tmp_path / "app.env"
    path.write_text("TIFLUX_API_TOKEN=%s\n" % TOKEN)
    os.chmod(str(path), 0o600)
    tx = Transaction(module)
    change = tx.add(str(path), Edit("env", ("TIFLUX_API_TOKEN",), TOKEN), file_args=dict(mode="0644", owner=None, group=None))
    assert tx.prepare() == []
    tx.commit()
    assert not change.changed and change.attrs_changed, "same token: only the mode changes"
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o644
    restored, problems = tx.rollback()
    tx.close()
    assert restored == [change] and problems == []
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600 and not change.attrs_changed


def test_a_file_someone_changed_after_the_write_is_left_to_them(module, tmp_path):
    path = tmp_path / "app.env"
    path.write_text("TIFLUX_API_TOKEN=old-%s\n" % TOKEN)
    tx = Transaction(module)
    change = tx.add(str(path), Edit("env", ("TIFLUX_API_TOKEN",), TOKEN))
    assert tx.prepare() == []
    tx.commit()
    path.write_text("THEIRS=1\n")
    with pytest.raises(_io.FileError, match="changed by someone else after this run wrote it; their version was kept"):
        _undo.restore(change, module)
    tx.close()
    assert path.read_text() == "THEIRS=1\n"
