# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""scripts/role_docs.py: role READMEs, argument specs and defaults/main.yml agree (make lint runs --check)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO, "scripts", "role_docs.py")


def check(root):
    return subprocess.run([sys.executable, SCRIPT, "--check", "--root", str(root)], capture_output=True, text=True,
                          check=False)


@pytest.fixture
def roles(tmp_path):
    shutil.copytree(os.path.join(REPO, "roles"), str(tmp_path / "roles"))
    return tmp_path


def edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_the_repository_agrees():
    done = check(REPO)
    assert done.returncode == 0, done.stderr
    assert "agree" in done.stdout


def test_a_stale_readme_is_found(roles):
    edit(roles / "roles" / "audit" / "meta" / "argument_specs.yml", "default: 60", "default: 30")
    edit(roles / "roles" / "audit" / "defaults" / "main.yml", "audit_api_calls_per_minute: 60", "audit_api_calls_per_minute: 30")
    done = check(roles)
    assert done.returncode == 1
    assert done.stderr == ("roles/audit/README.md: the variables table differs from meta/argument_specs.yml:"
                           " run python scripts/role_docs.py\n")
    subprocess.run([sys.executable, SCRIPT, "--root", str(roles)], check=True, capture_output=True)
    assert check(roles).returncode == 0
    assert "| `audit_api_calls_per_minute` | int | `30` |" in (roles / "roles" / "audit" / "README.md").read_text()


def test_a_default_that_the_spec_misstates_is_found(roles):
    edit(roles / "roles" / "rotate" / "defaults" / "main.yml", "rotate_retries: 10", "rotate_retries: 5")
    assert "roles/rotate/meta/argument_specs.yml: rotate_retries shows default 10, defaults/main.yml gives it 5" in check(roles).stderr


def test_a_templated_default_is_rendered(roles):
    edit(roles / "roles" / "rotate" / "defaults" / "main.yml", "default('https://api.tiflux.com/api/v2')",
         "default('https://other.example/api/v2')")
    assert "rotate_api_url shows default \"https://api.tiflux.com/api/v2\", defaults/main.yml gives it" \
        ' "https://other.example/api/v2"' in check(roles).stderr


def test_an_undocumented_variable_is_found(roles):
    with open(str(roles / "roles" / "audit" / "defaults" / "main.yml"), "a") as handle:
        handle.write("audit_secret_knob: 3\n")
    assert "roles/audit/defaults/main.yml: audit_secret_knob is not described in meta/argument_specs.yml" in check(roles).stderr


def test_a_default_missing_from_defaults_is_found(roles):
    edit(roles / "roles" / "audit" / "defaults" / "main.yml", 'audit_report_dir: ""\n', "")
    assert 'audit_report_dir has default "" but defaults/main.yml does not set it' in check(roles).stderr


def test_a_missing_readme_is_found(roles):
    os.remove(str(roles / "roles" / "rotate" / "README.md"))
    assert "roles/rotate/README.md is missing" in check(roles).stderr
