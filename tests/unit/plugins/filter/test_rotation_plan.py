# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.tokenops.tiflux.plugins.filter.rotation_plan import rotation_plan
from ansible_collections.tokenops.tiflux.plugins.plugin_utils import _vars

NEW = dict(fingerprint="sha256:1111111111111111", status="valid", user=dict(name="Ana", email="ana@example.com"),
           issued_at="2026-10-06T10:29:00Z", expires_at="2028-10-06T10:29:00Z")
OLD = dict(fingerprint="sha256:0000000000000000", status="valid", issued_at="2025-10-06T10:29:00Z")
GOOD_TARGET = dict(path="/etc/app/tiflux.env", format="env", key="TIFLUX_API_TOKEN")
SPEC = {
    "rotate_phase": {"type": "str", "choices": ["deploy", "verdict", "confirm"], "description": "x"},
    "rotate_retries": {"type": "int", "description": "x"},
    "rotate_partial": {"type": "bool"},
    "rotate_api_url": {"type": "str"},
}


def fleet(n=3, **overrides):
    hosts = ["h%d" % i for i in range(1, n + 1)]
    hostvars = dict((h, {"tiflux_targets": [dict(GOOD_TARGET)]}) for h in hosts)
    for host, values in overrides.items():
        hostvars.setdefault(host, {}).update(values)
    return hostvars, hosts


def plan(hostvars, hosts, inventory=None, **kwargs):
    kwargs.setdefault("new", NEW)
    kwargs.setdefault("old", OLD)
    return rotation_plan(hostvars, hosts, inventory if inventory is not None else list(hostvars), **kwargs)


def test_good_fleet_has_no_problem_and_the_default_canary():
    hostvars, hosts = fleet(5)
    result = plan(hostvars, hosts, options={"rotate_serial": [1, "25%"]})
    assert result["problems"] == []
    assert result["serial"] == [1, "25%"] and result["canary"] == ["h1"] and result["batches"] == 5
    assert not result["heal"] and result["partial"] is None and result["verify"] == "path"


def test_a_malformed_target_on_the_last_host_names_host_variable_target_in_one_line():
    hostvars, hosts = fleet(4, h4={"tiflux_targets": [dict(GOOD_TARGET), dict(path="/opt/sync/config.json", format="jsn",
                                                                              key="tiflux.token")]})
    problems = plan(hostvars, hosts)["problems"]
    assert len(problems) == 1
    assert problems[0].startswith("h4: tiflux_targets[1] (/opt/sync/config.json): ")
    assert "jsn" in problems[0] and "\n" not in problems[0]


def test_every_bad_host_and_target_is_named_one_line_each_without_the_argument_spec():
    hostvars, hosts = fleet(3, h1={"tiflux_targets": dict(GOOD_TARGET)},
                            h2={"tiflux_targets": [dict(GOOD_TARGET, bogus=1), "not a dict", dict(path="/x", format="env")]},
                            h3={"rotate_targets": [dict(GOOD_TARGET, section="main")]})
    problems = plan(hostvars, hosts)["problems"]
    # token_deploy's own check words the wrong type its way; the host and the variable lead the line either way
    assert problems[0].startswith("h1: tiflux_targets: must be a list of ") and problems[0].endswith("dict")
    assert problems[1] == "h2: tiflux_targets[0] (/etc/app/tiflux.env): unknown option bogus"
    assert problems[2].startswith("h2: tiflux_targets[1]") and "must be a dict with path, format and key" in problems[2]
    assert problems[3:] == [
        "h2: tiflux_targets[2] (/x): key is required with format=env: name the variable, option or path that holds the token",
        "h3: rotate_targets[0] (/etc/app/tiflux.env): section is only used with format=ini; for env put the whole path in key",
    ]
    assert all(len(p) < 200 and "Supported parameters" not in p for p in problems)


def test_option_types_and_serial_are_checked_once_here():
    hostvars, hosts = fleet(2)
    options = {"rotate_retries": "ten", "rotate_partial": "maybe", "rotate_phase": "deploy", "rotate_serial": ["1", "x%"],
               "rotate_verify_on_host": "sometimes"}
    result = plan(hostvars, hosts, spec=SPEC, options=options)
    text = "\n".join(result["problems"])
    assert "rotate_retries" in text and "rotate_partial" in text and "Valid booleans" not in text
    assert "rotate_serial must be a batch size" in text and "rotate_verify_on_host must be path, token or none" in text
    assert all("\n" not in p for p in result["problems"])


def test_undefined_options_come_as_empty_and_are_not_checked():
    hostvars, hosts = fleet(1)
    assert plan(hostvars, hosts, spec=SPEC, options={"rotate_retries": "", "rotate_partial": None})["problems"] == []


@pytest.mark.parametrize("value, mode", [(True, "path"), (False, "none"), ("true", "path"), ("no", "none"),
                                         ("path", "path"), ("token", "token"), ("none", "none")])
def test_verify_on_host_accepts_the_legacy_booleans(value, mode):
    hostvars, hosts = fleet(1)
    assert plan(hostvars, hosts, options={"rotate_verify_on_host": value})["verify"] == mode


def test_the_new_token_must_work_and_differ_from_the_old():
    hostvars, hosts = fleet(1)
    dead = dict(NEW, status="invalid", message="Tiflux rejected token sha256:1111111111111111 with 401")
    assert any("The new token does not work: Tiflux rejected" in p for p in plan(hostvars, hosts, new=dead)["problems"])
    same = plan(hostvars, hosts, old=dict(NEW))["problems"]
    assert any("are the same token (sha256:1111111111111111)" in p for p in same)


def test_an_old_token_already_rejected_is_heal_mode_with_the_likely_cause_in_one_line():
    hostvars, hosts = fleet(6)
    result = plan(hostvars, hosts, old=dict(OLD, status="invalid"), options={"rotate_serial": [1, 2]})
    assert result["heal"] and result["serial"] == [1, "100%"] and result["canary"] == ["h1"] and result["batches"] == 2
    heal = [line for line in result["lines"] if line.startswith("HEAL")]
    assert len(heal) == 1 and "\n" not in heal[0]
    assert "same browser" in heal[0] and "Sessões API" in heal[0] and "canary h1, then every other host at once" in heal[0]
    assert not plan(hostvars, hosts, old=dict(OLD, status="invalid"), phase="confirm")["heal"]


def test_hosts_with_targets_left_out_make_the_run_partial_hosts_without_targets_do_not():
    hostvars, hosts = fleet(4)
    hostvars["monitor"] = {}
    result = plan(hostvars, hosts[:2])
    assert "2 inventory host(s) with tiflux_targets are outside this run: h3, h4" in result["partial"]
    assert result["fleet_size"] == 4
    assert any(line.startswith("PARTIAL RUN: ") for line in result["lines"])
    assert plan(hostvars, hosts)["partial"] is None


def test_a_deploy_inside_an_awx_workflow_is_partial_its_verdict_phase_is_not():
    hostvars, hosts = fleet(2)
    assert "AWX runs it inside workflow job 42" in plan(hostvars, hosts, workflow_job_id=42)["partial"]
    assert plan(hostvars, hosts, phase="verdict", workflow_job_id=42)["partial"] is None
    assert plan(hostvars, hosts, options={"rotate_partial": True})["partial"] == "rotate_partial is true"


def test_the_old_session_is_named_by_its_issue_date_as_sessoes_api_shows_it():
    hostvars, hosts = fleet(1)
    result = plan(hostvars, hosts)
    # 10:29 UTC is 07:29 in São Paulo (UTC-3)
    assert result["old_session"] == "Data da sessão: 06/10/2025 07:29"
    assert "issued 06/10/2026 07:29, expires 06/10/2028 07:29" in result["lines"][0]
    assert plan(hostvars, hosts, timezone="UTC")["old_session"] == "Data da sessão: 06/10/2025 10:29"
    override = plan(hostvars, hosts, options={"rotate_old_token_created": "01/03/2026 10:42 (Chrome no Windows)"})
    assert override["old_session"] == "created 01/03/2026 10:42 (Chrome no Windows)"
    opaque = plan(hostvars, hosts, old=dict(OLD, issued_at=None))
    assert opaque["old_session"] is None


def test_the_preflight_says_when_it_last_used_the_old_token():
    hostvars, hosts = fleet(1)
    result = plan(hostvars, hosts)
    assert result["checked_at"].endswith("Z")
    assert "the last use by this rotation" in result["lines"][1]


def test_a_relative_report_dir_is_made_absolute_from_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    hostvars, hosts = fleet(1)
    result = plan(hostvars, hosts, options={"rotate_report_dir": "reports/tiflux"})
    assert result["report_dir"] == os.path.join(str(tmp_path), "reports", "tiflux")
    assert os.path.isdir(result["report_dir"])
    assert plan(hostvars, hosts, options={"rotate_report_dir": ""})["report_dir"] is None


def test_a_report_dir_that_cannot_be_made_is_a_problem(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    hostvars, hosts = fleet(1)
    problems = plan(hostvars, hosts, options={"rotate_report_dir": str(blocker / "sub")})["problems"]
    assert any(p.startswith("rotate_report_dir %s cannot be created" % (blocker / "sub")) for p in problems)


def test_legacy_connection_options_give_one_deprecation(monkeypatch):
    calls = []
    monkeypatch.setattr(_vars.display, "deprecated", lambda msg, **kw: calls.append((msg, kw)))
    hostvars, hosts = fleet(1)
    plan(hostvars, hosts, options={"rotate_api_url": "https://tiflux.test/api/v2", "rotate_ca_path": "/ca.pem", "rotate_allow_http": ""})
    assert len(calls) == 1
    assert "rotate_api_url, rotate_ca_path" in calls[0][0] and "tiflux_api_url, tiflux_ca_path" in calls[0][0]
    assert calls[0][1]["collection_name"] == "tokenops.tiflux"
    plan(hostvars, hosts, options={"rotate_api_url": ""})
    assert len(calls) == 1


def test_only_fingerprints_and_known_fields_of_the_checks_are_kept():
    hostvars, hosts = fleet(1)
    result = plan(hostvars, hosts, new=dict(NEW, token="secret-token-value-1234567890"))
    assert "token" not in result["new"] and "secret-token-value" not in repr(result)


def test_wrong_phase_or_missing_check_is_an_error():
    hostvars, hosts = fleet(1)
    with pytest.raises(AnsibleFilterError):
        plan(hostvars, hosts, phase="revoke")
    with pytest.raises(AnsibleFilterError):
        plan(hostvars, hosts, new=None)
