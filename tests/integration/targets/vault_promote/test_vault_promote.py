# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""vault_promote as people run it: the real ansible-vault and ansible-playbook, a vault password file.

- An inline vars file (group_vars/all/vault.yml made with `ansible-vault encrypt_string --prompt`, as the
  runbook says) and a whole-file vault (`ansible-vault encrypt`, vault id `prod`) are promoted by the
  playbook tokenops.tiflux.vault_promote; the files decrypt with the same password to the new token,
  `_previous` holds the old one, every other line is byte-identical; a routine play that renders
  {{ vault_tiflux_token }} then writes the new token; a rerun changes nothing; previous_removed drops
  `_previous`.
- While the promotions run, a watcher thread reads every file of the working directory over and over:
  no token (nor 12 characters of one) is ever on disk in clear; the same after, and in the output.
- Check mode, a malformed file, a wrong password: the file stays byte-identical, one-line error.
- Two promotions of one file at once (different variables): they wait for each other's lock and
  both land; while a lock is held, the file does not change.
- With the rotate role (once it includes tasks/promote.yml): a safe rotation promotes, confirm drops
  `_previous`; a NOT-safe rotation and a --limit run leave the file byte-identical.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import sys
import threading
import time

import pytest


def _collection_root():
    """The collection's tree: ansible-test's full copy (through ANSIBLE_COLLECTIONS_PATH), else this checkout."""
    for base in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep):
        candidate = os.path.join(base, "ansible_collections", "tokenops", "tiflux")
        if base and os.path.isfile(os.path.join(candidate, "tests", "perf", "fleet.py")):
            return candidate
    return os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))


COLLECTION = _collection_root()
for _sub in ("perf", "simulator", "utils"):
    sys.path.insert(0, os.path.join(COLLECTION, "tests", _sub))
import fleet as F  # noqa: E402  pylint: disable=wrong-import-position
import leak_scan  # noqa: E402  pylint: disable=wrong-import-position
import tiflux_sim  # noqa: E402  pylint: disable=wrong-import-position

ANSIBLE_VAULT = os.path.join(F.BIN, "ansible-vault")
OLD = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.vault-old-token-0123456789abcdefABCDEF"
NEW = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.vault-new-token-fedcba9876543210FEDCBA"
DB = "db-password-that-is-not-a-token-but-stays"
AFFECTED = ("vault_tiflux_token", "vault_tiflux_token_previous", "vault_tiflux_token_next")

# What the runbook puts in rotation.yml: the same file serves before the promotion (the new token staged as
# vault_tiflux_token_next) and after it (vault_tiflux_token is the new one, _previous the old one).
ROTATION_VARS = """\
rotate_new_token: "{{ vault_tiflux_token_next | default(vault_tiflux_token) }}"
rotate_old_token: "{{ vault_tiflux_token if vault_tiflux_token_next is defined else vault_tiflux_token_previous | default('') }}"
"""

ROUTINE = """\
- name: A routine play that renders the integration config from the vault
  hosts: all
  gather_facts: false
  tasks:
    - name: Render app.env
      ansible.builtin.copy:
        dest: "{{ host_dir }}/app.env"
        content: "TIFLUX_API_TOKEN={{ vault_tiflux_token }}\\n"
        mode: "0600"
      no_log: true
"""

PROMOTE_ONE = """\
- name: Promote one variable of a vars file
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Promote
      tokenops.tiflux.vault_promote:
        path: "{{ file }}"
        var: "{{ var | default('vault_tiflux_token') }}"
        token: "{{ new }}"
        old_token: "{{ old }}"
        state: "{{ state | default('promoted') }}"
"""


VALUES = """\
- name: What the vars hold, by fingerprint, as a play sees them
  hosts: all[0]
  gather_facts: false
  tasks:
    - name: Write name=fingerprint lines
      ansible.builtin.copy:
        dest: "{{ values_out }}"
        mode: "0600"
        content: |
          {% for name in names %}{% set value = lookup('ansible.builtin.vars', name, default='') %}
          {{ name }}={{ (value | tokenops.tiflux.fingerprint) if value else 'none' }}
          {% endfor %}
"""


class Work:
    """A working directory like the runbook's: inventory.yml, group_vars/all/vault.yml, a vault password file."""

    def __init__(self, root):
        self.root = str(root)
        self.env = F.ansible_env(self.root)
        self.password = self.file("vault-pass", "correct horse battery staple\n")
        self.hosts_dir = os.path.join(self.root, "hosts")
        hosts = {}
        for host in ("h1", "h2"):
            os.makedirs(os.path.join(self.hosts_dir, host))
            hosts[host] = dict(ansible_connection="local", ansible_python_interpreter=sys.executable,
                               host_dir=os.path.join(self.hosts_dir, host))
        self.inventory = self.file("inventory.yml", json.dumps({"all": {"hosts": hosts}}))
        self.vault_file = os.path.join(self.root, "group_vars", "all", "vault.yml")
        os.makedirs(os.path.dirname(self.vault_file))
        self.file("rotation.yml", ROTATION_VARS)
        self.file("routine.yml", ROUTINE)
        self.file("promote_one.yml", PROMOTE_ONE)
        self.file("values.yml", VALUES)
        self.outputs = []

    def file(self, name, text, mode=0o600):
        path = os.path.join(self.root, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        return path

    def run(self, argv, stdin=None, check=True):
        # A new session has no controlling terminal: getpass reads the hidden answer from stdin, as typed.
        proc = subprocess.run(argv, input=stdin, env=self.env, cwd=self.root, text=True, capture_output=True,
                              start_new_session=True, timeout=600, check=False)
        out = proc.stdout + proc.stderr
        self.outputs.append(out)
        if check:
            assert proc.returncode == 0, "%s failed (rc=%d):\n%s" % (" ".join(argv), proc.returncode, out[-4000:])
        return proc.returncode, out

    def auth(self, password=None):
        """How the run gets its vault password: --vault-id ID@FILE as given, else --vault-password-file FILE."""
        if password and password.startswith("--vault-id="):
            return ["--vault-id", password.split("=", 1)[1]]
        return ["--vault-password-file", password or self.password]

    def vault(self, *args, stdin=None, password=None):
        return self.run([ANSIBLE_VAULT] + list(args) + self.auth(password), stdin=stdin)[1]

    def stage(self, name, token, target=None):
        """The runbook's step: encrypt_string --prompt (name, then the hidden token), appended to the vars file."""
        staged = os.path.join(self.root, "next.yml")
        self.vault("encrypt_string", "--prompt", "--output", staged, stdin="%s\n%s\n" % (name, token))
        with open(staged) as handle, open(target or self.vault_file, "a") as vars_file:
            vars_file.write(handle.read())
        os.unlink(staged)

    def playbook(self, playbook, *args, check=True, password=None):
        argv = [F.ANSIBLE_PLAYBOOK, "-i", self.inventory, playbook] + self.auth(password)
        return self.run(argv + list(args), check=check)

    def promote(self, *args, check=True, password=None):
        return self.playbook("tokenops.tiflux.vault_promote", "-e", "rotate_vault_file=group_vars/all/vault.yml",
                             "-e", "@rotation.yml", *args, check=check, password=password)

    def promote_one(self, path, new, old, *args, check=True, password=None, **extra):
        tokens = self.file("tokens-%s.json" % os.urandom(6).hex(), json.dumps(dict(extra, file=path, new=new, old=old)))
        try:
            return self.playbook("promote_one.yml", "-e", "@" + tokens, *args, check=check, password=password)
        finally:
            os.unlink(tokens)

    def rendered(self):
        return dict((h, open(os.path.join(self.hosts_dir, h, "app.env")).read()) for h in ("h1", "h2"))

    def values(self, *names, password=None):
        """The variables as ansible itself reads them, by fingerprint (None when undefined)."""
        out = os.path.join(self.root, "values.txt")
        self.playbook("values.yml", "-e", json.dumps({"names": list(names), "values_out": out}), password=password)
        with open(out) as handle:
            pairs = [line.split("=", 1) for line in handle.read().splitlines() if line]
        os.unlink(out)
        return dict((name, None if value == "none" else value) for name, value in pairs)


def fp(token):
    return leak_scan.fingerprint(token)


def other_lines(text, skip=AFFECTED):
    """Lines outside the top-level entries named in skip (a top-level key line and its indented lines)."""
    kept, skipping = [], False
    for line in text.splitlines(True):
        top = re.match(r"^([A-Za-z_][A-Za-z0-9_]*):", line)
        if top:
            skipping = top.group(1) in skip
        if not skipping:
            kept.append(line)
    return kept


class Watcher(threading.Thread):
    """Reads every file under root (but skip) again and again, looking for a token in clear."""

    def __init__(self, root, tokens, skip=()):
        super().__init__(daemon=True)
        self.root, self.skip = root, tuple(skip)
        self.needles = [(fp(t), n) for t in tokens for n in leak_scan.needles(t)]
        self.stop = threading.Event()
        self.hits, self.rounds, self.temps_seen = set(), 0, set()

    def run(self):
        while not self.stop.is_set():
            for base, dirs, files in os.walk(self.root):
                dirs[:] = [d for d in dirs if not os.path.join(base, d).startswith(self.skip)]
                for name in files:
                    if ".tiflux-tmp" in name:
                        self.temps_seen.add(name)
                    try:
                        with open(os.path.join(base, name), "rb") as handle:
                            data = handle.read()
                    except OSError:
                        continue  # renamed away between listdir and open
                    for fingerprint, needle in self.needles:
                        if needle in data:
                            self.hits.add((os.path.join(base, name), fingerprint))
            self.rounds += 1

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.join(30)


def assert_no_leak(work, tokens, skip=()):
    for out in work.outputs:
        for token in tokens:
            for needle in leak_scan.needles(token):
                assert needle.decode() not in out, "token %s in the output" % fp(token)
    with Watcher(work.root, tokens, skip) as final:
        while final.rounds < 1:
            time.sleep(0.05)
    assert final.hits == set()


def test_the_watcher_sees_a_token_that_is_on_disk_for_a_moment(tmp_path):
    # What the promotions' scans rely on: a clear token written and removed at once is still seen.
    with Watcher(str(tmp_path), [OLD]) as watcher:
        while watcher.rounds < 2:
            time.sleep(0.01)
        path = tmp_path / ".vault.yml.x.tiflux-tmp"
        path.write_text("vault_tiflux_token: %s\n" % OLD[-30:])  # 12 characters of its signature are enough
        seen = time.monotonic() + 60
        while not watcher.hits and time.monotonic() < seen:
            time.sleep(0.01)
        path.unlink()
    assert watcher.hits == {(str(path), fp(OLD))} and watcher.temps_seen == {path.name}


@pytest.fixture
def work(tmp_path):
    return Work(tmp_path)


def inline_file(work):
    """group_vars/all/vault.yml as the quickstart and the runbook leave it before a rotation."""
    with open(work.vault_file, "w") as handle:
        handle.write("# Secrets of the fleet (ansible-vault encrypt_string)\n")
    work.stage("db_password", DB)
    with open(work.vault_file, "a") as handle:
        handle.write("\n# The Tiflux API v2 token of the integrations user\n")
    work.stage("vault_tiflux_token", OLD)
    with open(work.vault_file, "a") as handle:
        handle.write("plain_setting: keep   # a comment\n")
    work.stage("vault_tiflux_token_next", NEW)
    os.chmod(work.vault_file, 0o640)
    return open(work.vault_file).read()


def test_inline_file_promoted_and_the_routine_play_follows(work):
    before = inline_file(work)
    work.playbook("routine.yml")
    assert work.rendered() == {"h1": "TIFLUX_API_TOKEN=%s\n" % OLD, "h2": "TIFLUX_API_TOKEN=%s\n" % OLD}

    with Watcher(work.root, [OLD, NEW, DB], skip=[work.hosts_dir]) as watcher:
        _rc, out = work.promote("-vvvv", "--diff")  # the most ansible can show: still no token
    assert watcher.hits == set() and watcher.rounds > 0
    assert "changed=1" in out and "Vault file group_vars/all/vault.yml: changed vault_tiflux_token from %s to %s" % (fp(OLD), fp(NEW)) in out

    after = open(work.vault_file).read()
    assert other_lines(after) == other_lines(before)
    assert after.count("$ANSIBLE_VAULT;1.1;AES256") == 3
    assert oct(os.stat(work.vault_file).st_mode & 0o777) == "0o640"
    assert work.values("vault_tiflux_token", "vault_tiflux_token_previous", "vault_tiflux_token_next", "db_password") == {
        "vault_tiflux_token": fp(NEW), "vault_tiflux_token_previous": fp(OLD), "vault_tiflux_token_next": None,
        "db_password": fp(DB)}

    work.playbook("routine.yml")
    assert work.rendered() == {"h1": "TIFLUX_API_TOKEN=%s\n" % NEW, "h2": "TIFLUX_API_TOKEN=%s\n" % NEW}

    _rc, again = work.promote()
    assert "changed=0" in again and "nothing to change" in again
    assert open(work.vault_file).read() == after

    _rc, removed = work.promote("-e", "rotate_promote_state=previous_removed")
    assert "removed vault_tiflux_token_previous (%s)" % fp(OLD) in removed
    final = open(work.vault_file).read()
    assert "vault_tiflux_token_previous" not in final and other_lines(final) == other_lines(before)
    assert work.values("vault_tiflux_token")["vault_tiflux_token"] == fp(NEW)
    assert_no_leak(work, [OLD, NEW, DB], skip=[work.hosts_dir])


PLAINTEXT = "# Whole-file vault\nother: \"q\"   # keep\nvault_tiflux_token: %s\nvault_tiflux_token_next: %s\nlist:\n  - 1\n" % (OLD, NEW)


def PROD(work):  # noqa: N802 - reads as the vault id it is
    return "--vault-id=prod@" + work.password


def whole_file(work):
    """ansible-vault encrypt of text read from stdin, vault id prod: the clear text never touches the disk."""
    work.vault("encrypt", "--output", work.vault_file, stdin=PLAINTEXT, password=PROD(work))
    return open(work.vault_file, "rb").read()


def test_whole_file_vault_promoted_with_the_same_vault_id_and_layout(work):
    before = whole_file(work)
    assert before.startswith(b"$ANSIBLE_VAULT;1.2;AES256;prod\n")
    with Watcher(work.root, [OLD, NEW], skip=[work.hosts_dir]) as watcher:
        work.promote(password=PROD(work))
    assert watcher.hits == set()
    after = open(work.vault_file, "rb").read()
    assert after.startswith(b"$ANSIBLE_VAULT;1.2;AES256;prod\n") and after != before
    plaintext = work.vault("view", os.path.relpath(work.vault_file, work.root), password=PROD(work))
    assert plaintext.startswith(PLAINTEXT.replace("vault_tiflux_token: %s\nvault_tiflux_token_next: %s\n" % (OLD, NEW),
                                                  "vault_tiflux_token: %s\nvault_tiflux_token_previous: %s\n" % (NEW, OLD)))
    work.playbook("routine.yml", password=PROD(work))
    assert set(work.rendered().values()) == {"TIFLUX_API_TOKEN=%s\n" % NEW}
    _rc, again = work.promote(password=PROD(work))
    assert "changed=0" in again and open(work.vault_file, "rb").read() == after
    work.promote("-e", "rotate_promote_state=previous_removed", password=PROD(work))
    assert "vault_tiflux_token_previous" not in work.vault("view", work.vault_file, password=PROD(work))
    # The outputs of `ansible-vault view` hold the tokens by design: scan only the promotions' ones.
    work.outputs = [o for o in work.outputs if "PLAY RECAP" in o]
    assert_no_leak(work, [OLD, NEW], skip=[work.hosts_dir])


def test_check_mode_says_what_would_change_and_writes_nothing(work):
    before = inline_file(work)
    _rc, out = work.promote("--check", "--diff")
    assert "would set vault_tiflux_token from %s to %s" % (fp(OLD), fp(NEW)) in out
    assert "+vault_tiflux_token_previous: <token %s>" % fp(OLD) in out
    assert open(work.vault_file).read() == before
    assert_no_leak(work, [OLD, NEW, DB], skip=[work.hosts_dir])


def lone_file(work, name, shape, tail=""):
    """A vars file outside the inventory holding OLD as vault_tiflux_token (whole-file or inline), then tail."""
    path = os.path.join(work.root, name)
    if shape == "whole":
        work.vault("encrypt", "--output", path, stdin="vault_tiflux_token: %s\n%s" % (OLD, tail))
        return path
    with open(path, "w"):
        pass
    work.stage("vault_tiflux_token", OLD, target=path)
    with open(path, "a") as handle:
        handle.write(tail)
    return path


@pytest.mark.parametrize("shape", ["inline", "whole"])
def test_malformed_file_fails_in_one_line_and_stays_byte_identical(work, shape):
    path = lone_file(work, "broken.yml", shape, tail="oops: [1, 2\n")
    before = open(path, "rb").read()
    rc, out = work.promote_one(path, NEW, OLD, check=False)
    assert rc != 0 and open(path, "rb").read() == before
    (line,) = [l for l in out.splitlines() if l.startswith("fatal:")]
    assert re.search(r"is not valid YAML \(line \d+, column \d+: .*\): fix it and run again; the file is unchanged", line), line
    assert_no_leak(work, [OLD, NEW])


@pytest.mark.parametrize("shape", ["inline", "whole"])
def test_wrong_password_fails_and_the_file_stays_byte_identical(work, shape):
    path = lone_file(work, "secrets.yml", shape)
    before = open(path, "rb").read()
    wrong = work.file("wrong-pass", "not the password\n")
    rc, out = work.promote_one(path, NEW, OLD, check=False, password=wrong)
    assert rc != 0 and open(path, "rb").read() == before
    assert "with the vault password(s) of this run (wrong password or vault id" in out
    assert_no_leak(work, [OLD, NEW])


def _holders(path):
    """Processes other than this one with path open (a promotion waiting for the lock has its directory open)."""
    real, found = os.path.realpath(path), set()
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            for fd in os.listdir("/proc/%s/fd" % pid):
                if os.readlink("/proc/%s/fd/%s" % (pid, fd)) == real:
                    found.add(int(pid))
        except OSError:
            continue
    return found


def test_two_promotions_at_once_wait_for_each_other_and_both_land(work):
    path = os.path.join(work.root, "shared.yml")
    with open(path, "w"):
        pass
    other_old, other_new = OLD.replace("old", "OLD2"), NEW.replace("new", "NEW2")
    work.stage("vault_tiflux_token", OLD, target=path)
    work.stage("vault_other_token", other_old, target=path)
    # The lock every write of this collection takes: a flock on the file's directory.
    holder = os.open(work.root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)
        before = open(path, "rb").read()
        results = {}

        def promote(var, new, old):
            try:
                results[var] = work.promote_one(path, new, old, check=False, var=var)
            except Exception as exc:  # pylint: disable=broad-except
                results[var] = (-1, repr(exc))
        threads = [threading.Thread(target=promote, args=args) for args in
                   (("vault_tiflux_token", NEW, OLD), ("vault_other_token", other_new, other_old))]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 300
        while len(_holders(work.root)) < 2 and time.monotonic() < deadline and any(t.is_alive() for t in threads):
            assert open(path, "rb").read() == before, "a promotion wrote while the lock was held"
            time.sleep(0.2)
        assert len(_holders(work.root)) >= 2, "both promotions should be waiting on the lock: %r" % results
        assert open(path, "rb").read() == before
    finally:
        os.close(holder)
    for thread in threads:
        thread.join(600)
    for var in ("vault_tiflux_token", "vault_other_token"):
        rc, out = results[var]
        assert rc == 0 and "changed=1" in out, out[-2000:]
    check = work.file("check.yml", (
        "- hosts: localhost\n  gather_facts: false\n  vars_files: [%s]\n  tasks:\n    - ansible.builtin.debug:\n"
        "        msg: \"{{ [vault_tiflux_token, vault_tiflux_token_previous, vault_other_token, vault_other_token_previous]"
        " | map('tokenops.tiflux.fingerprint') | join(',') }}\"\n" % path))
    _rc, out = work.playbook(check)
    assert ",".join(fp(t) for t in (NEW, OLD, other_new, other_old)) in out
    assert_no_leak(work, [OLD, NEW, other_old, other_new])


# --- with the rotate role -----------------------------------------------------------------------------------------

ROLE_TASKS = os.path.join(COLLECTION, "roles", "rotate", "tasks")


def _role_includes_promote():
    for folder in (ROLE_TASKS, os.path.join(os.path.dirname(ROLE_TASKS), "handlers")):
        for name in os.listdir(folder) if os.path.isdir(folder) else ():
            if name != "promote.yml" and name.endswith(".yml"):
                with open(os.path.join(folder, name)) as handle:
                    if "promote.yml" in handle.read():
                        return True
    return False


needs_role = pytest.mark.skipif(not _role_includes_promote(), reason="the rotate role does not include tasks/promote.yml yet")


@pytest.fixture(scope="module")
def sim():
    simulator = tiflux_sim.start_simulator(quota_per_minute=100000)
    yield simulator
    simulator.stop()


class Fleetwork(Work):
    """A Work whose inventory is a tests/perf Fleet on the simulator; the vault holds the fleet's tokens."""

    def __init__(self, root, simulator, **fleet_options):
        super().__init__(root)
        user = simulator.control.create_user("Vault %s" % os.path.basename(self.root), "vault-%s@example.com.br" % os.getpid())
        self.old = simulator.control.issue_token(user["id"])["token"]
        self.new = simulator.control.issue_token(user["id"])["token"]
        self.fleet = F.Fleet(self.root, 3, self.old, self.new, simulator.info["api_url"], **fleet_options)
        self.inventory = self.fleet.inventory
        with open(self.vault_file, "w") as handle:
            handle.write("# fleet\n")
        self.stage("vault_tiflux_token", self.old)
        self.stage("vault_tiflux_token_next", self.new)
        self.file("rotation.yml", ROTATION_VARS + "rotate_vault_file: group_vars/all/vault.yml\nrotate_serial: ['100%']\n"
                  "rotate_api_calls_per_minute: 100000\n")

    def rotate(self, playbook="tokenops.tiflux.rotate", *args, check=False):
        return self.playbook(playbook, "-e", "@rotation.yml", *args, check=check)


@needs_role
def test_a_safe_rotation_promotes_and_confirm_forgets_the_old_token(tmp_path, sim):
    work = Fleetwork(tmp_path, sim)
    rc, out = work.rotate()
    assert rc == 0 and "VERDICT: safe to revoke" in out, out[-3000:]
    assert work.values("vault_tiflux_token", "vault_tiflux_token_previous", "vault_tiflux_token_next") == {
        "vault_tiflux_token": fp(work.new), "vault_tiflux_token_previous": fp(work.old), "vault_tiflux_token_next": None}
    work.file("routine.yml", ROUTINE.replace("{{ host_dir }}/app.env", "{{ host_dir }}/routine.env"))
    work.playbook("routine.yml")
    for host in work.fleet.hosts:
        assert open(os.path.join(work.fleet.host_dir(host), "routine.env")).read() == "TIFLUX_API_TOKEN=%s\n" % work.new
    sim.control.revoke(token=work.old)  # Encerrar sessão, by hand in Sessões API
    rc, out = work.rotate("tokenops.tiflux.confirm")
    assert rc == 0, out[-3000:]
    assert "vault_tiflux_token_previous" not in open(work.vault_file).read()
    assert_no_leak(work, [work.old, work.new], skip=[work.fleet.hosts_dir])


@pytest.mark.parametrize("case", ["not_safe", "limit"])
def test_a_rotation_that_is_not_safe_leaves_the_vault_byte_identical(tmp_path, sim, case):
    # A host whose health command fails is rolled back (NOT safe to revoke); --limit gives a partial verdict.
    options = dict(target_extra={"h002": {"health_command": "false"}}) if case == "not_safe" else {}
    work = Fleetwork(tmp_path, sim, **options)
    before = open(work.vault_file, "rb").read()
    rc, out = work.rotate("tokenops.tiflux.rotate", *(["--limit", "h000"] if case == "limit" else []))
    if case == "not_safe":
        assert rc != 0 and "VERDICT: NOT safe to revoke" in out, out[-3000:]
    assert open(work.vault_file, "rb").read() == before
    assert_no_leak(work, [work.old, work.new], skip=[work.fleet.hosts_dir])
