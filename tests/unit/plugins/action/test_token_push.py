# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.tokenops.tiflux.tests.unit.plugins.plugin_utils.action_harness import make_action


@pytest.mark.parametrize("args, calls", [
    ({}, 0),  # verify defaults to false (the module's documented default)
    ({"verify": True}, 1),
    ({"verify": "yes", "probes": ["/users/me", "/tickets?limit=1"]}, 2),
    ({"verify": True, "state": "absent"}, 0),
])
def test_api_calls_follow_the_modules_defaults(args, calls):
    action, _sent = make_action("token_push", dict(args, path="/a.env", format="env", token="t" * 30), {})
    assert action.api_calls(action._task.args) == calls


def test_check_mode_reserves_nothing():
    action, _sent = make_action("token_push", {"verify": True, "token": "t" * 30}, {}, check_mode=True)
    assert action.api_calls(action._task.args) == 0
