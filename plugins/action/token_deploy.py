# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.tokenops.tiflux.plugins.plugin_utils._action import TifluxAction


class ActionModule(TifluxAction):
    def api_calls(self, args):
        # One proof per host, however many targets: all of them hold the same token.
        if self.option(args, "state") == "verified":
            return self.probe_count(args)
        verify = boolean(self.option(args, "verify"), strict=False)
        return self.probe_count(args) if verify and not self._task.check_mode else 0
