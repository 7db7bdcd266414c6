# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reading and pushing a token in one integration config: shared by token_check and token_push.

A push is: read -> compute the new text in memory -> diff -> backup -> write (the one write
path in _io) -> attributes -> verify the token as written -> restore on failure.
"""

from __future__ import annotations

import os

from ansible_collections.tokenops.tiflux.plugins.module_utils import _io
from ansible_collections.tokenops.tiflux.plugins.module_utils._formats import ConfigError, KeyNotFound, decode, get_editor, parse_key, printable
from ansible_collections.tokenops.tiflux.plugins.module_utils._token import TokenError, describe, fingerprint, maskable, normalize


class PushError(Exception):
    """A one-line, secret-free failure; the file is as it was.

    reason says why read_token failed (missing_file, unreadable, no_key, malformed, invalid_token),
    so token_info can classify a target without a second reader.
    """

    def __init__(self, message, reason=None):
        super().__init__(message)
        self.reason = reason


def target_argument_spec():
    """Options naming a token inside a config file (documented in doc_fragments/target.py)."""
    return dict(
        path=dict(type="path"),
        format=dict(type="str", choices=["env", "ini", "json", "yaml", "raw"]),
        key=dict(type="raw", no_log=False),
        section=dict(type="str"),
    )


def targets_item_spec():
    """One item of a host's targets list (the inventory's tiflux_targets), shared by token_deploy and
    token_info so both take the same list; token_info ignores the write, reload and health keys."""
    spec = target_argument_spec()
    spec["path"]["required"] = spec["format"]["required"] = True
    spec.update(
        owner=dict(type="str"),
        group=dict(type="str"),
        mode=dict(type="raw"),
        reload_command=dict(type="str"),
        service=dict(type="str"),
        service_state=dict(type="str", default="reloaded", choices=["reloaded", "restarted"]),
        health_command=dict(type="str"),
        health_retries=dict(type="int", default=3),
        health_delay=dict(type="int", default=2),
    )
    return spec


def key_path(params):
    """The key as a tuple for the format's editor; ini accepts section + key."""
    fmt, key = params["format"], params.get("key")
    if params.get("section") is not None:
        if fmt != "ini":
            raise PushError("section is only used with format=ini; for %s put the whole path in key" % fmt)
        if not isinstance(key, str) or not key:
            raise PushError("with section, key must be the option name inside [%s]" % params["section"])
        key = [params["section"], key]
    if fmt != "raw" and key in (None, "", []):
        raise PushError("key is required with format=%s: name the variable, option or path that holds the token" % fmt)
    try:
        return parse_key(fmt, key)
    except ConfigError as exc:
        raise PushError(str(exc))


def _text_of(snapshot, fmt):
    try:
        return decode(snapshot.data, fmt) if snapshot.exists else ""
    except ConfigError as exc:
        raise PushError("%s: %s" % (snapshot.path, exc), reason="malformed")


def read_token(path, fmt, keypath):
    """The token an integration reads from its config, normalised. Raises PushError."""
    try:
        snapshot = _io.read(path)
    except _io.FileError as exc:
        raise PushError(str(exc), reason="unreadable")
    if not snapshot.exists:
        raise PushError("%s does not exist: check path, or push a token there first with tokenops.tiflux.token_push" % path,
                        reason="missing_file")
    text = _text_of(snapshot, fmt)
    try:
        value = get_editor(fmt).read(text, keypath)
    except KeyNotFound as exc:
        raise PushError("%s: %s: check key (and format), or push a token there with tokenops.tiflux.token_push" % (path, exc),
                        reason="no_key")
    except ConfigError as exc:
        raise PushError("%s: %s" % (path, exc), reason="malformed")
    try:
        return normalize(value, what="the token in %s" % path)
    except TokenError as exc:
        raise PushError(str(exc), reason="invalid_token")


class Push:
    """One target's change, computed in memory before anything is written."""

    def __init__(self, path, fmt, keypath, token, state="present", create=True, create_dirs=False):
        self.fmt = fmt
        self.keypath = keypath
        self.token = token
        self.editor = get_editor(fmt)
        try:
            self.snapshot = _io.read(path)
        except _io.FileError as exc:
            raise PushError(str(exc))
        self.previous = None
        self._old_values = set()  # every value at the key, shadowed duplicates too, decoded and as written
        self._found = []  # where they are in self.text
        self.backup_file = None
        self.new_data = self.snapshot.data
        self.text = self.new_text = ""
        if not self.snapshot.exists:
            if state == "absent":
                return
            if not create:
                raise PushError("%s does not exist: set create: true to create it" % path)
            parent = os.path.dirname(self.snapshot.real_path)
            if not os.path.isdir(parent) and not create_dirs:
                raise PushError("the directory of %s does not exist: create it first or set create_dirs: true" % path)
        text = _text_of(self.snapshot, fmt)
        try:
            try:
                self.previous = self.editor.find(text, keypath).value  # also refuses a target it cannot edit
            except KeyNotFound:
                pass
            self._found = self.editor.find_all(text, keypath)  # ends with what find() returned
            for located in self._found:
                self._old_values.update((located.value, text[located.start:located.end]))
            if state == "present":
                self.editor.check_value(token)
                new_text = self.editor.set(text, keypath, token)
            else:
                new_text = self.editor.remove(text, keypath)
        except ConfigError as exc:
            raise PushError("%s: %s" % (path, exc))
        self.text, self.new_text = text, new_text
        self.new_data = new_text.encode("utf-8", "surrogateescape")

    @property
    def path(self):
        return self.snapshot.path

    @property
    def changed(self):
        return self.new_data != self.snapshot.data

    @property
    def previous_fingerprint(self):
        return fingerprint(self.previous) if self.previous else None

    @property
    def secrets(self):
        """What to mask wherever it appears (free text, ansible's no_log_values): the new token, and every old
        value at the key, shadowed duplicates too, decoded and as written, unless it is a short placeholder."""
        return set([self.token] if self.token else []) | maskable(self._old_values)

    def redact(self, text):
        """Free text (a validate command's output): every secret shown as its fingerprint."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, describe(secret))
        return text

    def _hide(self, text, found=None):
        """The file's text for a diff: every value at the key, shadowed duplicates too, replaced by the
        fingerprint of its value, by position; then the secrets wherever else they appear."""
        try:
            found = self.editor.find_all(text, self.keypath) if found is None else found
        except ConfigError:
            # cannot happen for a text this push produced; if it does, mask by value, however short
            found = []
            for secret in sorted((self._old_values | {self.token}) - {None, ""}, key=len, reverse=True):
                text = text.replace(secret, describe(secret))
        for located in sorted(found, key=lambda item: item.start, reverse=True):
            if located.value:  # an empty value hides nothing
                text = text[:located.start] + describe(located.value) + text[located.end:]
        return self.redact(text)

    def diff(self):
        before = self._hide(self.text, self._found) if self.snapshot.exists else ""
        return dict(before=printable(before), after=printable(self._hide(self.new_text)), before_header=self.path, after_header=self.path)

    def apply(self, module, validate=None, backup=False):
        """Write the new content; returns the backup path (or None)."""
        if not self.changed:
            return None
        parent = os.path.dirname(self.snapshot.real_path)
        try:
            if not os.path.isdir(parent):
                os.makedirs(parent)
            self.backup_file = _io.backup(module, self.snapshot) if backup else None
            _io.write(module, self.snapshot, self.new_data, validate=validate, redact=self.redact)
        except OSError as exc:
            raise PushError("cannot create the directory of %s: %s" % (self.path, _io.describe_os_error(exc)))
        except _io.FileError as exc:
            self.discard_backup()  # the file is as it was: a copy of it is one more file holding the old token
            raise PushError(str(exc))
        return self.backup_file

    def discard_backup(self):
        if self.backup_file:
            try:
                os.unlink(self.backup_file)
            except OSError:
                pass
            self.backup_file = None

    def restore(self, module):
        _io.restore(module, self.snapshot)
