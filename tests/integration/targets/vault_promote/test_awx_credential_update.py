# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The AWX credential-update step (extensions/awx/project/update_credential.yml) with its job templates' variables.

There is no AWX here: awx.awx.credential is replaced by a module of the same name that records the
parameters it was given (what the real one would send to the AWX API), so the test checks what the
step would write into the credential, and that it writes nothing when the credential is not in the
state the step expects. The job's input is what the Tiflux credential type injects (tiflux_*), plus
the job template's own extra vars.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_vault_promote import COLLECTION, F, fp, leak_scan  # noqa: E402  pylint: disable=wrong-import-position

AWX = os.path.join(COLLECTION, "extensions", "awx")
OLD = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI5In0.awx-old-token-0123456789abcdefABCD"
NEW = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI5In0.awx-new-token-fedcba9876543210DCBA"

RECORDER = '''#!/usr/bin/python
from __future__ import annotations
import json, os
from ansible.module_utils.basic import AnsibleModule
def main():
    module = AnsibleModule(argument_spec=dict(name=dict(), organization=dict(), credential_type=dict(),
                                              update_secrets=dict(type="bool"), inputs=dict(type="dict", no_log=True)))
    with open(os.environ["FAKE_AWX_RECORD"], "a") as handle:
        handle.write(json.dumps(module.params) + "\\n")
    module.exit_json(changed=True)
main()
'''


@pytest.fixture
def job(tmp_path):
    root = str(tmp_path)
    fake = os.path.join(root, "fake", "ansible_collections", "awx", "awx", "plugins", "modules")
    os.makedirs(fake)
    with open(os.path.join(fake, "credential.py"), "w") as handle:
        handle.write(RECORDER)
    env = F.ansible_env(root)
    env["ANSIBLE_COLLECTIONS_PATH"] += os.pathsep + os.path.join(root, "fake")
    env["FAKE_AWX_RECORD"] = os.path.join(root, "record.jsonl")
    ca = os.path.join(root, "ca.pem")
    with open(ca, "w") as handle:
        handle.write("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")

    def run(template, **credential):
        with open(os.path.join(AWX, "job_templates", template + ".yml")) as handle:
            jt = yaml.safe_load(handle)
        injected = dict(tiflux_api_url="https://tiflux.example/api/v2", tiflux_validate_certs="True", tiflux_ca_path=ca,
                        tiflux_token=OLD, tiflux_next_token=NEW, tiflux_previous_token="", tiflux_token_created="01/03/2026 10:42")
        injected.update(credential)
        variables = os.path.join(root, "extravars.json")
        fd = os.open(variables, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(dict(jt["extra_vars"], **injected), handle)
        if os.path.exists(env["FAKE_AWX_RECORD"]):
            os.unlink(env["FAKE_AWX_RECORD"])
        argv = [F.ANSIBLE_PLAYBOOK, "-i", "localhost,", os.path.join(AWX, "project", jt["playbook"]), "-e", "@" + variables,
                "-e", "ansible_python_interpreter=" + sys.executable, "-v"]
        proc = subprocess.run(argv, env=env, cwd=root, text=True, capture_output=True, timeout=600, check=False)
        out = proc.stdout + proc.stderr
        for token in (OLD, NEW):
            for needle in leak_scan.needles(token):
                assert needle.decode() not in out, "token %s in the job output" % fp(token)
        records = []
        if os.path.exists(env["FAKE_AWX_RECORD"]):
            with open(env["FAKE_AWX_RECORD"]) as handle:
                records = [json.loads(line) for line in handle]
        return proc.returncode, out, records
    return run


def test_promote_moves_next_to_current_and_keeps_the_old_as_previous(job):
    rc, out, records = job("promote_credential")
    assert rc == 0, out[-3000:]
    assert records == [{
        "name": "Tiflux API v2 - integrations user", "organization": "Default",
        "credential_type": "Tiflux API v2 (tokenops.tiflux)", "update_secrets": True,
        "inputs": {"api_url": "https://tiflux.example/api/v2", "token": NEW, "next_token": "", "previous_token": OLD,
                   "token_created": "", "skip_tls_verify": False,
                   "ca_bundle": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"}}]
    assert "Current token %s (was Next token), Previous token %s, Next token empty" % (fp(NEW), fp(OLD)) in out


def test_promote_without_a_next_token_changes_nothing(job):
    rc, out, records = job("promote_credential", tiflux_token=NEW, tiflux_next_token="", tiflux_previous_token=OLD)
    assert rc != 0 and records == []
    assert "Nothing was changed. Next token is empty: nothing to promote" in out


def test_forget_previous_empties_only_the_previous_token(job):
    rc, out, records = job("forget_previous_token", tiflux_token=NEW, tiflux_next_token="", tiflux_previous_token=OLD,
                           tiflux_validate_certs="False", tiflux_ca_path="")
    assert rc == 0, out[-3000:]
    (record,) = records
    assert record["inputs"] == {"api_url": "https://tiflux.example/api/v2", "token": NEW, "next_token": "", "previous_token": "",
                                "token_created": "01/03/2026 10:42", "skip_tls_verify": True, "ca_bundle": ""}


def test_forget_previous_refuses_while_a_next_token_waits(job):
    rc, out, records = job("forget_previous_token")
    assert rc != 0 and records == []
    assert "Next token is still set: promote it first" in out


def test_confirm_and_rotate_take_the_old_token_from_previous_after_the_promotion():
    for name in ("rotate", "confirm"):
        with open(os.path.join(AWX, "job_templates", name + ".yml")) as handle:
            mapping = yaml.safe_load(handle)["extra_vars"]["rotate_old_token"]
        assert "tiflux_previous_token" in mapping, name
