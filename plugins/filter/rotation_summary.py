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
  - Used by the role C(tokenops.tiflux.rotate) to build the summary, the verdict and the data of the reports from what
    each host registered as C(rotate_run) (M(tokenops.tiflux.token_deploy) in the deploy and confirm phases,
    M(tokenops.tiflux.token_info) in the verdict phase) and from the preflight's plan (the filter
    C(tokenops.tiflux.rotation_plan)). Contains fingerprints, never tokens.
  - A host counts as still holding the old token when any of its targets does not hold the new one, when the old token
    was found in a file outside its targets, when it was unreachable or failed before reporting, and when the rollout
    stopped before its batch.
  - A run that cannot speak for the fleet (the plan's C(partial)) never says "safe to revoke"; when Tiflux already
    rejected the old token at preflight the verdict says it is already revoked and never asks to revoke it by hand.
positional: _input, plan
extends_documentation_fragment:
  - tokenops.tiflux.hostvars
options:
  plan:
    description: The preflight's plan (C(rotation_plan)), with the controller checks of the tokens.
    type: dict
    required: true
  batch:
    description:
      - The hosts of the batch that is running (C(ansible_play_batch)) when the summary is made during the rollout;
        hosts after it are V(not_reached). Omit after the last batch.
    type: list
    elements: str
  new_now:
    description:
      - A fresh controller check of the new token, made after a host failed. When it is no longer V(valid) the new
        token was revoked (or its user deactivated) during the rollout, and the verdict says so.
    type: dict
  hint:
    description: The command line of the next step (confirm).
    type: str
    default: ansible-playbook tokenops.tiflux.confirm -i INVENTORY -e @vault.yml
  verdict_hint:
    description: The command line of the fleet verdict, for partial runs.
    type: str
    default: ansible-playbook tokenops.tiflux.verdict -i INVENTORY -e @vault.yml
  vault:
    description:
      - What becomes of the vault once the verdict allows it (a line for the steps), or null. It comes first after a
        deploy or verdict that allows the promotion, last after a complete confirm; a slice never gets it.
    type: str
"""

EXAMPLES = r"""
- name: Summarise the rotation on the controller
  ansible.builtin.set_fact:
    rotate_summary: "{{ hostvars | tokenops.tiflux.rotation_summary(hostvars['localhost'].rotate_plan) }}"
  delegate_to: localhost
  delegate_facts: true
  run_once: true
"""

RETURN = r"""
_value:
  description: The summary.
  type: dict
  contains:
    hosts:
      description: >-
        Per host: C(status) (V(rotated), V(unchanged), V(rolled_back), V(failed), V(unreachable), V(not_reached),
        V(old_token_elsewhere); V(confirmed), V(not_confirmed) in the confirm phase; V(rotated), V(not_rotated) in the
        verdict phase), C(fingerprint), C(previous_fingerprints), C(targets), C(verified), C(proof), C(reloads),
        C(old_token_elsewhere) (paths), C(message).
      type: dict
    counts:
      description: How many hosts per status.
      type: dict
    still_on_old:
      description: Hosts that hold, or may hold, the old token (C(host), C(status), C(why)).
      type: list
      elements: dict
    complete:
      description: Whether every host of the run was reached.
      type: bool
    kind:
      description: >-
        V(safe), V(already_revoked), V(slice), V(not_safe), V(new_dead), V(heal_incomplete), V(progress) (deploy and
        verdict phases), V(complete) or V(not_complete) (confirm phase).
      type: str
    safe_to_revoke:
      description: Deploy and verdict phases, whether no host needs the old token any more. Confirm phase, whether the rotation is complete.
      type: bool
    already_revoked:
      description: Whether Tiflux rejected the old token at preflight.
      type: bool
    promote:
      description: Whether the vault may now hold the new token as current (the fleet verdict is safe or already revoked).
      type: bool
    fail_run:
      description: Whether the run must end failed (a NOT safe or incomplete verdict once every host was reached).
      type: bool
    verdict:
      description: One line starting with C(VERDICT:) or C(VERDICT (slice):).
      type: str
    steps:
      description: What the person does next.
      type: list
      elements: str
    lines:
      description: The summary as printable lines (a table, the verdict, the steps).
      type: list
      elements: str
    progress:
      description: One line for a batch that is not the last.
      type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.tokenops.tiflux.plugins.filter.rotation_plan import PHASES, names
from ansible_collections.tokenops.tiflux.plugins.module_utils._token import SESSOES_API, session_date, user_label

GOOD = {"deploy": ("rotated", "unchanged"), "verdict": ("rotated",), "confirm": ("confirmed",)}
WHY = {
    "rolled_back": "its files were restored to the old token",
    "failed": "it failed before changing anything",
    "unreachable": "it could not be reached, so its configs are unknown",
    "not_reached": "the rollout stopped before its batch",
    "not_confirmed": "it does not hold or cannot use the new token",
    "not_rotated": "a target does not hold the new token",
    "no_result": "it stopped before reporting a result",
}
TARGET_FIELDS = ("path", "status", "state", "fingerprint", "previous_fingerprint", "reloaded", "created", "message")


def _deploy_status(run, phase):
    if run.get("unreachable"):
        return "unreachable"
    if run.get("rolled_back"):
        return "rolled_back"
    if run.get("failed"):
        return "failed" if phase == "deploy" else "not_confirmed"
    if phase == "confirm":
        return "confirmed"
    # A target that a crash journal finished (recovered) changed this run as much as a written one.
    moved = run.get("changed_targets", 0) or run.get("recovered_targets", 0)
    return "rotated" if moved or any(t.get("status") == "recovered" for t in run.get("targets") or []) else "unchanged"


def _verdict_status(run, new_fp, old_fp):
    """token_info's view: every target present and on the new token."""
    if run.get("unreachable"):
        return "unreachable", run.get("msg") or WHY["unreachable"]
    if run.get("failed"):
        return "not_rotated", run.get("msg") or "its targets could not be read"
    wrong = []
    for target in run.get("targets") or []:
        if target.get("state") != "present":
            wrong.append("%s: %s" % (target.get("path"), target.get("state")))
        elif target.get("fingerprint") != new_fp:
            held = target.get("fingerprint")
            wrong.append("%s holds %s" % (target.get("path"), ("the old token " + held) if held == old_fp else held))
    if wrong:
        return "not_rotated", "; ".join(wrong)
    return "rotated", "%d target(s) hold the new token" % len(run.get("targets") or [])


def host_row(run, phase, new_fp, old_fp=None):
    """One host's result, from what its token_deploy or token_info run registered (rotate_run)."""
    targets = [dict((k, t.get(k)) for k in TARGET_FIELDS if k in t) for t in run.get("targets") or []]
    if phase == "verdict":
        status, message = _verdict_status(run, new_fp, old_fp)
    else:
        status, message = _deploy_status(run, phase), run.get("msg") or run.get("message") or ""
    elsewhere = [p for p in run.get("old_token_elsewhere") or [] if isinstance(p, str)]
    if elsewhere and status in GOOD[phase]:
        status = "old_token_elsewhere"
        message = "the old token is also in %s (not a target)" % ", ".join(elsewhere)
    previous = []
    for target in targets:
        if target.get("previous_fingerprint") not in previous:
            previous.append(target.get("previous_fingerprint"))
    sweep = run.get("sweep") if isinstance(run.get("sweep"), dict) else None
    return dict(status=status, targets=targets, message=" ".join(str(message).split()), verified=run.get("verified"),
                proof=run.get("proof"), fingerprint=run.get("fingerprint"), previous_fingerprints=previous,
                reloads=run.get("reloads", 0), old_token_elsewhere=elsewhere,
                sweep_cut_short=(sweep or {}).get("cut_short"), phase=phase)


def _missing_row(status, phase):
    return dict(status=status if status != "no_result" else ("failed" if phase != "confirm" else "not_confirmed"),
                targets=[], message=WHY[status], verified=None, proof=None, fingerprint=None, previous_fingerprints=[],
                reloads=0, old_token_elsewhere=[], sweep_cut_short=None, phase=phase)


def _rows(hostvars, hosts, phase, new_fp, old_fp, batch):
    last = max([hosts.index(h) for h in batch or () if h in hosts] or [-1]) if batch is not None else len(hosts) - 1
    rows = {}
    for index, host in enumerate(hosts):
        run = hostvars[host].get("rotate_run") if host in hostvars else None
        if isinstance(run, dict) and run:
            rows[host] = host_row(run, phase, new_fp, old_fp)
        else:
            rows[host] = _missing_row("no_result" if index <= last else "not_reached", phase)
    return rows


def _still_on_old(rows, phase, new_fp, verify):
    out = []
    for host, row in rows.items():
        stale = [t["path"] for t in row["targets"] if t.get("fingerprint") != new_fp]
        if row["status"] not in GOOD[phase]:
            out.append(dict(host=host, status=row["status"], why=row["message"] or WHY.get(row["status"], "")))
        elif stale and phase != "verdict":
            out.append(dict(host=host, status=row["status"], why="%s not on the new token" % ", ".join(stale)))
        elif phase == "deploy" and verify != "none" and row["targets"] and row["verified"] is not True:
            out.append(dict(host=host, status=row["status"], why="the new token was not proven from this host"))
    return out


def rotation_summary(hostvars, plan, batch=None, new_now=None, hint="ansible-playbook tokenops.tiflux.confirm -i INVENTORY -e @vault.yml",
                     verdict_hint="ansible-playbook tokenops.tiflux.verdict -i INVENTORY -e @vault.yml", vault=None):
    if not isinstance(plan, dict) or plan.get("phase") not in PHASES or not isinstance(plan.get("new"), dict):
        raise AnsibleFilterError("plan must be the preflight's rotation_plan (with the check of the new token)")
    phase, hosts = plan["phase"], list(plan.get("hosts") or [])
    new, old = plan["new"], plan.get("old") or {}
    new_fp, old_fp = new.get("fingerprint"), old.get("fingerprint")
    tz = plan.get("timezone")
    rows = _rows(hostvars, hosts, phase, new_fp, old_fp, batch)
    still_on_old = _still_on_old(rows, phase, new_fp, plan.get("verify"))
    counts = {}
    for row in rows.values():
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    complete = all(row["status"] != "not_reached" for row in rows.values())
    user = user_label(new.get("user")) or "the token's user"
    old_name = "the old token %s" % old_fp if old_fp else "the old token"
    revoked = old.get("status") == "invalid" and bool(old_fp)
    new_dead = isinstance(new_now, dict) and new_now.get("status") not in (None, "valid")
    partial = plan.get("partial")
    good = [h for h, row in rows.items() if row["status"] in GOOD[phase]]
    checked = session_date(plan.get("checked_at"), tz) if plan.get("checked_at") else None
    reports = ("%s/rotate-%s.md and .json" % (plan["report_dir"], phase)) if plan.get("report_dir") else None
    why_steps = ["%s: %s." % (s["host"], s["why"].rstrip(".")) for s in still_on_old]
    notes = ["%s: the search for the old token was cut short (%s): files it did not read may still hold it."
             % (host, row["sweep_cut_short"]) for host, row in rows.items() if row["sweep_cut_short"]]

    steps = []
    if phase == "confirm":
        kind = "complete" if not still_on_old and (revoked or not old_fp) and hosts else "not_complete"
        if kind == "complete" and partial:
            kind = "slice"
            verdict = ("VERDICT (slice): %d of %d host(s) confirmed; the fleet needs confirm over the whole inventory"
                       % (len(good), plan.get("fleet_size") or len(hosts)))
            steps = ["This run saw part of the fleet only: %s." % partial]
        elif kind == "complete":
            verdict = "VERDICT: rotation complete: all %d host(s) use %s%s" % (
                len(hosts), new_fp, " and %s is revoked (401)" % old_fp if old_fp else "")
            steps = ["Nothing left to do. Keep the new token in the vault; remove the old one from it."]
        else:
            verdict = "VERDICT: rotation NOT complete"
            steps = list(why_steps)
            if old_fp and not revoked:
                verdict += ": the old token %s still works" % old_fp
                steps.append("Revoke it by hand: log in to Tiflux as %s, open %s, find the old session (%s) and end it "
                             "(Encerrar sessão); then run confirm again."
                             % (user, SESSOES_API, plan.get("old_session") or "by its Data da sessão"))
    elif not complete and batch is not None and all(s["status"] == "not_reached" for s in still_on_old):
        kind = "progress"
        verdict = "VERDICT: pending: %d of %d host(s) done" % (len(good), len(hosts))
    elif new_dead:
        kind = "new_dead"
        verdict = ("VERDICT: NOT safe to revoke %s: the new token %s stopped working during the rollout (%s)"
                   % (old_name, new_fp, new_now.get("status")))
        steps = [new_now.get("message") or "the new token is rejected now.",
                 "Hosts already on the new token are broken now: %s." % (names(good) or "none"),
                 "Keep the old token. Generate another token in %s, vault it as rotate_new_token and run the rotation "
                 "again: it replaces the dead token on those hosts too." % SESSOES_API]
    elif partial:
        kind = "slice"
        verdict = ("VERDICT (slice): %d of %d host(s) rotated; the fleet verdict needs rotate_phase=verdict over the "
                   "whole inventory" % (len(good), plan.get("fleet_size") or len(hosts)))
        steps = why_steps + ["This run saw part of the fleet only: %s." % partial,
                             "Before anything is revoked, run the fleet verdict over the whole inventory: %s (in AWX: the "
                             "verdict job template after the sliced job)." % verdict_hint]
    elif still_on_old or not hosts:
        if revoked:
            kind = "heal_incomplete"
            verdict = ("VERDICT: %s is already revoked, and %d host(s) may still hold it (their integrations are down): %s"
                       % (old_name, len(still_on_old), names("%s (%s)" % (s["host"], s["status"]) for s in still_on_old)))
            steps = why_steps + ["Fix them and run the rotation again: hosts already on the new token stay unchanged. "
                                 "There is nothing to revoke by hand."]
        else:
            kind = "not_safe"
            verdict = "VERDICT: NOT safe to revoke %s: %d host(s) may still use it: %s" % (
                old_name, len(still_on_old), names("%s (%s)" % (s["host"], s["status"]) for s in still_on_old) or "no hosts")
            steps = why_steps + ["Revoking now would break them at once (401). Fix them and run the rotation again: "
                                 "hosts already on the new token stay unchanged."]
    elif revoked:
        kind = "already_revoked"
        verdict = ("VERDICT: %s is already revoked (Tiflux rejected it at preflight): nothing to revoke by hand; all %d "
                   "host(s) hold %s%s" % (old_name, len(hosts), new_fp,
                                          " and it works from each of them" if phase == "deploy" else ""))
        steps = ["Prove the rotation: %s." % hint,
                 "Next time, keep the overlap: make the new token from another browser than the one that made the current "
                 "token, and check in %s that the old session is still listed." % SESSOES_API]
    else:
        kind = "safe"
        verdict = "VERDICT: safe to revoke %s: all %d host(s) hold %s%s" % (
            old_name, len(hosts), new_fp, " and it works from each of them" if phase == "deploy" else "")
        steps = [
            ("This run last used the old token at %s (%s): in Sessões API, a \"last use\" later than that means "
             "something outside the inventory still uses it; find it first." % (checked, tz)) if checked and old_fp else
            "In Sessões API its last use should stop changing now that no integration uses it; if it still moves, find "
            "what uses it first.",
            "Log in to Tiflux as %s, open %s, find the old session (%s) and revoke it by hand (Encerrar sessão; Tiflux "
            "has no API for this): anything still using it gets 401 at once." % (
                user, SESSOES_API, plan.get("old_session") or "by its Data da sessão"),
            "Then prove the rotation: %s." % hint,
        ]
    if kind != "progress":
        steps = notes + steps
    promote = kind in ("safe", "already_revoked") and phase != "confirm"
    # The vault moves before the old token is revoked (no routine run may put it back), and forgets it after confirm.
    if vault and promote:
        steps.insert(0, vault)
    elif vault and kind == "complete":
        steps.append(vault)
    if reports:
        steps.append("Reports: %s." % reports)

    lines = []
    for host in hosts:
        row = rows[host]
        targets = ", ".join(_target_text(t, new_fp) for t in row["targets"])
        detail = row["message"] if row["status"] not in GOOD[phase] or not targets else targets
        lines.append("  %-20s %-13s %s" % (host, row["status"], detail))
    lines.append(verdict)
    lines.extend("  - " + step for step in steps)

    return dict(
        phase=phase, kind=kind, new_fingerprint=new_fp, old_fingerprint=old_fp, user=new.get("user"), user_label=user, hosts=rows,
        counts=counts, still_on_old=still_on_old, complete=complete, partial=partial, heal=bool(plan.get("heal")),
        already_revoked=revoked and phase != "confirm",
        safe_to_revoke=kind in ("safe", "already_revoked", "complete"), promote=promote,
        fail_run=kind in ("not_safe", "new_dead", "heal_incomplete", "not_complete") or (kind == "slice" and bool(still_on_old)),
        verdict=verdict, steps=steps, lines=lines, old_session=plan.get("old_session"), checked_at=plan.get("checked_at"),
        report_dir=plan.get("report_dir"),
        progress="%s: %d of %d host(s) done (%s); the summary and the verdict follow the last batch" % (
            ", ".join(batch or []) or "batch", len(good), len(hosts),
            ", ".join("%d %s" % (n, s) for s, n in sorted(counts.items()) if s != "not_reached")),
    )


def _target_text(target, new_fp):
    status = target.get("status") or target.get("state")
    text = "%s %s" % (target.get("path"), status)
    if target.get("fingerprint") != new_fp:
        text += " (%s)" % (target.get("fingerprint") or "no token")
    return text


class FilterModule:
    def filters(self):
        return {"rotation_summary": rotation_summary}
