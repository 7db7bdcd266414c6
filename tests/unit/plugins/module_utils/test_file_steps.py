# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""_file_steps: the steps a plain push does not take, reached under their old names in _io too.

Their behaviour (private backups, exact directory modes, validate templates) is tested through _io in test_io.py
and through the modules; here: that both names are one function, and that nothing else is answered for.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from ansible_collections.tokenops.tiflux.plugins.module_utils import _file_steps, _io

MOVED = ["backup", "check_validate", "make_dirs", "remove_dirs", "run_validate"]


@pytest.mark.parametrize("name", MOVED)
def test_io_answers_for_the_steps_that_moved(name):
    assert getattr(_io, name) is getattr(_file_steps, name)


def test_names_can_still_be_imported_from_io():
    code = ("from ansible_collections.tokenops.tiflux.plugins.module_utils._io import backup, make_dirs, check_validate\n"
            "import sys\n"
            "print(backup.__module__, 'ansible_collections.tokenops.tiflux.plugins.module_utils._file_steps' in sys.modules)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.split() == ["ansible_collections.tokenops.tiflux.plugins.module_utils._file_steps", "True"]


def test_importing_io_alone_does_not_load_them():
    code = ("import sys\n"
            "from ansible_collections.tokenops.tiflux.plugins.module_utils import _io\n"
            "_io.resolve('/tmp')\n"
            "print('ansible_collections.tokenops.tiflux.plugins.module_utils._file_steps' in sys.modules)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "False"


def test_an_unknown_name_is_still_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'atomic_move'"):
        _io.atomic_move  # pylint: disable=pointless-statement
    assert not hasattr(_io, "no_such_step")


def test_remove_dirs_keeps_a_directory_someone_filled(tmp_path):
    made = _file_steps.make_dirs("x", str(tmp_path / "a" / "b"), 0o700)
    assert made == [str(tmp_path / "a"), str(tmp_path / "a" / "b")]
    (tmp_path / "a" / "theirs").write_text("kept")
    _file_steps.remove_dirs(made)
    assert not (tmp_path / "a" / "b").exists() and (tmp_path / "a" / "theirs").read_text() == "kept"
    assert stat.S_IMODE(os.lstat(str(tmp_path / "a")).st_mode) == 0o700
