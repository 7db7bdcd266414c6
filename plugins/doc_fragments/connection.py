# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Shared Tiflux API connection options. The option engine is
    # plugins/module_utils/_connection.py (connection_argument_spec); keep both in step.
    DOCUMENTATION = r"""
options:
  api_url:
    description:
      - Base URL of Tiflux API v2.
      - Tokens from Sessões API only work with API v2; an address that points at C(/api/v1) is refused.
      - Plain C(http://) is refused unless O(allow_http=true).
      - For modules, the E(TIFLUX_API_URL) environment variable of the target host is used when the option is not set.
    type: str
    default: https://api.tiflux.com/api/v2
  validate_certs:
    description:
      - Verify the TLS certificate of O(api_url).
      - Set to V(false) only for a test server; prefer O(ca_path).
      - For modules, the E(TIFLUX_VALIDATE_CERTS) environment variable of the target host is used when the option is not set.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the CA that signs the certificate of O(api_url) (a corporate TLS proxy, a test server).
      - For modules, the E(TIFLUX_CA_PATH) environment variable of the target host is used when the option is not set.
      - Set on a task (or in C(module_defaults)) it is a path on the target host. Set through the C(tiflux_ca_path)
        variable it is a file on the controller (an AWX credential's CA file, for example); its certificates, and
        nothing else of the file, are copied next to the module on each host; a file there that is not PEM
        certificates fails the task. A C(tiflux_ca_path) that is no file on the controller is a path on the host.
    type: path
  timeout:
    description:
      - Seconds one HTTP request may take in all (connection, answer and body). An answer whose body does not arrive
        whole within it is V(error), not a slow success.
    type: int
    default: 10
  retries:
    description:
      - How many times to retry a request that got HTTP 429, a 5xx answer, a dropped connection or a timeout.
      - A 429 waits C(Retry-After) when Tiflux sends it, else until C(RateLimit-Reset) plus O(rate_limit_margin);
        other failures back off exponentially (0.5 s, 1 s, 2 s, ... up to 8 s).
      - A 401 that follows a 429 is asked again after the quota resets, since Tiflux may answer 401 under persistent
        quota excess.
    type: int
    default: 3
  max_retry_wait:
    description:
      - Longest wait, in seconds, for the quota to reset after a 429; a longer wait gives up with status V(rate_limited).
    type: int
    default: 90
  rate_limit_margin:
    description:
      - Seconds added to C(RateLimit-Reset) before asking again after a 429 (and before the pacer resumes), because
        Tiflux's clock runs 1 to 2 seconds behind.
    type: float
    default: 3
  expiry_warning_days:
    description:
      - Warn when the token expires within this many days. Tiflux tokens are JWTs that expire two years after they were
        made; the date comes from the token's C(exp) claim. V(0) turns the warning off.
    type: int
    default: 30
  probes:
    description:
      - API paths, relative to O(api_url), to GET with the token, in order; the first outcome that is not V(valid) decides.
      - V(/users/me) needs no permission and tells whose token it is. Add V(/tickets?limit=1) or V(/users) to prove
        the permissions an integration needs (a missing one gives V(forbidden)).
    type: list
    elements: str
    default: ['/users/me']
  allow_http:
    description:
      - Allow a plain C(http://) O(api_url), for a local test server such as the bundled simulator.
    type: bool
    default: false
  api_calls_per_minute:
    description:
      - Budget of Tiflux API calls per minute for the whole C(ansible-playbook) run, shared by every host and fork.
        Before making its calls, each task waits on the controller until they fit the budget.
      - Tiflux counts about 120 requests per minute per user, shared by every token and live integration of that
        user; a rotation uses half by default.
      - The budget is never more than the user's limit minus O(quota_reserve).
      - Unset means no pacing unless O(quota_reserve) is set (a 429 is still waited out, see O(retries)).
    type: int
  quota_reserve:
    description:
      - Requests per minute of the token's user that the run leaves to the user's live integrations. The run's calls
        stay within the limit minus the reserve, and when Tiflux's C(RateLimit-Remaining) shows that the rest of the
        current minute would leave less than the reserve, the run waits for the next minute.
      - The limit is Tiflux's C(RateLimit-Limit), else the token's C(req_limit) claim, else 120. The default, when
        pacing applies (O(api_calls_per_minute) or O(quota_reserve) set, as the rotate and audit roles do), is half the limit.
    type: int
notes:
  - Every option can be set for a play, a group or a host as the variable C(tiflux_<option>) (C(tiflux_api_url),
    C(tiflux_ca_path), C(tiflux_validate_certs), C(tiflux_allow_http), C(tiflux_timeout), ...), read by the lookup
    and by every module of the collection; a task option, C(module_defaults) of C(group/tokenops.tiflux.tiflux) or a
    lookup keyword wins over it. The collection 1.0 names C(ansible_tiflux_<option>) still work and are deprecated.
  - "The token is sent only as C(Authorization: Bearer) to O(api_url); redirects are not followed, so it is never sent elsewhere."
  - Every output names tokens only by fingerprint, C(sha256:) followed by the first 16 hex digits of the SHA-256 of the token.
"""

    # Extra sources for non-module plugins (lookups) that read controller variables: for each option of
    # _connection.module_argument_spec(), the variable tiflux_<option> and the deprecated 1.0 name
    # ansible_tiflux_<option> (plugin_utils/_vars.py resolves them; its unit test keeps this list whole).
    # AWX reserves ANSIBLE_* environment names, hence TIFLUX_*.
    PLUGINS = r"""
options:
  api_url:
    env:
      - name: TIFLUX_API_URL
    vars:
      - name: tiflux_api_url
      - name: ansible_tiflux_api_url
        deprecated:
          why: collection 1.0 name; one vocabulary for the lookup, the modules and the roles
          version: 2.0.0
          collection_name: tokenops.tiflux
          alternatives: tiflux_api_url
  validate_certs:
    env:
      - name: TIFLUX_VALIDATE_CERTS
    vars:
      - name: tiflux_validate_certs
      - name: ansible_tiflux_validate_certs
        deprecated:
          why: collection 1.0 name; one vocabulary for the lookup, the modules and the roles
          version: 2.0.0
          collection_name: tokenops.tiflux
          alternatives: tiflux_validate_certs
  ca_path:
    env:
      - name: TIFLUX_CA_PATH
    vars:
      - name: tiflux_ca_path
      - name: ansible_tiflux_ca_path
        deprecated:
          why: collection 1.0 name; one vocabulary for the lookup, the modules and the roles
          version: 2.0.0
          collection_name: tokenops.tiflux
          alternatives: tiflux_ca_path
  timeout:
    vars:
      - name: tiflux_timeout
      - name: ansible_tiflux_timeout
        deprecated:
          why: collection 1.0 name; one vocabulary for the lookup, the modules and the roles
          version: 2.0.0
          collection_name: tokenops.tiflux
          alternatives: tiflux_timeout
  retries:
    vars:
      - name: tiflux_retries
      - name: ansible_tiflux_retries
        deprecated:
          why: collection 1.0 name; one vocabulary for the lookup, the modules and the roles
          version: 2.0.0
          collection_name: tokenops.tiflux
          alternatives: tiflux_retries
  max_retry_wait:
    vars:
      - name: tiflux_max_retry_wait
      - name: ansible_tiflux_max_retry_wait
        deprecated:
          why: collection 1.0 name; one vocabulary for the lookup, the modules and the roles
          version: 2.0.0
          collection_name: tokenops.tiflux
          alternatives: tiflux_max_retry_wait
  probes:
    vars:
      - name: tiflux_probes
      - name: ansible_tiflux_probes
        deprecated:
          why: collection 1.0 name; one vocabulary for the lookup, the modules and the roles
          version: 2.0.0
          collection_name: tokenops.tiflux
          alternatives: tiflux_probes
  allow_http:
    env:
      - name: TIFLUX_ALLOW_HTTP
    vars:
      - name: tiflux_allow_http
      - name: ansible_tiflux_allow_http
        deprecated:
          why: collection 1.0 name; one vocabulary for the lookup, the modules and the roles
          version: 2.0.0
          collection_name: tokenops.tiflux
          alternatives: tiflux_allow_http
  api_calls_per_minute:
    vars:
      - name: tiflux_api_calls_per_minute
      - name: ansible_tiflux_api_calls_per_minute
        deprecated:
          why: collection 1.0 name; one vocabulary for the lookup, the modules and the roles
          version: 2.0.0
          collection_name: tokenops.tiflux
          alternatives: tiflux_api_calls_per_minute
  rate_limit_margin:
    vars:
      - name: tiflux_rate_limit_margin
  expiry_warning_days:
    vars:
      - name: tiflux_expiry_warning_days
  quota_reserve:
    vars:
      - name: tiflux_quota_reserve
"""
