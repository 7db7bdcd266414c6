# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.tokenops.tiflux.tests.unit.plugins.plugin_utils.action_harness import make_action


@pytest.mark.parametrize("args, calls", [
    ({}, 1),  # verify defaults to true (the module's documented default): one proof per host
    ({"verify": False}, 0),
    ({"verify": False, "state": "verified"}, 0),  # verified only compares the files then
    ({"verify_with": "path"}, 0),  # the path proof carries no token: none of the user's quota
    ({"verify_with": "path", "state": "verified"}, 0),
    ({"verify_with": "token", "state": "verified"}, 1),
    ({"state": "verified", "probes": ["/users/me", "/users"]}, 2),
])
def test_api_calls_follow_the_modules_defaults(args, calls):
    action, _sent = make_action("token_deploy", dict(args, token="t" * 30, targets=[]), {})
    assert action.api_calls(action._task.args) == calls


def test_check_mode_reserves_nothing_but_verified_still_proves():
    action, _sent = make_action("token_deploy", {"token": "t" * 30, "targets": []}, {}, check_mode=True)
    assert action.api_calls(action._task.args) == 0
    action, _sent = make_action("token_deploy", {"token": "t" * 30, "targets": [], "state": "verified"}, {}, check_mode=True)
    assert action.api_calls(action._task.args) == 1
