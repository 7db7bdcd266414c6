# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # One item of a host's targets (the inventory's tiflux_targets), the list token_deploy and token_info
    # both take; the engine is plugins/module_utils/_push.py (targets_item_spec). Each module gives the
    # option its own description.
    DOCUMENTATION = r"""
options:
  targets:
    description:
      - The host's integration configs, usually the inventory variable C(tiflux_targets).
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: The config file.
        type: path
        required: true
      format:
        description: See M(tokenops.tiflux.token_push).
        type: str
        required: true
        choices: [env, ini, json, yaml, raw]
      key:
        description: See M(tokenops.tiflux.token_push).
        type: raw
      section:
        description: See M(tokenops.tiflux.token_push).
        type: str
      owner:
        description: Owner of the file (name or uid). M(tokenops.tiflux.token_info) ignores it.
        type: str
      group:
        description: Group of the file (name or gid). M(tokenops.tiflux.token_info) ignores it.
        type: str
      mode:
        description: Mode of the file; a created file gets C(0600) unless this says otherwise.
        type: raw
      reload_command:
        description: Shell command run when this file changed (and again after a rollback), for example C(systemctl reload zabbix-server).
        type: str
      service:
        description: A systemd unit to reload or restart when this file changed (and again after a rollback).
        type: str
      service_state:
        description: What to do with O(targets[].service).
        type: str
        choices: [reloaded, restarted]
        default: reloaded
      health_command:
        description: Shell command that exits 0 when the integration works, run after the reloads when this file changed.
        type: str
      health_retries:
        description: How many times to run O(targets[].health_command) before giving up.
        type: int
        default: 3
      health_delay:
        description: Seconds between health attempts.
        type: int
        default: 2
"""
