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
  - Writes O(token) into every item of O(targets) on the host (the same write transaction as
    M(tokenops.tiflux.token_push); several targets in one file are one change of that file), reloads or restarts the
    integrations whose token changed, runs their health commands, then proves the token as written in the files from
    the host with B(one) API check.
  - A target whose file does not exist fails the host before any file is written, unless it says
    O(targets[].create=true).
  - Before writing a file whose integration has a reload or health command, the module records beside it
    (C(.NAME.tiflux-journal), C(0600), fingerprints only) that they are pending, and clears the record once they
    passed. A run killed in between leaves it; the next run reloads and checks that integration again even though
    the file already holds the token, and reports that target V(recovered).
  - The proof (O(verify)) is, with O(verify_with=token), one API check of the token as read back from the files; with
    O(verify_with=path), every target reads back the token given, and the host reaches O(api_url) through its own
    network path (DNS, proxy, TLS, O(ca_path)) with a request that carries no token, which spends none of the
    user's quota (Tiflux limits such requests per client IP); any HTTP answer, 401 and 429 included, proves the path.
  - With O(old_tokens), the host is searched for copies of the old token outside the targets (see O(sweep_paths));
    what is found is named in RV(old_token_elsewhere) and does not fail the host (the token given is deployed), and
    whoever rotates knows that the old token is not safe to revoke yet.
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
      - Must be a string of printable ASCII without whitespace, at most 4096 characters.
    type: raw
    required: true
  targets:
    description:
      - The host's integration configs, usually the inventory variable C(tiflux_targets).
      - The reload and health keys apply to the targets whose token changed (or whose reload an interrupted run left
        pending).
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
  verify_with:
    description:
      - How O(verify) proves the token from the host. V(token) checks it against the API (one call of the user's
        quota per host); V(path) proves every target holds it and that the host reaches Tiflux, without the token.
      - A rotation proves with V(token) on its first batch and V(path) on the others, since a token is valid or not
        for the whole of Tiflux.
    type: str
    choices: [token, path]
    default: token
extends_documentation_fragment:
  - tokenops.tiflux.attributes
  - tokenops.tiflux.attributes.action_group
  - tokenops.tiflux.targets
  - tokenops.tiflux.sweep
  - tokenops.tiflux.connection
attributes:
  check_mode:
    support: full
    details: Reports per target what a real run would change; writes, reloads, health commands and the proof are skipped.
  diff_mode:
    support: full
    details: One diff per changed file, tokens shown only as C(<token sha256:...>).
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

- name: Deploy without spending the user's quota, and look for the old token in files nobody listed
  tokenops.tiflux.token_deploy:
    token: "{{ vault_tiflux_token_new }}"
    targets: "{{ tiflux_targets }}"
    verify_with: path
    old_tokens:
      - "{{ vault_tiflux_token }}"
  register: deployed

- name: Stop if the old token is still in use somewhere on the host
  ansible.builtin.assert:
    that: deployed.old_token_elsewhere == []
    fail_msg: "the old token is also in {{ deployed.old_token_elsewhere | join(', ') }}"

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
    real_path:
      description: The file actually read and edited, when O(targets[].path) goes through a symlink.
      type: str
      returned: when O(targets[].path) goes through a symlink
    status:
      description: >-
        V(changed), V(unchanged), V(recovered) (already held the token, but an interrupted run had not finished its
        reload/health: they ran again), V(restored) (changed then put back by a rollback), V(different)
        (O(state=verified): holds another token), V(missing) (O(state=verified): no token there), V(pending)
        (O(state=verified): holds the token but its reload/health never passed; run the deploy again), V(error) (could
        not be read or edited).
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
    created:
      description: Whether the file did not exist and was made (O(targets[].create=true)).
      type: bool
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
recovered_targets:
  description: How many targets were V(recovered) (their reload/health ran again after an interrupted run); they make the
    host C(changed).
  returned: always
  type: int
reloads:
  description: Reload commands and service actions run (after a rollback included).
  returned: always
  type: int
verified:
  description: Whether the proof passed (RV(proof) says which); null when not checked.
  returned: always
  type: bool
proof:
  description: V(token) (the API accepted the token from this host), V(path) (every target holds it and the host
    reaches Tiflux), or null when not checked.
  returned: always
  type: str
status:
  description: The proof's status, or null when not checked. With V(token) that of M(tokenops.tiflux.token_check)
    (V(valid), V(invalid)...); with V(path) V(reached), V(unreachable), or V(error) when a target does not hold the token.
  returned: always
  type: str
http_status:
  description: The proof's HTTP status.
  returned: always
  type: int
issued_at:
  description: When O(token) was made (its JWT C(iat) claim), C(YYYY-MM-DDTHH:MM:SSZ); null for an opaque token.
  returned: always
  type: str
expires_at:
  description: When O(token) expires (its C(exp) claim); null for an opaque token. A token that expires within
    O(expiry_warning_days) gets a warning when the proof checks it.
  returned: always
  type: str
expires_in_days:
  description: Whole days until RV(expires_at), negative once past; null for an opaque token.
  returned: always
  type: int
quota_limit:
  description: The user's requests per minute, from the proof's answer (V(token) proof only), or null.
  returned: always
  type: int
quota_remaining:
  description: What the proof's answer said was left of the user's quota this minute, or null.
  returned: always
  type: int
quota_reset:
  description: When that quota window resets (ISO 8601), or null.
  returned: always
  type: str
old_token_elsewhere:
  description: Files outside the targets that hold one of O(old_tokens) (path only; a path component that holds a
    token is shown hidden). Empty when none was found, or no search was asked for.
  returned: always
  type: list
  elements: str
sweep:
  description: What the search for O(old_tokens) read, or null when none was asked for.
  returned: always
  type: dict
  contains:
    hits:
      description: One per file found, with C(path), C(fingerprint) (of the old token found) and C(found_in).
      type: list
      elements: dict
    files:
      description: Files read.
      type: int
    seconds:
      description: Time the search took.
      type: float
    complete:
      description: Whether every file under the paths was read or skipped for a stated reason.
      type: bool
    cut_short:
      description: Which bound stopped the search, and where; null when it completed.
      type: str
    unreadable:
      description: Files and directories that could not be read (permissions); the search says nothing about them.
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
from ansible_collections.tokenops.tiflux.plugins.module_utils._api import QUOTA_KEYS, Client, expiry_warning
from ansible_collections.tokenops.tiflux.plugins.module_utils._connection import ApiConfigError, module_argument_spec
from ansible_collections.tokenops.tiflux.plugins.module_utils._push import (
    SWEEP_SPEC, Edit, PushError, check_target, old_tokens, read_token, sweep_old_tokens, targets_option)
from ansible_collections.tokenops.tiflux.plugins.module_utils._token import TokenError, dates, fingerprint, normalize, redact
from ansible_collections.tokenops.tiflux.plugins.module_utils._transaction import OUTPUT_QUOTE, Transaction


class Target:
    """One item of targets: its options, its edit, the file change it belongs to, and its report."""

    def __init__(self, params):
        self.params = params
        self.path = params["path"]
        self.edit = None
        self.change = None
        self.report = dict(path=self.path, status="unchanged", fingerprint=None, previous_fingerprint=None,
                           backup_file=None, reloaded=False, created=False, message=None)

    @property
    def has_commands(self):
        return any(self.params.get(name) for name in ("reload_command", "service", "health_command"))

    def reload_command(self, systemctl):
        """An argv list for a service (no shell: the unit name is never parsed by one), else the shell command."""
        if self.params.get("service"):
            return [systemctl, "restart" if self.params["service_state"] == "restarted" else "reload", self.params["service"]]
        return self.params.get("reload_command")

    def fail(self, message):
        self.report.update(status="error", message=message)


class Deployment:
    def __init__(self, module, token, old=()):
        self.module = module
        self.token = token
        self.old = list(old)
        self.params = module.params
        self.targets = [Target(params) for params in self.params["targets"]]
        self.tx = Transaction(module, backup=self.params["backup"])
        self.reloads = 0
        self.systemctl = None
        self.diff = None

    def count(self, status):
        return sum(1 for target in self.targets if target.report["status"] == status)

    def result(self, message):
        changed, recovered = self.count("changed"), self.count("recovered")
        result = dict(
            fingerprint=fingerprint(self.token), targets=[target.report for target in self.targets], reloads=self.reloads,
            changed_targets=changed, recovered_targets=recovered, changed=changed + recovered > 0, message=message,
            rolled_back=False, verified=None, proof=None, status=None, http_status=None, old_token_elsewhere=[], sweep=None,
        )
        result.update(dates(self.token))
        result.update(dict.fromkeys(QUOTA_KEYS))
        return result

    def proved(self, result, check):
        """The proof's outcome in the result, and the expiry warning a check of the token gives."""
        result.update(verified=check["valid"], proof=check["proof"], status=check["status"], http_status=check["http_status"])
        if check["proof"] == "token":
            result.update((key, check.get(key)) for key in QUOTA_KEYS)
            warning = expiry_warning(check, self.params["expiry_warning_days"])
            if warning:
                self.module.warn(warning)

    def swept(self, result):
        """The search for the old tokens outside the targets, once the host holds the new one."""
        result["sweep"], result["old_token_elsewhere"], more = sweep_old_tokens(
            self.params, [target.path for target in self.targets], self.old)
        result["message"] += more

    def prove(self, client):
        """Every target reads back the token, then the API check (token) or the token-less reach (path)."""
        proof = self.params["verify_with"]
        wrong = []
        for target in self.targets:
            try:
                held = read_token(target.change.real_path, target.params["format"], target.edit.keypath)
            except PushError as exc:
                wrong.append(str(exc))
                continue
            if held != self.token:
                wrong.append("%s holds token %s, not %s" % (target.path, fingerprint(held), fingerprint(self.token)))
        if wrong:
            return dict(proof=proof, valid=False, status="error", http_status=None, message="; ".join(wrong))
        if proof == "token":
            check = client.check(self.token)
        else:
            reach = client.reach()
            check = dict(reach, valid=reach["reached"])
        check["proof"] = proof
        return check

    def fail(self, message, **extra):
        result = self.result(message)
        result.update(extra)
        self.module.fail_json(msg=message, **result)

    def plan(self, write, verified=False):
        """Compute every target's change in memory; nothing is written if any target is bad.

        With verified nothing will be written: a missing file is a target that does not hold the token."""
        problems = []
        for target in self.targets:
            params = target.params
            try:
                keypath = check_target(params)
                target.edit = Edit(params["format"], keypath, self.token)
                target.change = self.tx.add(
                    target.path, target.edit, follow=params["follow"], create=params["create"] or verified,
                    create_dirs=params["create"] or verified,
                    dir_mode=_io.parse_mode(params["dir_mode"]), file_args=dict((name, params[name]) for name in ("mode", "owner", "group")),
                    journal=target.has_commands, on_target=True)
            except PushError as exc:
                target.fail("%s: %s" % (target.path, exc))
            except _io.FileError as exc:
                target.fail(str(exc))
            if target.report["message"]:
                problems.append(target.report["message"])
        if write and any(target.params.get("service") for target in self.targets):
            self.systemctl = self.module.get_bin_path("systemctl")
            if not self.systemctl:
                problems.append("systemctl is not installed on this host: use reload_command instead of service")
        if not problems:
            problems = self.tx.prepare(write)
            for target in self.targets:
                message = target.edit.error or target.change.error
                if message:
                    target.fail(message)
        if problems:
            self.fail("nothing was changed: %s" % "; ".join(problems))
        # old values read from the files, unless short placeholders (_token.MASK_MIN_LENGTH)
        self.module.no_log_values.update(self.tx.secrets)
        want = fingerprint(self.token)
        for target in self.targets:
            target.report.update(previous_fingerprint=target.edit.previous_fingerprint, fingerprint=target.edit.previous_fingerprint)
            if target.change.real_path != target.path:
                target.report["real_path"] = target.change.real_path
            if target.edit.changed:
                target.report.update(status="changed", fingerprint=want, created=target.change.created)
            elif not verified and target.has_commands and target.edit.previous == self.token and want in target.change.pending:
                target.report.update(status="recovered", message="%s already held %s, but its reload/health had not passed "
                                     "(an earlier run was interrupted): ran them again" % (target.path, want))

    def verify_only(self, client):
        """state=verified: every target holds the token, and it works from this host."""
        want = fingerprint(self.token)
        wrong = []
        for target in self.targets:
            edit, report = target.edit, target.report
            report["status"] = "unchanged" if edit.previous == self.token else ("missing" if edit.previous is None else "different")
            if report["status"] != "unchanged":
                held = "no token" if edit.previous is None else "token %s" % edit.previous_fingerprint
                report["message"] = "%s holds %s, not %s" % (target.path, held, want)
            elif target.has_commands and want in target.change.pending:
                report.update(status="pending", message="%s holds %s, but its reload/health did not pass after an interrupted "
                              "deploy: run the deploy again" % (target.path, want))
            if report["message"]:
                wrong.append(report["message"])
        check = self.prove(client) if self.params["verify"] and not wrong else None
        result = self.result("; ".join(wrong))
        result["changed"] = False
        if check:
            self.proved(result, check)
        if wrong or check and not check["valid"]:
            result["message"] = "; ".join(wrong + ([check["message"]] if check and not check["valid"] else []))
            self.module.fail_json(msg=result["message"], **result)
        result["message"] = "all %d targets hold %s%s" % (len(self.targets), want, {
            None: "", "token": " and it works from this host", "path": " and this host reaches Tiflux"}[check and check["proof"]])
        self.swept(result)
        self.module.exit_json(**result)

    def _run(self, command):
        if isinstance(command, list):
            rc, out, err = self.module.run_command(command)
        else:
            rc, out, err = self.module.run_command(command, use_unsafe_shell=True)  # documented as a shell command
        # A reload or health command may print its config: no token, nor any part of one, in what is quoted.
        return rc, redact(err or out or "", self.tx.secrets | {self.token}, limit=OUTPUT_QUOTE)

    def _reload(self, targets):
        """Reload each distinct command/service once; returns failure messages."""
        done, failures = [], []
        for target in targets:
            command = target.reload_command(self.systemctl)
            if not command:
                continue
            target.report["reloaded"] = True
            if command in done:
                continue
            done.append(command)
            self.reloads += 1
            rc, detail = self._run(command)
            if rc != 0:
                failures.append("reload of %s failed (rc=%s%s)" % (target.path, rc, ": " + detail if detail else ""))
        return failures

    def _health(self, targets):
        done, failures = set(), []
        for target in targets:
            command = target.params.get("health_command")
            if not command or command in done:
                continue
            done.add(command)
            attempts = max(1, target.params["health_retries"])
            for attempt in range(attempts):
                rc, detail = self._run(command)
                if rc == 0:
                    break
                if attempt + 1 < attempts:
                    time.sleep(max(0, target.params["health_delay"]))
            else:
                failures.append("health command of %s failed %d times (rc=%s%s)" % (
                    target.path, attempts, rc, ": " + detail if detail else ""))
        return failures

    def _rollback(self, reason, **extra):
        restored, failures = self.tx.rollback()
        back = [target for target in self.targets if target.change in restored]
        for target in back:
            target.report.update(status="restored", fingerprint=target.report["previous_fingerprint"], backup_file=None,
                                 created=False)
        reload_failures = self._reload([target for target in back if target.edit.changed])
        if not reload_failures:
            self.tx.settle(restored)
        message = "%s; restored %d file(s) as they were%s" % (
            reason, len(restored), " and reloaded them" if any(target.report["reloaded"] for target in back) else "")
        failures += reload_failures
        if failures:
            message += "; rollback incomplete: %s" % "; ".join(failures)
        self.fail(message, rolled_back=True, changed=False, **extra)

    def deploy(self, client):
        work = [target for target in self.targets if target.report["status"] in ("changed", "recovered")]
        if self.module._diff:
            self.diff = [change.diff(self.tx.secrets) for change in self.tx.files if change.changed]
        if self.module.check_mode:
            for target in self.targets:
                try:
                    if not target.edit.changed and target.change.apply_attributes(self.module):  # only compares
                        target.report["status"] = "changed"
                except _io.FileError as exc:
                    target.fail(str(exc))
                    self.fail("nothing was changed: %s" % exc)
            return self.finish(None)
        try:
            self.tx.commit()
        except _io.FileError as exc:
            for target in self.targets:
                if target.change is self.tx.failed:
                    target.report["message"] = str(exc)
            self._rollback(str(exc))
        for target in self.targets:
            if target.edit.changed:
                target.report["backup_file"] = target.change.backup_file
            elif target.change.attrs_changed:
                target.report["status"] = "changed"

        failures = self._reload(work) or self._health(work)
        if failures:
            self._rollback("; ".join(failures))
        self.tx.settle(set(target.change for target in work))

        check = None
        if self.params["verify"]:
            # The token read back as the integrations will read it; at most one API call for all targets.
            check = self.prove(client)
            if not check["valid"]:
                self._rollback(check["message"], verified=False, proof=check["proof"], status=check["status"],
                               http_status=check["http_status"])
        return self.finish(check)

    def finish(self, check):
        message = "%d of %d target(s) changed" % (self.count("changed"), len(self.targets))
        if self.count("recovered"):
            message += ", %d recovered (reload/health run again after an interrupted run)" % self.count("recovered")
        if check:
            message += "; %s" % check["message"]
        result = self.result(message)
        if check:
            self.proved(result, check)
        if self.diff is not None:
            result["diff"] = self.diff
        self.swept(result)
        self.module.exit_json(**result)


def main():
    argument_spec = dict(
        token=dict(type="raw", required=True, no_log=True),  # raw: type=str would turn a number into a string silently
        targets=targets_option(),
        state=dict(type="str", default="deployed", choices=["deployed", "verified"]),
        backup=dict(type="bool", default=True),
        verify=dict(type="bool", default=True),
        verify_with=dict(type="str", default="token", choices=["token", "path"]),
    )
    argument_spec.update(SWEEP_SPEC)
    argument_spec.update(module_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        token = normalize(module.params["token"], what="token")
        old = old_tokens(module.params, current=token)
        client = Client.from_options(module.params)
    except (TokenError, ApiConfigError) as exc:
        module.fail_json(msg=str(exc))
    deployment = Deployment(module, token, old)
    if not module.params["targets"]:
        module.exit_json(msg="no targets on this host: nothing to deploy or prove", **deployment.result("no targets"))
    verified = module.params["state"] == "verified"
    try:
        deployment.plan(write=not (verified or module.check_mode), verified=verified)
        if verified:
            deployment.verify_only(client)
        deployment.deploy(client)
    finally:
        deployment.tx.close()


if __name__ == "__main__":
    main()
