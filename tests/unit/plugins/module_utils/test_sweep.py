# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The old-token sweep on real files in temp directories."""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile

import pytest

from ansible.module_utils import basic

from ansible_collections.tokenops.tiflux.plugins.module_utils import _io, _sweep
from ansible_collections.tokenops.tiflux.plugins.module_utils._token import fingerprint

OLD = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiIsImlhdCI6MTcwMDAwMDAwMH0.b2xkLXNpZ25hdHVyZS0xMjM0"
ROTATE_OLD = "tFx-legacy-7Q2mZ9pK4vL8xR3nW6yB1cD5"
NEW = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiIsImlhdCI6MTgwMDAwMDAwMH0.bmV3LXNpZ25hdHVyZS05ODc2"
SECRETS = {fingerprint(OLD): OLD, fingerprint(ROTATE_OLD): ROTATE_OLD}
FP = fingerprint(OLD)


def assert_no_secret(result):
    """Neither a whole secret nor any 12 characters of one in the result's repr or JSON."""
    for text in (repr(result), json.dumps(result)):
        for value in (OLD, ROTATE_OLD):
            for i in range(len(value) - _sweep.NAME_RUN + 1):
                assert value[i:i + _sweep.NAME_RUN] not in text, "part of a secret in the result"


def run(paths, secrets=None, **kwargs):
    result = _sweep.sweep([str(p) for p in paths], SECRETS if secrets is None else secrets, **kwargs)
    assert_no_secret(result)
    json.dumps(result)  # a module result
    return result


def write(path, text, mode=0o644):
    path = str(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(text.encode() if isinstance(text, str) else text)
    os.chmod(path, mode)
    return path


def hit_paths(result, fp=FP):
    return sorted(h["path"] for h in result["hits"] if h["fingerprint"] == fp)


def stray_tree(root, token):
    """Copies of a token where integrations nobody listed keep one."""
    return [
        write(root / "opt" / "glpi-sync" / ".env", "URL_TIFLUX=https://api.tiflux.com/api/v2\nTOKEN_TIFLUX = %s\n" % token),
        write(root / "srv" / "helpdesk" / "docker-compose.yml",
              "services:\n  bridge:\n    environment:\n      - TIFLUX_API_TOKEN=%s\n" % token),
        write(root / "etc" / "cron.d" / "tiflux-report",
              "*/5 * * * * root curl -s -H 'Authorization: Bearer %s' https://api.tiflux.com/api/v2/tickets\n" % token),
        write(root / "opt" / "desk" / "conf" / "config.json", '{"token": "%s", "url": "x"}\n' % token),
    ]


def test_finds_the_token_in_stray_files(tmp_path):
    expected = stray_tree(tmp_path, OLD)
    write(tmp_path / "etc" / "motd", "welcome\n")
    result = run([tmp_path / "etc", tmp_path / "opt", tmp_path / "srv"])
    assert hit_paths(result) == sorted(expected)
    assert all(h["found_in"] == "content" for h in result["hits"])
    assert result["complete"] is True and result["cut_short"] is None
    assert result["files"] == 5 and result["hits_total"] == 4
    assert result["paths"] == [str(tmp_path / d) for d in ("etc", "opt", "srv")]


def test_each_secret_is_named_by_its_own_fingerprint(tmp_path):
    env = write(tmp_path / "a" / "both.env", "A=%s\nB=%s\n" % (OLD, ROTATE_OLD))
    result = run([tmp_path])
    assert sorted((h["path"], h["fingerprint"]) for h in result["hits"]) == sorted(
        [(env, FP), (env, fingerprint(ROTATE_OLD))])


def test_clean_tree_has_no_hit(tmp_path):
    stray_tree(tmp_path, NEW)
    result = run([tmp_path])
    assert result["hits"] == [] and result["complete"] is True
    assert result["files"] == 4 and result["bytes"] > 0


def test_symlinked_file_and_directory_are_not_followed(tmp_path):
    outside = tmp_path / "outside"
    secret_file = write(outside / "secret.env", "TOKEN=%s\n" % OLD)
    swept = tmp_path / "swept"
    swept.mkdir()
    os.symlink(secret_file, str(swept / "linked.env"))
    os.symlink(str(outside), str(swept / "linked-dir"))
    result = run([swept])
    assert result["hits"] == [] and result["skipped"]["symlink"] == 2
    # a listed path that is a link is resolved once: the person named it
    alias = tmp_path / "alias"
    os.symlink(str(outside), str(alias))
    result = run([alias])
    assert hit_paths(result) == [secret_file] and result["paths"] == [str(outside)]


def test_binary_files_are_skipped(tmp_path):
    write(tmp_path / "cache.db", b"SQLite format 3\0" + OLD.encode())
    blob = write(tmp_path / "blob", b"\x7fELF\x02\x01\x01\0" + OLD.encode() + b"x" * 3 * _sweep.BINARY_CHECK_BYTES)
    write(tmp_path / "bundle.jar", OLD)  # skipped by its name, not read
    write(tmp_path / "config.h", '#define TOKEN "%s"\n' % OLD)
    late_nul = write(tmp_path / "late-nul.conf", b"x" * _sweep.BINARY_CHECK_BYTES + b"\0" + OLD.encode())
    script = write(tmp_path / "sync.py", 'TOKEN = "%s"\n' % OLD)
    result = run([tmp_path])
    assert hit_paths(result) == [late_nul, script], "only the first 8 KiB decide; scripts are read"
    assert result["skipped"]["binary"] == 1 and result["skipped"]["suffix"] == 3
    assert os.path.getsize(blob) > _sweep.BINARY_CHECK_BYTES
    assert result["bytes"] == _sweep.BINARY_CHECK_BYTES + os.path.getsize(late_nul) + os.path.getsize(script), \
        "a binary file is left after its first block, a skipped suffix is not opened"


def test_files_over_the_size_limit_are_skipped(tmp_path):
    line = ("TOKEN=%s\n" % OLD).encode()
    at_limit = write(tmp_path / "at-limit.env", line + b"#" * (_sweep.MAX_FILE_BYTES - len(line)))
    write(tmp_path / "over-limit.env", line + b"#" * (_sweep.MAX_FILE_BYTES - len(line) + 1))
    result = run([tmp_path])
    assert os.path.getsize(at_limit) == _sweep.MAX_FILE_BYTES
    assert hit_paths(result) == [at_limit] and result["skipped"]["large"] == 1
    small = run([tmp_path], max_file_bytes=len(line) - 1)
    assert small["hits"] == [] and small["skipped"]["large"] == 2


@pytest.fixture
def module(monkeypatch):
    args = {"ANSIBLE_MODULE_ARGS": {"_ansible_remote_tmp": "/tmp", "_ansible_keep_remote_files": False}}
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", json.dumps(args).encode())
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)
    return basic.AnsibleModule(argument_spec={})


def leave_temp_file(module, path, data):
    """What a run killed with kill -9 in the middle of _io.write leaves behind."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child is killed by its validate command
        try:
            _io.write(module, _io.read(path), data, validate="sh -c 'kill -9 $PPID' _ %s")
        finally:
            os._exit(3)
    _pid, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def test_backups_and_temp_files_of_the_collection_are_skipped(module, tmp_path):
    target = write(tmp_path / "app" / "tiflux.env", "TIFLUX_TOKEN=%s\n" % OLD)
    backup = _io.backup(module, _io.read(target))
    leave_temp_file(module, target, ("TIFLUX_TOKEN=%s\n" % OLD).encode())
    temps = [n for n in os.listdir(str(tmp_path / "app")) if _io.TEMP_MARK in n]
    assert os.path.exists(backup) and len(temps) == 1, "the real names this collection writes"
    assert OLD.encode() in open(backup, "rb").read()
    # copies that are not ours are found: somebody made them and something may read them
    others = [write(tmp_path / "app" / name, "TIFLUX_TOKEN=%s\n" % OLD)
              for name in ("tiflux.env~", "tiflux.env.bak", "tiflux.env.1234.2024-05-01~")]
    result = run([tmp_path], exclude=[target])
    assert hit_paths(result) == sorted(others)
    assert result["skipped"]["own"] == 2 and result["skipped"]["excluded"] == 1


@pytest.mark.parametrize("name, ours", [
    ("config.json.12345.2026-11-29@03:33:07~", True),
    ("config.json.2026-11-29@03:33:07.0123456789ab~", True),
    (".config.json.k2j4h5.tiflux-tmp", True),
    (".config.json.tiflux-journal", True),
    ("config.json.2026-11-29@03:33:07.0123456789AB~", False),
    ("tiflux-journal", False),
    ("config.json.2026-11-29@03:33:07~", False),
    ("config.json.12345.2026-11-29@03:33:07", False),
    ("config.json.tiflux-tmp.old", False),
    ("config.json~", False),
])
def test_own_file_patterns(name, ours):
    assert _sweep.own_file(name) is ours


def test_excluded_targets_are_skipped_by_real_path(tmp_path):
    real = write(tmp_path / "srv" / "app" / "config.json", '{"token": "%s"}' % OLD)
    link = tmp_path / "etc" / "app.json"
    link.parent.mkdir()
    os.symlink(real, str(link))
    copy = write(tmp_path / "srv" / "app" / "config.json.orig", '{"token": "%s"}' % OLD)
    write(tmp_path / "srv" / "other" / "deploy" / "x.env", "T=%s" % OLD)
    result = run([tmp_path / "srv"], exclude=[str(link), str(tmp_path / "srv" / "other")])
    assert hit_paths(result) == [copy]
    assert result["skipped"]["excluded"] == 2


@pytest.fixture
def shared_tmp():
    """A temp dir another user can enter (pytest's own is 0700 under /tmp/pytest-of-USER)."""
    path = tempfile.mkdtemp(prefix="tiflux-sweep-")
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def sweep_as_unprivileged(paths):
    """Run the sweep as a user without rights to the 0600 files (nobody when the tests run as root)."""
    if os.geteuid() != 0:
        return run(paths)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 1
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            with os.fdopen(write_end, "w") as out:
                json.dump(_sweep.sweep(paths, SECRETS), out)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        data = pipe.read()
    _pid, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    result = json.loads(data)
    assert_no_secret(result)
    return result


def test_unreadable_files_and_directories_are_counted_not_fatal(shared_tmp):
    root = os.path.join(shared_tmp, "etc")
    write(os.path.join(root, "a-private.env"), "T=%s\n" % OLD, mode=0o600)
    write(os.path.join(root, "locked", "b.env"), "T=%s\n" % OLD)
    os.chmod(os.path.join(root, "locked"), 0o700)
    readable = write(os.path.join(root, "z-public.env"), "T=%s\n" % OLD)
    if os.geteuid() != 0:
        os.chmod(os.path.join(root, "a-private.env"), 0o000)
        os.chmod(os.path.join(root, "locked"), 0o000)
    try:
        result = sweep_as_unprivileged([root, os.path.join(shared_tmp, "missing"), os.path.join(root, "locked", "b.env")])
    finally:
        os.chmod(os.path.join(root, "locked"), 0o755)
    assert hit_paths(result) == [readable]
    assert result["unreadable"] == 3 and result["files"] == 1
    assert result["complete"] is True
    assert result["not_searched"] == [
        dict(path=os.path.join(shared_tmp, "missing"), reason="does not exist"),
        dict(path=os.path.join(root, "locked", "b.env"), reason="cannot be read (Permission denied)"),
    ]


def counting_clock(step=1.0, on_tick=None):
    ticks = itertools.count()

    def clock():
        n = next(ticks)
        if on_tick:
            on_tick(n)
        return n * step
    return clock


def test_budget_used_up_is_stated(tmp_path):
    for i in range(20):
        write(tmp_path / "opt" / ("f%02d.conf" % i), "x=%d\n" % i)
    for i in range(3):
        write(tmp_path / "opt" / ("sub%d" % i) / "x.env", "T=%s\n" % OLD)
    result = run([tmp_path / "opt"], budget_seconds=5, clock=counting_clock())
    assert result["complete"] is False and result["hits"] == []
    assert 0 < result["files"] < 20
    assert result["cut_short"] == "time budget of 5 s used up after %d files under %s; 3 directories not searched, under %s" % (
        result["files"], tmp_path / "opt", tmp_path / "opt")
    assert result["seconds"] > 5
    assert run([tmp_path / "opt"], budget_seconds=100, clock=counting_clock())["complete"] is True


def test_budget_goes_to_shallow_and_config_like_files_first(tmp_path):
    for i in range(20):
        write(tmp_path / "top" / ("n%02d.log" % i), "nothing\n")
    shallow = write(tmp_path / "top" / "zz.env", "T=%s\n" % OLD)
    write(tmp_path / "top" / "d1" / "d2" / "deep.env", "T=%s\n" % OLD)
    # clock ticks: the start, listing the directory, reading the first file; the next check is over budget
    result = run([tmp_path / "top"], budget_seconds=2.5, clock=counting_clock())
    assert result["files"] == 1 and hit_paths(result) == [shallow], "the config-like name first, whatever the order on disk"
    assert "1 directories not searched" in result["cut_short"]
    write(tmp_path / "sizes" / "big.conf", "T=%s\n%s" % (OLD, "#" * 5000))
    for i in range(5):
        write(tmp_path / "sizes" / ("s%d.conf" % i), "x=1\n")
    result = run([tmp_path / "sizes"], budget_seconds=6.5, clock=counting_clock())
    assert result["files"] == 5 and result["bytes"] == 20 and result["hits"] == [], "smallest first"
    assert _sweep.rank("docker-compose.yml") == _sweep.rank(".env.production") == _sweep.rank("crontab") == 0
    assert _sweep.rank("README") == _sweep.rank("main.c") == 1


def test_total_read_limit_cuts_the_sweep_short(tmp_path):
    for i in range(4):
        write(tmp_path / ("f%d.conf" % i), "#" * 1000)
    result = run([tmp_path], max_total_bytes=1500)
    assert result["complete"] is False and result["files"] == 2
    assert result["cut_short"] == "read limit of 1500 bytes used up after 2 files under %s" % tmp_path


def test_short_secrets_are_not_searched(tmp_path):
    write(tmp_path / "app.env", "PASSWORD=changeme\nTOKEN=%s\n" % OLD)
    result = run([tmp_path], secrets={fingerprint("changeme"): "changeme", "x": "  short-value  ", FP: OLD + "\n"})
    assert hit_paths(result) == [str(tmp_path / "app.env")] and len(result["hits"]) == 1
    assert result["skipped_short"] == 2
    nothing = run([tmp_path], secrets={fingerprint("changeme"): "changeme"})
    assert nothing["hits"] == [] and nothing["files"] == 0 and nothing["skipped_short"] == 1


def test_secrets_may_be_a_list_and_are_named_by_their_own_fingerprint(tmp_path):
    write(tmp_path / "a.env", "T=%s\n" % OLD)
    result = run([tmp_path], secrets={"sha256:wrong-key": OLD})
    assert [h["fingerprint"] for h in result["hits"]] == [FP]
    assert [h["fingerprint"] for h in run([tmp_path], secrets=[OLD, OLD.encode()])["hits"]] == [FP]


def test_a_token_in_a_path_is_hidden_and_is_a_hit(tmp_path):
    named = write(tmp_path / "keys" / ("old-%s.txt" % OLD), "nothing in here\n")
    part_dir = tmp_path / ("cache-" + OLD[20:36])
    inside = write(part_dir / "client.env", "TIFLUX_TOKEN=%s\n" % OLD)
    result = run([tmp_path, tmp_path / ("listed-" + ROTATE_OLD)])
    hidden = "<hidden: %s>" % FP
    assert sorted((h["path"], h["found_in"]) for h in result["hits"]) == sorted([
        (str(tmp_path / hidden / "client.env"), "content"),  # a part of a token in a name is hidden, not a hit
        (str(tmp_path / "keys" / hidden), "name"),  # a whole token in a name is a copy of it
    ])
    assert result["not_searched"] == [dict(path=str(tmp_path / ("<hidden: %s>" % fingerprint(ROTATE_OLD))),
                                           reason="does not exist")]
    assert os.path.exists(named) and os.path.exists(inside)


def test_obvious_spellings_are_found_base64_is_not(tmp_path):
    legacy = "tFx/legacy+token=" + "A" * 20
    escaped = write(tmp_path / "php.json", '{"token":"%s"}' % legacy.replace("/", "\\/"))
    url = write(tmp_path / "hook.conf", "url=https://example.com/hook?token=tFx%2Flegacy%2Btoken%3D" + "A" * 20)
    write(tmp_path / "b64.conf", "auth=%s\n" % base64.b64encode(legacy.encode()).decode())
    result = run([tmp_path], secrets=[legacy])
    assert hit_paths(result, fingerprint(legacy)) == sorted([escaped, url])
    assert legacy not in json.dumps(result)
    assert _sweep.spellings(OLD) == [OLD.encode()], "a JWT has one spelling: one search per file"


def test_dependency_trees_and_toolchains_are_pruned_unless_listed(tmp_path):
    for sub in ("node_modules/pkg", ".git", "lib/python3.11/site-packages/x", "jdk-17.0.2/conf", ".snapshots/1",
                "sdk/include"):
        write(tmp_path / "opt" / "app" / sub / "leak.env", "T=%s\n" % OLD)
    real = write(tmp_path / "opt" / "app" / "app.env", "T=%s\n" % OLD)
    result = run([tmp_path / "opt"])
    assert hit_paths(result) == [real] and result["skipped"]["pruned"] == 6
    listed = tmp_path / "opt" / "app" / "node_modules"
    assert hit_paths(run([listed])) == [str(listed / "pkg" / "leak.env")]


def test_listed_paths_overlap_each_file_once(tmp_path):
    env = write(tmp_path / "etc" / "app" / "x.env", "T=%s\n" % OLD)
    result = run([tmp_path / "etc" / "app", tmp_path / "etc", tmp_path / "etc" / "app" / "x.env", tmp_path / "etc"])
    assert hit_paths(result) == [env] and result["files"] == 1
    assert result["paths"] == [str(tmp_path / "etc" / "app"), str(tmp_path / "etc"), env]


def test_a_listed_regular_file_is_searched(tmp_path):
    env = write(tmp_path / "crontab", "* * * * * curl -H 'Authorization: Bearer %s'\n" % OLD)
    assert hit_paths(run([env])) == [env]


@pytest.mark.parametrize("path, reason", [
    ("/proc", "pseudo file system"),
    ("/sys/kernel", "pseudo file system"),
    ("/dev", "pseudo file system"),
    ("relative/dir", "not an absolute path"),
])
def test_paths_never_searched(path, reason):
    result = run([path])
    assert result["not_searched"][0]["path"] == path and result["not_searched"][0]["reason"].startswith(reason)
    assert result["files"] == 0 and result["paths"] == []


def test_fifo_and_socket_are_not_opened(tmp_path):
    os.mkfifo(str(tmp_path / "pipe.env"))
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(tmp_path / "agent.sock"))
    env = write(tmp_path / "real.env", "T=%s\n" % OLD)
    try:
        result = run([tmp_path])
    finally:
        listener.close()
    assert hit_paths(result) == [env] and result["skipped"]["special"] == 2


def swap_on_first_read(path, replace):
    """A clock that swaps the listed file for something else when the sweep is about to read it."""
    def on_tick(n):
        if n == 2:  # the start, the root's listing, then the first file
            os.unlink(path)
            replace(path)
    return counting_clock(step=0.0, on_tick=on_tick)


@pytest.mark.parametrize("kind", ["symlink", "fifo"])
def test_a_file_replaced_by_a_link_or_fifo_after_listing_is_not_read(tmp_path, kind):
    secret = write(tmp_path / "outside" / "secret.env", "T=%s\n" % OLD)
    listed = write(tmp_path / "swept" / "a.env", "clean\n")
    # a FIFO would block the open without O_NONBLOCK
    replace = (lambda p: os.symlink(secret, p)) if kind == "symlink" else os.mkfifo

    def blocked(_signum, _frame):
        raise AssertionError("the sweep blocked on opening a FIFO")
    previous = signal.signal(signal.SIGALRM, blocked)
    signal.alarm(20)
    try:
        result = run([tmp_path / "swept"], clock=swap_on_first_read(listed, replace))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert result["hits"] == [] and result["skipped"]["changed"] == 1 and result["files"] == 0


def test_a_directory_reached_through_a_link_swapped_in_after_listing_is_not_searched(tmp_path):
    write(tmp_path / "outside" / "b" / "secret.env", "T=%s\n" % OLD)
    swept = tmp_path / "swept"
    write(swept / "a" / "b" / "clean.env", "clean\n")

    def swap_parent(n):
        if n == 3:  # the start, listing swept, listing swept/a; then swept/a/b is next
            os.rename(str(swept / "a"), str(tmp_path / "moved"))
            os.symlink(str(tmp_path / "outside"), str(swept / "a"))
    result = run([swept], clock=counting_clock(step=0.0, on_tick=swap_parent))
    assert result["hits"] == [] and result["skipped"]["changed"] == 1 and result["files"] == 0


def test_a_file_saved_over_after_listing_is_read_as_it_is_now(tmp_path):
    listed = write(tmp_path / "a.env", "clean\n")
    result = run([tmp_path], clock=swap_on_first_read(listed, lambda p: write(p, "T=%s\n" % OLD)))
    assert hit_paths(result) == [listed]


def test_a_file_gone_after_listing_is_counted(tmp_path):
    listed = write(tmp_path / "a.env", "clean\n")
    result = run([tmp_path], clock=swap_on_first_read(listed, lambda p: None))
    assert result["hits"] == [] and result["skipped"]["changed"] == 1 and result["complete"] is True


@pytest.fixture
def mounted(tmp_path):
    """A tmpfs mounted inside the swept tree (another file system), when this user may mount."""
    point = tmp_path / "data" / "mnt"
    point.mkdir(parents=True)
    if os.geteuid() != 0 or subprocess.call(["mount", "-t", "tmpfs", "-o", "size=1m", "tiflux-sweep", str(point)],
                                            stderr=subprocess.DEVNULL) != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield point
    finally:
        subprocess.call(["umount", str(point)])


def test_another_file_system_is_not_entered_unless_listed(tmp_path, mounted):
    inside = write(mounted / "x.env", "T=%s\n" % OLD)
    result = run([tmp_path / "data"])
    assert result["hits"] == [] and result["skipped"]["other_fs"] == 1
    result = run([tmp_path / "data", mounted])
    assert hit_paths(result) == [inside] and result["skipped"]["other_fs"] == 0


def test_hits_are_capped_in_the_output(tmp_path, monkeypatch):
    monkeypatch.setattr(_sweep, "MAX_HITS", 3)
    for i in range(5):
        write(tmp_path / ("%d.env" % i), "T=%s\n" % OLD)
    result = run([tmp_path])
    assert len(result["hits"]) == 3 and result["hits_total"] == 5


def test_with_target_dirs_puts_the_targets_directories_first():
    assert _sweep.with_target_dirs(list(_sweep.DEFAULT_PATHS), ["/etc/app/x.env", "/opt/y/c.json", "/etc/app/z"]) == [
        "/etc/app", "/opt/y", "/etc", "/opt", "/srv", "/usr/local/etc"]
