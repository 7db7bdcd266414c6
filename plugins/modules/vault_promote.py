#!/usr/bin/python
# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This is a virtual module: the action plugin of the same name does all the work, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
module: vault_promote
short_description: Put the new Tiflux token in the Ansible Vault vars file after a rotation
version_added: 1.1.0
author:
  - tokenops maintainers (@tokenops)
description:
  - After a rotation deployed and proved the new token on every host, the vars file that routine playbooks read
    (C(TIFLUX_API_TOKEN={{ vault_tiflux_token }}) in a template) must hold the new token too, or the next routine run
    puts the old one back on every host. This module moves the token in that file, on the controller.
  - With O(state=promoted), the file holds O(token) under O(var) and O(old_token) under C(<var>_previous) afterwards.
    A C(<var>_next) entry (where the runbook stages the new token before the rotation) is removed when it holds
    O(token), and left in place, named in the message, when it holds anything else.
  - With O(state=previous_removed) (after the old token was revoked and proven rejected), C(<var>_previous) is removed.
    When O(old_token) is given, only if it holds that token.
  - Two shapes of file. A whole-file vault (C(ansible-vault create) or C(ansible-vault encrypt)) is decrypted with the
    vault secrets already loaded in the play (no second password prompt), edited, and encrypted again with the same
    secret under the same vault id. A plain YAML vars file with inline C(!vault |) values (C(ansible-vault
    encrypt_string)) keeps every line byte-identical except the values that change, which are encrypted again with
    the secret and vault id of the current O(var).
  - The YAML text is edited in place (comments, order, quoting and blank lines stay), never re-dumped.
  - Safe like the host-side writes of the collection. The new content (ciphertext and the file's own clear lines,
    never a token in clear) is written to a temp file created 0600 in the same directory, given the file's owner and
    mode, and renamed over it. An exclusive lock on the file makes a second promotion wait for the first. A file
    changed by someone else meanwhile is kept and the task fails saying so. A symlink that another user owns, or
    that sits in a directory others can write, is refused.
  - Idempotent. Running it again with the same tokens changes nothing. V(promoted) fails, changing nothing, when O(var)
    holds neither O(token) nor O(old_token), since that means the wrong file or variable.
  - Tokens appear in no output, not even in diffs, only their fingerprints (C(sha256:) + 16 hex digits).
options:
  path:
    description:
      - The vars file on the controller that defines O(var), such as C(group_vars/all/vault.yml). A relative path is
        relative to the directory ansible-playbook runs from.
    type: path
    required: true
  var:
    description:
      - The variable that holds the token. C(<var>_previous) and C(<var>_next) are derived from it.
    type: str
    default: vault_tiflux_token
  token:
    description:
      - The new token, the one the fleet now uses. Required with O(state=promoted).
    type: str
  old_token:
    description:
      - The token it replaced. Required with O(state=promoted). With O(state=previous_removed), C(<var>_previous) is
        removed only if it holds this token.
    type: str
  state:
    description:
      - V(promoted) puts O(token) under O(var) and O(old_token) under C(<var>_previous).
      - V(previous_removed) removes C(<var>_previous).
    type: str
    choices: [promoted, previous_removed]
    default: promoted
extends_documentation_fragment:
  - tokenops.tiflux.attributes
  - tokenops.tiflux.attributes.controller
attributes:
  check_mode:
    support: full
    details: Reads and decrypts the file and says what would change; writes nothing.
  diff_mode:
    support: full
    details: The diff lists the affected variables with the fingerprints of their tokens, never a value.
notes:
  - The play needs the vault password of the file (C(--ask-vault-pass), C(--vault-password-file) or C(--vault-id)),
    as it does to read the file anyway.
  - The rotate role runs it by itself when C(rotate_vault_file) is set, after a verdict that the old token is safe to
    revoke (or already revoked), and with V(previous_removed) in its confirm phase. Without C(rotate_vault_file), run
    the playbook C(tokenops.tiflux.vault_promote) with the same variables.
seealso:
  - module: tokenops.tiflux.token_deploy
  - name: Ansible Vault
    description: Encrypting content with Ansible Vault.
    link: https://docs.ansible.com/ansible/latest/vault_guide/index.html
"""

EXAMPLES = r"""
- name: Make the vault hold the new token, the old one as vault_tiflux_token_previous
  tokenops.tiflux.vault_promote:
    path: group_vars/all/vault.yml
    token: "{{ vault_tiflux_token_next }}"
    old_token: "{{ vault_tiflux_token }}"
  run_once: true

- name: Once the old token is revoked and proven rejected, forget it
  tokenops.tiflux.vault_promote:
    path: group_vars/all/vault.yml
    old_token: "{{ vault_tiflux_token_previous }}"
    state: previous_removed
  run_once: true
"""

RETURN = r"""
path:
  description: The real path of the vars file (symlinks resolved).
  returned: always
  type: str
  sample: /srv/ansible/group_vars/all/vault.yml
fingerprint:
  description:
    - The fingerprint of the token under O(var) after the task (in check mode, what it would be).
    - With O(state=previous_removed), the fingerprint of what O(var) holds, or null when it is not readable.
  returned: success
  type: str
  sample: "sha256:1f2e3d4c5b6a7988"
previous_fingerprint:
  description: The fingerprint of the token under C(<var>_previous) (the one removed, with O(state=previous_removed)); null when there is none.
  returned: success
  type: str
  sample: "sha256:0a1b2c3d4e5f6071"
msg:
  description: One line saying what changed (or would change), by variable name and fingerprint.
  returned: always
  type: str
  sample: >-
    group_vars/all/vault.yml: changed vault_tiflux_token from sha256:0a1b2c3d4e5f6071 to sha256:1f2e3d4c5b6a7988; added
    vault_tiflux_token_previous = sha256:0a1b2c3d4e5f6071; removed vault_tiflux_token_next (sha256:1f2e3d4c5b6a7988)
"""
