# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.tokenops.tiflux.tests.unit.plugins.plugin_utils.action_harness import make_action


def test_reads_configs_only_so_never_waits_on_the_pacer():
    action, sent = make_action("token_info", {"targets": []}, {"tiflux_api_calls_per_minute": 1})
    assert action.api_calls(action._task.args) == 0
    action.run(task_vars=action.task_vars)
    assert sent["module_args"]["api_calls_per_minute"] == 1
