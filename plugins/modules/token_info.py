#!/usr/bin/python
# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: token_info
short_description: Say which Tiflux API v2 token each integration config of a host holds, without an API call
version_added: 1.0.0
author:
  - tokenops maintainers (@tokenops)
description:
  - Reads every item of O(targets) on the host, the way M(tokenops.tiflux.token_check) and M(tokenops.tiflux.token_deploy)
    read it, and reports per target whether a token is there and its fingerprint, or why there is none.
  - Makes B(no) API call and changes nothing; it answers "where is which token". Whether a token still works is the job
    of the lookup C(tokenops.tiflux.token) (from the controller) or M(tokenops.tiflux.token_check) (from the host);
    the role C(tokenops.tiflux.audit) combines the three for a fleet.
  - Never returns a token; tokens read are also hidden from every output of the task.
  - With O(old_tokens), it also searches the host for copies of those tokens outside the targets (for the verdict of a
    rotation, whether the old token is still anywhere on the host), and names the files in RV(old_token_elsewhere).
  - A target whose key or section cannot name a setting in its format (for example O(targets[].section) with
    O(targets[].format=env)) fails the module, like any other wrong argument.
options:
  targets:
    description:
      - The host's integration configs, usually the inventory variable C(tiflux_targets), the same list as the
        O(tokenops.tiflux.token_deploy#module:targets) option of M(tokenops.tiflux.token_deploy) takes.
        Only O(targets[].path), O(targets[].format), O(targets[].key) and O(targets[].section) are used; the other
        keys are accepted so the same list fits both modules, and ignored.
extends_documentation_fragment:
  - tokenops.tiflux.attributes
  - tokenops.tiflux.attributes.action_group
  - tokenops.tiflux.targets
  - tokenops.tiflux.sweep
  - tokenops.tiflux.connection
notes:
  - The connection options are accepted so that C(module_defaults) for the action group
    C(group/tokenops.tiflux.tiflux) and the C(tiflux_*) variables apply to it like to the other modules;
    this module makes no API call, so it does not use them.
  - Reading a config that only its service user may read needs C(become).
attributes:
  check_mode:
    support: full
    details: The module only reads, so it runs the same in check mode.
  diff_mode:
    support: none
seealso:
  - module: tokenops.tiflux.token_check
    description: Check, from the host, whether the token a config holds works.
  - plugin: tokenops.tiflux.token
    plugin_type: lookup
    description: Check vaulted tokens once per run from the controller.
  - module: tokenops.tiflux.token_deploy
"""

EXAMPLES = r"""
- name: Which token does every integration of the host hold?
  tokenops.tiflux.token_info:
    targets: "{{ tiflux_targets }}"
  register: held

- name: Show target, state and fingerprint
  ansible.builtin.debug:
    msg: "{{ held.targets | map(attribute='path') | zip(held.targets | map(attribute='state'),
             held.targets | map(attribute='fingerprint')) | map('join', ' ') | list }}"

- name: Does the host hold the vaulted token everywhere?
  ansible.builtin.assert:
    that:
      - held.fingerprints == [vault_tiflux_token | tokenops.tiflux.fingerprint]
      - held.states == {'present': held.targets | length}

- name: A host with two integrations
  tokenops.tiflux.token_info:
    targets:
      - path: /etc/zabbix/tiflux.env
        format: env
        key: TIFLUX_API_TOKEN
      - path: /etc/agent/agent.ini
        format: ini
        section: tiflux
        key: api_token
  become: true
"""

RETURN = r"""
targets:
  description: One entry per item of O(targets), in order.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The config file, as given.
      type: str
      sample: /etc/zabbix/tiflux.env
    format:
      description: Its format.
      type: str
      sample: env
    key:
      description: The key as given (null for V(raw)).
      type: raw
      sample: TIFLUX_API_TOKEN
    section:
      description: The INI section as given, or null.
      type: str
    state:
      description: >-
        V(present) (a token is there), V(missing_file) (no such file), V(unreadable) (permission denied, a directory,
        not a regular file), V(no_key) (the file has no such key, or it is empty), V(malformed) (the file cannot be
        parsed in its format, is not UTF-8, or the value cannot be read safely), V(invalid_token) (the value cannot
        be a token: empty, inner whitespace, control or non-ASCII characters).
      type: str
      sample: present
    fingerprint:
      description: Fingerprint of the token when RV(targets[].state=present), else null.
      type: str
      sample: sha256:5e884898da280471
    message:
      description: One line saying what was found and, when there is no token, what to do.
      type: str
fingerprints:
  description: The distinct fingerprints found, in order of first appearance.
  returned: always
  type: list
  elements: str
  sample: [sha256:5e884898da280471]
states:
  description: How many targets per RV(targets[].state).
  returned: always
  type: dict
  sample: {present: 2, missing_file: 1}
old_token_elsewhere:
  description: Files outside the targets that hold one of O(old_tokens) (path only). Empty when none was found, or
    no search was asked for.
  returned: always
  type: list
  elements: str
sweep:
  description: What the search for O(old_tokens) read (see RV(tokenops.tiflux.token_deploy#module:sweep)), or null
    when none was asked for.
  returned: always
  type: dict
msg:
  description: One line summarising the host.
  returned: always
  type: str
  sample: 2 of 3 target(s) hold a token (2 distinct); 1 missing_file
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tokenops.tiflux.plugins.module_utils._connection import module_argument_spec
from ansible_collections.tokenops.tiflux.plugins.module_utils._push import (
    SWEEP_SPEC, PushError, key_path, old_tokens, read_token, sweep_old_tokens, targets_option)
from ansible_collections.tokenops.tiflux.plugins.module_utils._token import TokenError, fingerprint, maskable


def inspect(module, target, keypath):
    """What one target holds: its state and the token's fingerprint, never the token."""
    report = dict(path=target["path"], format=target["format"], key=target.get("key"), section=target.get("section"),
                  state="present", fingerprint=None, message="")
    try:
        token = read_token(target["path"], target["format"], keypath, follow=target.get("follow", False))
    except PushError as exc:
        # Every failure of read_token carries a reason; "unreadable" covers a future one without it.
        report.update(state=exc.reason or "unreadable", message=str(exc))
        return report
    module.no_log_values.update(maskable([token]))  # unless a short placeholder (_token.MASK_MIN_LENGTH)
    report.update(fingerprint=fingerprint(token), message="%s holds token %s" % (target["path"], fingerprint(token)))
    return report


def main():
    argument_spec = dict(targets=targets_option(writes=False))
    argument_spec.update(SWEEP_SPEC)
    # Accepted for the action group's module_defaults and tiflux_* variables; unused (no API call).
    argument_spec.update(module_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        old = old_tokens(module.params)
    except TokenError as exc:
        module.fail_json(msg=str(exc))

    # Wrong key/section for a format is an argument error: fail before reading anything.
    keypaths = []
    for target in module.params["targets"]:
        try:
            keypaths.append(key_path(target))
        except PushError as exc:
            module.fail_json(msg="%s: %s" % (target["path"], exc))

    reports = [inspect(module, target, keypath) for target, keypath in zip(module.params["targets"], keypaths)]
    fingerprints, states = [], {}
    for report in reports:
        states[report["state"]] = states.get(report["state"], 0) + 1
        if report["fingerprint"] and report["fingerprint"] not in fingerprints:
            fingerprints.append(report["fingerprint"])
    present = states.get("present", 0)
    msg = "%d of %d target(s) hold a token (%d distinct)" % (present, len(reports), len(fingerprints))
    others = ", ".join("%d %s" % (n, state) for state, n in sorted(states.items()) if state != "present")
    msg += "; " + others if others else ""
    swept, elsewhere, more = sweep_old_tokens(module.params, [target["path"] for target in module.params["targets"]], old)
    module.exit_json(changed=False, targets=reports, fingerprints=fingerprints, states=states, msg=msg + more,
                     old_token_elsewhere=elsewhere, sweep=swept)


if __name__ == "__main__":
    main()
