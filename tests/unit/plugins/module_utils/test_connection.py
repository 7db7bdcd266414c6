# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""_connection: the option engine every module and the lookup share, against the doc fragment that documents it."""

from __future__ import annotations

import inspect

import pytest
import yaml

from ansible_collections.tokenops.tiflux.plugins.doc_fragments.connection import ModuleDocFragment
from ansible_collections.tokenops.tiflux.plugins.module_utils import _connection
from ansible_collections.tokenops.tiflux.plugins.module_utils._api import Client

DOCUMENTED = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
PLUGIN_SOURCES = yaml.safe_load(ModuleDocFragment.PLUGINS)["options"]


def test_module_options_are_the_connection_and_pacing_options():
    assert tuple(_connection.module_argument_spec()) == _connection.CONNECTION_OPTIONS + _connection.PACING_OPTIONS
    assert not set(_connection.CONNECTION_OPTIONS) & set(_connection.PACING_OPTIONS)


@pytest.mark.parametrize("name, spec", sorted(_connection.module_argument_spec().items()))
def test_every_option_is_documented_as_the_engine_has_it(name, spec):
    doc = DOCUMENTED[name]
    assert doc["type"] == spec["type"]
    assert doc.get("default") == spec.get("default")
    assert doc.get("elements") == spec.get("elements")
    # an environment fallback of the host is documented in the option's own words, and for the lookup as a source
    for variable in (spec.get("fallback") or (None, []))[1]:
        assert "E(%s)" % variable in " ".join(doc["description"])
        assert {"name": variable} in PLUGIN_SOURCES[name]["env"]


def test_nothing_is_documented_that_the_engine_does_not_take():
    assert set(DOCUMENTED) == set(_connection.module_argument_spec())
    assert set(PLUGIN_SOURCES) == set(_connection.module_argument_spec())


def test_the_client_defaults_are_the_documented_ones():
    defaults = dict((name, p.default) for name, p in inspect.signature(Client.__init__).parameters.items()
                    if p.default is not inspect.Parameter.empty)
    for name in set(defaults) & set(_connection.CONNECTION_OPTIONS):
        documented = DOCUMENTED[name].get("default")
        if name == "probes" and defaults[name] is None:
            continue  # None means the client's DEFAULT_PROBES
        assert defaults[name] == documented, name


def test_an_option_list_default_is_not_shared_between_specs():
    first, second = _connection.connection_argument_spec(), _connection.connection_argument_spec()
    first["probes"]["default"].append("/tickets")
    assert second["probes"]["default"] == _connection.DEFAULT_PROBES == ["/users/me"]
