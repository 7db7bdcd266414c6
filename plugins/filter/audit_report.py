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
    labels every fingerprint with the names of O(known), and returns the plan of checks, the summary and the reports.
  - The plan checks each distinct token once. A fingerprint that matches O(known) is checked from the controller
    (C(check_on_controller) in RV(_value.plan) names one known token per fingerprint). Any other fingerprint is checked by
    B(one) host that holds it (C(check_on_host) in RV(_value.plan)), because its token cannot leave the host.
  - Contains fingerprints, labels, paths and statuses, never tokens. O(known) maps names to fingerprints, not tokens.
positional: _input, hosts
options:
  _input:
    description: C(hostvars).
    type: dict
    required: true
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
    description: The API address the checks used, shown in the reports.
    type: str
    default: ""
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
        One per distinct fingerprint found, with C(fingerprint), C(label), C(known), C(status), C(http_status),
        C(user), C(checked_from), C(targets), C(hosts), C(message).
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
    markdown:
      description: The report as a Markdown document.
      type: str
    html:
      description: The report as a self-contained HTML page with sortable tables (inline CSS and JavaScript only).
      type: str
"""

import html

from ansible.errors import AnsibleFilterError

UNKNOWN = "unknown"
NO_TOKEN_STATES = ("missing_file", "unreadable", "no_key", "malformed", "invalid_token")
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
            found[fp] = dict(status=result["status"], http_status=result.get("http_status"), user=result.get("user"),
                             message=result.get("message") or "", checked_from=host)
        else:
            # The read failed on the host (changed since token_info?): say so rather than guess.
            found.setdefault(fp, dict(status="error", http_status=None, user=None, checked_from=host,
                                      message=result.get("msg") or "the check on %s failed" % host))
    return found


def audit_report(hostvars, hosts, known=None, checks=None, check_unknown=True, generated="", api_url=""):
    if not isinstance(hosts, (list, tuple)):
        raise AnsibleFilterError("hosts must be the list of hosts (ansible_play_hosts_all)")
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
        token = dict(fingerprint=fp, label=_name(known_by_fp, fp), known=fp in known_by_fp, status="unchecked",
                     http_status=None, user=None, checked_from=None, message="",
                     targets=len(held), hosts=sorted(set(h for h, _t in held), key=hosts.index))
        check = checks.get(known_by_fp[fp][0]) if fp in known_by_fp else on_hosts.get(fp)
        if check:
            token.update(status=check.get("status") or "error", http_status=check.get("http_status"),
                         user=check.get("user"), message=check.get("message") or "",
                         checked_from=check.get("checked_from") or "controller")
        elif fp not in known_by_fp and not check_unknown:
            token.update(status=UNKNOWN, message="token %s is in no audit_known_tokens entry and was not checked" % fp)
        tokens.append(token)
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

    report = dict(generated=generated, api_url=api_url, plan=plan, hosts=host_rows, rows=rows, tokens=tokens,
                  known_not_found=known_not_found, counts=counts, problems=problems, headline=headline, verdict=verdict)
    report["lines"] = _lines(report)
    report["markdown"] = _markdown(report)
    report["html"] = _html(report)
    return report


def _cell(value):
    return "-" if value in (None, "") else str(value)


def _user(user):
    if not isinstance(user, dict) or not user:
        return "-"
    return "%s <%s>" % (user.get("name"), user.get("email"))


def _table(header, rows):
    widths = [max(len(_cell(r[i])) for r in [header] + rows) for i in range(len(header))]
    return ["  " + "  ".join(_cell(v).ljust(w) for v, w in zip(r, widths)).rstrip() for r in [header] + rows]


def _lines(report):
    lines = [report["headline"]]
    lines += _table(["HOST", "PATH", "FINGERPRINT", "LABEL", "STATUS"],
                    [[r["host"], r["path"], r["fingerprint"], r["label"], r["status"]] for r in report["rows"]])
    if report["tokens"]:
        lines.append("Tokens (each checked once):")
        lines += _table(["FINGERPRINT", "LABEL", "STATUS", "CHECKED FROM", "USER", "TARGETS"],
                        [[t["fingerprint"], t["label"], t["status"], t["checked_from"], _user(t["user"]), t["targets"]]
                         for t in report["tokens"]])
    for k in report["known_not_found"]:
        lines.append("Known token %s (%s) is on no target (not checked)." % (k["label"], k["fingerprint"]))
    lines.append(report["verdict"])
    # A host-level row (no path) carries why the host could not be read; show it.
    lines += ["  - %s: %s; %s" % (" ".join(filter(None, (p["host"], p["path"]))), p["status"],
                                  p["remedy"] if p["path"] else "%s (%s)" % (p["remedy"], p["message"]))
              for p in report["problems"]]
    return lines


def _md(value):
    return _cell(value).replace("|", "\\|").replace("\n", " ")


def _code(value):
    return "`%s`" % value if value else "-"


def _markdown(report):
    out = ["# Tiflux token audit", "", "- Generated: %s" % _cell(report["generated"]), "- API: %s" % _cell(report["api_url"]),
           "- %s" % report["headline"], "", "**%s**" % report["verdict"], "", "## Targets", "",
           "| host | path | fingerprint | label | status | message |", "|---|---|---|---|---|---|"]
    out += ["| %s | %s | %s | %s | %s | %s |" % (
        _md(r["host"]), _md(r["path"]), _code(r["fingerprint"]), _md(r["label"]), _md(r["status"]), _md(r["message"]))
        for r in report["rows"]]
    out += ["", "## Tokens", "", "| fingerprint | label | status | checked from | user | targets | hosts |",
            "|---|---|---|---|---|---|---|"]
    out += ["| `%s` | %s | %s | %s | %s | %s | %s |" % (
        t["fingerprint"], _md(t["label"]), _md(t["status"]), _md(t["checked_from"]), _md(_user(t["user"])), t["targets"],
        _md(", ".join(t["hosts"]))) for t in report["tokens"]]
    if report["known_not_found"]:
        out += ["", "Known tokens on no target (not checked): %s" % ", ".join(
            "%s `%s`" % (_md(k["label"]), k["fingerprint"]) for k in report["known_not_found"])]
    if report["problems"]:
        out += ["", "## What to do", ""] + ["1. %s %s: %s; %s" % (
            _md(p["host"]), _code(p["path"]), _md(p["status"]), _md(p["remedy"])) for p in report["problems"]]
    return "\n".join(out) + "\n"


_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
th button{font:inherit;font-weight:bold;background:none;border:0;padding:0;cursor:pointer}
th[aria-sort=ascending] button::after{content:" \\25B2"}
th[aria-sort=descending] button::after{content:" \\25BC"}
code{font-size:90%}
.s-valid{background:#e6f4ea}
.s-invalid,.s-missing_file,.s-unreadable,.s-no_key,.s-malformed,.s-invalid_token,.s-unreachable,.s-failed,.s-error{background:#fce8e6}
.s-forbidden,.s-rate_limited,.s-unknown,.s-unchecked{background:#fef7e0}
"""

# Click a column header to sort its table; numbers compare as numbers. No external assets.
_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  var heads = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads, function (th, col) {
    th.querySelector("button").addEventListener("click", function () {
      var asc = th.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var body = table.tBodies[0];
      Array.prototype.slice.call(body.rows).sort(function (a, b) {
        var x = a.cells[col].textContent, y = b.cells[col].textContent;
        return (asc ? 1 : -1) * x.localeCompare(y, undefined, {numeric: true});
      }).forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


def _e(value):
    return html.escape(_cell(value), quote=True)


def _html_table(table_id, header, rows, status_col):
    out = ['<table class="sortable" id="%s"><thead><tr>' % table_id]
    out += ['<th scope="col"><button type="button">%s</button></th>' % _e(h) for h in header]
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append('<tr class="s-%s">' % _e(row[status_col]) + "".join("<td>%s</td>" % _e(v) for v in row) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _html(report):
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        # Self-contained by policy: nothing may be loaded from elsewhere.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; '
        'script-src \'unsafe-inline\'">',
        "<title>Tiflux token audit</title><style>%s</style></head><body>" % _STYLE,
        "<h1>Tiflux token audit</h1>",
        "<p>Generated %s; API %s</p>" % (_e(report["generated"]), _e(report["api_url"])),
        "<p>%s</p>" % _e(report["headline"]), "<p><strong>%s</strong></p>" % _e(report["verdict"]),
        "<h2>Targets</h2>",
        _html_table("targets", ["host", "path", "fingerprint", "label", "status", "message"],
                    [[r["host"], r["path"], r["fingerprint"], r["label"], r["status"], r["message"]] for r in report["rows"]], 4),
        "<h2>Tokens</h2>",
        _html_table("tokens", ["fingerprint", "label", "status", "checked from", "user", "targets", "hosts"],
                    [[t["fingerprint"], t["label"], t["status"], t["checked_from"], _user(t["user"]), t["targets"],
                      ", ".join(t["hosts"])] for t in report["tokens"]], 2),
    ]
    if report["known_not_found"]:
        parts.append("<p>Known tokens on no target (not checked): %s</p>" % ", ".join(
            "%s <code>%s</code>" % (_e(k["label"]), _e(k["fingerprint"])) for k in report["known_not_found"]))
    if report["problems"]:
        parts.append("<h2>What to do</h2><ol>")
        parts += ["<li>%s <code>%s</code>: %s; %s</li>" % (_e(p["host"]), _e(p["path"]), _e(p["status"]), _e(p["remedy"]))
                  for p in report["problems"]]
        parts.append("</ol>")
    parts += ["<script>%s</script>" % _SCRIPT, "</body></html>", ""]
    return "\n".join(parts)


class FilterModule:
    def filters(self):
        return {"audit_report": audit_report}
