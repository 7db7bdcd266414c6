# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""AWX / AAP support: the credential type, the job templates and the execution environment, run as AWX runs them.

AWX runs a job with ansible-runner in a private data directory. This test does the same, with the parts
of AWX that matter here reproduced from its source (awx_plugins.interfaces ``inject_credential``,
``awx.main.fields`` credential type validation, ``awx.main.utils.safe_yaml.safe_dump``):

- the credential type of extensions/awx/credential_type.yml is validated like AWX validates it, then
  injected like AWX injects it: env vars from the ``env`` injector, the CA bundle written by the ``file``
  injector into ``env/``, the ``extra_vars`` injector rendered into a file in ``env/`` with every string
  tagged ``!unsafe``, passed as ``-e @file``;
- the job template's own extra vars go into ``env/extravars`` as trusted YAML, survey answers as
  ``!unsafe`` (AWX's default ALLOW_JINJA_IN_EXTRA_VARS=template);
- the project is extensions/awx/project, the playbook the template's, the collection a copy of this
  work tree (``git ls-files -co --exclude-standard``) found through ANSIBLE_COLLECTIONS_PATH;
- three local-connection hosts hold their integration configs (env and JSON) in a temp dir; the Tiflux
  simulator serves HTTPS with its own CA, which reaches the roles through the credential's CA bundle.

Steps, one ansible-runner job each, with ONE credential (current token A, next token B): rotate (A -> B),
revoke A in the simulator, confirm, audit; then the credential is updated as docs/awx.md says (current B,
no next token) and deploy/rotate runs again, changing nothing. Then every job's stdout and job events (the
whole ``artifacts/`` directory), the reports and the temp dirs are scanned for both tokens with
tests/utils/leak_scan.py: 0 findings. A last job (an expected failure, see its marker) checks the same with
ANSIBLE_DISPLAY_ARGS_TO_STDOUT=True. Excluded from that scan, by design: the job's ``env/`` directory,
where AWX itself puts the credential's extra vars (the tokens) for ansible-playbook to read, and the
hosts' config files, which hold a token on purpose (their names are scanned: backups, temp files).
A summary is written to tests/output/runs/awx/leak-scan.json.
"""

from __future__ import annotations

import concurrent.futures
import glob
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from types import SimpleNamespace

import pytest
import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
AWX_DIR = os.path.join(REPO, "extensions", "awx")
OUTPUT_DIR = os.path.join(REPO, "tests", "output", "runs", "awx")
for _path in (os.path.join(REPO, "tests", "simulator"), os.path.join(REPO, "tests", "utils")):
    if _path not in sys.path:
        sys.path.insert(0, _path)
import leak_scan  # noqa: E402  pylint: disable=wrong-import-position
import tiflux_sim  # noqa: E402  pylint: disable=wrong-import-position

ansible_runner = pytest.importorskip("ansible_runner")
jinja2 = pytest.importorskip("jinja2")
jinja2_sandbox = pytest.importorskip("jinja2.sandbox")
jsonschema = pytest.importorskip("jsonschema")

BIN = os.path.dirname(sys.executable)
ANSI = re.compile(r"\x1b\[[0-9;]*m")
OLD_CREATED = "2026-03-01 10:42 (token A)"

# ---------------------------------------------------------------------------------------------------
# AWX, the parts that decide what a job sees
# ---------------------------------------------------------------------------------------------------

# awx.main.fields.CredentialTypeInputField.schema / CredentialTypeInjectorField.schema
AWX_INPUTS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "required": {"type": "array", "items": {"type": "string"}},
        "fields": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "type": {"enum": ["string", "boolean"]},
                    "format": {"enum": ["ssh_private_key", "url"]},
                    "choices": {"type": "array", "minItems": 1, "items": {"type": "string"}, "uniqueItems": True},
                    "id": {"type": "string", "pattern": "^[a-zA-Z_]+[a-zA-Z0-9_]*$"},
                    "label": {"type": "string"},
                    "help_text": {"type": "string"},
                    "multiline": {"type": "boolean"},
                    "secret": {"type": "boolean"},
                    "ask_at_runtime": {"type": "boolean"},
                    "default": {},
                },
                "additionalProperties": False,
                "required": ["id", "label"],
            },
        },
    },
}
AWX_INJECTORS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "file": {"type": "object", "patternProperties": {r"^template(\.[a-zA-Z_]+[a-zA-Z0-9_]*)?$": {"type": "string"}},
                 "additionalProperties": False},
        "env": {"type": "object", "patternProperties": {"^[a-zA-Z_]+[a-zA-Z0-9_]*$": {"type": "string", "pattern": "^[\x00-\x7F]*$"}},
                "additionalProperties": False},
        "extra_vars": {"type": "object", "patternProperties": {"^[a-zA-Z_]+[a-zA-Z0-9_]*$": {"type": "string"}},
                       "additionalProperties": False},
    },
}
# awx_plugins.interfaces._temporary_private_inject.ENV_BLOCKLIST
AWX_ENV_BLOCKLIST = frozenset((
    "VIRTUAL_ENV", "PATH", "PYTHONPATH", "JOB_ID", "INVENTORY_ID", "INVENTORY_SOURCE_ID", "INVENTORY_UPDATE_ID",
    "AD_HOC_COMMAND_ID", "REST_API_URL", "REST_API_TOKEN", "MAX_EVENT_RES", "CALLBACK_QUEUE", "CALLBACK_CONNECTION",
    "CACHE", "JOB_CALLBACK_DEBUG", "INVENTORY_HOSTVARS", "AWX_HOST", "PROJECT_REVISION", "SUPERVISOR_CONFIG_PATH",
))


def awx_validate_credential_type(cred_type):
    """What AWX checks when the credential type is created; raises on any problem."""
    jsonschema.Draft4Validator(AWX_INPUTS_SCHEMA).validate(cred_type["inputs"])
    jsonschema.Draft4Validator(AWX_INJECTORS_SCHEMA).validate(cred_type["injectors"])
    ids = [field["id"] for field in cred_type["inputs"]["fields"]]
    assert len(ids) == len(set(ids)) and "tower" not in ids
    for field in cred_type["inputs"]["fields"]:
        if "default" in field:
            assert isinstance(field["default"], {"string": str, "boolean": bool}[field.get("type", "string")]), field
        if field.get("type") == "boolean":
            assert not set(field) & {"choices", "multiline", "format", "secret"}, field
    assert set(cred_type["inputs"].get("required", [])) <= set(ids)
    for name in cred_type["injectors"].get("env", {}):
        assert not name.startswith("ANSIBLE_") and name not in AWX_ENV_BLOCKLIST, name
    namespace = dict((field_id, "EXAMPLE") for field_id in ids)
    namespace["tower"] = SimpleNamespace(filename="EXAMPLE_FILENAME")
    strict = jinja2_sandbox.ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)
    for injector in cred_type["injectors"].values():
        for template in injector.values():
            strict.from_string(template).render(namespace)


class _UnsafeDumper(yaml.SafeDumper):  # awx.main.utils.safe_yaml.SafeStringDumper
    def represent_data(self, data):
        if isinstance(data, str):
            return self.represent_scalar("!unsafe", data)
        return super().represent_data(data)


def awx_safe_dump(data, safe_dict=None):
    """awx.main.utils.safe_yaml.safe_dump: strings are !unsafe unless the same key/value is in safe_dict."""
    safe_dict = safe_dict or {}
    parts = []
    for key, value in data.items():
        if key in safe_dict and safe_dict[key] == value:
            parts.append(yaml.safe_dump({key: value}, default_flow_style=False))
        else:
            parts.append(yaml.dump({key: value}, Dumper=_UnsafeDumper, default_flow_style=False))
    return "".join(parts)


def awx_inject_credential(cred_type, inputs, private_data_dir):
    """awx_plugins.interfaces._temporary_private_inject.inject_credential: (env, ansible-playbook args)."""
    namespace = {"tower": SimpleNamespace(filename=None)}
    for name, value in inputs.items():
        if isinstance(value, bool) or value:  # empty inputs are left out: templates see them undefined
            namespace[name] = value
    for field in cred_type["inputs"]["fields"]:
        if field.get("type") == "boolean" and field["id"] not in inputs:
            namespace[field["id"]] = False
    sandbox = jinja2_sandbox.ImmutableSandboxedEnvironment()
    env_dir = os.path.join(private_data_dir, "env")
    for label, template in cred_type["injectors"].get("file", {}).items():
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, "w") as stream:
            stream.write(sandbox.from_string(template).render(**namespace))
        os.chmod(path, 0o600)
        assert label == "template"
        namespace["tower"].filename = path
    env = dict((name, sandbox.from_string(template).render(**namespace))
               for name, template in cred_type["injectors"].get("env", {}).items())
    extra_vars = dict((name, sandbox.from_string(template).render(**namespace))
                      for name, template in cred_type["injectors"].get("extra_vars", {}).items())
    handle, path = tempfile.mkstemp(dir=env_dir)
    with os.fdopen(handle, "w") as stream:
        stream.write(awx_safe_dump(extra_vars))
    os.chmod(path, 0o400)
    return env, ["-e", "@" + path], extra_vars


def load_job_template(name):
    with open(os.path.join(AWX_DIR, "job_templates", name + ".yml")) as stream:
        return yaml.safe_load(stream)


def load_credential_type():
    with open(os.path.join(AWX_DIR, "credential_type.yml")) as stream:
        return yaml.safe_load(stream)


# ---------------------------------------------------------------------------------------------------
# The fleet: simulator, collection copy, hosts
# ---------------------------------------------------------------------------------------------------

ENV_CONFIG = "# webhook -> Tiflux\nTIFLUX_BASE_URL=https://api.tiflux.com/api/v2\nTIFLUX_API_TOKEN={token}\n"
JSON_CONFIG = '{{\n  "tiflux": {{\n    "token": "{token}",\n    "desk": 3\n  }}\n}}\n'


def copy_collection(dest):
    """This work tree as ansible_collections/tokenops/tiflux (what the execution environment would hold)."""
    target = os.path.join(dest, "ansible_collections", "tokenops", "tiflux")
    try:
        listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, check=True,
                                capture_output=True).stdout.decode().split("\0")
    except (OSError, subprocess.CalledProcessError):
        listed = None
    if listed is None:
        shutil.copytree(REPO, target, symlinks=True,
                        ignore=shutil.ignore_patterns(".git", ".venv*", ".ansible", "tests/output", "__pycache__"))
        return dest
    for rel in filter(None, listed):
        source = os.path.join(REPO, rel)
        if not os.path.isfile(source):  # deleted, but not yet from the index
            continue
        os.makedirs(os.path.dirname(os.path.join(target, rel)), exist_ok=True)
        shutil.copy2(source, os.path.join(target, rel), follow_symlinks=False)
    return dest


def write_configs(hosts, token):
    for targets in hosts.values():
        for target in targets:
            os.makedirs(os.path.dirname(target["path"]), exist_ok=True)
            with open(target["path"], "w") as stream:
                stream.write((ENV_CONFIG if target["format"] == "env" else JSON_CONFIG).format(token=token))
            os.chmod(target["path"], 0o600)


def make_fleet(root):
    """The simulator, one user with tokens A (current) and B (next), three local hosts on A, the credential."""
    sim = tiflux_sim.start_simulator(tls=True, state_dir=os.path.join(root, "sim"))
    user = sim.control.create_user("Integrações Tiflux", "integracoes@example.com.br")
    token_a = sim.control.issue_token(user["id"])["token"]
    token_b = sim.control.issue_token(user["id"])["token"]
    with open(sim.info["ca_path"]) as stream:
        ca_pem = stream.read()
    hosts_dir = os.path.join(root, "hosts")
    hosts = {
        "web1": [dict(path="%s/web1/tiflux.env" % hosts_dir, format="env", key="TIFLUX_API_TOKEN",
                      reload_command="echo reload >> '%s/web1/reloads.log'" % hosts_dir)],
        "sync1": [dict(path="%s/sync1/config.json" % hosts_dir, format="json", key="tiflux.token")],
        "agent1": [dict(path="%s/agent1/agent.env" % hosts_dir, format="env", key="TIFLUX_API_TOKEN"),
                   dict(path="%s/agent1/agent.json" % hosts_dir, format="json", key="tiflux.token")],
    }
    write_configs(hosts, token_a)
    inventory = {"all": {"hosts": dict(
        (name, {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, "tiflux_targets": targets})
        for name, targets in hosts.items())}}
    # One credential for every job template: current token A, next token B, the simulator's CA.
    # skip_tls_verify is left out, as in a credential created through the API without it.
    credential = {
        "api_url": sim.info["api_url"],
        "token": token_a,
        "next_token": token_b,
        "token_created": OLD_CREATED,
        "ca_bundle": ca_pem,
    }
    return SimpleNamespace(root=root, sim=sim, user_id=user["id"], tokens=[token_a, token_b], token_a=token_a, token_b=token_b,
                           hosts=hosts, hosts_dir=hosts_dir, inventory=inventory, credential=credential,
                           collections=copy_collection(os.path.join(root, "collections")), jobs={}, reports={})


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    made = make_fleet(str(tmp_path_factory.mktemp("awx")))
    try:
        yield made
    finally:
        made.sim.stop()


def run_job(fleet, step, template, survey=None, extra_vars_override=None, verbosity=4, extra_env=None, record=True,
            hosts=None, meta=None):
    """One AWX job: a fresh private data dir, the credential injected, ansible-runner as AWX calls it.

    hosts: the job's inventory holds only these (what a slice of a sliced job sees); meta: the variables AWX
    adds to every job's extra vars (awx_meta_vars: awx_job_id, awx_workflow_job_id, ...)."""
    pdd = tempfile.mkdtemp(prefix="awx_%s_" % step, dir=fleet.root)
    shutil.copytree(os.path.join(AWX_DIR, "project"), os.path.join(pdd, "project"))
    os.makedirs(os.path.join(pdd, "inventory"))
    os.makedirs(os.path.join(pdd, "env"), mode=0o700)
    for name in ("local_tmp", "remote_tmp"):
        os.makedirs(os.path.join(pdd, name))
    inventory = os.path.join(pdd, "inventory", "hosts")
    with open(inventory, "w") as stream:
        shown = dict(fleet.inventory["all"]["hosts"])
        if hosts is not None:
            shown = dict((name, shown[name]) for name in hosts)
        json.dump({"all": {"hosts": shown}}, stream, indent=2)

    jt_vars = dict(template["extra_vars"], **(extra_vars_override or {}))
    jt_vars.update(meta or {})
    job_vars = dict(jt_vars, **(survey or {}))
    with open(os.path.join(pdd, "env", "extravars"), "w") as stream:
        stream.write(awx_safe_dump(job_vars, safe_dict=jt_vars))

    env, args, _injected = awx_inject_credential(load_credential_type(), fleet.credential, pdd)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": fleet.collections,
        "ANSIBLE_LOCAL_TEMP": os.path.join(pdd, "local_tmp"),
        "ANSIBLE_REMOTE_TEMP": os.path.join(pdd, "remote_tmp"),
        "ANSIBLE_KEEP_REMOTE_FILES": "0",
        "ANSIBLE_FORCE_COLOR": "True",
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True",
        "AWX_PRIVATE_DATA_DIR": pdd,
        "JOB_ID": str(len(fleet.jobs) + 1),
        "MAX_EVENT_RES": "700000",
        # ansible-playbook of this venv, as the execution environment's would be first on PATH
        "PATH": BIN + os.pathsep + os.environ.get("PATH", os.defpath),
    })
    env.update(extra_env or {})
    started, cpu = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
    runner = ansible_runner.run(private_data_dir=pdd, project_dir=os.path.join(pdd, "project"),
                                playbook=template["playbook"], inventory=inventory, envvars=env,
                                cmdline=" ".join(args), verbosity=verbosity, ident=step, quiet=True)
    artifacts = os.path.join(pdd, "artifacts", step)
    with open(os.path.join(artifacts, "stdout"), errors="replace") as stream:
        stdout = ANSI.sub("", stream.read())
    job = SimpleNamespace(step=step, pdd=pdd, artifacts=artifacts, status=runner.status, rc=runner.rc, stdout=stdout,
                          events=list(runner.events), seconds=round(time.monotonic() - started, 1),
                          injected=[fleet.credential[k] for k in ("token", "next_token") if fleet.credential.get(k)],
                          cpu_seconds=round(_cpu(resource.getrusage(resource.RUSAGE_CHILDREN)) - _cpu(cpu), 1))
    if record:
        fleet.jobs[step] = job
    return job


def _cpu(usage):
    return usage.ru_utime + usage.ru_stime


def explain(fleet, job):
    """The end of a job's output for an assertion message, with any token (whole or part) replaced by its fingerprint."""
    text = "\n".join(job.stdout.splitlines()[-60:])
    for token in fleet.tokens:
        for needle in sorted(leak_scan.needles(token), key=len, reverse=True):
            text = text.replace(needle.decode(), "<token %s>" % leak_scan.fingerprint(token))
    return "%s: status=%s rc=%s; last lines of its stdout:\n%s" % (job.step, job.status, job.rc, text)


def config_token(target):
    with open(target["path"]) as stream:
        text = stream.read()
    if target["format"] == "json":
        return json.loads(text)["tiflux"]["token"]
    return re.search(r"^TIFLUX_API_TOKEN=(.*)$", text, re.M).group(1)


# ---------------------------------------------------------------------------------------------------
# Static checks: what AWX would refuse at creation time
# ---------------------------------------------------------------------------------------------------

def test_credential_type_is_valid_for_awx():
    cred_type = load_credential_type()
    awx_validate_credential_type(cred_type)
    assert cred_type["kind"] == "cloud"
    with open(os.path.join(AWX_DIR, "credential_type.json")) as stream:
        twin = json.load(stream)["credential_types"]
    assert len(twin) == 1
    assert twin[0].pop("natural_key") == {"name": cred_type["name"], "kind": cred_type["kind"], "type": "credential_type"}
    assert twin[0] == cred_type, "credential_type.json (the `awx import` twin) differs from credential_type.yml"


def test_credential_injection_with_only_the_required_fields(tmp_path):
    """A credential with only the token: public API, certificates verified, no CA, no next token."""
    os.makedirs(str(tmp_path / "env"))
    env, args, extra_vars = awx_inject_credential(load_credential_type(), {"token": "t" * 40}, str(tmp_path))
    assert env == {"TIFLUX_API_URL": "https://api.tiflux.com/api/v2", "TIFLUX_VALIDATE_CERTS": "True"}
    assert extra_vars == {"tiflux_api_url": "https://api.tiflux.com/api/v2", "tiflux_validate_certs": "True",
                          "tiflux_ca_path": "", "tiflux_token": "t" * 40, "tiflux_next_token": "",
                          "tiflux_token_created": "", "tiflux_previous_token": ""}
    assert args[0] == "-e" and args[1].startswith("@" + str(tmp_path / "env"))
    insecure = awx_inject_credential(load_credential_type(), {"token": "t" * 40, "skip_tls_verify": True}, str(tmp_path))[2]
    assert insecure["tiflux_validate_certs"] == "False"


def test_job_templates_and_survey():
    survey_path = os.path.join(AWX_DIR, "job_templates", "rotate.survey.json")
    with open(survey_path) as stream:
        survey = json.load(stream)
    injected = set(load_credential_type()["injectors"]["extra_vars"])
    for name in ("rotate", "confirm", "audit", "verdict"):
        template = load_job_template(name)
        assert template["job_slice_count"] == 1, "%s: unsliced unless a workflow slices it" % name
        # Only deploy/rotate may be sliced: its slices end with the slice verdict, the verdict template decides.
        assert template["ask_job_slice_count_on_launch"] is (name == "rotate")
        assert template["ask_limit_on_launch"] is (name == "rotate"), "only rotate takes a limit (to retry hosts)"
        assert template["ask_variables_on_launch"] is False and template["ask_credential_on_launch"] is False
        assert os.path.isfile(os.path.join(AWX_DIR, "project", template["playbook"]))
        assert not injected & set(template["extra_vars"]), "a template must not shadow the credential's variables"
        for value in template["extra_vars"].values():
            assert "tiflux_survey_" not in value or template["survey_enabled"]
    rotate = load_job_template("rotate")
    variables = [question["variable"] for question in survey["spec"]]
    assert len(variables) == len(set(variables))
    assert not set(variables) & (set(rotate["extra_vars"]) | injected), "survey answers would override the mapping"
    assert {"rotate_max_fail_percentage", "rotate_report_dir", "rotate_api_calls_per_minute"} <= set(variables)
    for question in survey["spec"]:
        assert question["type"] in ("text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect")
        assert {"question_name", "variable", "required", "type", "default"} <= set(question)
        if question["type"] == "integer":
            assert question["min"] <= question["default"] <= question["max"]


def test_docs_loader_sets_every_template_parameter():
    """docs/awx.md loads the template files with awx.awx.job_template: it must pass on every key they hold."""
    with open(os.path.join(REPO, "docs", "awx.md")) as stream:
        passed = set(re.findall(r"\bjt\.(\w+)", stream.read()))
    for name in ("rotate", "confirm", "audit", "verdict"):
        assert set(load_job_template(name)) <= passed, "docs/awx.md does not load %s" % (set(load_job_template(name)) - passed)


def test_sliced_rotation_workflow():
    """sliced deploy/rotate --always--> verdict --success--> approval --success--> confirm, with the templates' names."""
    with open(os.path.join(AWX_DIR, "workflow_templates", "sliced-rotation.yml")) as stream:
        workflow = yaml.safe_load(stream)
    names = dict((load_job_template(name)["name"], name) for name in ("rotate", "verdict", "confirm"))
    nodes = dict((node["identifier"], node) for node in workflow["nodes"])
    assert [names.get(nodes[i].get("unified_job_template")) for i in ("rotate", "verdict", "confirm")] == ["rotate", "verdict", "confirm"]
    assert nodes["rotate"]["job_slice_count"] > 1 and nodes["rotate"]["always_nodes"] == ["verdict"]
    # the credential follows the fleet verdict, never a slice's
    assert nodes["verdict"]["success_nodes"] == ["promote"] and nodes["promote"]["success_nodes"] == ["revoke"]
    assert nodes["promote"]["unified_job_template"] == load_job_template("promote_credential")["name"]
    assert nodes["confirm"]["success_nodes"] == ["forget"]
    assert nodes["forget"]["unified_job_template"] == load_job_template("forget_previous_token")["name"]
    assert "approval_node" in nodes["revoke"] and "unified_job_template" not in nodes["revoke"]
    assert nodes["revoke"]["success_nodes"] == ["confirm"]
    assert os.path.isfile(os.path.join(AWX_DIR, "project", load_job_template("verdict")["playbook"]))
    with open(os.path.join(REPO, "docs", "awx.md")) as stream:
        doc = stream.read()
    assert "workflow_templates/sliced-rotation.yml" in doc
    passed = set(re.findall(r"\bwf\.(\w+)", doc)) | set(re.findall(r"\bnode\.(\w+)", doc))
    keys = set(workflow["workflow"]) | set(key for node in workflow["nodes"] for key in node)
    assert keys <= passed, "docs/awx.md does not load %s" % (keys - passed)


def test_execution_environment_build_context(tmp_path):
    """`ansible-builder create` works without a container engine, and its galaxy stage installs the collection."""
    builder = os.path.join(BIN, "ansible-builder")
    if not os.path.isfile(builder):
        pytest.skip("ansible-builder is not installed in this venv (requirements/ansible-2.19.txt)")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "collections"), ANSIBLE_HOME=str(tmp_path / "home"))

    def run(*command, **kwargs):
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False, **kwargs)
        assert done.returncode == 0, "%s failed:\n%s%s" % (" ".join(command), done.stdout, done.stderr)
        return done.stdout

    # 1. As the repository holds it (no tarball built): only a warning about the missing tarball.
    run(builder, "create", "-f", os.path.join(AWX_DIR, "execution-environment.yml"), "-c", str(tmp_path / "ctx0"))
    # 2. With the tarball of this checkout where the EE file expects it (the repository root).
    fake_root = tmp_path / "repo"
    shutil.copytree(AWX_DIR, str(fake_root / "extensions" / "awx"),
                    ignore=shutil.ignore_patterns("project", "job_templates", "credential_type.*"))
    run(os.path.join(BIN, "ansible-galaxy"), "collection", "build", REPO, "--output-path", str(fake_root), "--force")
    with open(os.path.join(REPO, "galaxy.yml")) as stream:
        version = yaml.safe_load(stream)["version"]
    context = tmp_path / "ctx"
    run(builder, "create", "-f", str(fake_root / "extensions" / "awx" / "execution-environment.yml"), "-c", str(context))
    with open(str(context / "_build" / "requirements.yml")) as stream:
        wanted = [entry["name"] for entry in yaml.safe_load(stream)["collections"]]
    assert wanted == ["collections/tokenops-tiflux-%s.tar.gz" % version], "ee/requirements.yml names another version"
    assert os.path.isfile(str(context / "_build" / wanted[0]))
    containerfile = [str(context / name) for name in ("Containerfile", "Dockerfile") if (context / name).is_file()]
    with open(containerfile[0]) as stream:
        assert "ansible-galaxy collection install" in stream.read()
    # 3. The galaxy stage (WORKDIR /build), then ansible-builder's introspection of what it installed.
    run(os.path.join(BIN, "ansible-galaxy"), "collection", "install", "-r", "requirements.yml",
        "-p", str(tmp_path / "collections"), cwd=str(context / "_build"))
    found = yaml.safe_load(run(sys.executable, str(context / "_build" / "scripts" / "introspect.py"), "introspect",
                               str(tmp_path / "collections")))
    assert found["python"] in ([], None), found
    assert any(line.startswith("ca-certificates") and "tokenops.tiflux" in line for line in found["system"]), found


# ---------------------------------------------------------------------------------------------------
# The jobs
# ---------------------------------------------------------------------------------------------------

def test_rotate_job(fleet):
    reports = os.path.join(fleet.root, "reports-rotate")
    os.makedirs(reports)
    fleet.reports["rotate"] = reports
    fleet.sim.control.reset_counters()
    job = run_job(fleet, "rotate", load_job_template("rotate"), survey={
        "tiflux_survey_old_token_created": "",  # left empty: the credential's date is used
        "tiflux_survey_serial": "1, 2",
        "rotate_max_fail_percentage": 0,
        "rotate_report_dir": reports,
        "rotate_api_calls_per_minute": 60,
    })
    assert job.status == "successful" and job.rc == 0, explain(fleet, job)
    assert "VERDICT: safe to revoke" in job.stdout, explain(fleet, job)
    assert OLD_CREATED in job.stdout, "the credential's creation date should reach the revoke steps"
    # serial "1, 2" from the survey: a canary batch, then the two others
    deploy_batches = [e for e in job.events if e["event"] == "playbook_on_play_start"
                      and e["event_data"].get("play") == "Rotate the Tiflux API v2 token"]
    assert len(deploy_batches) == 2, explain(fleet, job)
    for targets in fleet.hosts.values():
        for target in targets:
            assert config_token(target) == fleet.token_b, "%s does not hold the next token" % target["path"]
    with open(os.path.join(reports, "rotate-deploy.json")) as stream:
        report = json.load(stream)
    assert report["safe_to_revoke"] is True
    # The user's quota (shared with the live integrations): the new and the old token from the controller and the
    # canary's proof; the other hosts prove their path with requests that carry no token.
    counters = fleet.sim.control.counters()
    used = counters["by_user"].get(str(fleet.user_id), 0)
    assert used <= 4, "the rotation of %d hosts used %d calls of the user's quota: %s" % (len(fleet.hosts), used, counters)
    # Revocation evidence: the old token is used once, by the preflight, whose time the summary gives.
    assert counters["by_fingerprint"].get(leak_scan.fingerprint(fleet.token_a)) == 1, counters
    assert re.search(r"This run last used the old token at \d\d/\d\d/\d{4} \d\d:\d\d", job.stdout), explain(fleet, job)


def test_confirm_job_after_revoking_the_old_token(fleet):
    if "rotate" not in fleet.jobs or fleet.jobs["rotate"].rc != 0:
        pytest.skip("the rotate job did not pass")
    fleet.sim.control.revoke(token=fleet.token_a)  # a person revokes A by hand in Sessões API
    reports = os.path.join(fleet.root, "reports-confirm")
    os.makedirs(reports)
    fleet.reports["confirm"] = reports
    job = run_job(fleet, "confirm", load_job_template("confirm"), extra_vars_override={"rotate_report_dir": reports})
    assert job.status == "successful" and job.rc == 0, explain(fleet, job)
    assert "VERDICT: rotation complete" in job.stdout, explain(fleet, job)


def test_audit_job(fleet):
    if not os.path.isfile(os.path.join(REPO, "roles", "audit", "tasks", "main.yml")):
        pytest.skip("roles/audit does not exist yet: the audit job template has nothing to run")
    if "confirm" not in fleet.jobs or fleet.jobs["confirm"].rc != 0:
        pytest.skip("the confirm job did not pass")
    reports = os.path.join(fleet.root, "reports-audit")
    fleet.reports["audit"] = reports
    job = run_job(fleet, "audit", load_job_template("audit"), extra_vars_override={"audit_report_dir": reports})
    assert job.status == "successful" and job.rc == 0, explain(fleet, job)
    with open(os.path.join(reports, "audit.json")) as stream:
        report = json.load(stream)
    rows = [row for row in report["rows"] if row["path"]]
    assert len(rows) == 4, report["rows"]
    assert {(row["label"], row["status"]) for row in rows} == {("next", "valid")}, rows
    assert [k["label"] for k in report["known_not_found"]] == ["current"]


def test_deploy_after_moving_the_next_token_to_current_changes_nothing(fleet):
    """Step 5 of docs/awx.md: the credential now holds B as current and no next token; deploy/rotate is a no-op."""
    if "confirm" not in fleet.jobs or fleet.jobs["confirm"].rc != 0:
        pytest.skip("the confirm job did not pass")
    fleet.credential.update(token=fleet.token_b, next_token="", token_created="")
    reports = os.path.join(fleet.root, "reports-redeploy")
    os.makedirs(reports)
    fleet.reports["redeploy"] = reports
    job = run_job(fleet, "redeploy", load_job_template("rotate"), survey={"rotate_report_dir": reports}, verbosity=2)
    assert job.status == "successful" and job.rc == 0, explain(fleet, job)
    with open(os.path.join(reports, "rotate-deploy.json")) as stream:
        report = json.load(stream)
    assert report["counts"] == {"unchanged": 3}, report["counts"]
    assert report["old_fingerprint"] is None and report["new_fingerprint"] == leak_scan.fingerprint(fleet.token_b)
    assert not any(e["event_data"].get("changed") for e in job.events if e["event"] == "runner_on_ok"), explain(fleet, job)


# ---------------------------------------------------------------------------------------------------
# A sliced job: its slices run at once, each on its share of the inventory, inside a workflow job
# ---------------------------------------------------------------------------------------------------

SLICES = [["web1"], ["sync1"], ["agent1"]]


@pytest.fixture(scope="module")
def sliced_fleet(tmp_path_factory):
    made = make_fleet(str(tmp_path_factory.mktemp("awx_sliced")))
    try:
        yield made
    finally:
        made.sim.stop()


def run_slices(fleet, slices, step):
    """The slices of one sliced deploy/rotate job, all at once. AWX gives each slice a subset of the inventory
    and, since a sliced job is a workflow job, awx_workflow_job_id; nothing says which slice it is."""
    template = load_job_template("rotate")
    with concurrent.futures.ThreadPoolExecutor(len(slices)) as pool:
        futures = [pool.submit(run_job, fleet, "%s_slice%d" % (step, index + 1), template, verbosity=0, record=False,
                               hosts=hosts, meta={"awx_job_id": 100 + index, "awx_workflow_job_id": 99})
                   for index, hosts in enumerate(slices)]
        jobs = [future.result() for future in futures]
    for job in jobs:
        assert not leak_scan.scan([job.artifacts], fleet.tokens), "token leaked in %s" % job.step
    return jobs


def run_verdict(fleet, step):
    reports = os.path.join(fleet.root, "reports-%s" % step)
    os.makedirs(reports)
    job = run_job(fleet, step, load_job_template("verdict"), extra_vars_override={"rotate_report_dir": reports}, verbosity=0,
                  record=False, meta={"awx_job_id": 200, "awx_workflow_job_id": 98})
    assert not leak_scan.scan([job.artifacts, reports], fleet.tokens), "token leaked in %s" % job.step
    with open(os.path.join(reports, "rotate-verdict.json")) as stream:
        return job, json.load(stream)


def test_slices_run_at_once_never_say_safe_and_the_verdict_job_does(sliced_fleet):
    fleet = sliced_fleet
    for job in run_slices(fleet, SLICES, "sliced"):
        assert job.status == "successful" and job.rc == 0, explain(fleet, job)
        assert "VERDICT (slice): 1 of 1 host(s) rotated; the fleet verdict needs rotate_phase=verdict" in job.stdout, explain(fleet, job)
        assert "safe to revoke" not in job.stdout.replace("NOT safe to revoke", ""), explain(fleet, job)
        assert "revoke it by hand" not in job.stdout.lower(), explain(fleet, job)
        # its reports, relative to the job's working directory (the project), not the installed collection
        with open(os.path.join(job.pdd, "project", "tiflux-reports", "rotate-deploy.json")) as stream:
            report = json.load(stream)
        assert report["kind"] == "slice" and report["safe_to_revoke"] is False and report["promote"] is False
    for targets in fleet.hosts.values():
        for target in targets:
            assert config_token(target) == fleet.token_b, target["path"]
    job, report = run_verdict(fleet, "verdict")
    assert job.status == "successful" and job.rc == 0, explain(fleet, job)
    assert "VERDICT: safe to revoke the old token %s" % leak_scan.fingerprint(fleet.token_a) in job.stdout, explain(fleet, job)
    assert report["kind"] == "safe" and report["still_on_old"] == []


def test_a_missing_slice_makes_the_fleet_verdict_not_safe_naming_its_hosts(sliced_fleet):
    fleet = sliced_fleet
    write_configs(fleet.hosts, fleet.token_a)  # the fleet back on the old token
    for job in run_slices(fleet, SLICES[:2], "two_slices"):
        assert job.status == "successful" and "VERDICT (slice)" in job.stdout, explain(fleet, job)
    job, report = run_verdict(fleet, "verdict_missing")
    assert job.status == "failed" and job.rc != 0, explain(fleet, job)
    assert "VERDICT: NOT safe to revoke" in job.stdout and "agent1 (not_rotated)" in job.stdout, explain(fleet, job)
    assert [s["host"] for s in report["still_on_old"]] == ["agent1"], report["still_on_old"]
    assert report["hosts"]["web1"]["status"] == report["hosts"]["sync1"]["status"] == "rotated"


def test_no_token_in_any_job_output(fleet):
    if not fleet.jobs:
        pytest.skip("no job ran")
    tokens = fleet.tokens
    summary = {"tokens": [leak_scan.fingerprint(t) for t in tokens], "jobs": {}}
    findings = []
    for step, job in fleet.jobs.items():
        events = glob.glob(os.path.join(job.artifacts, "job_events", "*.json"))
        assert events and os.path.isfile(os.path.join(job.artifacts, "stdout")), step
        artifact_findings = leak_scan.scan([job.artifacts], tokens)
        temp_findings = leak_scan.scan([os.path.join(job.pdd, "local_tmp"), os.path.join(job.pdd, "remote_tmp")], tokens)
        # Positive control: AWX's own extra-vars file in env/ holds the tokens, and the scanner finds them.
        env_findings = leak_scan.scan([os.path.join(job.pdd, "env")], tokens)
        assert {f[1] for f in env_findings} == {leak_scan.fingerprint(t) for t in job.injected}, \
            "the scan does not see the tokens injected into %s" % step
        leak_scan.assert_no_leaks(job.stdout, tokens)
        summary["jobs"][step] = {
            "status": job.status, "seconds": job.seconds, "cpu_seconds": job.cpu_seconds, "job_events": len(events),
            "artifacts_files": sum(len(walked[2]) for walked in os.walk(job.artifacts)),
            "findings_artifacts": len(artifact_findings), "findings_temp_dirs": len(temp_findings),
            "env_dir_files_holding_tokens": len({f[0] for f in env_findings}),
        }
        findings += artifact_findings + temp_findings
    report_findings = leak_scan.scan(list(fleet.reports.values()), tokens)
    host_findings = leak_scan.scan([], tokens, names_only=[fleet.hosts_dir])
    summary["findings_reports"] = len(report_findings)
    summary["findings_host_file_names"] = len(host_findings)
    findings += report_findings + host_findings
    os.makedirs(OUTPUT_DIR, exist_ok=True)
    with open(os.path.join(OUTPUT_DIR, "leak-scan.json"), "w") as stream:
        json.dump(summary, stream, indent=2)
    assert not findings, "token leaked: %s" % ["%s: %s %s" % f for f in findings]


def test_display_args_to_stdout_keeps_tokens_out_of_job_events(fleet):
    if "confirm" not in fleet.jobs or fleet.jobs["confirm"].rc != 0:
        pytest.skip("the confirm job did not pass")
    # Confirm again (it changes nothing) with the setting on, at AWX's default verbosity.
    job = run_job(fleet, "confirm_display_args", load_job_template("confirm"), verbosity=0, record=False,
                  extra_env={"ANSIBLE_DISPLAY_ARGS_TO_STDOUT": "True"})
    assert job.status == "successful" and job.rc == 0, explain(fleet, job)
    findings = leak_scan.scan([job.artifacts], fleet.tokens)
    assert not findings, "token leaked: %s" % ["%s: %s %s" % f for f in findings]
