#!/usr/bin/python
# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: token_push
short_description: Write a Tiflux API v2 token into an integration config, atomically, and prove it works
version_added: 1.0.0
author:
  - tokenops maintainers (@tokenops)
description:
  - Writes O(token) at O(key) of an integration config on the target host; only the token's bytes change (comments,
    blank lines, key order, quoting of other lines, indentation, CRLF line endings and the trailing newline or its
    absence stay byte for byte).
  - One write transaction for every format (shared with M(tokenops.tiflux.token_deploy)); the new content is computed
    in memory, optionally backed up and validated, written to a C(0600) temp file in the same directory, given the
    file's owner, group, mode and SELinux context, and moved into place atomically. Unchanged content writes nothing.
  - Runs of this collection on one directory take turns (an advisory lock on the directory, held from the read to the
    end of O(verify)); a file changed by anyone else after it was read is left as they wrote it, and the task fails
    saying so.
  - A path that another user could have planted or swapped is refused unless O(follow=true); see O(follow).
  - With O(verify=true) the token B(as written in the file) is checked from the host after the write; if the outcome
    is not V(valid) the original file is restored byte-identical (content, mode and owner) and the module fails with
    the check's message. One task per host gives push, proof and rollback.
  - Neither the new nor the old token appears in any output, nor any part of one in quoted command output; diffs show
    them as C(<token sha256:...>).
options:
  token:
    description:
      - The token to write. Surrounding whitespace (the newline that ends vault files) is removed.
      - Must be a string of printable ASCII without whitespace, at most 4096 characters; a number, list or dict is
        refused (not converted).
      - Required with O(state=present).
    type: raw
  state:
    description:
      - V(present) writes the token; V(absent) removes the key (or empties a V(raw) file).
    type: str
    choices: [present, absent]
    default: present
  create:
    description:
      - Create the file when it does not exist. A created file gets mode C(0600) unless O(mode) says otherwise;
        RV(created) says whether it was made.
    type: bool
    default: true
  create_dirs:
    description:
      - Create missing parent directories, with mode O(dir_mode). Without it a missing directory is an error.
    type: bool
    default: false
  dir_mode:
    description:
      - Mode of the directories O(create_dirs) makes, as an octal string such as V('0750'). The umask neither widens
        nor narrows it.
    type: raw
    default: "0700"
  follow:
    description:
      - Trust the path as it is. By default a path someone other than root or the running user could have planted or
        swapped is refused, with one line and nothing written; a symlink or a directory on the way owned by another
        user or sitting in a directory writable by others without the sticky bit, and, in a sticky directory writable
        by others such as C(/tmp), a symlink or a file owned by another user. Symlinks that only root or the running
        user control are followed either way; RV(real_path) names the file edited.
      - With V(true) every symlink is followed and the file's owner is kept, as M(ansible.builtin.copy) does; that
        user may then read the token.
    type: bool
    default: false
  backup:
    description:
      - Keep a timestamped copy of the original next to the file (C(path.YYYY-MM-DD@HH:MM:SS.RANDOM~), mode C(0600),
        owned by the running user, whatever the original's mode); its path is RV(backup_file).
      - Only when the file changes. When the push leaves the file as it was (a write or O(validate) fails,
        or O(verify) fails and the original is put back), the copy is removed again.
      - The copy holds the old token like the original does, so delete it once the old token is revoked.
    type: bool
    default: false
  validate:
    description:
      - Command run on the temp file before it replaces the real one; C(%s) stands for the temp file's path and
        C(%%) for a literal C(%), as in M(ansible.builtin.copy).
      - A non-zero exit leaves the file unchanged and fails the task.
    type: str
  verify:
    description:
      - After the write, check the token as written in the file from the host (see O(probes)), and restore the
        original file when the outcome is not V(valid).
      - Not done in check mode (nothing is written).
    type: bool
    default: false
  path:
    required: true
  format:
    required: true
extends_documentation_fragment:
  - tokenops.tiflux.attributes
  - tokenops.tiflux.attributes.action_group
  - ansible.builtin.files
  - tokenops.tiflux.target
  - tokenops.tiflux.connection
attributes:
  check_mode:
    support: full
    details: Reports exactly what a real run would change and touches nothing; O(verify) is skipped.
  diff_mode:
    support: full
    details: Both the old and the new token appear only as C(<token sha256:...>).
seealso:
  - plugin: tokenops.tiflux.token
    plugin_type: lookup
    description: Check a token once per run from the controller before pushing it.
  - module: tokenops.tiflux.token_check
notes:
  - For O(format=env) the token is written unquoted (some parsers keep quotes as part of the value); a token with
    characters that would need quoting (C(#), space, quotes, C($), ...) is refused. An existing quoted value keeps its quotes.
  - The collection's C(docs/formats.md) says, per format, which duplicate key is edited and what is refused.
"""

EXAMPLES = r"""
- name: Push the new token into the Zabbix webhook's env file and prove it from the host
  tokenops.tiflux.token_push:
    path: /etc/zabbix/tiflux.env
    format: env
    key: TIFLUX_API_TOKEN
    token: "{{ vault_tiflux_token }}"
    owner: zabbix
    group: zabbix
    backup: true
    verify: true

- name: Nested JSON key (intermediate objects are created when missing)
  tokenops.tiflux.token_push:
    path: /opt/sync/config.json
    format: json
    key: tiflux.token
    token: "{{ vault_tiflux_token }}"
    validate: python3 -m json.tool %s

- name: A key that contains dots, in a YAML config with comments
  tokenops.tiflux.token_push:
    path: /etc/agent/config.yml
    format: yaml
    key: [integrations, api.tiflux.com, token]
    token: "{{ vault_tiflux_token }}"

- name: INI section and option
  tokenops.tiflux.token_push:
    path: /etc/agent/agent.ini
    format: ini
    section: tiflux
    key: api_token
    token: "{{ vault_tiflux_token }}"

- name: A file that holds only the token, readable by the service user only
  tokenops.tiflux.token_push:
    path: /etc/tiflux-sync/token
    format: raw
    token: "{{ vault_tiflux_token }}"
    owner: tiflux-sync
    mode: "0400"

- name: Remove the token from a decommissioned integration
  tokenops.tiflux.token_push:
    path: /etc/zabbix/tiflux.env
    format: env
    key: TIFLUX_API_TOKEN
    state: absent

- name: Connection options for verify, once for the whole play
  module_defaults:
    group/tokenops.tiflux.tiflux:
      api_url: https://api.tiflux.com/api/v2
      ca_path: /etc/pki/tls/certs/corporate-proxy.pem
  tokenops.tiflux.token_push:
    path: /etc/zabbix/tiflux.env
    format: env
    key: TOKEN_TIFLUX
    token: "{{ vault_tiflux_token }}"
    verify: true
"""

RETURN = r"""
path:
  description: The config file, as given.
  returned: always
  type: str
real_path:
  description: The file actually edited, when O(path) goes through a symlink.
  returned: when O(path) goes through a symlink
  type: str
created:
  description: Whether the file did not exist and was made (in check mode, would be made).
  returned: always
  type: bool
fingerprint:
  description: Fingerprint of the token now at O(key) (C(sha256:) and 16 hex digits); null with O(state=absent).
  returned: always
  type: str
  sample: sha256:5e884898da280471
previous_fingerprint:
  description: Fingerprint of the token that was at O(key) before, or null when there was none.
  returned: always
  type: str
  sample: sha256:a665a45920422f9d
backup_file:
  description: The backup of the original file.
  returned: when O(backup=true) and the file changed
  type: str
  sample: /etc/zabbix/tiflux.env.2026-11-29@02:15:07.3f9a0c2b71de~
verified:
  description: Whether the token as written was checked and V(valid); null when O(verify) is off or in check mode.
  returned: always
  type: bool
status:
  description: The check's status (see M(tokenops.tiflux.token_check)).
  returned: when O(verify=true) and not in check mode
  type: str
  sample: valid
http_status:
  description: The check's HTTP status.
  returned: when O(verify=true) and not in check mode
  type: int
message:
  description: The check's one-line message.
  returned: when O(verify=true) and not in check mode
  type: str
issued_at:
  description: When the token was made (its JWT C(iat) claim), C(YYYY-MM-DDTHH:MM:SSZ); null for an opaque token.
  returned: when O(verify=true) and not in check mode
  type: str
expires_at:
  description: When the token expires (its C(exp) claim), or null. One that expires within O(expiry_warning_days) gets
    a warning.
  returned: when O(verify=true) and not in check mode
  type: str
expires_in_days:
  description: Whole days until RV(expires_at), negative once past; null for an opaque token.
  returned: when O(verify=true) and not in check mode
  type: int
quota_limit:
  description: The user's requests per minute, from the check's answer, or null.
  returned: when O(verify=true) and not in check mode
  type: int
quota_remaining:
  description: What the check's answer said was left of the user's quota this minute, or null.
  returned: when O(verify=true) and not in check mode
  type: int
quota_reset:
  description: When that quota window resets (ISO 8601), or null.
  returned: when O(verify=true) and not in check mode
  type: str
rolled_back:
  description: Whether the original file was restored because the verify failed.
  returned: on verify failure
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tokenops.tiflux.plugins.module_utils import _io
from ansible_collections.tokenops.tiflux.plugins.module_utils._connection import ApiConfigError, module_argument_spec
from ansible_collections.tokenops.tiflux.plugins.module_utils._push import Edit, PushError, key_path, read_token, target_argument_spec
from ansible_collections.tokenops.tiflux.plugins.module_utils._token import TokenError, fingerprint, normalize
from ansible_collections.tokenops.tiflux.plugins.module_utils._transaction import Transaction


def _client(params):
    """Imported here: only a push with verify talks to Tiflux, and a module run compiles every module it
    imports, so a plain push does not carry the client's cost (docs/performance.md)."""
    from ansible_collections.tokenops.tiflux.plugins.module_utils._api import Client  # pylint: disable=import-outside-toplevel

    return Client.from_options(params)


def _checked(module, result, check):
    """The check's outcome, the token's dates and the quota left in the result; the warning of a token near expiry."""
    from ansible_collections.tokenops.tiflux.plugins.module_utils._api import QUOTA_KEYS, expiry_warning  # pylint: disable=import-outside-toplevel

    result.update(status=check["status"], http_status=check["http_status"], message=check["message"],
                  verified=check["status"] == "valid")
    result.update((key, check.get(key)) for key in ("issued_at", "expires_at", "expires_in_days") + QUOTA_KEYS)
    warning = expiry_warning(check, module.params["expiry_warning_days"])
    if warning:
        module.warn(warning)


def _verify(client, change, params):
    """The check of the token as the integration will read it back from the file."""
    try:
        return client.check(read_token(change.real_path, params["format"], change.edits[0].keypath))
    except PushError as exc:
        return dict(status="error", http_status=None, message=str(exc))


def _undo(module, tx, result, why):
    """One way back for every failure after the write began: restore, then fail saying what happened."""
    restored, problems = tx.rollback()
    result.pop("backup_file", None)
    result.update(changed=False, created=False)
    if restored:
        result["rolled_back"] = True
        why += "; %s was restored as it was" % result["path"]
    if problems:
        why += "; " + "; ".join(problems)
    module.fail_json(msg=why, **result)


def run(module, tx, change, client):
    params = module.params
    problems = tx.prepare(write=not module.check_mode)
    if problems:
        module.fail_json(msg=problems[0])
    # The old token (and earlier duplicates) were read from the file: ansible masks only no_log options, so mask
    # them too, unless short placeholders (_token.MASK_MIN_LENGTH): the diff hides those by position anyway.
    module.no_log_values.update(tx.secrets)
    edit = change.edits[0]
    result = dict(changed=change.changed, created=change.created, path=change.path,
                  fingerprint=fingerprint(edit.token) if edit.token else None,
                  previous_fingerprint=edit.previous_fingerprint, verified=None)
    if change.real_path != change.path:
        result["real_path"] = change.real_path
    if module._diff:
        result["diff"] = change.diff(tx.secrets)
    if module.check_mode or not change.changed and not change.snapshot.exists:
        try:
            result["changed"] = change.changed or change.apply_attributes(module)  # in check mode: only compares
        except _io.FileError as exc:
            module.fail_json(msg=str(exc), **result)
        module.exit_json(**result)

    try:
        tx.commit()
    except _io.FileError as exc:
        _undo(module, tx, result, str(exc))
    result["changed"] = change.changed or change.attrs_changed
    if change.backup_file:
        result["backup_file"] = change.backup_file
    if client is not None and edit.token:
        check = _verify(client, change, params)
        _checked(module, result, check)
        if not result["verified"]:
            _undo(module, tx, result, check["message"])
    module.exit_json(**result)


def main():
    argument_spec = dict(
        token=dict(type="raw", no_log=True),  # raw: type=str would turn a number into a string silently
        state=dict(type="str", default="present", choices=["present", "absent"]),
        create=dict(type="bool", default=True),
        create_dirs=dict(type="bool", default=False),
        dir_mode=dict(type="raw", default="0700"),
        follow=dict(type="bool", default=False),
        backup=dict(type="bool", default=False),
        validate=dict(type="str"),
        verify=dict(type="bool", default=False),
    )
    argument_spec.update(target_argument_spec())
    argument_spec["path"]["required"] = True
    argument_spec["format"]["required"] = True
    argument_spec.update(module_argument_spec())
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        add_file_common_args=True,
    )
    params = module.params
    try:
        # errors about the arguments name the file too: with a loop over many files, which one?
        token = normalize(params["token"], what="token") if params["state"] == "present" else None
        keypath = key_path(params)
        dir_mode = _io.parse_mode(params["dir_mode"])
        if params["validate"]:
            from ansible_collections.tokenops.tiflux.plugins.module_utils._file_steps import check_validate  # pylint: disable=import-outside-toplevel

            check_validate(params["validate"])
    except (PushError, TokenError, _io.FileError) as exc:
        module.fail_json(msg="%s: %s; the file is unchanged" % (params["path"], exc))
    tx = Transaction(module, backup=params["backup"], validate=params["validate"])
    try:
        client = _client(params) if params["verify"] else None
        change = tx.add(params["path"], Edit(params["format"], keypath, token, params["state"]), follow=params["follow"],
                        create=params["create"], create_dirs=params["create_dirs"], dir_mode=dir_mode, file_args=params)
        run(module, tx, change, client)
    except (ApiConfigError, _io.FileError) as exc:
        module.fail_json(msg=str(exc))
    finally:
        tx.close()


if __name__ == "__main__":
    main()
