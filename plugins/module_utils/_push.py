# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Targets (a token inside an integration config): their options, reading one, and editing one in memory.

Shared by token_check, token_info, token_push and token_deploy; the write itself is _transaction.py.
"""

from __future__ import annotations

import re

from ansible_collections.tokenops.tiflux.plugins.module_utils import _io
from ansible_collections.tokenops.tiflux.plugins.module_utils._formats import FORMATS, ConfigError, KeyNotFound, decode, get_editor, parse_key
from ansible_collections.tokenops.tiflux.plugins.module_utils._token import TokenError, describe, fingerprint, maskable, normalize, redact

# A systemd unit name, passed to systemctl as one argument: nothing that systemctl could read as an option.
SERVICE_PATTERN = r"^[A-Za-z0-9:_.\\@][A-Za-z0-9:_.\\@-]*$"


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
        format=dict(type="str", choices=list(FORMATS)),
        key=dict(type="raw", no_log=False),
        section=dict(type="str"),
    )


def targets_item_spec():
    """One item of a host's targets list (the inventory's tiflux_targets), shared by token_deploy and
    token_info so both take the same list; token_info ignores the write, reload and health keys.
    The role's controller-side preflight checks every host's list with it (validate_targets)."""
    spec = target_argument_spec()
    spec["path"]["required"] = spec["format"]["required"] = True
    spec.update(
        create=dict(type="bool", default=False),
        follow=dict(type="bool", default=False),
        dir_mode=dict(type="raw"),
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


TARGETS_MUTUALLY_EXCLUSIVE = [["reload_command", "service"]]


def targets_option(writes=True):
    """The targets option of token_deploy and (writes=False: it ignores the reload keys) token_info."""
    option = dict(type="list", elements="dict", required=True, options=targets_item_spec())
    if writes:
        option["mutually_exclusive"] = TARGETS_MUTUALLY_EXCLUSIVE
    return option


# The old-token sweep's options in token_deploy and token_info (doc_fragments/sweep.py). Here rather than in
# _sweep.py, which a module run imports only when there is something to search for.
SWEEP_PATHS = ("/etc", "/opt", "/srv", "/usr/local/etc")
SWEEP_SECONDS = 10
SWEEP_SPEC = dict(
    old_tokens=dict(type="list", elements="raw", default=[], no_log=True),
    sweep_paths=dict(type="list", elements="path", default=list(SWEEP_PATHS)),
    sweep_seconds=dict(type="int", default=SWEEP_SECONDS),
)


def old_tokens(params, current=None):
    """The tokens the sweep searches for: old_tokens checked like any token (raises TokenError naming the item),
    without the one being deployed (current). An empty string is no token (an unset variable)."""
    if params["sweep_seconds"] < 0:
        raise TokenError("sweep_seconds must be a number of seconds, or 0 for no sweep; got %d" % params["sweep_seconds"])
    values = []
    for index, value in enumerate(params["old_tokens"] or []):
        if value is not None and value != "":
            value = normalize(value, what="old_tokens[%d]" % index)
            if value != current and value not in values:
                values.append(value)
    return values


def sweep_old_tokens(params, paths, old):
    """The search old_tokens asks for, for token_deploy and token_info alike: (the sweep's result or None, the
    paths found, what the module's message adds). paths: the targets; their directories are searched first, and
    they themselves are not searched (the module reports what they hold)."""
    if not old or not params["sweep_seconds"]:
        return None, [], ""
    # Imported only here: a module run compiles every module it imports.
    from ansible_collections.tokenops.tiflux.plugins.module_utils import _sweep  # pylint: disable=import-outside-toplevel

    found = _sweep.sweep(_sweep.with_target_dirs(params["sweep_paths"] or (), paths), old, exclude=paths,
                         budget_seconds=params["sweep_seconds"])
    elsewhere = [hit["path"] for hit in found["hits"]]
    if elsewhere:
        return found, elsewhere, "; the old token is also in %s, which no target lists: whatever reads it still uses it" % (
            ", ".join(elsewhere))
    if found["cut_short"]:
        return found, elsewhere, "; the search for the old token stopped early (%s)" % found["cut_short"]
    return found, elsewhere, ""


def check_target(target):
    """What the argument spec cannot say about one validated target; returns its key path. Raises PushError."""
    if isinstance(target.get("path"), str) and not target["path"].strip():
        raise PushError(_io.EMPTY_PATH)
    if target.get("service") is not None and not re.match(SERVICE_PATTERN, target["service"]):
        raise PushError("service must be a systemd unit name such as zabbix-server.service, got %r" % target["service"])
    try:
        _io.parse_mode(target.get("dir_mode"))
    except _io.FileError as exc:
        raise PushError(str(exc))
    return key_path(target)


def validate_targets(targets):
    """One line per problem in a host's targets list, as token_deploy would find them, touching no file.

    Pure: the role runs it on the controller for every host before any host is changed.
    """
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator  # pylint: disable=import-outside-toplevel

    if not isinstance(targets, list):
        return ["targets must be a list of dicts (path, format, key), got %s" % type(targets).__name__]
    validator = ArgumentSpecValidator(targets_item_spec(), mutually_exclusive=TARGETS_MUTUALLY_EXCLUSIVE)
    problems = []
    for index, target in enumerate(targets):
        name = "targets[%d]" % index
        if not isinstance(target, dict):
            problems.append("%s must be a dict with path, format and key, got %s" % (name, type(target).__name__))
            continue
        if isinstance(target.get("path"), str):
            name += " (%s)" % target["path"]
        result = validator.validate(target)
        if result.error_messages:
            problems.extend("%s: %s" % (name, " ".join(str(error).split())) for error in result.error_messages)
            continue
        try:
            check_target(result.validated_parameters)
        except PushError as exc:
            problems.append("%s: %s" % (name, exc))
    return problems


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


def text_of(snapshot, fmt):
    try:
        return decode(snapshot.data, fmt) if snapshot.exists else ""
    except ConfigError as exc:
        raise PushError("%s: %s" % (snapshot.path, exc), reason="malformed")


def read_token(path, fmt, keypath, follow=True):
    """The token an integration reads from its config, normalised. Raises PushError.

    follow=False refuses what _io.resolve() refuses (token_deploy's and token_info's targets); readers that
    only report a fingerprint may follow any link.
    """
    try:
        snapshot = _io.read(path, _io.resolve(path, follow)[0], follow)
    except _io.FileError as exc:
        raise PushError(str(exc), reason="unreadable")
    if not snapshot.exists:
        raise PushError("%s does not exist: check path, or push a token there first with tokenops.tiflux.token_push" % path,
                        reason="missing_file")
    text = text_of(snapshot, fmt)
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


class Edit:
    """One key of a file: what it held, and the file's text with the token there (or the key removed)."""

    def __init__(self, fmt, keypath, token, state="present"):
        self.fmt = fmt
        self.keypath = keypath
        self.token = token
        self.state = state
        self.editor = get_editor(fmt)
        self.previous = None
        self.old_values = set()  # every value at the key, shadowed duplicates too, decoded and as written
        self.found = []  # where they are in the file as read
        self.changed = False
        self.error = None  # set by the transaction when this edit cannot be made

    def apply(self, original, text):
        """Read the key in original (the file as read), then edit text (original with the file's earlier edits)."""
        try:
            try:
                self.previous = self.editor.find(original, self.keypath).value  # also refuses a target it cannot edit
            except KeyNotFound:
                pass
            self.found = self.editor.find_all(original, self.keypath)  # ends with what find() returned
            for located in self.found:
                self.old_values.update((located.value, original[located.start:located.end]))
            if self.state == "present":
                self.editor.check_value(self.token)
                new_text = self.editor.set(text, self.keypath, self.token)
            else:
                new_text = self.editor.remove(text, self.keypath)
        except ConfigError as exc:
            raise PushError(str(exc))
        self.changed = new_text != text
        return new_text

    @property
    def previous_fingerprint(self):
        return fingerprint(self.previous) if self.previous else None

    @property
    def secrets(self):
        """What to mask wherever it appears (free text, ansible's no_log_values): the new token, and every old
        value at the key, shadowed duplicates too, decoded and as written, unless it is a short placeholder."""
        return set([self.token] if self.token else []) | maskable(self.old_values)


def hide(text, edits, secrets, original=False):
    """A file's text for a diff: every value at the edits' keys, shadowed duplicates too, replaced by the
    fingerprint of its value, by position; then the secrets wherever else they appear. original: text is the
    file as read, whose values the edits already located."""
    spans = {}
    for edit in edits:
        try:
            located = edit.found if original else edit.editor.find_all(text, edit.keypath)
        except ConfigError:
            # cannot happen for a text this run produced; if it does, mask by value, however short
            for secret in sorted((edit.old_values | {edit.token}) - {None, ""}, key=len, reverse=True):
                text = text.replace(secret, describe(secret))
            located = []
        for item in located:
            if item.value:  # an empty value hides nothing
                spans[(item.start, item.end)] = item.value
    kept = []  # a span inside another (a key within a flow mapping hidden whole) is hidden with it
    for (start, end), value in sorted(spans.items(), key=lambda item: (item[0][0], -item[0][1])):
        if kept and start < kept[-1][1]:
            kept[-1][1] = max(kept[-1][1], end)
        else:
            kept.append([start, end, value])
    for start, end, value in reversed(kept):
        text = text[:start] + describe(value) + text[end:]
    return redact(text, secrets)
