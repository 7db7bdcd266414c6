# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A throwaway local account for tests of what another user could plant (tfx-atk-<random>, removed after)."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import uuid


class CannotCreate(Exception):
    """Why no account could be made here (the test is skipped with this reason)."""


@contextlib.contextmanager
def throwaway_account():
    """Yield the pwd entry of a new account; needs root, useradd and userdel."""
    if os.geteuid() != 0:
        raise CannotCreate("needs root to create a throwaway account (useradd)")
    if not shutil.which("useradd") or not shutil.which("userdel"):
        raise CannotCreate("needs useradd and userdel")
    name = "tfx-atk-%s" % uuid.uuid4().hex[:8]
    made = subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    if made.returncode != 0:
        raise CannotCreate("useradd failed: %s" % made.stdout.strip())
    try:
        yield pwd.getpwnam(name)
    finally:
        subprocess.run(["userdel", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
