# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The ``tiflux_*`` variables: one vocabulary for the connection options of the lookup and every module.

Each connection option ``X`` of ``_connection.module_argument_spec()`` (``api_url``, ``ca_path``,
``validate_certs``, ``allow_http``, ``timeout``, ..., ``api_calls_per_minute``) can be set once for a
play, a group or a host as the variable ``tiflux_X``. Collection 1.0 named them ``ansible_tiflux_X``;
those names still work and are reported as deprecated (once per run: ansible shows a deprecation
message once however many hosts and forks repeat it).

What the caller set itself (a task option, ``module_defaults``, a lookup keyword) wins: those options
are not looked up, so a variable the task does not need is never templated.
"""

from __future__ import annotations

import re
from collections import namedtuple

from ansible.utils.display import Display

from ansible_collections.tokenops.tiflux.plugins.module_utils._connection import module_argument_spec

PREFIX = "tiflux_"
OLD_PREFIX = "ansible_tiflux_"
REMOVED_IN = "2.0.0"
# The options collection 1.0 had, the only ones with a 1.0 name to keep reading.
OPTIONS_1_0 = ("api_url", "validate_certs", "ca_path", "timeout", "retries", "max_retry_wait", "probes", "allow_http",
               "api_calls_per_minute")

Setting = namedtuple("Setting", "variable value")

# The roles hand their 1.0 options on under the 1.0 names (ansible_tiflux_api_url: "{{ rotate_api_url }}",
# vars/main.yml): the user wrote none of those, so they are not reported here; the role's filter reports the
# role option the user set (deprecate_role_options). Goes with those options in 2.0.0.
_ROLE_MAPPING = re.compile(r"^\{\{\s*(rotate|audit)_[a-z_]+\s*\}\}$")

display = Display()


def options():
    """The options the variables can set: every connection option and the pacing budget."""
    return tuple(module_argument_spec())


def variable(option):
    return PREFIX + option


def old_variable(option):
    return OLD_PREFIX + option


def resolve(variables, template, given=()):
    """Settings from the ``tiflux_*`` (else ``ansible_tiflux_*``) variables, for the options not in ``given``.

    ``variables`` are the task's (or lookup's) variables, untemplated; ``template`` renders one value.
    An empty value (an unset AWX credential field) counts as not set. Returns {option: Setting}.
    """
    found = {}
    for option in options():
        if option in given:
            continue
        for name in (variable(option), old_variable(option)) if option in OPTIONS_1_0 else (variable(option),):
            if name not in variables:
                continue
            value = template(variables[name])
            if value is None or value == "":
                continue
            if name != variable(option) and not _ROLE_MAPPING.match(str(variables[name]).strip()):
                # sanity's pylint wants the version as a literal here: REMOVED_IN
                display.deprecated("The variable %s is deprecated: name it %s" % (name, variable(option)),
                                   version="2.0.0", collection_name="tokenops.tiflux")
            found[option] = Setting(name, value)
            break
    return found


def deprecate_role_options(values):
    """One deprecation message for the 1.0 role options set, naming the ``tiflux_*`` variable of each.

    ``values`` maps a role's 1.0 connection options (``rotate_api_url``, ``audit_ca_path``, ...: the role's name,
    ``_``, the option) to their values; empty means not set. Returns the names set, sorted.
    """
    used = sorted(name for name, value in values.items() if value not in (None, ""))
    if used:
        display.deprecated(
            "%s: set %s instead (inventory or play variables, read by every module and lookup of tokenops.tiflux)"
            % (", ".join(used), ", ".join(variable(name.split("_", 1)[1]) for name in used)),
            version="2.0.0", collection_name="tokenops.tiflux")
    return used
