# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.tokenops.tiflux.plugins.doc_fragments.connection import ModuleDocFragment
from ansible_collections.tokenops.tiflux.plugins.module_utils._connection import CONNECTION_OPTIONS, PACING_OPTIONS
from ansible_collections.tokenops.tiflux.plugins.plugin_utils import _vars

import yaml


@pytest.fixture
def deprecations(monkeypatch):
    seen = []
    monkeypatch.setattr(_vars.display, "deprecated", lambda msg, **kwargs: seen.append((msg, kwargs)))
    return seen


def same(value):
    return value


def test_every_connection_option_has_a_variable():
    assert set(CONNECTION_OPTIONS) | set(PACING_OPTIONS) == set(_vars.options())
    for wanted in ("api_url", "ca_path", "validate_certs", "allow_http", "timeout"):
        assert _vars.variable(wanted) == "tiflux_" + wanted


def test_new_names_set_options(deprecations):
    found = _vars.resolve({"tiflux_api_url": "https://a/api/v2", "tiflux_timeout": 3, "tiflux_targets": []}, same)
    assert {k: v.value for k, v in found.items()} == {"api_url": "https://a/api/v2", "timeout": 3}
    assert found["api_url"].variable == "tiflux_api_url"
    assert deprecations == []


def test_old_names_still_work_and_are_deprecated(deprecations):
    found = _vars.resolve({"ansible_tiflux_ca_path": "/ca.pem"}, same)
    assert found["ca_path"] == ("ansible_tiflux_ca_path", "/ca.pem")
    [(msg, kwargs)] = deprecations
    assert "ansible_tiflux_ca_path" in msg and "tiflux_ca_path" in msg.replace("ansible_tiflux_ca_path", "")
    assert kwargs == dict(version=_vars.REMOVED_IN, collection_name="tokenops.tiflux")


def test_the_roles_own_mapping_is_not_reported(deprecations):
    found = _vars.resolve({"ansible_tiflux_retries": "{{ rotate_retries }}", "ansible_tiflux_timeout": "{{ my_timeout }}"},
                          lambda value: {"{{ rotate_retries }}": 10, "{{ my_timeout }}": 4}[value])
    assert (found["retries"].value, found["timeout"].value) == (10, 4)
    assert [msg for msg, _kwargs in deprecations] == ["The variable ansible_tiflux_timeout is deprecated: name it tiflux_timeout"]


def test_new_name_wins_over_old_without_a_warning(deprecations):
    found = _vars.resolve({"ansible_tiflux_api_url": "https://old/api/v2", "tiflux_api_url": "https://new/api/v2"}, same)
    assert found["api_url"].value == "https://new/api/v2"
    assert deprecations == []


def test_given_options_are_not_looked_up_nor_templated(deprecations):
    def template(value):
        raise AssertionError("templated %r" % value)
    assert _vars.resolve({"tiflux_api_url": "{{ undefined }}", "ansible_tiflux_timeout": "{{ x }}"}, template,
                         given={"api_url": "https://task/api/v2", "timeout": 5}) == {}
    assert deprecations == []


@pytest.mark.parametrize("empty", ["", None])
def test_empty_value_means_not_set(empty, deprecations):
    # An unset AWX credential field arrives as "": the old name behind it still counts.
    found = _vars.resolve({"tiflux_ca_path": empty, "ansible_tiflux_ca_path": "/ca.pem"}, same)
    assert found["ca_path"].value == "/ca.pem"
    assert _vars.resolve({"tiflux_ca_path": empty}, same) == {}


def test_values_are_templated():
    found = _vars.resolve({"tiflux_api_url": "{{ base }}/api/v2"}, lambda v: v.replace("{{ base }}", "https://t"))
    assert found["api_url"].value == "https://t/api/v2"


def test_the_lookup_documents_every_variable():
    """A connection option documented for the lookup is documented with its variables (add them to PLUGINS)."""
    doc = yaml.safe_load(ModuleDocFragment.PLUGINS)["options"]
    main = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    assert set(doc) == set(_vars.options()) & set(main), "the PLUGINS fragment lists other options than the spec"
    for option, entry in doc.items():
        if option not in _vars.OPTIONS_1_0:
            assert entry["vars"] == [{"name": "tiflux_" + option}], "an option added after 1.0 has no 1.0 name"
            continue
        new, old = entry["vars"]
        assert new == {"name": "tiflux_" + option}
        assert old["name"] == "ansible_tiflux_" + option and old["deprecated"]["alternatives"] == "tiflux_" + option
        assert old["deprecated"]["version"] == _vars.REMOVED_IN


def test_options_added_after_1_0_have_no_1_0_name():
    """ansible_tiflux_quota_reserve never existed: it is not read, so a typo of the new name cannot hide."""
    assert "quota_reserve" in _vars.options() and "quota_reserve" not in _vars.OPTIONS_1_0
    assert _vars.resolve({"ansible_tiflux_quota_reserve": "5"}, lambda value: value) == {}
    assert _vars.resolve({"tiflux_quota_reserve": "5"}, lambda value: value)["quota_reserve"].value == "5"


def test_role_options_set_give_one_deprecation_naming_their_variables(deprecations):
    used = _vars.deprecate_role_options({"audit_ca_path": "/ca.pem", "audit_api_url": "https://a/api/v2",
                                         "audit_allow_http": "", "audit_validate_certs": None})
    assert used == ["audit_api_url", "audit_ca_path"]
    [(msg, kwargs)] = deprecations
    assert msg.startswith("audit_api_url, audit_ca_path: set tiflux_api_url, tiflux_ca_path instead")
    assert kwargs == dict(version=_vars.REMOVED_IN, collection_name="tokenops.tiflux")
    assert _vars.deprecate_role_options({"rotate_api_url": ""}) == [] and len(deprecations) == 1
