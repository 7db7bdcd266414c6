# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.tokenops.tiflux.plugins.plugin_utils._action import TifluxAction


class ActionModule(TifluxAction):
    def api_calls(self, args):
        # Only reads configs on the host: nothing to reserve, so it never waits on the pacer.
        return 0
