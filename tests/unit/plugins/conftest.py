# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Another local user, for tests of what a push must refuse to follow (symlinks and files they planted)."""

from __future__ import annotations

import os

import pytest

from ansible_collections.tokenops.tiflux.tests.utils.accounts import CannotCreate, throwaway_account


class OtherUser:
    def __init__(self, entry):
        self.name, self.uid, self.gid = entry.pw_name, entry.pw_uid, entry.pw_gid

    def own(self, path):
        """Make path (a link itself, not its target) theirs, as if they had created it."""
        os.lchown(str(path), self.uid, self.gid)


@pytest.fixture
def other_user():
    """A throwaway account (tfx-atk-<random>), removed afterwards; the test is skipped when it cannot be made."""
    try:
        with throwaway_account() as entry:
            yield OtherUser(entry)
    except CannotCreate as exc:
        pytest.skip(str(exc))


@pytest.fixture
def open_dir(tmp_path):
    """A directory like /tmp: writable by everyone, sticky."""
    path = tmp_path / "shared"
    path.mkdir()
    os.chmod(str(path), 0o1777)
    return path
