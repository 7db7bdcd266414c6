# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""tokenops.tiflux.report: write a role's report on the controller, through _io, with no module run."""

from __future__ import annotations

import os
import stat

from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.tokenops.tiflux.plugins.module_utils import _io
from ansible_collections.tokenops.tiflux.plugins.plugin_utils._action import ControllerAction

_HINT = "nothing was written: point dest at a directory only root or the running user controls"


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = {
        "dest": {"type": "path", "required": True},
        "content": {"type": "str", "required": True},
        "mode": {"type": "str", "default": "0640"},
    }

    def act(self, args, _secrets, result):
        dest = args["dest"]
        result.update(changed=False, dest=dest)
        try:
            mode = _io.parse_mode(args["mode"], "mode")
            result["dest"], result["changed"] = write(dest, to_bytes(args["content"], errors="surrogate_or_strict"), mode,
                                                      self._task.check_mode)
        except _io.FileError as exc:
            # _io's words are for token files that can trust a link with follow: true; a report has no such option.
            result.update(failed=True, msg=str(exc).replace("and get the token", "and redirect the write").replace(_io.FOLLOW_HINT, _HINT))
        return result


def write(path, data, mode, check_mode):
    """(real path, changed): data with mode in place of path, by an atomic rename; nothing written in check mode."""
    real_path, exists = _io.resolve(path)
    directory = os.path.dirname(real_path)
    if not os.path.isdir(directory):
        raise _io.FileError("the directory of %s does not exist: create it first; nothing was written" % path)
    if exists:
        snapshot = _io.read(path, real_path)
        if snapshot.data == data and stat.S_IMODE(snapshot.stat.st_mode) == mode:
            return real_path, False
    if check_mode:
        return real_path, True
    try:
        tmp, _st = _io.write_private(directory, _io.temp_name(real_path), data)
    except OSError as exc:
        raise _io.FileError("cannot write %s: %s; nothing was written" % (path, _io.describe_os_error(exc)))
    try:
        os.chmod(tmp, mode)
        _io.rename(path, tmp, real_path)
    except BaseException:
        _io.unlink(tmp)
        raise
    return real_path, True
