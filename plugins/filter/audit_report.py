# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: audit_report
short_description: Plan and report a fleet audit of Tiflux API v2 tokens
version_added: 1.0.0
author:
  - tokenops maintainers (@tokenops)
description:
  - Used by the role C(tokenops.tiflux.audit). Reads each host's C(audit_result) fact (what
    M(tokenops.tiflux.token_info) found) and C(audit_unknown_run) (its M(tokenops.tiflux.token_check) results, if any),
    labels every fingerprint with the names of O(known), and returns the plan of checks and the report's data; the role
    writes the Markdown and HTML reports from it with its templates.
  - The plan checks each distinct token once. A fingerprint that matches O(known) is checked from the controller
    (C(check_on_controller) in RV(_value.plan) names one known token per fingerprint). Any other fingerprint is checked by
    B(one) host that holds it (C(check_on_host) in RV(_value.plan)), because its token cannot leave the host.
  - Contains fingerprints, labels, paths and statuses, never tokens. O(known) maps names to fingerprints, not tokens.
positional: _input, hosts
extends_documentation_fragment:
  - tokenops.tiflux.hostvars
options:
  hosts:
    description: The hosts to report on, in order (C(ansible_play_hosts_all)).
    type: list
    elements: str
    required: true
  known:
    description: Names of the known tokens mapped to their fingerprints (the C(tokenops.tiflux.fingerprint) filter).
    type: dict
    default: {}
  checks:
    description: The controller checks, the lookup's C(result=info) keyed by the name of a known token.
    type: dict
    default: {}
  check_unknown:
    description: Whether tokens that match no O(known) fingerprint are checked on a host; when false their status is V(unknown).
    type: bool
    default: true
  generated:
    description: When the audit ran, shown in the reports.
    type: str
    default: ""
  api_url:
    description: The API address the checks used, shown in the reports; empty for the one their results name.
    type: str
    default: ""
  deprecated_options:
    description:
      - The role's 1.0 connection options (C(audit_api_url), C(audit_ca_path), ...) with their values; those set (not
        empty) give one deprecation message naming the C(tiflux_*) variable to set instead.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Plan the checks, after token_info ran on every host
  ansible.builtin.set_fact:
    audit_plan: "{{ (hostvars | tokenops.tiflux.audit_report(ansible_play_hosts_all, known=known_fingerprints)).plan }}"
  run_once: true

- name: Build the report once the checks ran
  ansible.builtin.set_fact:
    audit_report: >-
      {{ hostvars | tokenops.tiflux.audit_report(ansible_play_hosts_all, known=known_fingerprints,
           checks=controller_checks, generated=now(utc=true).isoformat()) }}
  run_once: true
"""

RETURN = r"""
_value:
  description: The plan and the report.
  type: dict
  contains:
    plan:
      description: >-
        C(check_on_controller), names of known tokens to check with the lookup (one per distinct fingerprint found);
        C(check_on_host), per host, the targets whose token that host checks (one per distinct unknown fingerprint).
      type: dict
    rows:
      description: >-
        One per target (or per host without targets, failed or unreachable), with C(host), C(path), C(format),
        C(key), C(section), C(state), C(fingerprint), C(label), C(status), C(message).
      type: list
      elements: dict
    tokens:
      description: >-
        One per distinct fingerprint found, what expires first first (then those without a date), with C(fingerprint),
        C(label), C(known), C(status), C(http_status), C(user), C(user_label) (C(name <email>)), C(checked_from),
        C(targets), C(hosts), C(message), and from the check C(expires_at), C(expires_in_days) and C(expires)
        (both as one cell, C(-) when unknown).
      type: list
      elements: dict
    known_not_found:
      description: Known tokens found on no target (not checked), with C(label) and C(fingerprint).
      type: list
      elements: dict
    counts:
      description: How many rows per C(status).
      type: dict
    problems:
      description: The rows whose status is not V(valid), with what to do.
      type: list
      elements: dict
    verdict:
      description: One line.
      type: str
    lines:
      description: The summary table as printable lines.
      type: list
      elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.tokenops.tiflux.plugins.module_utils._token import user_label
from ansible_collections.tokenops.tiflux.plugins.plugin_utils._vars import deprecate_role_options

UNKNOWN = "unknown"
REMEDY = {
    "invalid": "the token is rejected (401): deploy a working token there (role tokenops.tiflux.rotate)",
    "forbidden": "the token works but its user lacks a permission (403): fix the user's access profile in Tiflux",
    "missing_file": "the config file is missing: fix path in tiflux_targets, or deploy a token there",
    "unreadable": "the config cannot be read: run the audit with become, or fix path",
    "no_key": "the config holds no token under that key: fix key, or deploy a token there",
    "malformed": "the config cannot be parsed: fix the file or its format in tiflux_targets",
    "invalid_token": "the value cannot be a token (empty, spaces, control characters): deploy a token there",
    "unknown": "not checked (audit_check_unknown_on_host is false): add the token to audit_known_tokens, or check it on a host",
    "unreachable": "the host could not be reached, so its configs are unknown",
    "failed": "token_info failed on the host, so its configs are unknown",
}


def _name(known_by_fp, fp):
    names = known_by_fp.get(fp)
    return ", ".join(names) if names else UNKNOWN


def _host_checks(hostvars, host):
    """The token_check results of a host's unknown-token checks, keyed by the fingerprint checked."""
    run = hostvars[host].get("audit_unknown_run") if host in hostvars else None
    found = {}
    for result in (run or {}).get("results") or []:
        if not isinstance(result, dict) or result.get("skipped"):
            continue
        planned = (result.get("item") or {}).get("fingerprint")
        fp = result.get("fingerprint") or planned
        if result.get("status"):
            found[fp] = dict(result, message=result.get("message") or "", checked_from=host)
        else:
            # The read failed on the host (changed since token_info?): say so rather than guess.
            found.setdefault(fp, dict(status="error", http_status=None, user=None, checked_from=host,
                                      message=result.get("msg") or "the check on %s failed" % host))
    return found


def audit_report(hostvars, hosts, known=None, checks=None, check_unknown=True, generated="", api_url="",
                 deprecated_options=None):
    if not isinstance(hosts, (list, tuple)):
        raise AnsibleFilterError("hosts must be the list of hosts (ansible_play_hosts_all)")
    deprecate_role_options(dict(deprecated_options or {}))
    known = dict(known or {})
    checks = dict(checks or {})
    known_by_fp = {}
    for name in sorted(known):
        known_by_fp.setdefault(known[name], []).append(name)

    # What each host holds.
    host_rows, holders = {}, {}
    for host in hosts:
        result = hostvars[host].get("audit_result") if host in hostvars else None
        if not result:
            result = dict(status="unreachable", targets=[], message="no result: the host was unreachable or failed early")
        host_rows[host] = result
        for target in result.get("targets") or []:
            if target.get("state") == "present" and target.get("fingerprint"):
                holders.setdefault(target["fingerprint"], []).append((host, target))

    # The plan: each distinct fingerprint once, from the controller when known, else from one holder.
    plan = dict(check_on_controller=[], check_on_host={})
    for fp, held in holders.items():
        if fp in known_by_fp:
            plan["check_on_controller"].append(known_by_fp[fp][0])
        elif check_unknown:
            host, target = held[0]
            item = dict((k, target.get(k)) for k in ("path", "format", "key", "section", "fingerprint"))
            plan["check_on_host"].setdefault(host, []).append(item)

    # Validity per fingerprint.
    on_hosts = {}
    for host in hosts:
        for fp, check in _host_checks(hostvars, host).items():
            on_hosts.setdefault(fp, check)
    tokens = []
    for fp, held in holders.items():
        check = (checks.get(known_by_fp[fp][0]) if fp in known_by_fp else on_hosts.get(fp)) or {}
        token = dict(fingerprint=fp, label=_name(known_by_fp, fp), known=fp in known_by_fp, status="unchecked",
                     http_status=check.get("http_status"), user=check.get("user"), user_label=user_label(check.get("user")) or "-",
                     checked_from=None, message="", targets=len(held), hosts=sorted(set(h for h, _t in held), key=hosts.index),
                     expires_at=check.get("expires_at"), expires_in_days=check.get("expires_in_days"))
        if check:
            token.update(status=check.get("status") or "error", message=check.get("message") or "",
                         checked_from=check.get("checked_from") or "controller")
        elif fp not in known_by_fp and not check_unknown:
            token.update(status=UNKNOWN, message="token %s is in no audit_known_tokens entry and was not checked" % fp)
        token["expires"] = _expires(token["expires_at"], token["expires_in_days"])
        tokens.append(token)
    tokens.sort(key=lambda t: (t["expires_at"] is None, t["expires_at"] or ""))  # what expires first, first
    by_fp = dict((t["fingerprint"], t) for t in tokens)
    found_fps = set(holders)
    known_not_found = [dict(label=", ".join(names), fingerprint=fp)
                       for fp, names in sorted(known_by_fp.items(), key=lambda i: i[1]) if fp not in found_fps]

    # One row per target.
    rows = []
    for host in hosts:
        result = host_rows[host]
        targets = result.get("targets") or []
        if not targets:
            status = result.get("status") or "failed"
            rows.append(dict(host=host, path=None, format=None, key=None, section=None, state=None, fingerprint=None,
                             label=None, status=status, message=result.get("message") or ""))
            continue
        for target in targets:
            fp = target.get("fingerprint")
            token = by_fp.get(fp) if target.get("state") == "present" else None
            rows.append(dict(host=host, path=target.get("path"), format=target.get("format"), key=target.get("key"),
                             section=target.get("section"), state=target.get("state"), fingerprint=fp,
                             label=token["label"] if token else None,
                             status=token["status"] if token else target.get("state"),
                             message=token["message"] if token else target.get("message") or ""))
    counts = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    problems = [dict(host=r["host"], path=r["path"], status=r["status"], fingerprint=r["fingerprint"], label=r["label"],
                     remedy=REMEDY.get(r["status"], "see the message"), message=r["message"])
                for r in rows if r["status"] not in ("valid", "no_targets")]
    n_targets = sum(1 for r in rows if r["path"] is not None)
    headline = "Tiflux token audit: %d host(s), %d target(s), %d distinct token(s) (%s)" % (
        len(hosts), n_targets, len(tokens), ", ".join("%d %s" % (n, s) for s, n in sorted(counts.items())) or "nothing found")
    if problems:
        verdict = "ATTENTION: %d of %d row(s) need action" % (len(problems), len(rows))
    elif not n_targets:
        verdict = "NOTHING TO AUDIT: no host has targets (set tiflux_targets or audit_targets)"
    else:
        verdict = "OK: every target holds a token that works"

    used = [check["api_url"] for check in list(checks.values()) + list(on_hosts.values()) if (check or {}).get("api_url")]
    report = dict(generated=generated, api_url=api_url or (used[0] if used else ""), plan=plan, hosts=host_rows, rows=rows,
                  tokens=tokens, known_not_found=known_not_found, counts=counts, problems=problems, headline=headline,
                  verdict=verdict)
    report["lines"] = _lines(report)
    return report


def _expires(expires_at, days):
    """When a token expires, as one cell: the date and how far it is."""
    if not expires_at or days is None:
        return "-"
    return "%s (%s)" % (expires_at, "expired" if days < 0 else "today" if days == 0 else "in %d day%s" % (days, "s" * (days != 1)))


def _cell(value):
    return "-" if value in (None, "") else str(value)


def _table(header, rows):
    widths = [max(len(_cell(r[i])) for r in [header] + rows) for i in range(len(header))]
    return ["  " + "  ".join(_cell(v).ljust(w) for v, w in zip(r, widths)).rstrip() for r in [header] + rows]


def _lines(report):
    lines = [report["headline"]]
    lines += _table(["HOST", "PATH", "FINGERPRINT", "LABEL", "STATUS"],
                    [[r["host"], r["path"], r["fingerprint"], r["label"], r["status"]] for r in report["rows"]])
    if report["tokens"]:
        lines.append("Tokens (each checked once, what expires first first):")
        lines += _table(["FINGERPRINT", "LABEL", "STATUS", "EXPIRES", "CHECKED FROM", "USER", "TARGETS"],
                        [[t["fingerprint"], t["label"], t["status"], t["expires"], t["checked_from"], t["user_label"], t["targets"]]
                         for t in report["tokens"]])
    for k in report["known_not_found"]:
        lines.append("Known token %s (%s) is on no target (not checked)." % (k["label"], k["fingerprint"]))
    lines.append(report["verdict"])
    # A host-level row (no path) carries why the host could not be read; show it.
    lines += ["  - %s: %s; %s" % (" ".join(filter(None, (p["host"], p["path"]))), p["status"],
                                  p["remedy"] if p["path"] else "%s (%s)" % (p["remedy"], p["message"]))
              for p in report["problems"]]
    return lines


class FilterModule:
    def filters(self):
        return {"audit_report": audit_report}
