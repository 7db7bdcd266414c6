# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The vault_promote action plugin: options, the play's vault secrets, check and diff mode, what a result may hold."""

from __future__ import annotations

import json
import os
from unittest.mock import MagicMock

import pytest
import yaml

from ansible.parsing.vault import VaultLib, VaultSecret

from ansible_collections.tokenops.tiflux.plugins.action.vault_promote import ActionModule
from ansible_collections.tokenops.tiflux.plugins.module_utils._token import fingerprint
from ansible_collections.tokenops.tiflux.plugins.modules import vault_promote as module_doc
from ansible_collections.tokenops.tiflux.plugins.plugin_utils._vault import ARGUMENT_SPEC

OLD = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI3In0.old-signature-0123456789abcdef"
NEW = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI3In0.new-signature-fedcba9876543210"
SECRETS = (("default", VaultSecret(b"the play's password")),)


def inline(name, value):
    envelope = VaultLib(SECRETS).encrypt(value, secret=SECRETS[0][1]).decode()
    return "%s: !vault |\n%s\n" % (name, "\n".join("          " + line for line in envelope.splitlines()))


def run(args, secrets=SECRETS, check_mode=False, diff=False):
    task = MagicMock()
    task.args = args
    task.async_val = 0
    task.check_mode = check_mode
    task.diff = diff
    loader = MagicMock()
    loader._vault.secrets = secrets  # what --ask-vault-pass / --vault-password-file loaded
    connection = MagicMock()
    connection._shell.tmpdir = None
    action = ActionModule(task, connection, MagicMock(), loader, None, None)
    return action.run(task_vars={})


@pytest.fixture
def vault_file(tmp_path):
    path = tmp_path / "vault.yml"
    path.write_text("# fleet secrets\n" + inline("vault_tiflux_token", OLD) + inline("vault_tiflux_token_next", NEW) + "x: 1\n")
    return str(path)


def no_token(result):
    text = json.dumps(result)
    for token in (OLD, NEW):
        assert token not in text and token[-20:] not in text
    return result


def test_promoted_result(vault_file):
    result = no_token(run(dict(path=vault_file, token=NEW, old_token=OLD)))
    assert result["changed"] is True and not result.get("failed")
    assert result["path"] == os.path.realpath(vault_file)
    assert result["fingerprint"] == fingerprint(NEW) and result["previous_fingerprint"] == fingerprint(OLD)
    assert result["msg"].startswith(vault_file + ": changed vault_tiflux_token from %s to %s" % (fingerprint(OLD), fingerprint(NEW)))
    assert "diff" not in result
    text = open(vault_file).read()
    assert text.startswith("# fleet secrets\nvault_tiflux_token: !vault |") and text.endswith("x: 1\n")
    assert "vault_tiflux_token_previous: !vault |" in text and "vault_tiflux_token_next" not in text
    again = no_token(run(dict(path=vault_file, token=NEW, old_token=OLD)))
    assert again["changed"] is False and open(vault_file).read() == text


def test_check_mode_writes_nothing_and_says_what_would_change(vault_file):
    before = open(vault_file, "rb").read()
    result = no_token(run(dict(path=vault_file, token=NEW, old_token=OLD), check_mode=True))
    assert result["changed"] is True
    assert "would set vault_tiflux_token" in result["msg"] and "would add vault_tiflux_token_previous" in result["msg"]
    assert open(vault_file, "rb").read() == before


def test_diff_names_variables_and_fingerprints(vault_file):
    result = no_token(run(dict(path=vault_file, token=NEW, old_token=OLD), check_mode=True, diff=True))
    assert result["diff"]["before"] == "vault_tiflux_token: <token %s>\nvault_tiflux_token_next: <token %s>\n" % (
        fingerprint(OLD), fingerprint(NEW))
    assert "vault_tiflux_token_previous: <token %s>" % fingerprint(OLD) in result["diff"]["after"]


def test_previous_removed(vault_file):
    run(dict(path=vault_file, token=NEW, old_token=OLD))
    result = no_token(run(dict(path=vault_file, token=NEW, old_token=OLD, state="previous_removed")))
    assert result["changed"] is True and result["previous_fingerprint"] == fingerprint(OLD)
    assert "vault_tiflux_token_previous" not in open(vault_file).read()


def test_the_secret_comes_from_the_play(vault_file):
    before = open(vault_file, "rb").read()
    wrong = no_token(run(dict(path=vault_file, token=NEW, old_token=OLD), secrets=[("default", VaultSecret(b"other"))]))
    assert wrong["failed"] and "cannot decrypt vault_tiflux_token in %s (line 2)" % vault_file in wrong["msg"]
    none = no_token(run(dict(path=vault_file, token=NEW, old_token=OLD), secrets=[]))
    assert none["failed"] and "this run has no vault password" in none["msg"]
    assert open(vault_file, "rb").read() == before


def test_relative_path_is_relative_to_the_working_directory(vault_file, monkeypatch):
    monkeypatch.chdir(os.path.dirname(vault_file))
    result = run(dict(path="vault.yml", token=NEW, old_token=OLD))
    assert result["path"] == os.path.realpath(vault_file) and result["changed"]


@pytest.mark.parametrize("args, expected", [
    (dict(token=NEW, old_token=OLD), "missing required arguments: path"),
    (dict(path="PATH", token=NEW, old_token=OLD, state="gone"), "value of state must be one of: promoted, previous_removed, got: gone"),
    (dict(path="PATH", token=NEW, old_token=OLD, tokn=NEW), "unsupported option tokn. Supported parameters include: old_token, path, state, token, var"),
    (dict(path="PATH", token=NEW), "old_token is required with state=promoted"),
    (dict(path="PATH", token=NEW + " " + OLD, old_token=OLD), "contains whitespace"),
    (dict(path="PATH", token=NEW, old_token=OLD, var="a b"), "var must be a variable name"),
    (dict(path="PATH/missing.yml", token=NEW, old_token=OLD), "does not exist"),
])
def test_bad_arguments_fail_in_one_line_without_tokens(vault_file, args, expected):
    before = open(vault_file, "rb").read()
    if "path" in args:
        args["path"] = args["path"].replace("PATH", vault_file if args["path"] == "PATH" else os.path.dirname(vault_file))
    result = no_token(run(args))
    assert result["failed"] is True and expected in result["msg"], result["msg"]
    assert "\n" not in result["msg"]
    assert open(vault_file, "rb").read() == before


def test_documentation_matches_the_argument_spec():
    options = yaml.safe_load(module_doc.DOCUMENTATION)["options"]
    assert set(options) == set(ARGUMENT_SPEC)
    for name, spec in ARGUMENT_SPEC.items():
        doc = options[name]
        assert doc["type"] == spec["type"], name
        assert doc.get("default") == spec.get("default"), name
        assert doc.get("required", False) == spec.get("required", False), name
        assert doc.get("choices") == spec.get("choices"), name
    assert [name for name, spec in ARGUMENT_SPEC.items() if spec.get("no_log")] == ["token", "old_token"]
