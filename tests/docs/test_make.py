# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The README's promise: `make test` and `make demo` do their own set-up on a fresh Debian/Ubuntu machine.

scripts/deps.sh (make deps) runs against stand-ins for dpkg-query, apt-get, sudo and id on PATH, so what
it would install on a machine that lacks packages is seen without installing or removing anything here.
"""

from __future__ import annotations

import os
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPS = os.path.join(REPO, "scripts", "deps.sh")
EVERY_PACKAGE = {"ca-certificates", "git", "make", "openssl", "shellcheck", "openssh-server"}

FAKE_DPKG_QUERY = """#!/bin/sh
# dpkg-query -W -f='${Status}' PACKAGE: installed only if listed in $FAKE_INSTALLED
for package; do :; done
case " $FAKE_INSTALLED " in *" $package "*) printf 'install ok installed' ;; *) exit 1 ;; esac
"""
FAKE_APT_GET = """#!/bin/sh
echo "apt-get $*" >> "$FAKE_LOG"
exit "${FAKE_APT_STATUS:-0}"
"""
FAKE_SUDO = """#!/bin/sh
echo "sudo" >> "$FAKE_LOG"
exec "$@"
"""


@pytest.fixture
def machine(tmp_path):
    """Run deps.sh on a simulated Debian machine: returns run(installed, uid=0, sudo=True, *steps)."""
    shims = tmp_path / "bin"
    shims.mkdir()
    for name, text in (("dpkg-query", FAKE_DPKG_QUERY), ("apt-get", FAKE_APT_GET), ("sudo", FAKE_SUDO)):
        (shims / name).write_text(text)
        (shims / name).chmod(0o755)
    log = tmp_path / "calls.log"

    def run(installed, *steps, uid=0, sudo=True, apt_status=0, dry_run=False):
        (shims / "id").write_text("#!/bin/sh\necho %d\n" % uid)
        (shims / "id").chmod(0o755)
        if not sudo:
            (shims / "sudo").unlink()
        log.write_text("")
        env = dict(os.environ, PATH="%s:/usr/bin:/bin" % shims, FAKE_INSTALLED=" ".join(installed), FAKE_LOG=str(log),
                   FAKE_APT_STATUS=str(apt_status))
        env.pop("DEPS_DRY_RUN", None)
        if dry_run:
            env["DEPS_DRY_RUN"] = "1"
        done = subprocess.run(["bash", DEPS] + list(steps), env=env, capture_output=True, text=True, check=False)
        return done, log.read_text().splitlines()
    return run


def test_nothing_missing_runs_nothing(machine):
    done, calls = machine(EVERY_PACKAGE | {"python3-venv"})
    assert done.returncode == 0 and "all present" in done.stdout
    assert calls == []


def test_a_machine_without_openssh_server_gets_it_and_only_it(machine):
    done, calls = machine(EVERY_PACKAGE - {"openssh-server"})
    assert done.returncode == 0, done.stderr
    assert calls == ["apt-get update -qq", "apt-get install -y -qq --no-install-recommends openssh-server"]
    assert "missing openssh-server (molecule: real SSH hosts on loopback (sshd))" in done.stdout
    assert "installed openssh-server (" in done.stdout


def test_a_fresh_machine_gets_every_package_of_test_and_demo(machine):
    done, calls = machine(set())
    assert done.returncode == 0, done.stderr
    assert calls[0] == "apt-get update -qq"
    assert set(calls[1].split(" --no-install-recommends ")[1].split()) >= EVERY_PACKAGE


def test_one_steps_packages_only(machine):
    _done, calls = machine(set(), "sim")
    assert calls[1].endswith("--no-install-recommends openssl")


def test_not_root_goes_through_sudo(machine):
    done, calls = machine(EVERY_PACKAGE - {"shellcheck"}, uid=1000)
    assert done.returncode == 0
    assert calls == ["sudo", "apt-get update -qq", "sudo", "apt-get install -y -qq --no-install-recommends shellcheck"]


def test_not_root_without_sudo_fails_saying_what_to_install(machine):
    done, calls = machine(EVERY_PACKAGE - {"shellcheck", "openssh-server"}, uid=1000, sudo=False)
    assert done.returncode == 1 and calls == []
    assert "not root and no sudo: as root, run apt-get install shellcheck openssh-server" in done.stderr


def test_a_failing_apt_get_fails(machine):
    done, _calls = machine(EVERY_PACKAGE - {"openssl"}, apt_status=100)
    assert done.returncode == 1 and "install openssl by hand" in done.stderr


def test_dry_run_installs_nothing(machine):
    done, calls = machine(EVERY_PACKAGE - {"git"}, dry_run=True)
    assert done.returncode == 0 and calls == []
    assert "would run: apt-get update && apt-get install -y --no-install-recommends git" in done.stdout


def test_unknown_step_is_an_error(machine):
    done, _calls = machine(EVERY_PACKAGE, "nonsense")
    assert done.returncode == 2 and "unknown step 'nonsense'" in done.stderr


def make_dry_run(*targets):
    return subprocess.run(["make", "-n", "--no-print-directory"] + list(targets), cwd=REPO, capture_output=True,
                          text=True, check=True).stdout


def test_test_and_demo_install_their_packages_first():
    assert make_dry_run("test").splitlines()[0] == "scripts/deps.sh "
    demo = make_dry_run("demo").splitlines()
    assert demo[0] == "scripts/deps.sh venv demo"


def test_ci_just_runs_make_test():
    with open(os.path.join(REPO, ".ci", "run")) as handle:
        lines = [line for line in handle.read().splitlines() if line and not line.startswith("#")]
    assert lines[-1] == "exec make test"


def test_make_sim_prints_and_writes_what_the_docs_use(tmp_path):
    """make sim: the api_url, the CA and a vaulted token, in .sim/env; tiflux-sim issues, revokes and stops."""
    import sys

    from ansible.parsing.vault import VaultLib, VaultSecret

    sys.path.insert(0, os.path.join(REPO, "tests"))
    from utils.leak_scan import assert_no_leaks  # pylint: disable=import-outside-toplevel

    home = tmp_path / "sim"
    env = dict(os.environ, TIFLUX_SIM_HOME=str(home), PATH=os.path.dirname(os.sys.executable) + ":" + os.environ["PATH"])
    env.pop("ANSIBLE_VAULT_PASSWORD_FILE", None)

    def sh(command):
        return subprocess.run(["bash", "-c", command], cwd=REPO, env=env, capture_output=True, text=True, check=True).stdout

    try:
        started = sh("make --no-print-directory sim")
        again = sh("make --no-print-directory sim")
        settings = sh("source %s/env && echo \"$TIFLUX_SIM_API_URL $TIFLUX_SIM_CA_PATH\" && command -v tiflux-sim" % home)
        api_url, ca_path = settings.split()[:2]
        assert api_url.startswith("https://127.0.0.1:") and api_url.endswith("/api/v2") and os.path.isfile(ca_path)
        assert "api_url:  %s" % api_url in started and "ca_path:  %s" % ca_path in started
        assert again == started, "a second make sim shows the running one"
        assert "vault_tiflux_token: !vault |" in started
        vault = VaultLib([("default", VaultSecret((home / "vault-pass").read_bytes().strip()))])
        first = vault.decrypt((home / "vault.yml").read_text().split("|", 1)[1].replace(" ", "").strip()).decode()
        issued = sh("source %s/env && tiflux-sim token rotate_new_token 2>&1" % home)
        assert "rotate_new_token: !vault |" in issued and "sim: Ana generated token sha256:" in issued
        vaulted = [line for line in issued.split("|", 1)[1].splitlines() if line.strip() and "sim:" not in line]
        second = vault.decrypt("\n".join(line.strip() for line in vaulted)).decode()
        assert first != second
        assert_no_leaks(started + again + issued, [first, second])
        fingerprint = (home / "token-fingerprint").read_text().strip()
        assert sh("source %s/env && tiflux-sim revoke %s" % (home, fingerprint)) == "revoked %s\n" % fingerprint
    finally:
        stopped = sh("scripts/sim.sh stop")
    assert stopped == "simulator stopped\n"
    assert not (home / "sim.json").exists()
