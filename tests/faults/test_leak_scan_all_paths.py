# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Leak scan of every path: each plugin (lookup, token_check, token_push, token_deploy) and the rotate
role through ok / changed / failed / check / diff / -vvvv / JSON callback / tree callback / reports /
backups' names / kept module tmp dirs, with three distinctive tokens (new, old, revoked): 0 occurrences,
whole or a 12-character part (tests/utils/leak_scan.py). A negative control proves the scan bites.

What is scanned, and why:
- ansible-playbook's stdout+stderr at -vvvv --diff (default callback), in --check --diff, and with a
  JSON stdout callback that dumps every result unabridged (tests/faults/callback_plugins/tiflux_json.py:
  ansible-core 2.19 has no ansible.builtin.json, and ansible.posix is not available offline);
- the tree callback's per-host result files; the role's reports (rotate-deploy/confirm .json/.md);
  ANSIBLE_LOCAL_TEMP (the pacer's ledger, the lookup's check cache);
- the hosts' directories: file NAMES only (they legitimately hold tokens): backups, temp files;
- ANSIBLE_KEEP_REMOTE_FILES=1: the kept module dirs. Every file NAME there, and every file's content
  except the AnsiballZ_*.py payloads: ansible embeds the module arguments in the payload, no_log ones
  included, by design (the same holds for any module's no_log option). For those we assert instead that
  the per-task dir that holds a payload is 0700 (ansible writes the payload itself 0744). Without KEEP_REMOTE_FILES the remote tmp
  must be left empty.
"""

from __future__ import annotations

import glob
import os
import stat
import subprocess
import sys

import pytest

from conftest import F  # pylint: disable=import-error
from leak_scan import scan, scan_text  # pylint: disable=import-error

HERE = os.path.dirname(os.path.abspath(__file__))
PLAYBOOKS = os.path.join(HERE, "playbooks")
CALLBACKS = os.path.join(HERE, "callback_plugins")


@pytest.fixture
def leak_env(rotation, sim, pair):
    """A fleet of 2 hosts, and a third token, revoked."""
    rot = rotation
    rot.make_fleet(2)
    user = pair[0]
    revoked = sim.control.issue_token(user["id"])["token"]
    sim.control.revoke(token=revoked)
    rot.revoked = revoked
    rot.tokens = [rot.new, rot.old, revoked]
    rot.extra = dict(leak_new=rot.new, leak_old=rot.old, leak_revoked=revoked)
    return rot


def _run(rot, playbook, args=(), env=None, name="run"):
    """ansible-playbook with its output kept in a file under the run dir (scanned afterwards)."""
    run_dir = os.path.join(rot.root, "scan", name)
    os.makedirs(run_dir, exist_ok=True)
    env = dict(env or {})
    env.setdefault("ANSIBLE_LOCAL_TEMP", os.path.join(run_dir, "local_tmp"))
    result = rot.run(playbook, extra=rot.extra, env=env, args=list(args))
    with open(os.path.join(run_dir, "output.txt"), "w") as handle:
        handle.write(result["out"])
    return run_dir, result


def _assert_clean(rot, paths):
    findings = scan(paths, rot.tokens, names_only=[rot.fleet.hosts_dir])
    assert findings == [], "token leaked: %s" % ["%s: %s %s" % f for f in findings]


def test_plugins_every_outcome_vvvv_diff_tree_keep_remote_files(leak_env):
    rot = leak_env
    tree = os.path.join(rot.root, "scan", "tree")
    remote = os.path.join(rot.root, "remote_tmp")
    run_dir, result = _run(rot, os.path.join(PLAYBOOKS, "leak_all.yml"), ["-vvvv", "--diff"], name="vvvv", env=dict(
        ANSIBLE_CALLBACKS_ENABLED="tree", ANSIBLE_CALLBACK_TREE_DIR=tree, ANSIBLE_KEEP_REMOTE_FILES="1"))
    out = result["out"]
    assert result["rc"] == 0, out[-3000:]
    # every outcome really happened
    assert "...ignoring" in out and "changed: [h000]" in out and "ok: [h000]" in out
    assert out.count("rolled_back") >= 2, "no rollback path was exercised"
    assert os.listdir(tree), "the tree callback wrote nothing"
    assert glob.glob(os.path.join(rot.fleet.host_dir("h000"), "tiflux.env.*~")), "no backup was made"

    # kept module dirs: names everywhere, contents of all but the payloads, payloads owner-only
    payloads = glob.glob(os.path.join(remote, "*", "AnsiballZ_*.py"))
    assert payloads, "ANSIBLE_KEEP_REMOTE_FILES=1 kept nothing under %s" % remote
    for path in payloads:
        # ansible writes the payload 0744 (or 0755), inside a per-task dir it creates 0700
        mode = stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode)
        assert mode & 0o077 == 0, "%s is open to others (%o)" % (os.path.dirname(path), mode)
    others = [p for p in glob.glob(os.path.join(remote, "**"), recursive=True)
              if os.path.isfile(p) and not os.path.basename(p).startswith("AnsiballZ_")]
    findings = scan(others, rot.tokens) + [f for f in scan([remote], rot.tokens) if f[2] == "file name"]
    assert findings == [], findings

    _assert_clean(rot, [run_dir, tree, rot.report_dir])


def test_plugins_json_callback_and_check_mode(leak_env):
    rot = leak_env
    run_dir, result = _run(rot, os.path.join(PLAYBOOKS, "leak_all.yml"), ["--check", "--diff"], name="json-check", env=dict(
        ANSIBLE_STDOUT_CALLBACK="tiflux_json", ANSIBLE_CALLBACK_PLUGINS=CALLBACKS))
    assert result["rc"] == 0, result["out"][-3000:]
    assert '"results"' in result["out"] and '"diff"' in result["out"]
    remote = os.path.join(rot.root, "remote_tmp")
    assert not glob.glob(os.path.join(remote, "ansible-tmp-*")), "module tmp dirs were left without KEEP_REMOTE_FILES"
    _assert_clean(rot, [run_dir, rot.report_dir])
    # check mode changed nothing
    for host in rot.fleet.hosts:
        assert rot.fleet.on_token(host, rot.old)


def test_rotate_role_deploy_and_confirm_vvvv_json_reports(leak_env):
    rot = leak_env
    run_dir, result = _run(rot, "tokenops.tiflux.rotate", ["-vvvv", "--diff"], name="role-deploy")
    assert result["rc"] == 0, result["out"][-3000:]
    assert "VERDICT: safe to revoke" in result["out"]
    rot.sim.control.revoke(token=rot.old)
    run_dir2, result = _run(rot, "tokenops.tiflux.confirm", [], name="role-confirm", env=dict(
        ANSIBLE_STDOUT_CALLBACK="tiflux_json", ANSIBLE_CALLBACK_PLUGINS=CALLBACKS))
    assert result["rc"] == 0, result["out"][-3000:]
    assert sorted(os.listdir(rot.report_dir)) == ["rotate-confirm.json", "rotate-confirm.md", "rotate-deploy.json", "rotate-deploy.md"]
    # a failing confirm (a host back on the old token): the failed path of the role
    rot.fleet.reset()
    run_dir3, result = _run(rot, "tokenops.tiflux.confirm", ["-vvvv"], name="role-confirm-failed")
    assert result["rc"] != 0
    assert "not_confirmed" in result["out"]
    _assert_clean(rot, [run_dir, run_dir2, run_dir3, rot.report_dir])


def test_negative_control_injected_leak_is_caught(leak_env):
    """A debug task printing the token: the scan (pytest helper and CLI) must report it."""
    rot = leak_env
    run_dir, result = _run(rot, os.path.join(PLAYBOOKS, "leak_injected.yml"), name="injected")
    assert result["rc"] == 0
    findings = scan([run_dir], rot.tokens, names_only=[rot.fleet.hosts_dir])
    assert findings, "the scan missed a token printed by a debug task"
    assert any(scan_text(result["out"], [rot.new]).values())
    secrets = os.path.join(rot.root, "secrets")
    with open(secrets, "w") as handle:
        handle.write("\n".join(rot.tokens) + "\n")
    cli = subprocess.run([sys.executable, os.path.join(F.REPO, "tests", "utils", "leak_scan.py"), "--secrets-file", secrets, run_dir],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    assert cli.returncode == 1, cli.stdout
    assert "LEAK: token sha256:" in cli.stdout
    for token in rot.tokens:
        assert token not in cli.stdout, "the scan's own report printed a token"


def test_token_deploy_bad_target_element_keeps_token_out(leak_env):
    """A targets element that is not a dict makes ansible-core skip no_log masking of the whole module call (a
    limitation of ansible-core): the action plugin must refuse it before the module runs, with no token in the output."""
    rot = leak_env
    playbook = os.path.join(rot.root, "bad_targets.yml")
    with open(playbook, "w") as handle:
        handle.write("- name: Bad targets\n  hosts: h000\n  gather_facts: false\n  tasks:\n"
                     "    - name: A target that is a string\n      tokenops.tiflux.token_deploy:\n"
                     "        token: '{{ leak_new }}'\n        targets: ['{{ host_dir }}/tiflux.env']\n"
                     "      register: bad\n      ignore_errors: true\n")
    run_dir, result = _run(rot, playbook, ["-vvvv"], name="bad-targets")
    assert "targets[0] must be a dict" in result["out"], result["out"][-2000:]
    _assert_clean(rot, [run_dir])
