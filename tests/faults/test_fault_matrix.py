# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fault matrix of the rotate role: API faults at preflight / push-verify / confirm, disk full,
read-only file system, kill -9 mid-write.

Every case asserts: each host ends either fully on the new token and verified, or byte-identical to
before (sha256 + mode + owner of every target); no `*tiflux-tmp*` file is left (nor any other stray
file but complete backups); the report JSON in rotate_report_dir names each host's status; a 429 with
Retry-After 1 never fails a host. Hosts are local-connection hosts from tests/perf/fleet.py.
"""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import subprocess
import time

import pytest

from conftest import F  # pylint: disable=import-error

HERE = os.path.dirname(os.path.abspath(__file__))
ROTATE_ENV = os.path.join(HERE, "playbooks", "rotate_env.yml")
CONFIRM = "tokenops.tiflux.confirm"
ROTATE = "tokenops.tiflux.rotate"
N = 3


def closed_port():
    """A loopback port nobody listens on (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


FAULTS = {
    "401": dict(kind="status", status=401, count=-1),
    "403": dict(kind="status", status=403, count=-1),
    "500": dict(kind="status", status=500, count=-1),
    "429": dict(kind="rate_limit", retry_after=1, count=N),
    "429-2s": dict(kind="rate_limit", retry_after=2, count=N),
    "timeout": dict(kind="latency", latency_ms=5000, count=-1),
}


def fault_for(fault, when):
    """The fault to arm; one 429 is enough at the preflight (one client waits for each in turn)."""
    if fault.startswith("429") and when == "preflight":
        return dict(FAULTS[fault], count=1)
    return FAULTS[fault]


def check_hosts(rot, before, good_status, expect_good):
    """Each host fully on the new token (and reported good and verified) or byte-identical to before."""
    report = rot.report("confirm" if good_status == "confirmed" else "deploy")
    statuses = {}
    for host in rot.fleet.hosts:
        now = rot.fleet.state(host)
        on_new = rot.fleet.on_token(host, rot.new)
        row = (report or {}).get("hosts", {}).get(host)
        statuses[host] = row["status"] if row else None
        if on_new and good_status == "rotated":
            assert row is not None and row["status"] in ("rotated", "unchanged") and row["verified"] is True, (host, row)
        else:
            assert now == before[host], "%s is neither fully on the new token nor as it was: %s" % (host, row)
        assert on_new == expect_good or (good_status == "confirmed" and now == before[host]), (host, statuses[host])
        assert rot.fleet.stray_files(host) == [], rot.fleet.stray_files(host)
    assert rot.fleet.temp_files() == []
    return report, statuses


def assert_failed_run(rot):
    assert rot.last["rc"] != 0, rot.last["out"][-3000:]


# The assert's own fail_msg, rendered (not the task's source, which ansible prints with a templating error).
NOTHING_DEPLOYED = re.compile(r"Nothing was deployed\. The new token does not work: (Tiflux|token|no answer|cannot reach|TLS)")
# 500 and timeouts are retried with backoff: fewer retries and a short timeout keep those cases short.
FAST_FAIL = dict(rotate_retries=2, tiflux_timeout=3)


def extra_for(fault):
    return dict(FAST_FAIL) if fault in ("500", "timeout", "refused") else {}


# -- API faults -----------------------------------------------------------------------------------

DEPLOY_CASES = [
    # (fault, when, expectation); slow ones take > 10 s each (retries, timeouts)
    ("401", "preflight", "abort"),
    ("403", "preflight", "abort"),
    ("429", "preflight", "ok"),
    pytest.param("500", "preflight", "abort", marks=pytest.mark.slow),
    pytest.param("timeout", "preflight", "abort", marks=pytest.mark.slow),
    ("refused", "preflight", "abort"),
    ("401", "hosts", "rolled_back"),
    ("403", "hosts", "rolled_back"),
    ("429", "hosts", "ok"),
    ("429-2s", "hosts", "ok"),
    pytest.param("500", "hosts", "rolled_back", marks=pytest.mark.slow),
    pytest.param("timeout", "hosts", "rolled_back", marks=pytest.mark.slow),
    ("refused", "hosts", "rolled_back"),
]


def _ids(prefix, cases):
    values = [c.values if hasattr(c, "marks") else c for c in cases]
    return ["%s-%s-at-%s" % (prefix, v[0], v[1]) for v in values]


@pytest.mark.parametrize("fault,when,expect", DEPLOY_CASES, ids=_ids("deploy", DEPLOY_CASES))
def test_deploy_api_fault(rotation, armed, fault, when, expect):
    rot = rotation
    api_url = "http://127.0.0.1:%d/api/v2" % closed_port() if fault == "refused" and when == "preflight" else None
    rot.make_fleet(N, **({"api_url": api_url} if api_url else {}))
    before = rot.snapshot()
    playbook, extra = ROTATE, extra_for(fault)
    if fault == "refused" and when == "hosts":
        playbook = ROTATE_ENV
        extra["fault_environment"] = {"http_proxy": "http://127.0.0.1:%d" % closed_port(), "no_proxy": ""}
    elif fault != "refused":
        # preflight: from the first request; hosts: after the preflight's two (new + old token)
        armed(0 if when == "preflight" else 2, [fault_for(fault, when)])
    rot.run(playbook, extra=extra)
    counters = rot.sim.control.counters()
    if fault in ("401", "403", "500"):
        assert counters["by_status"].get(fault, 0) >= 1, counters
    if fault.startswith("429"):
        assert counters["by_status"].get("429", 0) >= 1, counters

    report, statuses = check_hosts(rot, before, "rotated", expect == "ok")
    if expect == "ok":
        assert rot.last["rc"] == 0, rot.last["out"][-3000:]
        assert set(statuses.values()) == {"rotated"}, statuses
        assert report["safe_to_revoke"] is True
    elif expect == "abort":
        assert_failed_run(rot)
        assert NOTHING_DEPLOYED.search(rot.last["out"]), rot.last["out"][-3000:]
        assert report is None, "a preflight failure wrote a report: %s" % report
        # the new token was checked once from the controller, never from a host
        assert counters["by_path"].get("/api/v2/users/me", 0) <= 2 * (1 + 2), counters
    else:
        assert_failed_run(rot)
        assert set(statuses.values()) == {"rolled_back"}, statuses
        assert report["safe_to_revoke"] is False
        assert "NOT safe to revoke" in report["verdict"]


CONFIRM_CASES = [
    pytest.param("500", "preflight", "abort", marks=pytest.mark.slow),
    ("429", "preflight", "ok"),
    ("401", "hosts", "not_confirmed"),
    ("403", "hosts", "not_confirmed"),
    ("429", "hosts", "ok"),
    pytest.param("500", "hosts", "not_confirmed", marks=pytest.mark.slow),
    pytest.param("timeout", "hosts", "not_confirmed", marks=pytest.mark.slow),
    ("refused", "hosts", "not_confirmed"),
]


@pytest.mark.parametrize("fault,when,expect", CONFIRM_CASES, ids=_ids("confirm", CONFIRM_CASES))
def test_confirm_api_fault(rotation, armed, fault, when, expect):
    rot = rotation
    rot.make_fleet(N)
    rot.fleet.reset(token=rot.new)  # the deploy phase is done
    rot.sim.control.revoke(token=rot.old)  # the person revoked the old token
    before = rot.snapshot()
    playbook, extra = CONFIRM, extra_for(fault)
    if fault == "refused":
        playbook = ROTATE_ENV
        extra.update(fault_phase="confirm", fault_environment={"http_proxy": "http://127.0.0.1:%d" % closed_port(), "no_proxy": ""})
    else:
        armed(0 if when == "preflight" else 2, [fault_for(fault, when)])
    rot.run(playbook, extra=extra)
    report, statuses = check_hosts(rot, before, "confirmed", True)
    for host in rot.fleet.hosts:
        assert rot.fleet.state(host) == before[host], "confirm changed %s" % host
    if expect == "ok":
        assert rot.last["rc"] == 0, rot.last["out"][-3000:]
        assert set(statuses.values()) == {"confirmed"}, statuses
        assert report["safe_to_revoke"] is True, report["verdict"]
    elif expect == "abort":
        assert_failed_run(rot)
        assert NOTHING_DEPLOYED.search(rot.last["out"]), rot.last["out"][-3000:]
        assert report is None
    else:
        assert_failed_run(rot)
        assert set(statuses.values()) == {"not_confirmed"}, statuses
        assert "NOT complete" in report["verdict"]


def test_canary_failure_stops_the_rollout(rotation, armed):
    """Default serial [1, 25%]: the canary rolls back, the other hosts are never touched and reported not_reached."""
    rot = rotation
    rot.make_fleet(N)
    before = rot.snapshot()
    armed(2, [FAULTS["401"]])
    rot.run(ROTATE, extra=dict(rotate_serial=[1, "25%"]))
    assert_failed_run(rot)
    report, statuses = check_hosts(rot, before, "rotated", False)
    assert statuses == {"h000": "rolled_back", "h001": "not_reached", "h002": "not_reached"}, statuses
    assert [s["host"] for s in report["still_on_old"]] == ["h000", "h001", "h002"]


def test_transient_500_is_retried(rotation, armed):
    """One 500 at each step is retried (backoff), and no host fails."""
    rot = rotation
    rot.make_fleet(N)
    before = rot.snapshot()
    armed(2, [dict(kind="status", status=500, count=N)])
    rot.run(ROTATE, extra=dict(rotate_retries=3))
    assert rot.last["rc"] == 0, rot.last["out"][-3000:]
    _report, statuses = check_hosts(rot, before, "rotated", True)
    assert set(statuses.values()) == {"rotated"}


# -- file system faults ---------------------------------------------------------------------------

def _mount_tmpfs(path, size="32k"):
    os.makedirs(path, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", path], stderr=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (%s)" % proc.stderr.strip())


def _umount(path):
    subprocess.run(["umount", "-l", path], stderr=subprocess.DEVNULL, check=False)


def _fill(directory, leave_pages=0):
    """Fill a tmpfs until ENOSPC, then free `leave_pages` pages."""
    filler = os.path.join(directory, "filler")
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    if leave_pages:
        size = os.path.getsize(filler)
        os.truncate(filler, max(0, size - leave_pages * 4096))
    return filler


@pytest.fixture
def mounted(tmp_path):
    made = []

    def mount(name, size="32k"):
        path = str(tmp_path / "mnt" / name)
        _mount_tmpfs(path, size)
        made.append(path)
        return path
    yield mount
    for path in made:
        _umount(path)


@pytest.mark.parametrize("case", ["disk-full", "disk-full-after-backup", "read-only"])
def test_write_fault_on_second_target(rotation, mounted, case):
    """h000's JSON target lives on a small tmpfs; its env target (written first) must be restored too."""
    if os.geteuid() != 0:
        pytest.skip("needs root for mount")
    rot = rotation
    mnt = mounted("h000")
    rot.make_fleet(N, json_dirs={"h000": mnt})
    before = rot.snapshot()
    filler = None
    if case == "read-only":
        subprocess.run(["mount", "-o", "remount,ro", mnt], check=True)
    else:
        filler = _fill(mnt, leave_pages=1 if case == "disk-full-after-backup" else 0)
    try:
        rot.run(ROTATE)
    finally:
        if case == "read-only":
            subprocess.run(["mount", "-o", "remount,rw", mnt], check=True)
    if filler:
        os.unlink(filler)
    assert_failed_run(rot)
    report = rot.report()
    for host in rot.fleet.hosts:
        if host == "h000":
            assert rot.fleet.state(host) == before[host]
        else:
            assert rot.fleet.on_token(host, rot.new)
        assert rot.fleet.stray_files(host) == [], rot.fleet.stray_files(host)
    assert rot.fleet.temp_files() == []
    assert report["hosts"]["h000"]["status"] == "rolled_back", report["hosts"]["h000"]
    cause = {"read-only": "read-only file system", "disk-full": "no space left", "disk-full-after-backup": "no space left"}[case]
    assert cause in report["hosts"]["h000"]["message"], report["hosts"]["h000"]["message"]
    assert "\n" not in report["hosts"]["h000"]["message"]
    assert [report["hosts"][h]["status"] for h in ("h001", "h002")] == ["rotated", "rotated"]
    assert report["safe_to_revoke"] is False


# -- kill -9 mid-write ----------------------------------------------------------------------------

def _ancestors(pid):
    chain = []
    while pid > 1:
        try:
            with open("/proc/%d/stat" % pid) as handle:
                pid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
        chain.append(pid)
    return chain


def _cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def _find_module_process(marker, module, timeout=60):
    """The AnsiballZ process of `module` that is running a child whose command line holds `marker`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            if marker in _cmdline(int(name)):
                for parent in _ancestors(int(name)):
                    if "AnsiballZ_%s" % module in _cmdline(parent):
                        return parent
        time.sleep(0.1)
    return None


def _kill_marked(marker):
    """kill -9 the processes this test started whose command line holds its unique marker (by pid)."""
    for name in os.listdir("/proc"):
        if name.isdigit() and marker in _cmdline(int(name)) and int(name) != os.getpid():
            try:
                os.kill(int(name), 9)
            except OSError:
                pass


def _run_in_background(rot, playbook, extra):
    data = dict(rotate_new_token=rot.new, rotate_old_token=rot.old, rotate_report_dir=rot.report_dir,
                rotate_api_calls_per_minute=100000, rotate_retries=2, rotate_serial=["100%"])
    data.update(extra)
    varfile = F.write_secret_vars(rot.root, "vars-bg.json", data)
    cmd = [F.ANSIBLE_PLAYBOOK, "-i", rot.fleet.inventory, playbook, "-e", "@" + varfile]
    return subprocess.Popen(cmd, env=F.ansible_env(rot.root), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=rot.root), varfile


def test_kill_token_push_during_validate_then_rerun_sweeps_temp(rotation):
    """kill -9 of token_push while its validate command runs: the file is as before, the temp file is
    left behind (the process had no chance to clean up), and the next run removes it."""
    rot = rotation
    rot.make_fleet(1, json_target=False)
    before = rot.snapshot()
    marker = "sleep 61.%d" % os.getpid()
    playbook = os.path.join(rot.root, "push.yml")
    with open(playbook, "w") as handle:
        handle.write(
            "- hosts: fleet\n  gather_facts: false\n  tasks:\n"
            "    - tokenops.tiflux.token_push:\n"
            "        path: '{{ host_dir }}/tiflux.env'\n        format: env\n        key: TIFLUX_API_TOKEN\n"
            "        token: '{{ rotate_new_token }}'\n"
            "        validate: \"{{ push_validate | default(omit) }}\"\n")
    proc, varfile = _run_in_background(rot, playbook, dict(push_validate="sh -c '%s' %%s" % marker))
    try:
        pid = _find_module_process(marker, "token_push")
        assert pid, "the module never started its validate command"
        temps = rot.fleet.temp_files()
        assert len(temps) == 1, temps  # the temp file exists while validate runs
        os.kill(pid, 9)
        out = proc.communicate(timeout=120)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
        os.unlink(varfile)
    assert proc.returncode != 0, out
    host = rot.fleet.hosts[0]
    assert rot.fleet.state(host) == before[host]
    assert len(rot.fleet.temp_files()) == 1  # what kill -9 leaves
    _kill_marked(marker)  # the orphaned validate command
    # the rerun sweeps the stale temp file and pushes
    rot.run(playbook, old=False)
    assert rot.last["rc"] == 0, rot.last["out"][-3000:]
    assert rot.fleet.temp_files() == [], rot.fleet.temp_files()
    env_path = rot.fleet.targets(host)[0]["path"]
    assert open(env_path, "rb").read() == F.ENV_TEMPLATE.format(token=rot.new).encode()


def test_kill_token_deploy_during_reload_then_rerun_reloads_again(rotation):
    """kill -9 of token_deploy while a reload runs (files written, the integration still on the old token): the
    journal beside the file makes the rerun reload and check again although the files are up to date; while
    that reload fails the verdict is NOT safe, and once it passes every host is on the new token, verified."""
    rot = rotation
    marker = "sleep 62.%d" % os.getpid()
    log, fail, calm = (os.path.join(rot.root, name) for name in ("reloads.log", "reload-fails", "reload-calm"))
    reload_command = "sh -c 'echo reload >> %s; test -e %s && exit 3; test -e %s || %s; true'" % (log, fail, calm, marker)
    rot.make_fleet(2, target_extra={"h000": dict(reload_command=reload_command)})
    before = rot.snapshot()
    proc, varfile = _run_in_background(rot, ROTATE, {})
    try:
        pid = _find_module_process(marker, "token_deploy")
        assert pid, "the module never started the reload command"
        os.kill(pid, 9)
        out = proc.communicate(timeout=120)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
        os.unlink(varfile)
    _kill_marked(marker)
    assert proc.returncode != 0, out
    report = rot.report()
    assert report["hosts"]["h000"]["status"] == "failed", report["hosts"]["h000"]
    assert report["safe_to_revoke"] is False
    # killed after the write: h000 is on the new token, its integration never reloaded; h001 rotated
    assert rot.fleet.on_token("h000", rot.new)
    assert len(open(log).read().split()) == 1

    open(calm, "w").close()
    open(fail, "w").close()  # the integration cannot reload yet
    rot.clear_report()
    rot.run(ROTATE)
    assert rot.last["rc"] != 0, rot.last["out"][-3000:]
    report = rot.report()
    assert report["safe_to_revoke"] is False, "the rerun must not call a host safe before its reload passed"
    assert report["hosts"]["h000"]["status"] not in ("rotated", "unchanged"), report["hosts"]["h000"]
    assert len(open(log).read().split()) == 2, "the reload ran again although the files were up to date"

    os.unlink(fail)
    rot.clear_report()
    rot.run(ROTATE)
    assert rot.last["rc"] == 0, rot.last["out"][-3000:]
    assert len(open(log).read().split()) == 3
    report, _statuses = check_hosts(rot, before, "rotated", True)
    assert "recovered" in [t["status"] for t in report["hosts"]["h000"]["targets"]], report["hosts"]["h000"]
    assert report["safe_to_revoke"] is True
    assert rot.fleet.stray_files("h000") == [], "the journal is cleared once the reload passed"


# -- a host that dies mid-batch (SSH hosts) -------------------------------------------------------

SSH_HOSTS = os.path.join(F.REPO, "tests", "ssh_hosts", "ssh_hosts.sh")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def ssh_fleet(tmp_path):
    """3 real SSH hosts from tests/ssh_hosts/ssh_hosts.sh (loopback sshd + a local user each)."""
    if not os.path.exists(SSH_HOSTS) or not os.path.exists("/usr/sbin/sshd") or os.geteuid() != 0:
        pytest.skip("needs tests/ssh_hosts/ssh_hosts.sh, openssh-server and root")
    d = str(tmp_path / "ssh")
    prefix = "tfxfault%d-" % (os.getpid() % 1000)
    up = subprocess.run(["bash", SSH_HOSTS, "up", "3", d, "--port", str(_free_port()), "--first-address", "180",
                         "--prefix", prefix, "--group", "fleet"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    if up.returncode != 0:
        subprocess.run(["bash", SSH_HOSTS, "down", d], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        pytest.skip("ssh_hosts.sh up failed: %s" % up.stdout[-500:])
    yield d, prefix
    subprocess.run(["bash", SSH_HOSTS, "down", d], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


@pytest.mark.slow
def test_ssh_host_dies_mid_batch(rotation, ssh_fleet):
    """sshd of one host stops after the controller preflight, before the hosts are contacted: that host is
    reported unreachable and left as it was, the others rotate, and the verdict is NOT safe."""
    import pwd  # pylint: disable=import-outside-toplevel
    import yaml  # pylint: disable=import-outside-toplevel

    rot = rotation
    d, prefix = ssh_fleet
    with open(os.path.join(d, "inventory.yml")) as handle:
        inventory = yaml.safe_load(handle)
    hosts = inventory["all"]["children"]["fleet"]["hosts"] if "all" in inventory else inventory["fleet"]["hosts"]
    names = sorted(hosts)
    files = {}
    for name in names:
        home = hosts[name]["ssh_hosts_home"]
        pw = pwd.getpwnam(hosts[name]["ansible_user"])
        targets = [dict(path=os.path.join(home, "tiflux.env"), format="env", key="TIFLUX_API_TOKEN"),
                   dict(path=os.path.join(home, "config.json"), format="json", key="tiflux.token")]
        for target, template in zip(targets, (F.ENV_TEMPLATE, F.JSON_TEMPLATE)):
            with open(target["path"], "w") as handle:
                handle.write(template.format(token=rot.old))
            os.chown(target["path"], pw.pw_uid, pw.pw_gid)
            os.chmod(target["path"], 0o600)
        hosts[name]["tiflux_targets"] = targets
        files[name] = [t["path"] for t in targets]
    inv = {"all": {"vars": {"tiflux_api_url": rot.sim.info["api_url"], "tiflux_allow_http": True},
                   "children": {"fleet": {"hosts": hosts}}}}

    class SshFleet:  # what check helpers need from a fleet
        inventory = os.path.join(rot.root, "ssh-inventory.json")
        hosts_dir = d

    with open(SshFleet.inventory, "w") as handle:
        json.dump(inv, handle)
    rot.fleet = SshFleet

    def state(name):
        out = []
        for path in files[name]:
            st = os.stat(path)
            out.append((F.sha256_file(path), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid))
        return out
    before = dict((n, state(n)) for n in names)
    victim = names[1]

    # stop the victim's sshd inside the request that follows the preflight's two
    sim_state = rot.sim.server.state
    original = sim_state._count_received
    stopped = []

    def hook(req, record):
        original(req, record)
        if not stopped and sim_state.counters["total"] >= 2:
            stopped.append(subprocess.run(["bash", SSH_HOSTS, "stop-host", d, victim], stdout=subprocess.PIPE,
                                          stderr=subprocess.STDOUT, text=True, check=False))
    sim_state._count_received = hook
    try:
        # the SSH users cannot write under the fleet's root-owned ANSIBLE_REMOTE_TMP: their own ~/.ansible/tmp
        rot.run(ROTATE, env=dict(ANSIBLE_TIMEOUT="5", ANSIBLE_REMOTE_TMP="~/.ansible/tmp"))
    finally:
        sim_state._count_received = original
    assert stopped and stopped[0].returncode == 0, stopped and stopped[0].stdout
    assert_failed_run(rot)
    report = rot.report()
    assert report["hosts"][victim]["status"] == "unreachable", report["hosts"][victim]
    assert state(victim) == before[victim]
    for name in names:
        if name != victim:
            assert report["hosts"][name]["status"] == "rotated", report["hosts"][name]
            for path, template in zip(files[name], (F.ENV_TEMPLATE, F.JSON_TEMPLATE)):
                assert open(path, "rb").read() == template.format(token=rot.new).encode()
    assert report["safe_to_revoke"] is False
    assert victim in [s["host"] for s in report["still_on_old"]]
    for name in names:
        home = os.path.dirname(files[name][0])
        assert not [f for f in os.listdir(home) if "tiflux-tmp" in f]
