# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os
import ssl

import pytest

from ansible.errors import AnsibleActionFail
from ansible.template import trust_as_template

from ansible_collections.tokenops.tiflux.plugins.plugin_utils import _action
from ansible_collections.tokenops.tiflux.plugins.plugin_utils._action import CAFileError, ca_certificates, documented_defaults
from ansible_collections.tokenops.tiflux.tests.simulator.tiflux_sim import make_tls_files

from .action_harness import make_action

TOKEN = "tok-" + "x" * 40


@pytest.fixture(scope="module")
def ca_pem(tmp_path_factory):
    ca_path, _cert, _key = make_tls_files(str(tmp_path_factory.mktemp("tls")))
    return open(ca_path).read()


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_ca_certificates_keep_only_the_certificates(ca_pem, tmp_path):
    path = write(tmp_path, "bundle.pem", "# Issuer: test CA\nTIFLUX_API_TOKEN=%s\n%s\ntrailing notes\n%s" % (TOKEN, ca_pem, ca_pem))
    shipped = ca_certificates(path)
    assert TOKEN not in shipped and "Issuer" not in shipped and "trailing" not in shipped
    assert shipped.count("-----BEGIN CERTIFICATE-----") == 2
    ssl.create_default_context(cadata=shipped)  # still a working CA bundle


@pytest.mark.parametrize("text, reason", [
    ("TIFLUX_API_TOKEN=%s\n" % TOKEN, "no PEM certificate"),
    ("", "no PEM certificate"),
    ("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n", "PRIVATE KEY block"),
    ("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n", "not an X.509 certificate"),
    ("-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n" % TOKEN, "not an X.509 certificate"),
])
def test_ca_certificates_refuse_anything_else(tmp_path, text, reason):
    with pytest.raises(CAFileError, match=reason) as err:
        ca_certificates(write(tmp_path, "ca.pem", text))
    assert TOKEN not in str(err.value)


def test_ca_certificates_refuse_a_key_beside_a_certificate(ca_pem, tmp_path):
    with pytest.raises(CAFileError, match="RSA PRIVATE KEY block"):
        ca_certificates(write(tmp_path, "ca.pem", ca_pem + "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"))


def test_ca_certificates_refuse_a_huge_file(tmp_path, monkeypatch):
    monkeypatch.setattr(_action, "MAX_CA_BYTES", 10)
    with pytest.raises(CAFileError, match="larger than"):
        ca_certificates(write(tmp_path, "ca.pem", "x" * 11))


def test_documented_defaults_are_the_modules():
    modules = os.path.join(os.path.dirname(_action.__file__), "..", "modules")
    push = documented_defaults(os.path.join(modules, "token_push.py"))
    deploy = documented_defaults(os.path.join(modules, "token_deploy.py"))
    assert (push["verify"], push["state"]) == (False, "present")
    assert (deploy["verify"], deploy["state"]) == (True, "deployed")


def test_variables_fill_what_the_task_does_not_set(tmp_path):
    action, sent = make_action("token_check", {"token": TOKEN, "timeout": 7},
                               {"tiflux_api_url": "https://sim/api/v2", "tiflux_timeout": 3, "tiflux_allow_http": trust_as_template("{{ yes_please }}"),
                                "yes_please": True})
    action.run(task_vars=action.task_vars)
    assert sent["module_args"]["api_url"] == "https://sim/api/v2"
    assert sent["module_args"]["timeout"] == 7, "the task's own option wins"
    assert sent["module_args"]["allow_http"] is True, "variables are templated"


def test_controller_ca_file_is_shipped_as_certificates_only(ca_pem, tmp_path):
    path = write(tmp_path, "ca.pem", "secret=%s\n%s" % (TOKEN, ca_pem))
    action, sent = make_action("token_check", {"token": TOKEN}, {"tiflux_ca_path": path})
    action.run(task_vars=action.task_vars)
    [(remote, data)] = sent["transferred"]
    assert sent["module_args"]["ca_path"] == remote and remote.endswith("tiflux-ca.pem")
    assert TOKEN not in data and "secret" not in data and "BEGIN CERTIFICATE" in data
    assert sent["removed"], "the shipped file's temp dir is removed after the run"


def test_controller_file_that_is_no_ca_is_refused_and_not_shipped(tmp_path):
    path = write(tmp_path, "token.env", "TIFLUX_API_TOKEN=%s\n" % TOKEN)
    action, sent = make_action("token_check", {"token": TOKEN}, {"tiflux_ca_path": path})
    with pytest.raises(AnsibleActionFail) as err:
        action.run(task_vars=action.task_vars)
    message = str(err.value)
    assert "tiflux_ca_path" in message and path in message and "\n" not in message
    assert TOKEN not in message
    assert sent["transferred"] == [] and "module_args" not in sent


def test_a_ca_path_that_is_no_controller_file_is_the_hosts(tmp_path):
    action, sent = make_action("token_check", {"token": TOKEN}, {"tiflux_ca_path": "/etc/pki/on-the-host.pem"})
    action.run(task_vars=action.task_vars)
    assert sent["module_args"]["ca_path"] == "/etc/pki/on-the-host.pem" and sent["transferred"] == []


def test_a_task_ca_path_is_never_shipped(ca_pem, tmp_path):
    path = write(tmp_path, "ca.pem", ca_pem)
    action, sent = make_action("token_check", {"token": TOKEN, "ca_path": path}, {"tiflux_ca_path": "/other.pem"})
    action.run(task_vars=action.task_vars)
    assert sent["module_args"]["ca_path"] == path and sent["transferred"] == []


@pytest.mark.parametrize("targets, said", [
    ({"path": "/a", "format": "env"}, "web1: tiflux_targets must be a list of targets (dicts with path, format and key), got a dict"),
    ("/etc/a.env", "web1: tiflux_targets must be a list of targets (dicts with path, format and key), got a string"),
    ([{"path": "/a", "format": "env"}, "/etc/b.env"], "web1: tiflux_targets[1] must be a dict with path, format and key, got a string"),
])
def test_bad_targets_are_one_line_naming_host_and_variable(targets, said):
    action, sent = make_action("token_deploy", {"token": TOKEN, "targets": targets}, {"tiflux_targets": targets},
                               written={"targets": "{{ tiflux_targets }}"})
    with pytest.raises(AnsibleActionFail) as err:
        action.run(task_vars=action.task_vars)
    assert str(err.value) == said
    assert "module_args" not in sent


def test_bad_targets_written_inline_name_the_option():
    action, _sent = make_action("token_deploy", {"token": TOKEN, "targets": {"path": "/a"}}, {})
    with pytest.raises(AnsibleActionFail, match="^web1: targets must be a list"):
        action.run(task_vars=action.task_vars)


def test_the_token_never_comes_back(tmp_path):
    action, sent = make_action("token_check", {"token": TOKEN}, {}, answer={"msg": "echo " + TOKEN})
    result = action.run(task_vars=action.task_vars)
    assert TOKEN not in str(result)
