# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.tokenops.tiflux.tests.unit.plugins.plugin_utils.action_harness import make_action


def test_one_call_per_probe():
    action, _sent = make_action("token_check", {"token": "t" * 30}, {})
    assert action.api_calls(action._task.args) == 1
    action, _sent = make_action("token_check", {"token": "t" * 30}, {"tiflux_probes": ["/users/me", "/users"]})
    action.run(task_vars=action.task_vars)
    assert _sent["module_args"]["probes"] == ["/users/me", "/users"]


def test_module_defaults_win_over_variables():
    # module_defaults reach the action plugin merged into the task's args.
    action, sent = make_action("token_check", {"token": "t" * 30, "api_url": "https://defaults/api/v2"},
                               {"tiflux_api_url": "https://inventory/api/v2"})
    action.run(task_vars=action.task_vars)
    assert sent["module_args"]["api_url"] == "https://defaults/api/v2"
