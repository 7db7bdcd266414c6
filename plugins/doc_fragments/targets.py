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
      create:
        description:
          - Create the file (and its missing directories) when it does not exist. By default a missing file fails the
            host before any of its files is written, so that a mistyped path is not deployed to.
          - A created file gets mode C(0600) unless O(targets[].mode) says otherwise.
          - M(tokenops.tiflux.token_info) ignores it.
        type: bool
        default: false
      follow:
        description:
          - Trust the path as it is, see O(tokenops.tiflux.token_push#module:follow). By default a symlink, a directory
            on the way or (in a sticky directory writable by others such as C(/tmp)) a file that another user could have
            planted or swapped is refused; M(tokenops.tiflux.token_info) reports such a target as V(unreadable).
        type: bool
        default: false
      dir_mode:
        description:
          - Mode of the directories O(targets[].create) makes, as an octal string such as V('0750'); C(0700) when not
            given. M(tokenops.tiflux.token_info) ignores it.
        type: raw
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
        description:
          - Shell command run when this target's token changed (and again after a rollback, and on the next run when an
            earlier run was interrupted before it passed), for example C(kill -HUP $(cat /run/sync.pid)).
          - Mutually exclusive with O(targets[].service).
        type: str
      service:
        description:
          - A systemd unit to reload or restart when this target's token changed (and again after a rollback); run as
            C(systemctl reload UNIT) without a shell. Mutually exclusive with O(targets[].reload_command).
        type: str
      service_state:
        description: What to do with O(targets[].service).
        type: str
        choices: [reloaded, restarted]
        default: reloaded
      health_command:
        description:
          - Shell command that exits 0 when the integration works, run after the reloads when this target's token
            changed (or its reload was interrupted in an earlier run).
          - What it prints is quoted in a failure message with every token, and any run of 12 or more characters of
            one, masked.
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
