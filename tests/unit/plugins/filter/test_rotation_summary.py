# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os
import re

import pytest

from ansible.errors import AnsibleFilterError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.tokenops.tiflux.plugins.filter.rotation_summary import rotation_summary

NEW = dict(fingerprint="sha256:1111111111111111", status="valid", user=dict(name="Ana", email="ana@example.com"))
OLD = dict(fingerprint="sha256:0000000000000000", status="valid")
REVOKE_BY_HAND = re.compile(r"revoke it by hand", re.I)


def make_plan(hosts, phase="deploy", old=None, **extra):
    old = OLD if old is None else old
    plan = dict(phase=phase, hosts=list(hosts), new=dict(NEW), old=dict(old) if old else None, verify="path",
                partial=None, heal=False, fleet_size=len(hosts), checked_at="2026-10-06T13:02:00Z",
                timezone="America/Sao_Paulo", old_session="Data da sessão: 06/10/2025 07:29", report_dir="/srv/reports")
    plan.update(extra)
    return plan


def run(status="ok", changed=1, **extra):
    target = dict(path="/etc/a.env", status="changed" if changed else "unchanged", fingerprint=NEW["fingerprint"],
                  previous_fingerprint=OLD["fingerprint"], reloaded=False)
    result = dict(targets=[target], changed_targets=changed, verified=True, proof="path", fingerprint=NEW["fingerprint"],
                  message="ok", changed=bool(changed))
    if status == "rolled_back":
        target.update(status="restored", fingerprint=OLD["fingerprint"])
        result.update(failed=True, rolled_back=True, verified=False, msg="health command failed; restored")
    if status == "failed":
        target.update(status="error", fingerprint=OLD["fingerprint"])
        result.update(failed=True, changed_targets=0, verified=None,
                      msg="/etc/a.env does not exist: set create: true on the target to create it")
    result.update(extra)
    return result


def info(held=NEW["fingerprint"], state="present"):
    """token_info's result for a host with one target."""
    return dict(targets=[dict(path="/etc/a.env", format="env", state=state, fingerprint=held if state == "present" else None)],
                fingerprints=[held], changed=False)


def summarise(hostvars, plan, **kwargs):
    summary = rotation_summary(hostvars, plan, **kwargs)
    text = "\n".join(summary["lines"])
    assert not re.search(r"[{\[]'|'[}\]]", text), "a Python repr in the summary: %s" % text
    return summary, text


def test_all_rotated_is_safe_with_the_exact_steps():
    hostvars = {"h1": {"rotate_run": run()}, "h2": {"rotate_run": run(changed=0)}}
    summary, text = summarise(hostvars, make_plan(["h1", "h2"]))
    assert summary["kind"] == "safe" and summary["safe_to_revoke"] and summary["promote"] and not summary["fail_run"]
    assert [summary["hosts"][h]["status"] for h in ("h1", "h2")] == ["rotated", "unchanged"]
    assert summary["verdict"].startswith("VERDICT: safe to revoke the old token sha256:0000000000000000: all 2 host(s)")
    assert "Data da sessão: 06/10/2025 07:29" in text and "Configurações > Minha conta > Sessões > Sessões API" in text
    # the revocation evidence: the time of the preflight's check, in the UI's format and timezone
    assert "This run last used the old token at 06/10/2026 10:02 (America/Sao_Paulo)" in text
    assert "Reports: /srv/reports/rotate-deploy.md and .json." in text
    assert text.count("VERDICT") == 1


def test_rolled_back_failed_unreachable_and_not_reached_are_not_safe():
    hostvars = {"h1": {"rotate_run": run()}, "h2": {"rotate_run": run("rolled_back")},
                "h3": {"rotate_run": dict(unreachable=True, msg="ssh: connect refused")}, "h4": {"rotate_run": run("failed")},
                "h5": {}}
    summary, text = summarise(hostvars, make_plan(["h1", "h2", "h3", "h4", "h5"]), batch=["h4"])
    statuses = dict((h, r["status"]) for h, r in summary["hosts"].items())
    assert statuses == dict(h1="rotated", h2="rolled_back", h3="unreachable", h4="failed", h5="not_reached")
    assert [s["host"] for s in summary["still_on_old"]] == ["h2", "h3", "h4", "h5"]
    assert summary["kind"] == "not_safe" and not summary["safe_to_revoke"] and not summary["complete"]
    assert "NOT safe to revoke" in summary["verdict"] and "h4 (failed)" in summary["verdict"]
    assert "set create: true on the target to create it" in text
    assert not summary["promote"]


def test_a_mistyped_path_that_the_module_refuses_names_the_host():
    hostvars = {"h1": {"rotate_run": run()}, "h2": {"rotate_run": run("failed")}}
    summary, text = summarise(hostvars, make_plan(["h1", "h2"]))
    assert summary["kind"] == "not_safe" and summary["fail_run"]
    assert "h2 (failed)" in summary["verdict"] and "h2: /etc/a.env does not exist" in text


def test_a_host_without_a_result_in_its_batch_failed_later_ones_were_not_reached():
    hostvars = {"h1": {"rotate_run": run()}, "h2": {}, "h3": {}}
    summary, _text = summarise(hostvars, make_plan(["h1", "h2", "h3"]), batch=["h2"])
    assert [summary["hosts"][h]["status"] for h in ("h1", "h2", "h3")] == ["rotated", "failed", "not_reached"]


def test_between_batches_the_summary_is_progress_only():
    hostvars = {"h1": {"rotate_run": run()}, "h2": {"rotate_run": run()}, "h3": {}}
    summary, _text = summarise(hostvars, make_plan(["h1", "h2", "h3"]), batch=["h2"])
    assert summary["kind"] == "progress" and not summary["fail_run"] and not summary["promote"]
    assert summary["progress"].startswith("h2: 2 of 3 host(s) done (2 rotated)")


def test_the_old_token_found_outside_the_targets_is_not_safe_naming_host_and_path():
    hostvars = {"h1": {"rotate_run": run()}, "h2": {"rotate_run": run(old_token_elsewhere=["/etc/cron.d/tiflux-report"])}}
    summary, text = summarise(hostvars, make_plan(["h1", "h2"]))
    assert summary["hosts"]["h2"]["status"] == "old_token_elsewhere"
    assert summary["kind"] == "not_safe" and "h2 (old_token_elsewhere)" in summary["verdict"]
    assert "h2: the old token is also in /etc/cron.d/tiflux-report" in text


def test_a_sweep_cut_short_is_said():
    hostvars = {"h1": {"rotate_run": run(sweep=dict(complete=False, cut_short="time budget of 10 s", hits=[]))}}
    _summary, text = summarise(hostvars, make_plan(["h1"]))
    assert "h1: the search for the old token was cut short (time budget of 10 s)" in text


def test_a_recovered_target_counts_as_rotated():
    recovered = run(changed=0, recovered_targets=1)
    recovered["targets"][0]["status"] = "recovered"
    summary, _text = summarise({"h1": {"rotate_run": recovered}}, make_plan(["h1"]))
    assert summary["hosts"]["h1"]["status"] == "rotated" and summary["kind"] == "safe"


def test_an_unproven_host_is_not_safe_unless_proofs_are_off():
    hostvars = {"h1": {"rotate_run": run(verified=None)}}
    assert summarise(hostvars, make_plan(["h1"]))[0]["kind"] == "not_safe"
    assert summarise(hostvars, make_plan(["h1"], verify="none"))[0]["kind"] == "safe"


def test_new_token_revoked_mid_rollout_says_so():
    hostvars = {"h1": {"rotate_run": run()}, "h2": {"rotate_run": run("rolled_back")}}
    dead = dict(NEW, status="invalid", message="Tiflux rejected token sha256:1111111111111111 with 401")
    summary, text = summarise(hostvars, make_plan(["h1", "h2"]), new_now=dead)
    assert not summary["safe_to_revoke"] and summary["kind"] == "new_dead"
    assert "stopped working during the rollout" in summary["verdict"]
    assert "broken now: h1" in text and "Generate another token" in text


@pytest.mark.parametrize("hosts_ok", [True, False])
def test_a_partial_run_never_says_safe(hosts_ok):
    hostvars = {"h1": {"rotate_run": run()}, "h2": {"rotate_run": run() if hosts_ok else run("rolled_back")}}
    plan = make_plan(["h1", "h2"], partial="AWX runs it inside workflow job 7", fleet_size=6)
    summary, text = summarise(hostvars, plan)
    assert summary["kind"] == "slice" and not summary["safe_to_revoke"] and not summary["promote"]
    assert summary["verdict"] == ("VERDICT (slice): %d of 6 host(s) rotated; the fleet verdict needs rotate_phase=verdict "
                                  "over the whole inventory" % (2 if hosts_ok else 1))
    assert "safe to revoke" not in text.replace("NOT safe to revoke", "")
    assert "tokenops.tiflux.verdict" in text
    assert summary["fail_run"] is (not hosts_ok)


def test_heal_complete_says_already_revoked_and_never_to_revoke_by_hand():
    hostvars = {"h1": {"rotate_run": run()}, "h2": {"rotate_run": run(changed=0)}}
    plan = make_plan(["h1", "h2"], old=dict(OLD, status="invalid"), heal=True)
    summary, text = summarise(hostvars, plan)
    assert summary["kind"] == "already_revoked" and summary["already_revoked"] and summary["promote"]
    assert summary["verdict"].startswith("VERDICT: the old token sha256:0000000000000000 is already revoked")
    assert "nothing to revoke by hand" in summary["verdict"]
    assert not REVOKE_BY_HAND.search(text) and "tokenops.tiflux.confirm" in text
    assert "another browser" in text


def test_heal_incomplete_names_the_hosts_still_down_and_still_not_to_revoke_by_hand():
    hostvars = {"h1": {"rotate_run": run()}, "h2": {"rotate_run": run("rolled_back")}}
    summary, text = summarise(hostvars, make_plan(["h1", "h2"], old=dict(OLD, status="invalid"), heal=True))
    assert summary["kind"] == "heal_incomplete" and summary["fail_run"] and not summary["promote"]
    assert "already revoked" in summary["verdict"] and "h2 (rolled_back)" in summary["verdict"]
    assert not REVOKE_BY_HAND.search(text) and "safe to revoke" not in text


def test_verdict_phase_all_hosts_on_the_new_token_is_safe():
    hostvars = {"h1": {"rotate_run": info()}, "h2": {"rotate_run": info()}}
    summary, _text = summarise(hostvars, make_plan(["h1", "h2"], phase="verdict"))
    assert summary["kind"] == "safe" and summary["promote"]
    assert summary["verdict"] == "VERDICT: safe to revoke the old token sha256:0000000000000000: all 2 host(s) hold sha256:1111111111111111"


def test_verdict_phase_one_slice_missing_is_not_safe_naming_its_hosts():
    hostvars = {"h1": {"rotate_run": info()}, "h2": {"rotate_run": info(OLD["fingerprint"])},
                "h3": {"rotate_run": info(state="missing_file")}, "h4": {"rotate_run": dict(unreachable=True, msg="down")}}
    summary, text = summarise(hostvars, make_plan(["h1", "h2", "h3", "h4"], phase="verdict"))
    assert summary["kind"] == "not_safe"
    assert [s["host"] for s in summary["still_on_old"]] == ["h2", "h3", "h4"]
    assert "h2: /etc/a.env holds the old token sha256:0000000000000000" in text
    assert "h3: /etc/a.env: missing_file" in text


def test_verdict_phase_after_the_old_token_was_revoked_says_already_revoked():
    hostvars = {"h1": {"rotate_run": info()}}
    summary, text = summarise(hostvars, make_plan(["h1"], phase="verdict", old=dict(OLD, status="invalid")))
    assert summary["kind"] == "already_revoked" and not REVOKE_BY_HAND.search(text)


def test_confirm_needs_the_old_token_revoked():
    hostvars = {"h1": {"rotate_run": run(changed=0)}}
    summary, text = summarise(hostvars, make_plan(["h1"], phase="confirm"))
    assert not summary["safe_to_revoke"] and "still works" in summary["verdict"] and summary["kind"] == "not_complete"
    assert "Revoke it by hand" in text and "Data da sessão: 06/10/2025 07:29" in text
    summary, _text = summarise(hostvars, make_plan(["h1"], phase="confirm", old=dict(OLD, status="invalid")))
    assert summary["safe_to_revoke"] and "rotation complete" in summary["verdict"] and not summary["promote"]


@pytest.mark.parametrize("phase, kind, first", [("deploy", "safe", True), ("confirm", "complete", False)])
def test_the_vault_step_comes_before_the_revocation_and_after_confirm(phase, kind, first):
    hostvars = {"h1": {"rotate_run": run(changed=0)}}
    plan = make_plan(["h1"], phase=phase, old=dict(OLD, status="invalid" if phase == "confirm" else "valid"))
    summary, _text = summarise(hostvars, plan, vault="VAULT STEP")
    assert summary["kind"] == kind
    assert (summary["steps"][0] if first else summary["steps"][-2]) == "VAULT STEP"


def test_a_slice_or_a_not_safe_run_never_gets_the_vault_step():
    hostvars = {"h1": {"rotate_run": run()}, "h2": {"rotate_run": run("rolled_back")}}
    for plan in (make_plan(["h1"], partial="rotate_partial is true"), make_plan(["h1", "h2"])):
        summary, _text = summarise(hostvars, plan, vault="VAULT STEP")
        assert "VAULT STEP" not in summary["steps"] and not summary["promote"]


def test_a_partial_confirm_does_not_speak_for_the_fleet():
    hostvars = {"h1": {"rotate_run": run(changed=0)}}
    plan = make_plan(["h1"], phase="confirm", old=dict(OLD, status="invalid"), partial="1 inventory host(s) ... outside",
                     fleet_size=3)
    summary, _text = summarise(hostvars, plan)
    assert summary["kind"] == "slice" and not summary["safe_to_revoke"] and not summary["promote"]
    assert summary["verdict"].startswith("VERDICT (slice): 1 of 3 host(s) confirmed")


def test_no_hosts_is_not_safe():
    summary, _text = summarise({}, make_plan([]))
    assert summary["kind"] == "not_safe"


def test_bad_plan_is_an_error():
    with pytest.raises(AnsibleFilterError):
        rotation_summary({}, {"phase": "deploy"})


def test_the_markdown_report_escapes_what_it_quotes():
    """roles/rotate/templates/rotate-report.md.j2 renders the summary's data: a host, path or message cannot turn
    into Markdown (a table cell, a link, an HTML tag, a heading)."""
    hostvars = {"h|1": {"rotate_run": run("rolled_back", msg="health *failed* | [x](http://e) <script>\n# next")}}
    hostvars["h|1"]["rotate_run"]["targets"][0]["path"] = "/etc/a`b|c.env"
    summary = rotation_summary(hostvars, make_plan(["h|1"]))
    path = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles", "rotate", "templates", "rotate-report.md.j2")
    with open(path) as stream:
        source = stream.read()
    text = Templar(loader=DataLoader(), variables=dict(rotate_summary=summary)).template(trust_as_template(source))
    row = [line for line in text.splitlines() if line.startswith("| h\\|")][0]
    assert row.startswith("| h\\|1 | rolled_back | `/etc/a'b\\|c.env` restored `sha256:0000000000000000` |")
    assert "health \\*failed\\* \\| \\[x\\](http://e) \\<script\\> \\# next" in row
    assert row.count(" | ") == 3  # four cells, whatever the message held
    assert "**VERDICT: NOT safe to revoke" in text
