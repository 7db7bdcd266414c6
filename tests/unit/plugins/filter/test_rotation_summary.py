# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.tokenops.tiflux.plugins.filter.rotation_summary import rotation_summary

NEW = dict(fingerprint="sha256:1111111111111111", status="valid", user=dict(name="Ana", email="ana@example.com"))
OLD = dict(fingerprint="sha256:0000000000000000", status="valid")


def run(status="ok", changed=1, **extra):
    target = dict(path="/etc/a.env", status="changed" if changed else "unchanged", fingerprint=NEW["fingerprint"],
                  previous_fingerprint=OLD["fingerprint"], reloaded=False)
    result = dict(targets=[target], changed_targets=changed, verified=True, fingerprint=NEW["fingerprint"], message="ok")
    if status == "rolled_back":
        target.update(status="restored", fingerprint=OLD["fingerprint"])
        result.update(failed=True, rolled_back=True, verified=False, msg="health command failed; restored")
    result.update(extra)
    return result


def test_all_rotated_is_safe_with_the_exact_steps():
    hostvars = {"h1": {"rotate_run": run()}, "h2": {"rotate_run": run(changed=0)}}
    summary = rotation_summary(hostvars, ["h1", "h2"], ["h1", "h2"], new=NEW, old=OLD, old_created="01/03/2026")
    assert summary["safe_to_revoke"] and summary["complete"] and summary["still_on_old"] == []
    assert [summary["hosts"][h]["status"] for h in ("h1", "h2")] == ["rotated", "unchanged"]
    assert "safe to revoke the old token sha256:0000000000000000" in summary["verdict"]
    assert any("01/03/2026" in step for step in summary["steps"])
    assert any("Configurações > Minha conta > Sessões > Sessões API" in step for step in summary["steps"])


def test_rolled_back_unreachable_and_not_reached_are_not_safe():
    hostvars = {"h1": {"rotate_run": run()}, "h2": {"rotate_run": run("rolled_back")},
                "h3": {"rotate_run": dict(unreachable=True, msg="ssh: connect refused")}, "h4": {}, "h5": {}}
    summary = rotation_summary(hostvars, ["h1", "h2", "h3", "h4", "h5"], ["h1", "h2", "h3", "h4"], new=NEW, old=OLD)
    statuses = dict((h, r["status"]) for h, r in summary["hosts"].items())
    assert statuses == dict(h1="rotated", h2="rolled_back", h3="unreachable", h4="unreachable", h5="not_reached")
    assert [s["host"] for s in summary["still_on_old"]] == ["h2", "h3", "h4", "h5"]
    assert not summary["safe_to_revoke"] and not summary["complete"]
    assert "NOT safe to revoke" in summary["verdict"]


def test_new_token_revoked_mid_rollout_says_so():
    hostvars = {"h1": {"rotate_run": run()}, "h2": {"rotate_run": run("rolled_back")}}
    dead = dict(NEW, status="invalid", message="Tiflux rejected token sha256:1111111111111111 with 401")
    summary = rotation_summary(hostvars, ["h1", "h2"], ["h1", "h2"], new=NEW, old=OLD, new_now=dead)
    assert not summary["safe_to_revoke"]
    assert "stopped working during the rollout" in summary["verdict"]
    assert any("broken now: h1" in step for step in summary["steps"])
    assert any("Generate another token" in step for step in summary["steps"])


def test_confirm_needs_the_old_token_revoked():
    hostvars = {"h1": {"rotate_run": run(changed=0)}}
    summary = rotation_summary(hostvars, ["h1"], ["h1"], phase="confirm", new=NEW, old=OLD)
    assert not summary["safe_to_revoke"] and "still works" in summary["verdict"]
    assert any("Revoke it by hand" in step for step in summary["steps"])
    summary = rotation_summary(hostvars, ["h1"], ["h1"], phase="confirm", new=NEW, old=dict(OLD, status="invalid"))
    assert summary["safe_to_revoke"] and "rotation complete" in summary["verdict"]


def test_no_token_in_any_output():
    hostvars = {"h1": {"rotate_run": run()}}
    summary = rotation_summary(hostvars, ["h1"], ["h1"], new=NEW, old=OLD)
    assert "sha256:1111111111111111" in summary["markdown"] and "| h1 | rotated |" in summary["markdown"]
