# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The connection options every module and the lookup share, apart from the client that uses them.

Every module builds its argument spec from here, and every action plugin reads the option
names on each task; only a run that talks to Tiflux imports _api.py. Module code is
compiled from the AnsiballZ zip on every run (and collection module_utils on the
controller are compiled on every import), so a push without verify does not pay for the
client.
"""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

DEFAULT_API_URL = "https://api.tiflux.com/api/v2"
DEFAULT_PROBES = ["/users/me"]
# Tiflux's clock runs 1-2 s behind (integrators wait RateLimit-Reset + 3 s).
DEFAULT_RATE_LIMIT_MARGIN = 3.0
DEFAULT_EXPIRY_WARNING_DAYS = 30


class ApiConfigError(ValueError):
    """Connection options that cannot work (http, API v1, not a URL)."""


def connection_argument_spec():
    """Module options shared by every module (documented in doc_fragments/connection.py)."""
    return dict(
        api_url=dict(type="str", default=DEFAULT_API_URL, fallback=(env_fallback, ["TIFLUX_API_URL"])),
        validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["TIFLUX_VALIDATE_CERTS"])),
        ca_path=dict(type="path", fallback=(env_fallback, ["TIFLUX_CA_PATH"])),
        timeout=dict(type="int", default=10),
        retries=dict(type="int", default=3),
        max_retry_wait=dict(type="int", default=90),
        probes=dict(type="list", elements="str", default=list(DEFAULT_PROBES)),
        allow_http=dict(type="bool", default=False),
        rate_limit_margin=dict(type="float", default=DEFAULT_RATE_LIMIT_MARGIN),
        expiry_warning_days=dict(type="int", default=DEFAULT_EXPIRY_WARNING_DAYS),
    )


CONNECTION_OPTIONS = tuple(connection_argument_spec())


def pacing_argument_spec():
    """The run's pacing of API calls, applied on the controller (plugin_utils/_pacer.py) before a module runs."""
    return dict(
        api_calls_per_minute=dict(type="int"),
        quota_reserve=dict(type="int"),
    )


PACING_OPTIONS = tuple(pacing_argument_spec())


def module_argument_spec():
    """Connection options plus the pacing options, which the action plugin consumes on the controller."""
    spec = connection_argument_spec()
    spec.update(pacing_argument_spec())
    return spec
