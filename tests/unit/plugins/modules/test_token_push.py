# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""token_push end to end in-process: real files, real simulator for verify."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys

import pytest

from ansible_collections.tokenops.tiflux.plugins.module_utils import _io
from ansible_collections.tokenops.tiflux.plugins.module_utils._token import fingerprint
from ansible_collections.tokenops.tiflux.plugins.modules.token_push import main

OLD = "oldTokenValue-0123456789abcdef"
NEW = "newTokenValue-fedcba9876543210"

ENV = "# Zabbix -> Tiflux webhook\r\nTIFLUX_BASE_URL='https://api.tiflux.com/api/v2'\r\nexport TIFLUX_API_TOKEN=%s\r\n\r\n# end"


def push(run_module, path, token=NEW, fmt="env", key="TIFLUX_API_TOKEN", check_mode=False, diff=False, **kwargs):
    params = dict(path=str(path), format=fmt, token=token, **kwargs)
    if key is not None:
        params["key"] = key
    return run_module(main, params, check_mode=check_mode, diff=diff)


def leftovers(directory):
    return sorted(name for name in os.listdir(str(directory)) if "tiflux-tmp" in name)


def test_changes_only_the_token_bytes(run_module, tmp_path):
    path = tmp_path / "tiflux.env"
    path.write_bytes((ENV % OLD).encode())
    os.chmod(str(path), 0o640)
    result, out = push(run_module, path)
    assert result["changed"] is True
    assert path.read_bytes() == (ENV % NEW).encode()
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o640, "an existing file keeps its mode"
    assert result["fingerprint"] == fingerprint(NEW) and result["previous_fingerprint"] == fingerprint(OLD)
    assert OLD not in out and NEW not in out
    assert leftovers(tmp_path) == []


def test_second_run_is_unchanged_and_writes_nothing(run_module, tmp_path):
    path = tmp_path / "tiflux.env"
    path.write_bytes((ENV % NEW).encode())
    before = os.stat(str(path))
    result, _out = push(run_module, path)
    assert result["changed"] is False
    after = os.stat(str(path))
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_created_file_is_0600_unless_mode_given(run_module, tmp_path):
    result, _out = push(run_module, tmp_path / "a.env")
    assert result["changed"] is True and result["previous_fingerprint"] is None
    assert stat.S_IMODE(os.stat(str(tmp_path / "a.env")).st_mode) == 0o600
    assert (tmp_path / "a.env").read_text() == "TIFLUX_API_TOKEN=%s\n" % NEW
    push(run_module, tmp_path / "b.env", mode="0640")
    assert stat.S_IMODE(os.stat(str(tmp_path / "b.env")).st_mode) == 0o640


def test_check_mode_reports_and_touches_nothing(run_module, tmp_path):
    path = tmp_path / "tiflux.env"
    path.write_bytes((ENV % OLD).encode())
    result, out = push(run_module, path, check_mode=True, diff=True)
    assert result["changed"] is True
    assert path.read_bytes() == (ENV % OLD).encode()
    result, _out = push(run_module, tmp_path / "new.env", check_mode=True)
    assert result["changed"] is True and not (tmp_path / "new.env").exists()
    assert leftovers(tmp_path) == []


def test_diff_shows_only_fingerprints(run_module, tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{\n    "tiflux": {\n        "token": "%s"\n    }\n}\n' % OLD)
    result, out = push(run_module, path, fmt="json", key="tiflux.token", diff=True)
    assert OLD not in out and NEW not in out
    assert "<token %s>" % fingerprint(OLD) in result["diff"]["before"]
    assert "<token %s>" % fingerprint(NEW) in result["diff"]["after"]


def test_backup_keeps_the_original(run_module, tmp_path):
    path = tmp_path / "tiflux.env"
    path.write_bytes((ENV % OLD).encode())
    result, _out = push(run_module, path, backup=True)
    backup = result["backup_file"]
    assert open(backup, "rb").read() == (ENV % OLD).encode()
    assert OLD not in backup and NEW not in backup
    assert os.path.dirname(backup) == str(tmp_path)


def test_validate_failure_leaves_the_file(run_module, tmp_path):
    path = tmp_path / "tiflux.env"
    path.write_bytes((ENV % OLD).encode())
    result, out = push(run_module, path, validate="sh -c 'cat %s >&2; exit 3'")
    assert result["failed"] is True and "rc=3" in result["msg"] and "unchanged" in result["msg"]
    assert result["changed"] is False, "nothing was written"
    assert OLD not in out and NEW not in out, "the validator printed the file; the message must not"
    assert path.read_bytes() == (ENV % OLD).encode()
    assert leftovers(tmp_path) == []


def test_validate_success(run_module, tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"token": "%s"}' % OLD)
    result, _out = push(run_module, path, fmt="json", key="token", validate="python3 -m json.tool %s")
    assert result["changed"] is True and NEW in path.read_text()


def test_validate_without_placeholder_is_refused(run_module, tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"token": "%s"}' % OLD)
    result, _out = push(run_module, path, fmt="json", key="token", validate="true")
    assert result["failed"] is True and "%s" in result["msg"] and str(path) in result["msg"]
    assert path.read_text() == '{"token": "%s"}' % OLD


@pytest.mark.parametrize("validate", ["check --year $(date +%Y) %s", "cmp %s %s"])
def test_validate_that_is_not_a_template_is_one_line(run_module, tmp_path, validate):
    path = tmp_path / "c.json"
    path.write_text('{"token": "%s"}' % OLD)
    result, _out = push(run_module, path, fmt="json", key="token", validate=validate)
    assert result["failed"] is True and result.get("changed") is not True
    assert str(path) in result["msg"] and "%%" in result["msg"] and "\n" not in result["msg"]
    assert path.read_text() == '{"token": "%s"}' % OLD
    assert leftovers(tmp_path) == []


def test_verify_success(sim, account, run_module, tmp_path):
    _user, token = account
    path = tmp_path / "tiflux.env"
    path.write_bytes((ENV % OLD).encode())
    result, out = push(run_module, path, token=token, verify=True, api_url=sim.info["api_url"], allow_http=True)
    assert result["verified"] is True and result["status"] == "valid" and result["changed"] is True
    assert token not in out


def test_verify_reports_the_dates_and_quota_and_warns_of_a_token_near_expiry(sim, make_account, run_module, tmp_path):
    user, _token = make_account(sim)
    token = sim.control.issue_token(user["id"], lifetime_seconds=10 * 86400)["token"]
    path = tmp_path / "tiflux.env"
    path.write_bytes((ENV % OLD).encode())
    result, out = push(run_module, path, token=token, verify=True, api_url=sim.info["api_url"], allow_http=True)
    assert result["verified"] and result["expires_in_days"] == 10 and result["issued_at"].endswith("Z")
    assert result["quota_limit"] == 120 and result["quota_remaining"] < 120
    texts = [w if isinstance(w, str) else w["event"]["msg"] for w in result.get("warnings") or []]
    assert [t for t in texts if fingerprint(token) in t and "expires on" in t], texts
    assert token not in out


def test_verify_failure_restores_byte_identical(sim, account, run_module, tmp_path):
    _user, token = account
    sim.control.revoke(token=token)
    path = tmp_path / "tiflux.env"
    original = (ENV % OLD).encode()
    path.write_bytes(original)
    os.chmod(str(path), 0o640)
    os.chown(str(path), 1, 1)
    result, out = push(run_module, path, token=token, verify=True, api_url=sim.info["api_url"], allow_http=True, backup=True)
    assert result["failed"] is True and result["rolled_back"] is True and result["verified"] is False
    assert "Sessões API" in result["msg"]
    assert path.read_bytes() == original
    st = os.stat(str(path))
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o640, 1, 1)
    assert token not in out and OLD not in out
    assert leftovers(tmp_path) == []
    assert "backup_file" not in result and sorted(os.listdir(str(tmp_path))) == ["tiflux.env"], \
        "the file is as it was: its backup is removed again"


def test_verify_failure_removes_a_created_file(sim, account, run_module, tmp_path):
    _user, token = account
    sim.control.revoke(token=token)
    result, _out = push(run_module, tmp_path / "n.env", token=token, verify=True, api_url=sim.info["api_url"], allow_http=True)
    assert result["failed"] is True and not (tmp_path / "n.env").exists()


def test_absent_removes_the_key(run_module, tmp_path):
    path = tmp_path / "tiflux.env"
    path.write_text("A=1\nTIFLUX_API_TOKEN=%s\nB=2\n" % OLD)
    result, out = push(run_module, path, token=None, state="absent")
    assert result["changed"] is True and path.read_text() == "A=1\nB=2\n" and OLD not in out
    assert push(run_module, path, token=None, state="absent")[0]["changed"] is False


def test_absent_empties_a_raw_file(run_module, tmp_path):
    path = tmp_path / "token"
    path.write_text(OLD + "\n")
    result, _out = push(run_module, path, token=None, fmt="raw", key=None, state="absent")
    assert result["changed"] is True and path.read_text() == ""


def test_symlink_is_followed(run_module, tmp_path):
    target = tmp_path / "real.env"
    target.write_text("TIFLUX_API_TOKEN=%s\n" % OLD)
    link = tmp_path / "link.env"
    link.symlink_to(target)
    result, _out = push(run_module, link)
    assert os.path.islink(str(link)) and target.read_text() == "TIFLUX_API_TOKEN=%s\n" % NEW
    assert result["real_path"] == str(target)


def test_missing_directory_needs_create_dirs(run_module, tmp_path):
    path = tmp_path / "etc" / "app" / "tiflux.env"
    result, _out = push(run_module, path)
    assert result["failed"] is True and "create_dirs" in result["msg"]
    result, _out = push(run_module, path, create_dirs=True)
    assert result["changed"] is True and path.exists()


def test_create_false_needs_the_file(run_module, tmp_path):
    result, _out = push(run_module, tmp_path / "none.env", create=False)
    assert result["failed"] is True and "create: true" in result["msg"]


@pytest.mark.parametrize("content, fmt, key, token, cause", [
    ('{"tiflux": "x"', "json", "tiflux.token", NEW, "json"),
    ('{"tiflux": "flat"}', "json", "tiflux.token", NEW, "tiflux"),
    (b"\x00\x01\x02", "env", "TIFLUX_API_TOKEN", NEW, "binary"),
    (b'{"a": "\xff"}', "json", "a.token", NEW, "UTF-8"),
    ("[tiflux\ntoken=1\n", "ini", "tiflux.token", NEW, "line"),
    ("a: [1, 2\n", "yaml", "a.token", NEW, "line"),
    ("TIFLUX_API_TOKEN=x\n", "env", "TIFLUX_API_TOKEN", "tok#en", "quoting"),
    ("TIFLUX_API_TOKEN=x\n", "env", "TIFLUX_API_TOKEN", "tok$en", "quoting"),
    ("TIFLUX_API_TOKEN=x\n", "env", "TIFLUX_API_TOKEN", "to ken", "whitespace"),
    ("TIFLUX_API_TOKEN=x\n", "env", "TIFLUX_API_TOKEN", "", "empty"),
    ("TIFLUX_API_TOKEN=x\n", "env", "BAD-NAME", NEW, "BAD-NAME"),
    ("TIFLUX_API_TOKEN=x\n", "env", "TIFLUX_API_TOKEN", "tok\u200ben", "invisible"),
    ('{"token": "x"}', "json", "", NEW, "key is required"),
])
def test_bad_input_is_one_line_and_the_file_is_unchanged(run_module, tmp_path, content, fmt, key, token, cause):
    path = tmp_path / "config"
    data = content if isinstance(content, bytes) else content.encode()
    path.write_bytes(data)
    result, out = push(run_module, path, token=token, fmt=fmt, key=key)
    assert result["failed"] is True, result
    assert cause.lower() in result["msg"].lower() and "\n" not in result["msg"]
    assert str(path) in result["msg"], "every bad input names the file"
    assert path.read_bytes() == data
    assert leftovers(tmp_path) == []
    if len(token) > 3:
        assert token not in out


def test_directory_path_is_refused(run_module, tmp_path):
    result, _out = push(run_module, tmp_path)
    assert result["failed"] is True and "is a directory" in result["msg"]


def test_read_only_directory(run_module, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root ignores directory permissions; covered by the integration target's read-only mount")
    directory = tmp_path / "ro"
    directory.mkdir()
    path = directory / "tiflux.env"
    path.write_text("TIFLUX_API_TOKEN=%s\n" % OLD)
    os.chmod(str(directory), 0o500)
    try:
        result, _out = push(run_module, path)
    finally:
        os.chmod(str(directory), 0o700)
    assert result["failed"] is True and "permission denied" in result["msg"]
    assert path.read_text() == "TIFLUX_API_TOKEN=%s\n" % OLD


def test_stale_temp_files_of_a_killed_run_are_swept(run_module, tmp_path):
    path = tmp_path / "tiflux.env"
    path.write_text("TIFLUX_API_TOKEN=%s\n" % OLD)
    (tmp_path / ".tiflux.env.abc123.tiflux-tmp").write_text("half")
    push(run_module, path)
    assert leftovers(tmp_path) == []


def test_a_push_without_verify_does_not_load_the_client():
    # Every module run compiles what it imports from the AnsiballZ zip (docs/performance.md: token_push <= 1.1x lineinfile).
    code = ("import sys\n"
            "import ansible_collections.tokenops.tiflux.plugins.modules.token_push\n"
            "utils = 'ansible_collections.tokenops.tiflux.plugins.module_utils.'\n"
            "print(sorted(m[len(utils):] for m in sys.modules if m.startswith(utils)))\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == str(["_connection", "_formats", "_io", "_push", "_token", "_transaction"])


RUN_PUSH = """
import json, sys
from ansible.module_utils import basic
basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": json.loads(sys.argv[1])}).encode()
basic._ANSIBLE_PROFILE = "legacy"
from ansible_collections.tokenops.tiflux.plugins.modules.token_push import main
try:
    main()
except SystemExit:
    pass
utils = "ansible_collections.tokenops.tiflux.plugins.module_utils."
sys.stderr.write(json.dumps(sorted(m[len(utils):] for m in sys.modules if m.startswith(utils))))
"""


def push_in_a_new_process(path, **options):
    """(result, the collection's module_utils loaded by the run) of one token_push run in a fresh interpreter."""
    args = dict(path=str(path), format="env", key="TIFLUX_API_TOKEN", token=NEW, _ansible_remote_tmp="/tmp",
                _ansible_keep_remote_files=False)
    args.update(options)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, "-c", RUN_PUSH, json.dumps(args)], capture_output=True, text=True, check=True,
                         env=env)
    return json.loads(out.stdout), json.loads(out.stderr.strip().splitlines()[-1])


PLAIN = ["_connection", "_formats", "_formats._env", "_io", "_push", "_token", "_transaction"]


@pytest.mark.parametrize("options, more", [
    (dict(), []),
    (dict(backup=True), ["_file_steps"]),
    (dict(validate="true %s"), ["_file_steps"]),
    (dict(create_dirs=True), ["_file_steps"]),
])
def test_a_plain_push_compiles_no_step_it_does_not_take(tmp_path, options, more):
    # A module run compiles every module it imports from the AnsiballZ zip (docs/performance.md); the result is the same.
    path = tmp_path / ("new/tiflux.env" if options.get("create_dirs") else "tiflux.env")
    if not options.get("create_dirs"):
        path.write_text("TIFLUX_API_TOKEN=%s\n" % OLD)
    result, loaded = push_in_a_new_process(path, **options)
    assert result["changed"] is True and path.read_text() == "TIFLUX_API_TOKEN=%s\n" % NEW
    assert loaded == sorted(PLAIN + more)
    assert ("backup_file" in result) is bool(options.get("backup"))


def test_only_a_rollback_loads_the_way_back(sim, account, tmp_path):
    _user, token = account
    sim.control.revoke(token=token)
    path = tmp_path / "tiflux.env"
    path.write_text("TIFLUX_API_TOKEN=%s\n" % OLD)
    result, loaded = push_in_a_new_process(path, token=token, verify=True, api_url=sim.info["api_url"], allow_http=True)
    assert result["failed"] is True and result["rolled_back"] is True
    assert path.read_text() == "TIFLUX_API_TOKEN=%s\n" % OLD
    assert "_undo" in loaded and "_file_steps" not in loaded and "_journal" not in loaded


PREV = "prevTokenValue-aaaabbbbccccdddd"


@pytest.mark.parametrize("fmt, key, content", [
    ("env", "TIFLUX_API_TOKEN", "TIFLUX_API_TOKEN=%s\nAPP=1\nTIFLUX_API_TOKEN='%s'\n"),
    ("ini", "tiflux.token", "[tiflux]\ntoken = %s\nurl = u\ntoken = %s\n"),
    ("json", "tiflux.token", '{"tiflux": {"token": "%s"},\n "tiflux": {"url": "u", "token": "%s"}}\n'),
    ("yaml", "tiflux.token", "tiflux:\n  token: %s\n  url: u\n  token: \"%s\"\n"),
])
def test_diff_hides_shadowed_duplicates(run_module, tmp_path, fmt, key, content):
    # Readers take the last one; the earlier one is an old token too and must not show as context.
    path = tmp_path / "config"
    path.write_text(content % (PREV, OLD))
    for state in ("present", "absent"):
        result, out = push(run_module, path, fmt=fmt, key=key, check_mode=True, diff=True, state=state)
        assert PREV not in out and OLD not in out and NEW not in out
        assert "<token %s>" % fingerprint(PREV) in result["diff"]["before"]
        assert result["previous_fingerprint"] == fingerprint(OLD)


def test_a_short_placeholder_is_hidden_in_the_diff_and_garbles_nothing(run_module, tmp_path):
    # "x" as the old value: masking it everywhere would turn paths and neighbours into stars.
    directory = tmp_path / "x_dir"
    directory.mkdir()
    path = directory / "tiflux.env"
    path.write_text("# set TIFLUX_API_TOKEN before starting\nTIFLUX_API_TOKEN=x\nEXTRA=xyz\n")
    result, out = push(run_module, path, diff=True)
    assert result["path"] == str(path) and "*" not in out
    assert result["diff"]["before"] == ("# set TIFLUX_API_TOKEN before starting\nTIFLUX_API_TOKEN=<token %s>\nEXTRA=xyz\n"
                                        % fingerprint("x"))
    assert result["diff"]["after"] == ("# set TIFLUX_API_TOKEN before starting\nTIFLUX_API_TOKEN=<token %s>\nEXTRA=xyz\n"
                                       % fingerprint(NEW))


def test_diff_fingerprint_of_an_escaped_old_token_is_its_value(run_module, tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"tiflux": {"token": "%s\\u002d%s"}}\n' % tuple(OLD.split("-", 1)))
    result, out = push(run_module, path, fmt="json", key="tiflux.token", diff=True, check_mode=True)
    assert result["previous_fingerprint"] == fingerprint(OLD)
    assert result["diff"]["before"] == '{"tiflux": {"token": "<token %s>"}}\n' % fingerprint(OLD)


def test_an_empty_value_is_shown_as_it_is(run_module, tmp_path):
    path = tmp_path / "tiflux.env"
    path.write_text("TIFLUX_API_TOKEN=\nA=1\n")
    result, _out = push(run_module, path, diff=True, check_mode=True)
    assert result["diff"]["before"] == "TIFLUX_API_TOKEN=\nA=1\n"
    assert result["previous_fingerprint"] is None


D1 = "earlierDuplicate-0123456789abcdefXYZ"


def test_an_earlier_duplicate_is_masked_wherever_it_appears(run_module, tmp_path):
    path = tmp_path / "tiflux.env"
    path.write_text("TIFLUX_API_TOKEN=%s\nLEGACY=%s\nTIFLUX_API_TOKEN=%s\n" % (D1, D1, OLD))
    result, out = push(run_module, path, diff=True, check_mode=True)
    assert D1 not in out and OLD not in out
    assert "LEGACY=<token %s>" % fingerprint(D1) in result["diff"]["before"]


def test_validate_output_names_earlier_duplicates_by_fingerprint(run_module, tmp_path):
    path = tmp_path / "tiflux.env"
    original = "TIFLUX_API_TOKEN=%s\nTIFLUX_API_TOKEN=%s\n" % (D1, OLD)
    path.write_text(original)
    result, out = push(run_module, path, validate="sh -c 'cat \"$1\"; exit 1' _ %s", backup=True)
    assert result["failed"] is True and result["changed"] is False
    assert D1 not in out and OLD not in out and NEW not in out
    assert fingerprint(D1) in result["msg"]
    assert path.read_text() == original
    assert sorted(os.listdir(str(tmp_path))) == ["tiflux.env"], "no backup of a file left as it was, no temp file"


def test_a_missing_token_names_the_file(run_module, tmp_path):
    path = tmp_path / "tiflux.env"
    path.write_text("A=1\n")
    result, _out = run_module(main, dict(path=str(path), format="env", key="TIFLUX_API_TOKEN"))  # no token at all
    assert result["failed"] is True and str(path) in result["msg"] and "missing" in result["msg"]
    assert path.read_text() == "A=1\n"


def test_bad_owner_leaves_the_original_file(run_module, tmp_path):
    # owner, group and mode are set on the temp file before the rename: a bad one writes nothing
    path = tmp_path / "tiflux.env"
    path.write_text("TIFLUX_API_TOKEN=%s\n" % OLD)
    result, out = push(run_module, path, owner="no-such-user-tiflux")
    assert result["failed"] and not result.get("rolled_back") and result["changed"] is False
    assert "no-such-user-tiflux" in result["msg"] and "unchanged" in result["msg"] and "\n" not in result["msg"]
    assert path.read_text() == "TIFLUX_API_TOKEN=%s\n" % OLD
    assert NEW not in out and OLD not in out
    assert sorted(os.listdir(str(tmp_path))) == ["tiflux.env"]


def test_bad_probe_fails_before_anything_is_written(run_module, tmp_path):
    path = tmp_path / "tiflux.env"
    path.write_text("TIFLUX_API_TOKEN=%s\n" % OLD)
    result, _out = push(run_module, path, verify=True, probes=["users/me"])
    assert result["failed"] and "not an API path" in result["msg"] and "\n" not in result["msg"]
    assert path.read_text() == "TIFLUX_API_TOKEN=%s\n" % OLD


def test_failed_backup_leaves_no_empty_copy(run_module, tmp_path, monkeypatch):
    def no_space(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_io.os, "fsync", no_space)  # the first fsync of a push is its backup's
    path = tmp_path / "tiflux.env"
    path.write_text("TIFLUX_API_TOKEN=%s\n" % OLD)
    result, _out = push(run_module, path, backup=True)
    assert result["failed"] and "cannot back up" in result["msg"] and "no space left" in result["msg"]
    assert sorted(os.listdir(str(tmp_path))) == ["tiflux.env"]
    assert path.read_text() == "TIFLUX_API_TOKEN=%s\n" % OLD


# -- what another user could have planted ----------------------------------------------------------

def test_a_link_another_user_planted_in_a_sticky_directory_is_not_followed(run_module, other_user, open_dir, tmp_path):
    victim = tmp_path / "victim"  # e.g. a file the attacker can read, or a system file
    victim.write_text("TIFLUX_API_TOKEN=x\n")
    link = open_dir / "tiflux.env"
    link.symlink_to(victim)
    other_user.own(link)
    result, out = push(run_module, link, backup=True)
    assert result["failed"] and other_user.name in result["msg"] and "follow: true" in result["msg"]
    assert "\n" not in result["msg"] and NEW not in out
    assert victim.read_text() == "TIFLUX_API_TOKEN=x\n" and os.path.islink(str(link))
    assert names_in(open_dir) == ["tiflux.env"] and names_in(tmp_path) == sorted(["shared", "victim"])
    result, _out = push(run_module, link, follow=True)
    assert result["changed"] and result["real_path"] == str(victim) and NEW in victim.read_text()


def test_a_file_another_user_created_in_a_sticky_directory_is_not_written(run_module, other_user, open_dir):
    planted = open_dir / "tiflux.env"
    planted.write_text("TIFLUX_API_TOKEN=x\n")
    os.chmod(str(planted), 0o644)
    other_user.own(planted)
    result, out = push(run_module, planted)
    assert result["failed"] and "owned by %s" % other_user.name in result["msg"] and NEW not in out
    assert planted.read_text() == "TIFLUX_API_TOKEN=x\n"
    # trusted explicitly: written, and like ansible.builtin.copy the file keeps its owner
    result, _out = push(run_module, planted, follow=True)
    assert result["changed"] and os.stat(str(planted)).st_uid == other_user.uid


def test_a_new_file_in_a_sticky_directory_is_ours_and_private(run_module, open_dir):
    result, _out = push(run_module, open_dir / "new.env")
    st = os.stat(str(open_dir / "new.env"))
    assert result["created"] is True and st.st_uid == os.geteuid() and stat.S_IMODE(st.st_mode) == 0o600


def test_create_dirs_under_umask_000_makes_private_directories(run_module, tmp_path):
    old = os.umask(0)
    try:
        result, _out = push(run_module, tmp_path / "a" / "b" / "tiflux.env", create_dirs=True)
        other, _out = push(run_module, tmp_path / "c" / "tiflux.env", create_dirs=True, dir_mode="0750")
    finally:
        os.umask(old)
    assert result["changed"] and result["created"] and other["created"]
    assert [stat.S_IMODE(os.stat(str(d)).st_mode) for d in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "c")] == [0o700, 0o700, 0o750]
    assert stat.S_IMODE(os.stat(str(tmp_path / "a" / "b" / "tiflux.env")).st_mode) == 0o600


def test_created_says_whether_the_file_was_made(run_module, tmp_path):
    path = tmp_path / "tiflux.env"
    assert push(run_module, path, check_mode=True)[0]["created"] is True and not path.exists()
    assert push(run_module, path)[0]["created"] is True
    assert push(run_module, path, token=OLD)[0]["created"] is False


def test_an_append_while_validate_runs_is_kept_and_the_push_fails_saying_so(run_module, tmp_path):
    path = tmp_path / "tiflux.env"
    path.write_text("TIFLUX_API_TOKEN=%s\n" % OLD)
    result, out = push(run_module, path, backup=True, validate="sh -c 'echo OPERATOR=1 >> %s' %%s" % path)
    assert result["failed"] and "changed by someone else" in result["msg"] and result["changed"] is False
    assert path.read_text() == "TIFLUX_API_TOKEN=%s\nOPERATOR=1\n" % OLD
    assert names_in(tmp_path) == ["tiflux.env"] and NEW not in out


def test_validate_output_with_part_of_a_token_is_masked(run_module, tmp_path):
    path = tmp_path / "tiflux.env"
    path.write_text("TIFLUX_API_TOKEN=%s\n" % OLD)
    # a validator that prints 40 characters of the file: 23 of them are the token's
    result, out = push(run_module, path, validate="sh -c 'head -c 40 \"$1\"; exit 1' _ %s")
    assert result["failed"] and "rc=1" in result["msg"]
    for token in (OLD, NEW):
        assert not [i for i in range(len(token) - 11) if token[i:i + 12] in out], "a run of 12 characters of a token"
    assert "<part of token %s>" % fingerprint(NEW) in result["msg"]


@pytest.mark.parametrize("token, kind", [(12345, "a number"), ([NEW], "a list"), ({"v": NEW}, "a dict"), ("a" * 10240, "10240 characters")])
def test_a_token_that_is_not_a_short_string_is_refused(run_module, tmp_path, token, kind):
    path = tmp_path / "tiflux.env"
    path.write_text("TIFLUX_API_TOKEN=%s\n" % OLD)
    result, out = push(run_module, path, token=token)
    assert result["failed"] is True
    assert "token must be a string" in result["msg"] or "at most 4096" in result["msg"]
    assert kind in result["msg"] and "\n" not in result["msg"] and str(path) in result["msg"]
    assert path.read_text() == "TIFLUX_API_TOKEN=%s\n" % OLD and NEW not in out


def names_in(directory):
    return sorted(os.listdir(str(directory)))


def test_absent_on_a_missing_directory_has_nothing_to_do(run_module, tmp_path):
    result, _out = push(run_module, tmp_path / "gone" / "tiflux.env", token=None, state="absent")
    assert result["changed"] is False and "failed" not in result and not (tmp_path / "gone").exists()
