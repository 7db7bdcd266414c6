# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""File system steps of the write transaction that a plain push does not take: backups, directory creation, validate.

They live apart from _io.py because a module run compiles every module it imports from the AnsiballZ zip (twice,
with Python 3.11's zipimport), so a push without backup, create_dirs or validate does not pay for them. _io.py still
answers for their names (_io.backup, _io.make_dirs, ...). The rules are _io's: every file made with
O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600, under a name nobody can predict; every failure a FileError.
"""

from __future__ import annotations

import os
import shlex
import stat
import time

from ansible_collections.tokenops.tiflux.plugins.module_utils._io import PRIVATE_MODE, FileError, describe_os_error, write_private


def backup(snapshot):
    """A copy of the file as read, next to it: 0600, owned by the running user, plain (no immutable flag)."""
    stamp = time.strftime("%Y-%m-%d@%H:%M:%S", time.localtime())
    base = os.path.basename(snapshot.real_path)
    try:
        name, _st = write_private(os.path.dirname(snapshot.real_path), lambda token: "%s.%s.%s~" % (base, stamp, token),
                                  snapshot.data)
    except OSError as exc:
        raise FileError("cannot back up %s: %s; the file is unchanged" % (snapshot.path, describe_os_error(exc)))
    return name


def make_dirs(path, directory, mode):
    """Create directory and its missing parents with exactly mode (the umask can neither widen nor narrow it).

    Returns the directories made, deepest last.
    """
    missing = []
    while not os.path.lexists(directory):
        missing.append(directory)
        directory = os.path.dirname(directory)
    made = []
    try:
        for name in reversed(missing):
            os.mkdir(name, PRIVATE_MODE | stat.S_IXUSR)  # nobody else may enter before the chmod
            made.append(name)
            os.chmod(name, mode)
    except OSError as exc:
        remove_dirs(made)
        raise FileError("cannot create the directory of %s: %s" % (path, describe_os_error(exc)))
    return made


def remove_dirs(made):
    for name in reversed(made):
        try:
            os.rmdir(name)
        except OSError:
            pass  # someone put something there meanwhile: it stays


def check_validate(command):
    """validate is a command template, as in ansible.builtin.copy: %s is the temp file, %% a literal %."""
    if "%s" not in command:
        raise FileError("validate must contain %s (the temp file to check), e.g. 'python3 -m json.tool %s'")
    try:
        command % "file"
    except (TypeError, ValueError):
        raise FileError("validate must hold one %s (the temp file) and write %% for a literal %, e.g. 'check --year $(date +%%Y) %s'")


def run_validate(module, command, tmp):
    """Run validate on the temp file: (rc, output)."""
    rc, out, err = module.run_command(command % shlex.quote(tmp))
    return rc, err or out or ""
