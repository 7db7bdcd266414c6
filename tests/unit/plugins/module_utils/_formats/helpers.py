# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the editor tests share: two tokens, one editor per format, and the checks every edit and error pass."""

from __future__ import annotations

import pytest

from ansible_collections.tokenops.tiflux.plugins.module_utils import _formats as F

TOKEN = "tfx2-NEW-9f8e7d6c5b4a"
OLD = "tfx2-OLD-0a1b2c3d4e5f"

env = F.get_editor("env")
ini = F.get_editor("ini")
jsn = F.get_editor("json")
yml = F.get_editor("yaml")
raw = F.get_editor("raw")


def check_edit(editor, old, path, new_value=TOKEN):
    """set(), then: find() gives the value, and only the value's bytes changed."""
    loc = editor.find(old, path)
    new = editor.set(old, path, new_value)
    assert editor.read(new, path) == new_value
    assert new[:loc.start] == old[:loc.start]
    assert new.endswith(old[loc.end:])
    return new


def expect(exc_type, message, func, *args):
    with pytest.raises(exc_type) as info:
        func(*args)
    assert info.value.__class__ is exc_type
    assert str(info.value) == message
    assert "\n" not in str(info.value) and "\r" not in str(info.value)
    return info.value
