# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Attribute descriptions shared by every module; each module states its support.
    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
"""

    # The modules that run on the hosts (token_check, token_push, token_deploy, token_info).
    ACTION_GROUP = r"""
attributes:
  action_group:
    description: Use C(group/tokenops.tiflux.tiflux) in C(module_defaults) to set connection options once for every module of the collection.
    support: full
    membership:
      - tokenops.tiflux.tiflux
"""

    # The modules that are action plugins running on the controller only (report, vault_promote).
    CONTROLLER = r"""
attributes:
  action:
    description: Runs on the controller as an action plugin.
    support: full
  async:
    description: Cannot run asynchronously.
    support: none
  bypass_host_loop:
    description: Runs once per host of the task; use C(run_once) to run it once.
    support: none
"""
