# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: rotation_summary
short_description: Summarise a token rotation over all hosts and decide whether the old token is safe to revoke
version_added: 1.0.0
author:
  - tokenops maintainers (@tokenops)
description:
  - Used by the role C(tokenops.tiflux.rotate) to build each host's C(rotate_result), the summary, the verdict and the
    reports from what each host's M(tokenops.tiflux.token_deploy) run registered as C(rotate_run). Contains
    fingerprints, never tokens.
  - A host counts as still holding the old token when any of its targets does not hold the new one, when it was
    unreachable or failed before reporting, and when the rollout stopped before its batch.
positional: _input, hosts, seen
options:
  _input:
    description: C(hostvars).
    type: dict
    required: true
  hosts:
    description: Every host of the play (C(ansible_play_hosts_all)).
    type: list
    elements: str
    required: true
  seen:
    description: The hosts whose batch started; the others were not reached.
    type: list
    elements: str
    required: true
  phase:
    description: V(deploy) or V(confirm).
    type: str
    default: deploy
  new:
    description: The controller check of the new token (the lookup's C(result=info)).
    type: dict
    required: true
  old:
    description: The controller check of the old token, if one was given.
    type: dict
  old_created:
    description: Free text telling the old session apart in Sessões API, such as its creation date.
    type: str
  new_now:
    description:
      - A fresh controller check of the new token, made after a host failed. When it is no longer V(valid) the new
        token was revoked (or its user deactivated) during the rollout, and the verdict says so.
    type: dict
  verify_on_host:
    description: Whether hosts had to prove the token; when true, an unproven host is not safe.
    type: bool
    default: true
  playbook_hint:
    description: The command line to show for the next step.
    type: str
    default: ansible-playbook tokenops.tiflux.confirm -i INVENTORY -e @vault.yml
"""

EXAMPLES = r"""
- name: Build the summary once per batch on the controller
  ansible.builtin.set_fact:
    rotate_summary: >-
      {{ hostvars | tokenops.tiflux.rotation_summary(ansible_play_hosts_all, seen_hosts,
           new=preflight.new, old=preflight.old, old_created=rotate_old_token_created) }}
  run_once: true
"""

RETURN = r"""
_value:
  description: The summary.
  type: dict
  contains:
    hosts:
      description: >-
        Per host (the role's C(rotate_result) fact): C(status) (V(rotated), V(unchanged), V(rolled_back), V(failed),
        V(unreachable), V(not_reached); V(confirmed), V(not_confirmed) in the confirm phase), C(fingerprint),
        C(previous_fingerprints), C(targets) (path, status, fingerprint, previous_fingerprint, reloaded), C(verified),
        C(reloads), C(message).
      type: dict
    counts:
      description: How many hosts per status.
      type: dict
    still_on_old:
      description: Hosts that hold, or may hold, the old token, with why.
      type: list
      elements: dict
    complete:
      description: Whether every host of the play was reached.
      type: bool
    safe_to_revoke:
      description: Deploy phase, whether no host needs the old token any more. Confirm phase, whether the rotation is complete.
      type: bool
    verdict:
      description: One line, containing C(safe to revoke) or C(NOT safe to revoke) (deploy phase).
      type: str
    steps:
      description: What the person does next.
      type: list
      elements: str
    lines:
      description: The summary as printable lines.
      type: list
      elements: str
    markdown:
      description: The summary as a Markdown document.
      type: str
"""

from ansible.errors import AnsibleFilterError

SESSOES_API = "Configurações > Minha conta > Sessões > Sessões API"
GOOD = {"deploy": ("rotated", "unchanged"), "confirm": ("confirmed",)}
WHY = {
    "rolled_back": "its files were restored to the old token",
    "failed": "it failed before changing anything",
    "unreachable": "it could not be reached, so its configs are unknown",
    "not_reached": "the rollout stopped before its batch",
    "not_confirmed": "it does not hold or cannot use the new token",
}


TARGET_FIELDS = ("path", "status", "fingerprint", "previous_fingerprint", "reloaded")


def _host_row(hostvars, host, seen, phase):
    """One host's result, from what its token_deploy run registered (rotate_run)."""
    run = hostvars[host].get("rotate_run") if host in hostvars else None
    if not run:
        status = "unreachable" if host in seen else "not_reached"
        return dict(status=status, targets=[], message=WHY[status], verified=None, fingerprint=None,
                    previous_fingerprints=[], reloads=0, phase=phase)
    if run.get("unreachable"):
        status = "unreachable"
    elif run.get("rolled_back"):
        status = "rolled_back"
    elif run.get("failed"):
        status = "failed" if phase == "deploy" else "not_confirmed"
    elif phase == "confirm":
        status = "confirmed"
    else:
        status = "rotated" if run.get("changed_targets", 0) > 0 else "unchanged"
    targets = [dict((k, t.get(k)) for k in TARGET_FIELDS) for t in run.get("targets") or []]
    previous = []
    for target in targets:
        if target["previous_fingerprint"] not in previous:
            previous.append(target["previous_fingerprint"])
    return dict(status=status, targets=targets, message=run.get("msg") or run.get("message") or "",
                verified=run.get("verified"), fingerprint=run.get("fingerprint"), previous_fingerprints=previous,
                reloads=run.get("reloads", 0), phase=phase)


def rotation_summary(hostvars, hosts, seen, phase="deploy", new=None, old=None, old_created=None, verify_on_host=True,
                     playbook_hint="ansible-playbook tokenops.tiflux.confirm -i INVENTORY -e @vault.yml", new_now=None):
    if phase not in GOOD:
        raise AnsibleFilterError("phase must be deploy or confirm, got %r" % (phase,))
    if not isinstance(new, dict) or "fingerprint" not in new:
        raise AnsibleFilterError("new must be the lookup's result='info' for the new token")
    new_fp = new["fingerprint"]
    old_fp = old.get("fingerprint") if isinstance(old, dict) else None
    rows = dict((host, _host_row(hostvars, host, seen, phase)) for host in hosts)

    still_on_old = []
    for host, row in rows.items():
        stale = [t["path"] for t in row["targets"] if t.get("fingerprint") != new_fp]
        if row["status"] not in GOOD[phase]:
            still_on_old.append(dict(host=host, status=row["status"], why=row["message"] or WHY.get(row["status"], "")))
        elif stale:
            still_on_old.append(dict(host=host, status=row["status"], why="%s not on the new token" % ", ".join(stale)))
        elif verify_on_host and row["targets"] and row["verified"] is not True:
            still_on_old.append(dict(host=host, status=row["status"], why="the new token was not proven from this host"))
    counts = {}
    for row in rows.values():
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    complete = all(row["status"] != "not_reached" for row in rows.values())
    who = new.get("user") or {}
    user = "%s <%s>" % (who.get("name"), who.get("email")) if who else "the token's user"
    session = "the session created on %s" % old_created if old_created else "the old token's session (by its creation date)"

    new_dead = isinstance(new_now, dict) and new_now.get("status") not in (None, "valid")
    if phase == "deploy":
        safe = not still_on_old and bool(hosts) and not new_dead
        old_name = "the old token %s" % old_fp if old_fp else "the old token"
        if new_dead:
            on_new = [h for h, row in rows.items() if row["status"] in GOOD[phase]]
            verdict = ("VERDICT: NOT safe to revoke %s: the new token %s stopped working during the rollout (%s)"
                       % (old_name, new_fp, new_now.get("status")))
            steps = [new_now.get("message") or "the new token is rejected now.",
                     "Hosts already on the new token are broken now: %s." % (", ".join(on_new) or "none"),
                     "Keep the old token. Generate another token in %s, vault it as rotate_new_token and run the "
                     "rotation again: it replaces the dead token on those hosts too." % SESSOES_API]
        elif safe:
            verdict = "VERDICT: safe to revoke %s: all %d host(s) hold %s and it works from each of them" % (old_name, len(hosts), new_fp)
            steps = [
                "Log in to Tiflux as %s and open %s." % (user, SESSOES_API),
                "Find %s; its last use should stop changing now that no integration uses it." % session,
                "Revoke it by hand (Tiflux has no API for this); anything still using it gets 401 at once.",
                "Then prove the rotation: %s (with rotate_old_token set)." % playbook_hint,
            ]
        else:
            names = ", ".join("%s (%s)" % (s["host"], s["status"]) for s in still_on_old)
            verdict = "VERDICT: NOT safe to revoke %s: %d host(s) may still use it: %s" % (old_name, len(still_on_old), names)
            steps = ["%s: %s." % (s["host"], s["why"]) for s in still_on_old] + [
                "Revoking now would break them at once (401). Fix them and run the rotation again: "
                "hosts already on the new token stay unchanged.",
            ]
    else:
        old_revoked = old_fp is None or (old or {}).get("status") == "invalid"
        safe = not still_on_old and old_revoked and bool(hosts)
        if safe:
            verdict = "VERDICT: rotation complete: all %d host(s) use %s%s" % (
                len(hosts), new_fp, " and %s is revoked (401)" % old_fp if old_fp else "")
            steps = ["Nothing left to do. Keep the new token in the vault; remove the old one from it."]
        else:
            verdict = "VERDICT: rotation NOT complete"
            steps = ["%s: %s." % (s["host"], s["why"]) for s in still_on_old]
            if not old_revoked:
                verdict += ": the old token %s still works" % old_fp
                steps.append("Revoke it by hand: log in to Tiflux as %s, open %s, find %s and revoke it; then run confirm again."
                             % (user, SESSOES_API, session))

    lines = ["Tiflux token %s: %s (new %s%s, user %s)" % (
        phase, ", ".join("%d %s" % (n, s) for s, n in sorted(counts.items())), new_fp,
        ", old %s" % old_fp if old_fp else "", user)]
    for host in hosts:
        row = rows[host]
        targets = ", ".join("%s=%s %s" % (t["path"], t.get("status"), t.get("fingerprint")) for t in row["targets"])
        lines.append("  %-24s %-13s %s" % (host, row["status"], targets or row["message"]))
    lines.append(verdict)
    lines.extend("  - " + step for step in steps)

    markdown = ["# Tiflux token %s report" % phase, "",
                "- New token: `%s` (user %s)" % (new_fp, user)]
    if old_fp:
        markdown.append("- Old token: `%s`%s" % (old_fp, " (created %s)" % old_created if old_created else ""))
    markdown += ["", "| host | status | targets | details |", "|---|---|---|---|"]
    for host in hosts:
        row = rows[host]
        targets = "<br>".join("`%s` %s `%s`" % (t["path"], t.get("status"), t.get("fingerprint")) for t in row["targets"])
        markdown.append("| %s | %s | %s | %s |" % (host, row["status"], targets or "-", (row["message"] or "").replace("|", "\\|")))
    markdown += ["", "**%s**" % verdict, ""] + ["1. %s" % step for step in steps] + [""]

    return dict(phase=phase, new_fingerprint=new_fp, old_fingerprint=old_fp, user=who or None, hosts=rows,
                counts=counts, still_on_old=still_on_old, complete=complete, safe_to_revoke=safe,
                verdict=verdict, steps=steps, lines=lines, markdown="\n".join(markdown))


class FilterModule:
    def filters(self):
        return {"rotation_summary": rotation_summary}
