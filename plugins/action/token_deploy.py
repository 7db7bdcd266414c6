# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.tokenops.tiflux.plugins.plugin_utils._action import TifluxAction


class ActionModule(TifluxAction):
    def api_calls(self, args):
        # One proof per host, however many targets: all of them hold the same token. The path proof carries no
        # token: it spends none of the user's quota, only the per-IP limit of requests without one.
        if self.option(args, "verify_with") != "token" or not boolean(self.option(args, "verify"), strict=False):
            return 0
        if self.option(args, "state") == "verified":
            return self.probe_count(args)
        return 0 if self._task.check_mode else self.probe_count(args)
