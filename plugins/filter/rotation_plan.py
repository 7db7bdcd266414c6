# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: rotation_plan
short_description: Check a token rotation on the controller before any host is touched, and plan its batches
version_added: 1.1.0
author:
  - tokenops maintainers (@tokenops)
description:
  - Used once per run by the role C(tokenops.tiflux.rotate) (its preflight), on the controller, with no host round trip
    and no API call of its own. It checks the role's options against the role's argument spec, every host's
    C(tiflux_targets) (shape, format, key, option types), and the controller checks of the new and old tokens that the
    caller made with the lookup C(tokenops.tiflux.token).
  - Plans the rollout (C(serial), the canary hosts that prove with the token), tells a partial run (a C(--limit) or
    O(hosts) that leaves out inventory hosts with targets, an AWX workflow, C(rotate_partial)) from a run that can speak
    for the fleet, and switches to heal mode when Tiflux already rejects the old token.
  - Creates the report directory, so a run that cannot write its reports stops before any host is touched.
  - Contains fingerprints, never tokens.
positional: _input, hosts, inventory_hosts
extends_documentation_fragment:
  - tokenops.tiflux.hostvars
options:
  hosts:
    description: The hosts of the run (C(ansible_play_hosts_all) of a play over the rotation's hosts).
    type: list
    elements: str
    required: true
  inventory_hosts:
    description: Every host of the inventory (C(groups['all'])); those outside O(hosts) holding targets make the run partial.
    type: list
    elements: str
    required: true
  phase:
    description: V(deploy), V(verdict) or V(confirm).
    type: str
    default: deploy
  new:
    description: The lookup's C(result=info) for the new token.
    type: dict
    required: true
  old:
    description: The lookup's C(result=info) for the old token, if one was given.
    type: dict
  options:
    description: The role's options as the play sees them (name to value; undefined ones left out or null).
    type: dict
    default: {}
  spec:
    description: The role's argument spec (the C(options) of its C(main) entry point) to check O(options) against.
    type: dict
    default: {}
  workflow_job_id:
    description: C(awx_workflow_job_id) when AWX runs the job inside a workflow (a sliced job's slices always are).
    type: raw
  timezone:
    description: Timezone of the dates shown to people (Sessões API shows them in the viewer's local time).
    type: str
    default: America/Sao_Paulo
"""

EXAMPLES = r"""
- name: Check the tokens and every host's targets on the controller
  ansible.builtin.set_fact:
    rotate_plan: >-
      {{ hostvars | tokenops.tiflux.rotation_plan(ansible_play_hosts_all, groups['all'], phase='deploy',
           new=lookup('tokenops.tiflux.token', rotate_new_token, result='info'), options={'rotate_serial': [1, '25%']}) }}
  delegate_to: localhost
  delegate_facts: true
  run_once: true
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    problems:
      description: One line per problem (a host and the variable it wrote, a role option, a token); empty when the run can go.
      type: list
      elements: str
    lines:
      description: What the preflight tells the person (tokens, their dates, heal mode, a partial run).
      type: list
      elements: str
    hosts:
      description: The hosts of the run, in order.
      type: list
      elements: str
    serial:
      description: The batches of the deploy play.
      type: list
    canary:
      description: The hosts of the first batch; with C(rotate_verify_on_host=path) they prove with the token.
      type: list
      elements: str
    heal:
      description: Whether Tiflux already rejects the old token (the rollout goes as fast as safety allows).
      type: bool
    partial:
      description: Why the run cannot speak for the fleet, or null.
      type: str
    verify:
      description: V(path), V(token) or V(none) (C(rotate_verify_on_host), legacy booleans mapped).
      type: str
    report_dir:
      description: Absolute path of the report directory, or null for none.
      type: str
    checked_at:
      description: When the controller checked the tokens (UTC, ISO 8601); the old token's last use by this run.
      type: str
"""

import datetime
import json
import os
import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.tokenops.tiflux.plugins.module_utils import _push
from ansible_collections.tokenops.tiflux.plugins.module_utils._token import SESSOES_API, UI_TIMEZONE, session_date, user_label
from ansible_collections.tokenops.tiflux.plugins.plugin_utils._vars import deprecate_role_options

PHASES = ("deploy", "verdict", "confirm")
VERIFY_MODES = ("path", "token", "none")
DEFAULT_SERIAL = [1, "25%"]
HEAL_SERIAL = [1, "100%"]
# Role options of 1.0 that the plugins now read as tiflux_* variables.
LEGACY = ("rotate_api_url", "rotate_ca_path", "rotate_validate_certs", "rotate_allow_http")
TOKEN_KEYS = ("status", "valid", "http_status", "fingerprint", "user", "message", "issued_at", "expires_at",
              "expires_in_days", "quota_limit", "quota_remaining")
SHOW_MAX = 5  # hosts named in one line before "(+N more)"
UNSUPPORTED = re.compile(r"^(.*?): ([^:]+?)\. Supported parameters include: .*$")


def names(hosts):
    hosts = list(hosts)
    shown = ", ".join(hosts[:SHOW_MAX])
    return shown + (" (+%d more)" % (len(hosts) - SHOW_MAX) if len(hosts) > SHOW_MAX else "")


def _plain(value):
    """The value as plain Python types (ansible-core 2.19 hands over tagged and lazy subclasses)."""
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError):
        return value


def _targets_problems(targets):
    """One-line problems of one host's targets list, each starting with [index] or a colon."""
    validate = getattr(_push, "validate_targets", None)
    if validate is not None:
        # token_deploy's own check names the list "targets": say the variable the user wrote instead
        out = []
        for problem in validate(targets):
            rest = problem[len("targets"):] if problem.startswith("targets") else " " + problem
            # ArgumentSpecValidator lists every supported option after an unknown one: name the unknown one only
            rest = UNSUPPORTED.sub(lambda m: "%s: unknown option%s %s" % (
                m.group(1), "s" if "," in m.group(2) else "", m.group(2)), rest)
            out.append(":" + rest if rest[:1] == " " else rest)
        return out
    if not isinstance(targets, list):
        return [": must be a list of targets (each with path, format and key), got a %s" % _type_name(targets)]
    problems = []
    spec = _push.targets_item_spec()
    for index, target in enumerate(targets):
        where = "[%d]" % index
        if not isinstance(target, dict):
            problems.append("%s: must be a dict with path, format and key, got a %s" % (where, _type_name(target)))
            continue
        if isinstance(target.get("path"), str):
            where += " (%s)" % target["path"]
        result = ArgumentSpecValidator(spec).validate(dict(target))
        found = [_one_line(error, result) for error in result.errors]
        if not found:
            params = result.validated_parameters
            if params.get("reload_command") and params.get("service"):
                found.append("set reload_command or service, not both")
            try:
                _push.key_path(params)
            except _push.PushError as exc:
                found.append(str(exc))
        problems.extend("%s: %s" % (where, problem) for problem in found)
    return problems


def _one_line(error, result=None):
    """ArgumentSpecValidator's messages, without the list of every supported option."""
    if type(error).__name__ == "UnsupportedError" and result is not None:
        keys = sorted(str(key) for key in result.unsupported_parameters)
        return "unknown option%s %s" % ("s" if len(keys) > 1 else "", ", ".join(keys))
    text = " ".join(str(getattr(error, "msg", error)).split())
    return text.split(" Valid booleans include:", maxsplit=1)[0]


def _type_name(value):
    # isinstance, not type(): ansible-core 2.19 hands over tagged subclasses of str, dict, list
    for kind, name in ((bool, "boolean"), (str, "string"), (dict, "dict"), (list, "list"), ((int, float), "number")):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def host_targets(hostvars, host):
    """(variable name, value) of a host's targets: rotate_targets when the host sets it, else tiflux_targets."""
    values = hostvars[host] if host in hostvars else {}
    for name in ("rotate_targets", "tiflux_targets"):
        if name in values:
            value = values[name]
            if name == "tiflux_targets" or value not in (None, ""):
                return name, value
    return "tiflux_targets", []


def _option_problems(spec, options):
    if not spec:
        return []
    # An option the play leaves undefined comes as "" or null: unset.
    values = dict((name, value) for name, value in (options or {}).items() if name in spec and value not in (None, ""))
    result = ArgumentSpecValidator(dict((name, _spec_entry(entry)) for name, entry in spec.items())).validate(values)
    return [_one_line(error, result) for error in result.errors]


def _spec_entry(entry):
    """An argument_specs.yml option as ArgumentSpecValidator takes it (descriptions dropped, suboptions kept)."""
    keep = ("type", "required", "default", "choices", "elements", "no_log", "aliases")
    out = dict((key, value) for key, value in entry.items() if key in keep)
    if "options" in entry:
        out["options"] = dict((name, _spec_entry(sub)) for name, sub in entry["options"].items())
    return out


def _serial(value):
    """rotate_serial as a list of batch sizes (numbers or percentages), or None when it is not one."""
    if value in (None, "", []):
        return list(DEFAULT_SERIAL)
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    for item in items:
        text = str(item).strip()
        if isinstance(item, bool) or not (text.isdigit() or (text.endswith("%") and text[:-1].strip().isdigit())):
            return None
    return items


def _batches(hosts, serial):
    """The batches ansible-playbook will make of hosts (PlaybookExecutor._get_serialized_batches)."""
    from ansible.utils.helpers import pct_to_int  # pylint: disable=import-outside-toplevel

    left, out, index = list(hosts), [], 0
    while left:
        size = pct_to_int(serial[index], len(hosts))
        if size <= 0:
            out.append(left)
            break
        out.append(left[:size])
        left = left[size:]
        index = min(index + 1, len(serial) - 1)
    return out


def _verify_mode(value):
    if isinstance(value, bool):
        return "path" if value else "none"
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "on", "1"):
        return "path"
    if isinstance(value, str) and value.strip().lower() in ("false", "no", "off", "0"):
        return "none"
    return value if value in VERIFY_MODES else None


def _token_view(info):
    return dict((key, info.get(key)) for key in TOKEN_KEYS) if isinstance(info, dict) else None


def _dates(info, timezone):
    """ 'issued 06/10/2025 07:29, expires 06/10/2027 07:29' from a check's claims, or '' for an opaque token."""
    parts = []
    for key, word in (("issued_at", "issued"), ("expires_at", "expires")):
        shown = session_date(info.get(key), timezone) if info.get(key) else None
        if shown:
            parts.append("%s %s" % (word, shown))
    return ", ".join(parts)


def rotation_plan(hostvars, hosts, inventory_hosts, phase="deploy", new=None, old=None, options=None, spec=None,
                  workflow_job_id=None, timezone=UI_TIMEZONE):
    if phase not in PHASES:
        raise AnsibleFilterError("rotate_phase must be one of %s, got %r" % (", ".join(PHASES), phase))
    if not isinstance(new, dict) or "fingerprint" not in new:
        raise AnsibleFilterError("new must be the lookup's result='info' for the new token")
    options = dict(options or {})
    timezone = timezone or UI_TIMEZONE
    hosts = list(hosts)
    problems = ["%s" % line for line in _option_problems(spec or {}, options)]

    legacy = deprecate_role_options(dict((name, options.get(name)) for name in LEGACY))

    # Every host's targets, checked here so that a bad one on the last host stops the run before the canary.
    for host in hosts:
        variable, targets = host_targets(hostvars, host)
        for problem in _targets_problems(_plain([] if targets is None else targets)):
            problems.append("%s: %s%s" % (host, variable, problem if problem[:1] in ("[", ":") else ": " + problem))
    outside = [host for host in inventory_hosts
               if host not in hosts and host_targets(hostvars, host)[1] not in (None, "", [])]

    mode = _verify_mode(options.get("rotate_verify_on_host", "path"))
    if mode is None:
        problems.append("rotate_verify_on_host must be path, token or none (true and false are read as path and none), "
                        "got %r" % (options.get("rotate_verify_on_host"),))

    checked_at = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    new_fp = new["fingerprint"]
    old_fp = old.get("fingerprint") if isinstance(old, dict) else None
    if new.get("status") != "valid":
        problems.append("The new token does not work: %s" % (new.get("message") or new.get("status")))
    if old_fp and old_fp == new_fp:
        problems.append("rotate_new_token and rotate_old_token are the same token (%s): generate a new token in %s and "
                        "vault it as rotate_new_token" % (new_fp, SESSOES_API))

    heal = phase == "deploy" and isinstance(old, dict) and old.get("status") == "invalid" and old_fp != new_fp
    serial = _serial(options.get("rotate_serial"))
    if serial is None:
        problems.append("rotate_serial must be a batch size or a list of them (numbers or percentages such as [1, \"25%%\"]), "
                        "got %r" % (options.get("rotate_serial"),))
        serial = list(DEFAULT_SERIAL)
    serial = HEAL_SERIAL if heal else serial
    batches = _batches(hosts, serial) if phase == "deploy" else [hosts]
    partial = None
    if options.get("rotate_partial") in (True, "true", "True", "yes"):
        partial = "rotate_partial is true"
    elif outside:
        partial = "%d inventory host(s) with tiflux_targets are outside this run: %s" % (len(outside), names(outside))
    elif phase == "deploy" and workflow_job_id not in (None, ""):
        partial = "AWX runs it inside workflow job %s (a sliced job's slices are such a workflow)" % workflow_job_id

    report_dir = options.get("rotate_report_dir")
    if report_dir not in (None, ""):
        report_dir = os.path.abspath(os.path.expanduser(str(report_dir)))
        try:
            os.makedirs(report_dir, mode=0o750, exist_ok=True)
        except OSError as exc:
            problems.append("rotate_report_dir %s cannot be created: %s" % (report_dir, exc.strerror or exc))
    else:
        report_dir = None

    created = options.get("rotate_old_token_created") or ""
    issued = session_date(old.get("issued_at"), timezone) if isinstance(old, dict) and old.get("issued_at") else None
    old_session = ("Data da sessão: %s" % issued) if issued and not created else (("created " + created) if created else None)

    lines = []
    if new.get("status") == "valid":
        who = user_label(new.get("user")) or "its user"
        dates = _dates(new, timezone)
        lines.append("New token %s works, for %s%s." % (new_fp, who, "; " + dates if dates else ""))
    if isinstance(old, dict):
        dates = _dates(old, timezone)
        state = {"valid": "still works", "invalid": "is already rejected (401)"}.get(
            old.get("status"), "could not be checked (%s)" % old.get("status"))
        seen = ""
        if phase != "confirm" and old.get("status") == "valid":
            # The evidence a person reads in Sessões API: this run does not use the old token again.
            seen = ("; checked now (%s %s), the last use by this rotation: a later \"last use\" in Sessões API is "
                    "something outside the inventory" % (session_date(checked_at, timezone) or checked_at, timezone))
        where = "; in Sessões API: " + old_session if old_session and not heal else ""
        lines.append("Old token %s %s%s%s%s." % (old_fp, state, "; " + dates if dates else "", where, seen))
    elif phase != "verdict":
        lines.append("No old token given (rotate_old_token): the verdict cannot name it or tell whether Tiflux still accepts it.")
    if heal:
        lines.append("HEAL: Tiflux already rejects the old token %s, so every integration still on it is down now; likely "
                     "cause: a new token made in the same browser invalidates that browser's previous one (see %s). "
                     "Rolling out as fast as safety allows: %s, then every other host at once."
                     % (old_fp, SESSOES_API, "canary " + names(batches[0]) if batches else "canary"))
    if partial:
        lines.append("PARTIAL RUN: %s; this run's verdict speaks only for its %d host(s)." % (partial, len(hosts)))

    return dict(
        phase=phase, problems=problems, lines=lines, hosts=hosts, serial=serial, canary=list(batches[0]) if batches else [],
        batches=len(batches), heal=heal, partial=partial, outside=outside, fleet_size=len(hosts) + len(outside),
        verify=mode, report_dir=report_dir, checked_at=checked_at, timezone=timezone, old_session=old_session,
        new=_token_view(new), old=_token_view(old), legacy=legacy,
    )


class FilterModule:
    def filters(self):
        return {"rotation_plan": rotation_plan}
