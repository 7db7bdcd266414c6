# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Another local user, for tests of what a push must refuse to follow (symlinks and files they planted)."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import uuid

import pytest


class OtherUser:
    def __init__(self, name):
        entry = pwd.getpwnam(name)
        self.name, self.uid, self.gid = name, entry.pw_uid, entry.pw_gid

    def own(self, path):
        """Make path (a link itself, not its target) theirs, as if they had created it."""
        os.lchown(str(path), self.uid, self.gid)


@pytest.fixture
def other_user():
    """A throwaway account (tfx-atk-<random>), removed afterwards; the test is skipped when it cannot be made."""
    if os.geteuid() != 0:
        pytest.skip("needs root to create a throwaway account (useradd)")
    if not shutil.which("useradd") or not shutil.which("userdel"):
        pytest.skip("needs useradd and userdel")
    name = "tfx-atk-%s" % uuid.uuid4().hex[:8]
    made = subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    if made.returncode != 0:
        pytest.skip("useradd failed: %s" % made.stdout.strip())
    try:
        yield OtherUser(name)
    finally:
        subprocess.run(["userdel", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


@pytest.fixture
def open_dir(tmp_path):
    """A directory like /tmp: writable by everyone, sticky."""
    path = tmp_path / "shared"
    path.mkdir()
    os.chmod(str(path), 0o1777)
    return path
