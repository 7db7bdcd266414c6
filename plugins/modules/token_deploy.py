#!/usr/bin/python
# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: token_deploy
short_description: Deploy a Tiflux API v2 token to all of a host's integration configs as one transaction
version_added: 1.0.0
author:
  - tokenops maintainers (@tokenops)
description:
  - Writes O(token) into every item of O(targets) on the host (the same write path as M(tokenops.tiflux.token_push)),
    reloads or restarts the integrations whose config changed, runs their health commands, then proves the token
    as written in the files from the host with B(one) API check.
  - If anything fails (a write, a reload, a health command, the proof), every file is restored byte-identical
    (content, mode, owner), the changed integrations are reloaded again on the old token, and the module fails
    with RV(rolled_back=true). One module run per host, however many targets.
  - With O(state=verified) nothing is written; every target must already hold O(token), and it must work from the host
    (the confirm phase of a rotation).
  - This is the engine of the role C(tokenops.tiflux.rotate); use it directly for a one-shot deploy.
options:
  token:
    description:
      - The token to deploy. Surrounding whitespace (the newline that ends vault files) is removed.
    type: str
    required: true
  targets:
    description:
      - The host's integration configs, usually the inventory variable C(tiflux_targets).
      - The write, reload and health keys apply to the targets whose file changed.
  state:
    description:
      - V(deployed) writes the token where it is missing or different; V(verified) only checks that every target holds
        it and that it works from the host.
    type: str
    choices: [deployed, verified]
    default: deployed
  backup:
    description: Keep a timestamped copy of each changed file next to it.
    type: bool
    default: true
  verify:
    description:
      - Prove the token as written from the host after the changes, and roll back when it is not V(valid).
      - With O(verify=false) only the health commands decide.
    type: bool
    default: true
extends_documentation_fragment:
  - tokenops.tiflux.attributes
  - tokenops.tiflux.targets
  - tokenops.tiflux.connection
attributes:
  check_mode:
    support: full
    details: Reports per target what a real run would change; writes, reloads, health commands and the proof are skipped.
  diff_mode:
    support: full
    details: One diff per changed target, tokens shown only as C(<token sha256:...>).
seealso:
  - module: tokenops.tiflux.token_push
  - module: tokenops.tiflux.token_check
"""

EXAMPLES = r"""
- name: Deploy the new token to every integration of the host, with proof and rollback
  tokenops.tiflux.token_deploy:
    token: "{{ vault_tiflux_token_new }}"
    targets: "{{ tiflux_targets }}"
    api_calls_per_minute: 60

- name: A host with two integrations
  tokenops.tiflux.token_deploy:
    token: "{{ vault_tiflux_token_new }}"
    targets:
      - path: /etc/zabbix/tiflux.env
        format: env
        key: TIFLUX_API_TOKEN
        owner: zabbix
        service: zabbix-server
        service_state: restarted
      - path: /opt/sync/config.json
        format: json
        key: tiflux.token
        reload_command: systemctl kill -s HUP tiflux-sync
        health_command: /opt/sync/bin/healthcheck
        health_retries: 5
        health_delay: 3

- name: After revoking the old token, prove every integration holds and uses the new one
  tokenops.tiflux.token_deploy:
    token: "{{ vault_tiflux_token_new }}"
    targets: "{{ tiflux_targets }}"
    state: verified
"""

RETURN = r"""
fingerprint:
  description: Fingerprint of O(token).
  returned: always
  type: str
  sample: sha256:5e884898da280471
targets:
  description: One entry per target, in order.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The config file.
      type: str
    status:
      description: >-
        V(changed), V(unchanged), V(restored) (changed then put back by a rollback), V(different) (O(state=verified):
        holds another token), V(missing) (O(state=verified): no token there), V(error) (could not be read or edited).
      type: str
    fingerprint:
      description: Fingerprint of the token the file holds at the end, or null.
      type: str
    previous_fingerprint:
      description: Fingerprint of the token the file held before, or null.
      type: str
    backup_file:
      description: Backup of the original, when the file changed.
      type: str
    reloaded:
      description: Whether its reload command or service ran.
      type: bool
    message:
      description: What went wrong with this target, if anything.
      type: str
changed_targets:
  description: How many targets changed and stayed changed.
  returned: always
  type: int
reloads:
  description: Reload commands and service actions run (after a rollback included).
  returned: always
  type: int
verified:
  description: Whether the token as written was proven V(valid) from the host; null when not checked.
  returned: always
  type: bool
status:
  description: The proof's status (see M(tokenops.tiflux.token_check)), or null when not checked.
  returned: always
  type: str
http_status:
  description: The proof's HTTP status.
  returned: always
  type: int
message:
  description: One line saying what happened.
  returned: always
  type: str
rolled_back:
  description: Whether the files were restored because something failed.
  returned: always
  type: bool
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tokenops.tiflux.plugins.module_utils import _io
from ansible_collections.tokenops.tiflux.plugins.module_utils._api import Client
from ansible_collections.tokenops.tiflux.plugins.module_utils._connection import ApiConfigError, module_argument_spec
from ansible_collections.tokenops.tiflux.plugins.module_utils._push import Push, PushError, key_path, read_token, targets_item_spec
from ansible_collections.tokenops.tiflux.plugins.module_utils._token import TokenError, fingerprint, normalize, redact

# One definition for token_deploy and token_info: both take the inventory's tiflux_targets.
TARGET_SPEC = targets_item_spec()


class Deployment:
    def __init__(self, module, token):
        self.module = module
        self.token = token
        self.params = module.params
        self.entries = []  # (target params, keypath, Push or None, report dict)
        self.reloads = 0
        self.diff = None

    def fail(self, message, **extra):
        result = self.result(message)
        result.update(extra)
        self.module.fail_json(msg=message, **result)

    def result(self, message):
        return dict(
            fingerprint=fingerprint(self.token), targets=[e[3] for e in self.entries], reloads=self.reloads,
            changed_targets=sum(1 for e in self.entries if e[3]["status"] == "changed"), message=message,
            changed=any(e[3]["status"] == "changed" for e in self.entries), rolled_back=False,
            verified=None, status=None, http_status=None,
        )

    def plan(self):
        """Compute every target's change in memory; nothing is written if any target is bad."""
        problems = []
        for target in self.params["targets"]:
            report = dict(path=target["path"], status="unchanged", fingerprint=None, previous_fingerprint=None,
                          backup_file=None, reloaded=False, message=None)
            push = keypath = None
            try:
                try:
                    keypath = key_path(target)
                except PushError as exc:
                    raise PushError("%s: %s" % (target["path"], exc))
                push = Push(target["path"], target["format"], keypath, self.token)
                report["previous_fingerprint"] = push.previous_fingerprint
                report["fingerprint"] = push.previous_fingerprint
                # old values read from the file, unless short placeholders (_token.MASK_MIN_LENGTH)
                self.module.no_log_values.update(push.secrets)
            except PushError as exc:
                report.update(status="error", message=str(exc))
                problems.append(str(exc))
            self.entries.append((target, keypath, push, report))
        if problems:
            self.fail("nothing was changed: %s" % "; ".join(problems))

    def verify_only(self, client):
        """state=verified: every target holds the token, and it works from this host."""
        want = fingerprint(self.token)
        wrong = []
        for target, keypath, push, report in self.entries:
            report["status"] = "unchanged" if push.previous == self.token else ("missing" if push.previous is None else "different")
            if report["status"] != "unchanged":
                held = "no token" if push.previous is None else "token %s" % push.previous_fingerprint
                report["message"] = "%s holds %s, not %s" % (target["path"], held, want)
                wrong.append(report["message"])
        check = client.check(self.token)
        result = self.result(check["message"])
        result.update(verified=check["valid"], status=check["status"], http_status=check["http_status"], changed=False)
        if wrong or not check["valid"]:
            reasons = wrong + ([] if check["valid"] else [check["message"]])
            self.module.fail_json(msg="; ".join(reasons), **result)
        result["message"] = "all %d targets hold %s and it works from this host" % (len(self.entries), want)
        self.module.exit_json(**result)

    def _file_args(self, target, push):
        attrs = dict((name, target.get(name)) for name in ("mode", "owner", "group"))
        if not push.snapshot.exists and attrs["mode"] is None:
            attrs["mode"] = "0600"
        return self.module.load_file_common_arguments(attrs, path=push.snapshot.real_path)

    def _run(self, command):
        rc, out, err = self.module.run_command(command, use_unsafe_shell=True)
        # A reload or health command may print its config: name any token in it by fingerprint.
        secrets = sorted(set([self.token]).union(*(e[2].secrets for e in self.entries if e[2] is not None)), key=len, reverse=True)
        detail = " ".join(redact(err or out or "", secrets).split())[:200]
        return rc, detail

    def _reload(self, entries):
        """Reload each distinct command/service once; returns failure messages."""
        done, failures = set(), []
        for target, _keypath, _push, report in entries:
            if target.get("service"):
                action = "restart" if target["service_state"] == "restarted" else "reload"
                command = "systemctl %s %s" % (action, target["service"])
            else:
                command = target.get("reload_command")
            if not command:
                continue
            report["reloaded"] = True
            if command in done:
                continue
            done.add(command)
            self.reloads += 1
            rc, detail = self._run(command)
            if rc != 0:
                failures.append("reload of %s failed (rc=%s%s)" % (target["path"], rc, ": " + detail if detail else ""))
        return failures

    def _health(self, entries):
        done, failures = set(), []
        for target, _keypath, _push, _report in entries:
            command = target.get("health_command")
            if not command or command in done:
                continue
            done.add(command)
            attempts = max(1, target["health_retries"])
            for attempt in range(attempts):
                rc, detail = self._run(command)
                if rc == 0:
                    break
                if attempt + 1 < attempts:
                    time.sleep(max(0, target["health_delay"]))
            else:
                failures.append("health command of %s failed %d times (rc=%s%s)" % (
                    target["path"], attempts, rc, ": " + detail if detail else ""))
        return failures

    def _rollback(self, applied, reason, **extra):
        failures = []
        for target, _keypath, push, report in applied:
            try:
                push.restore(self.module)
                report.update(status="restored", fingerprint=report["previous_fingerprint"])
            except Exception as exc:  # pylint: disable=broad-except
                report["message"] = "could not restore %s (%s); its backup is %s" % (target["path"], exc, report["backup_file"])
                failures.append(report["message"])
        failures += self._reload(applied)
        message = "%s; restored %d file(s) as they were%s" % (
            reason, len(applied), " and reloaded them" if any(e[3]["reloaded"] for e in applied) else "")
        if failures:
            message += "; rollback incomplete: %s" % "; ".join(failures)
        self.fail(message, rolled_back=True, changed=False, **extra)

    def deploy(self, client):
        changed = [e for e in self.entries if e[2].changed]
        for target, _keypath, push, report in changed:
            report["status"] = "changed"
            report["fingerprint"] = fingerprint(self.token)
        if self.module._diff:
            self.diff = [e[2].diff() for e in changed]
        if self.module.check_mode:
            return self.finish(None)

        applied = []
        for entry in changed:
            target, _keypath, push, report = entry
            try:
                report["backup_file"] = push.apply(self.module, backup=self.params["backup"])
            except PushError as exc:
                # The failed write left its file as it was; put back the ones written before it.
                report["message"] = str(exc)
                self._rollback(applied, str(exc))
            applied.append(entry)
            try:
                _io.set_attributes(self.module, self._file_args(target, push), True)
            except Exception as exc:  # pylint: disable=broad-except
                report["message"] = "%s: cannot set file attributes (%s)" % (target["path"], exc)
                self._rollback(applied, report["message"])
        for target, _keypath, push, report in self.entries:
            if not push.changed and (target.get("owner") or target.get("group") or target.get("mode") is not None):
                try:
                    if _io.set_attributes(self.module, self._file_args(target, push), False):
                        report["status"] = "changed"
                except _io.FileError as exc:
                    report["message"] = str(exc)
                    self._rollback(applied, str(exc))

        failures = self._reload(changed) if changed else []
        failures = failures or (self._health(changed) if changed else [])
        if failures:
            self._rollback(applied, "; ".join(failures))

        check = None
        if self.params["verify"]:
            try:
                # The proof reads the token back as the integrations will; one API call for all targets.
                held = set(read_token(t["path"], t["format"], k) for t, k, _p, _r in self.entries)
                if held != {self.token}:
                    raise PushError("a target does not hold the deployed token after the write")
                check = client.check(self.token)
            except PushError as exc:
                check = dict(status="error", valid=False, http_status=None, message=str(exc))
            if not check["valid"]:
                self._rollback(applied, check["message"], verified=False, status=check["status"], http_status=check["http_status"])
        return self.finish(check)

    def finish(self, check):
        changed = sum(1 for e in self.entries if e[3]["status"] == "changed")
        message = "%d of %d target(s) changed" % (changed, len(self.entries))
        if check:
            message += "; %s" % check["message"]
        result = self.result(message)
        if check:
            result.update(verified=check["valid"], status=check["status"], http_status=check["http_status"])
        if self.diff is not None:
            result["diff"] = self.diff
        self.module.exit_json(**result)


def main():
    argument_spec = dict(
        token=dict(type="str", required=True, no_log=True),
        targets=dict(type="list", elements="dict", required=True, options=TARGET_SPEC),
        state=dict(type="str", default="deployed", choices=["deployed", "verified"]),
        backup=dict(type="bool", default=True),
        verify=dict(type="bool", default=True),
    )
    argument_spec.update(module_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        token = normalize(module.params["token"])
        client = Client.from_options(module.params)
    except (TokenError, ApiConfigError) as exc:
        module.fail_json(msg=str(exc))
    for target in module.params["targets"]:
        if target.get("reload_command") and target.get("service"):
            module.fail_json(msg="%s: set reload_command or service, not both" % target["path"])
    deployment = Deployment(module, token)
    if not module.params["targets"]:
        module.exit_json(msg="no targets on this host: nothing to deploy or prove", **deployment.result("no targets"))
    deployment.plan()
    if module.params["state"] == "verified":
        deployment.verify_only(client)
    deployment.deploy(client)


if __name__ == "__main__":
    main()
