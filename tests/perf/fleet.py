# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A fleet of local-connection hosts for benchmarks and fault tests (tests/perf, tests/faults).

Each host ``hNNN`` has its own directory under ``ROOT/hosts/hNNN`` holding two integration configs
(``tiflux.env`` and ``config.json``) that start on the OLD token, and an inventory entry with
``ansible_connection: local`` and ``ansible_python_interpreter: "{{ ansible_playbook_python }}"``.
The collection is made importable as ``tokenops.tiflux`` through a symlink farm under ROOT, so no
installed copy (possibly stale) is used.

Stdlib only; ansible-playbook is run as a subprocess of the venv that runs this file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SIM_DIR = os.path.join(REPO, "tests", "simulator")
if SIM_DIR not in sys.path:
    sys.path.insert(0, SIM_DIR)
import tiflux_sim  # noqa: E402  pylint: disable=wrong-import-position

BIN = os.path.dirname(sys.executable)
ANSIBLE_PLAYBOOK = os.path.join(BIN, "ansible-playbook")
TEMP_GLOB = "tiflux-tmp"

ENV_TEMPLATE = (
    "# Zabbix -> Tiflux webhook\n"
    "TIFLUX_BASE_URL=https://api.tiflux.com/api/v2\n"
    "TIFLUX_API_TOKEN={token}\n"
    "TIFLUX_DESK_ID=3\n"
)
JSON_TEMPLATE = (
    "{{\n"
    "  \"tiflux\": {{\n"
    "    \"url\": \"https://api.tiflux.com/api/v2\",\n"
    "    \"token\": \"{token}\"\n"
    "  }},\n"
    "  \"poll_seconds\": 60\n"
    "}}\n"
)


def collections_path(root, tree=None):
    """ROOT/collections/ansible_collections/tokenops/tiflux -> the work tree (or another copy of it)."""
    base = os.path.join(root, "collections" if tree is None else "collections-%s" % hashlib.sha256(tree.encode()).hexdigest()[:8])
    link = os.path.join(base, "ansible_collections", "tokenops", "tiflux")
    os.makedirs(os.path.dirname(link), exist_ok=True)
    if not os.path.islink(link):
        os.symlink(os.path.abspath(tree or REPO), link)
    return base


def ansible_env(root, tree=None, **extra):
    """Environment for ansible-playbook: this tree (or `tree`) as the collection, a private local temp dir."""
    env = dict(os.environ)
    for name in list(env):
        # the caller's ansible settings must not change what is measured or tested
        if name.startswith("ANSIBLE_") or name.lower() in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
            del env[name]
    local_tmp = os.path.join(root, "local_tmp")
    os.makedirs(local_tmp, exist_ok=True)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=collections_path(root, tree),
        ANSIBLE_LOCAL_TEMP=local_tmp,
        ANSIBLE_REMOTE_TMP=os.path.join(root, "remote_tmp"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_HOST_KEY_CHECKING="0",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_DEPRECATION_WARNINGS="0",
        ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
        PATH=BIN + os.pathsep + env.get("PATH", ""),
    )
    env.update(dict((k, str(v)) for k, v in extra.items()))
    return env


class SimProcess:
    """tests/simulator/tiflux_sim.py serve as a separate process (what the benchmark measures against)."""

    def __init__(self, root, quota_per_minute=100000, ip_quota_per_minute=0):
        self.info_file = os.path.join(root, "sim.json")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(SIM_DIR, "tiflux_sim.py"), "serve", "--port", "0",
             "--quota-per-minute", str(quota_per_minute), "--ip-quota-per-minute", str(ip_quota_per_minute),
             "--info-file", self.info_file],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.info = json.loads(self.proc.stdout.readline())
        self.control = tiflux_sim.SimControl(self.info["url"], self.info["admin_key"], self.info["ca_path"])
        self.control.wait_ready()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def issue_pair(control, name="Rotation"):
    """A licensed user with two tokens: (user, old, new)."""
    user = control.create_user(name, "%s@example.com.br" % name.lower().replace(" ", "."))
    old = control.issue_token(user["id"])["token"]
    new = control.issue_token(user["id"])["token"]
    return user, old, new


def read_bytes(path):
    with open(path, "rb") as handle:
        return handle.read()


def sha256_file(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


class Fleet:
    """N local hosts, each with an env and a JSON target holding a token."""

    def __init__(self, root, n, old, new, api_url, prefix="h", extra_host_vars=None, json_target=True, json_dirs=None,
                 target_extra=None):
        self.root = root
        self.n = n
        self.old, self.new = old, new
        self.api_url = api_url
        self.hosts = ["%s%03d" % (prefix, i) for i in range(n)]
        self.hosts_dir = os.path.join(root, "hosts")
        self.json_target = json_target
        self.extra_host_vars = extra_host_vars or {}
        self.json_dirs = json_dirs or {}  # host -> directory of its JSON target (a tmpfs mount, ...)
        self.target_extra = target_extra or {}  # host -> options added to each of its targets
        os.makedirs(self.hosts_dir, exist_ok=True)
        self.inventory = os.path.join(root, "inventory.json")
        self.write_inventory()
        self.reset()

    def host_dir(self, host):
        return os.path.join(self.hosts_dir, host)

    def targets(self, host):
        d = self.host_dir(host)
        targets = [dict(path=os.path.join(d, "tiflux.env"), format="env", key="TIFLUX_API_TOKEN")]
        if self.json_target:
            targets.append(dict(path=os.path.join(self.json_dirs.get(host, d), "config.json"), format="json", key="tiflux.token"))
        for target in targets:
            target.update(self.target_extra.get(host, {}))
        return targets

    def write_inventory(self):
        hosts = {}
        for host in self.hosts:
            hv = dict(ansible_connection="local", ansible_python_interpreter="{{ ansible_playbook_python }}",
                      host_dir=self.host_dir(host), tiflux_targets=self.targets(host))
            hv.update(self.extra_host_vars.get(host, {}))
            hosts[host] = hv
        inventory = {"all": {"vars": {"tiflux_api_url": self.api_url, "tiflux_allow_http": True},
                             "children": {"fleet": {"hosts": hosts}}}}
        with open(self.inventory, "w") as handle:
            json.dump(inventory, handle, indent=1)

    def reset(self, token=None):
        """Every host back on the OLD token (or `token`), mode 0600, nothing else in its dir."""
        token = token or self.old
        for host in self.hosts:
            dirs = [self.host_dir(host)] + ([self.json_dirs[host]] if host in self.json_dirs else [])
            for d in dirs:
                if os.path.isdir(d):
                    for name in os.listdir(d):
                        p = os.path.join(d, name)
                        if os.path.isdir(p) and not os.path.islink(p):
                            shutil.rmtree(p)
                        else:
                            os.unlink(p)
                else:
                    os.makedirs(d)
            for target, template in zip(self.targets(host), (ENV_TEMPLATE, JSON_TEMPLATE)):
                with open(target["path"], "w") as handle:
                    handle.write(template.format(token=token))
                os.chmod(target["path"], 0o600)

    def expected(self, token):
        return [template.format(token=token).encode() for template in (ENV_TEMPLATE, JSON_TEMPLATE)][:len(self.targets(self.hosts[0]))]

    def state(self, host):
        """{path: (sha256, mode, uid, gid)} of every target."""
        out = {}
        for target in self.targets(host):
            st = os.stat(target["path"])
            out[target["path"]] = (sha256_file(target["path"]), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
        return out

    def on_token(self, host, token):
        """True when every target is byte for byte the template on `token`."""
        for target, want in zip(self.targets(host), self.expected(token)):
            with open(target["path"], "rb") as handle:
                if handle.read() != want:
                    return False
        return True

    def dirs(self):
        return [self.hosts_dir] + sorted(set(self.json_dirs.values()))

    def temp_files(self):
        found = []
        for top in self.dirs():
            for base, _dirs, files in os.walk(top):
                found += [os.path.join(base, f) for f in files if TEMP_GLOB in f]
        return found

    def stray_files(self, host):
        """Files in a host's directories other than its targets and their complete backups (path.date.RANDOM~)."""
        names = set(os.path.basename(t["path"]) for t in self.targets(host))
        dirs = set(os.path.dirname(t["path"]) for t in self.targets(host))
        stray = []
        for d in dirs:
            for name in os.listdir(d):
                if name in names:
                    continue
                if re.match(r"^(tiflux\.env|config\.json)\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d\.[0-9a-f]{12}~$", name):
                    p = os.path.join(d, name)
                    if os.path.getsize(p) > 0:
                        continue  # a complete backup is expected (token_deploy backs up by default)
                stray.append(os.path.join(d, name))
        return stray


def write_secret_vars(root, name, data):
    """Extra vars file (0600) holding tokens, so they never appear on a command line."""
    path = os.path.join(root, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle)
    return path


def run_playbook(root, playbook, inventory, extra_vars_files=(), args=(), env=None, timeout=1800):
    """Run ansible-playbook; returns (rc, seconds, stdout+stderr)."""
    cmd = [ANSIBLE_PLAYBOOK, "-i", inventory, playbook]
    for path in extra_vars_files:
        cmd += ["-e", "@" + path]
    cmd += list(args)
    started = time.monotonic()
    proc = subprocess.run(cmd, env=env or ansible_env(root), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout, cwd=root, check=False)
    return proc.returncode, time.monotonic() - started, proc.stdout


def make_root(prefix="tiflux-fleet-"):
    return tempfile.mkdtemp(prefix=prefix)
