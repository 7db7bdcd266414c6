# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The quickstart, followed as written, in English and in Portuguese, against the simulator.

The playbooks are taken verbatim from the docs. The inventory is the docs' one with what cannot exist
on a test machine swapped out (hosts become local, paths move into a temp dir, the service restart,
owner and health command become harmless equivalents) and the simulator's address and CA added.
The token goes into ansible-vault with the exact `encrypt_string` command of step 2.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tests"))

from simulator.tiflux_sim import start_simulator  # noqa: E402  pylint: disable=wrong-import-position
from utils.leak_scan import assert_no_leaks  # noqa: E402  pylint: disable=wrong-import-position

VENV_BIN = os.path.dirname(sys.executable)


def blocks(doc, name):
    """The fenced block that starts with the comment `# NAME`."""
    text = open(os.path.join(REPO, "docs", doc), encoding="utf-8").read()
    for block in re.findall(r"```(?:yaml|console)\n(.*?)```", text, re.S):
        if block.startswith("# %s\n" % name):
            return block
    raise AssertionError("%s has no block starting with # %s" % (doc, name))


def commands(doc):
    text = open(os.path.join(REPO, "docs", doc), encoding="utf-8").read()
    return [line.split("#")[0].strip() for block in re.findall(r"```console\n(.*?)```", text, re.S)
            for line in block.splitlines() if line.startswith(("ansible-vault", "ansible-playbook"))]


@pytest.fixture(scope="module")
def simulator(tmp_path_factory):
    sim = start_simulator(tls=True, state_dir=str(tmp_path_factory.mktemp("sim")))
    yield sim
    sim.stop()


@pytest.fixture
def collections(tmp_path):
    root = tmp_path / "collections" / "ansible_collections" / "tokenops"
    root.mkdir(parents=True)
    (root / "tiflux").symlink_to(REPO)
    return str(tmp_path / "collections")


@pytest.mark.parametrize("doc", ["quickstart.md", "quickstart.pt-BR.md"])
def test_quickstart_as_written(doc, simulator, collections, tmp_path):
    user = simulator.control.create_user(name="Ana Souza", email="ana@example.com")
    token = simulator.control.issue_token(user["id"])["token"]
    work = tmp_path / "work"
    work.mkdir()
    env = dict(os.environ, PATH=VENV_BIN + os.pathsep + os.environ["PATH"], ANSIBLE_COLLECTIONS_PATH=collections,
               ANSIBLE_NOCOLOR="1", ANSIBLE_VAULT_PASSWORD_FILE=str(work / "pass"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    (work / "pass").write_text("quickstart-test\n")

    # Step 2: vault the token exactly as the docs say (the token on stdin, never on the command line).
    vault_cmd = next(c for c in commands(doc) if c.startswith("ansible-vault encrypt_string"))
    (work / "group_vars" / "all").mkdir(parents=True)
    vaulted = subprocess.run(vault_cmd.split(">")[0].split(), input=token, text=True, capture_output=True, env=env,
                             cwd=str(work), check=True).stdout
    (work / "group_vars" / "all" / "vault.yml").write_text(vaulted)

    # Step 3: the docs' inventory, made runnable here.
    inventory = yaml.safe_load(blocks(doc, "inventory.yml"))
    inventory["all"]["vars"].update(tiflux_api_url=simulator.info["api_url"], tiflux_ca_path=simulator.info["ca_path"],
                                    ansible_tiflux_ca_path=simulator.info["ca_path"], ansible_connection="local",
                                    ansible_python_interpreter=sys.executable)
    files = []
    for host, hostvars in inventory["all"]["hosts"].items():
        for target in hostvars["tiflux_targets"]:
            target["path"] = str(work / "hosts" / host / os.path.basename(target["path"]))
            os.makedirs(os.path.dirname(target["path"]), exist_ok=True)
            files.append(target["path"])
            target.pop("owner", None)
            if target.pop("service", None):
                target.pop("service_state", None)
                target["reload_command"] = "true"
            if "health_command" in target:
                target["health_command"] = "test -s %s" % target["path"]
    (work / "inventory.yml").write_text(yaml.safe_dump(inventory))
    (work / "check.yml").write_text(blocks(doc, "check.yml"))
    (work / "push.yml").write_text(blocks(doc, "push.yml"))

    # Steps 4 and 5, with the docs' command lines (the vault password comes from the environment).
    outputs = []
    for command in [c for c in commands(doc) if c.startswith("ansible-playbook")]:
        argv = [a for a in command.split() if a != "--ask-vault-pass"]
        run = subprocess.run(argv, text=True, capture_output=True, env=env, cwd=str(work), check=False)
        outputs.append(run.stdout + run.stderr)
        assert run.returncode == 0, "%s failed:\n%s" % (command, run.stdout[-3000:])

    check_output, dry_run, push_output = outputs
    assert '"status": "valid"' in check_output and "ana@example.com" in check_output
    assert "<token sha256:" in dry_run, "the --check --diff run shows fingerprints"
    assert "changed=" in push_output
    for path in files:
        assert token in open(path).read(), "%s holds the token after the push" % path
        assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert_no_leaks("\n".join(outputs), [token])
