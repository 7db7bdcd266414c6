# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: fingerprint
short_description: Name a Tiflux token without showing it
version_added: 1.0.0
author:
  - tokenops maintainers (@tokenops)
description:
  - Returns C(sha256:) followed by the first 16 hex digits of the SHA-256 of the token, after removing
    surrounding whitespace (the newline that ends vault files) — the fingerprint every plugin of the collection shows.
positional: _input
options:
  _input:
    description: The token.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Say which token a vaulted variable holds
  ansible.builtin.debug:
    msg: "deploying {{ vault_tiflux_token | tokenops.tiflux.fingerprint }}"
"""

RETURN = r"""
_value:
  description: The fingerprint.
  type: str
  sample: sha256:5e884898da280471
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.tokenops.tiflux.plugins.module_utils._token import TokenError, fingerprint, normalize


def _fingerprint(token):
    try:
        return fingerprint(normalize(token))
    except TokenError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule:
    def filters(self):
        return {"fingerprint": _fingerprint}
