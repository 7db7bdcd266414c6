# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Promote a new token in an Ansible vars file: the edit itself, in memory (no file I/O here).

Two shapes of vars file hold a vaulted token:

- a whole-file vault (ansible-vault create/encrypt): one vault envelope around YAML text. It is
  decrypted with the play's own vault secrets, its YAML text edited, and encrypted again with the
  secret that decrypted it, under the same envelope header (same vault id);
- a plain YAML file with inline ``!vault |`` values (ansible-vault encrypt_string): only the
  values that change are encrypted again, every other byte stays.

In both, the YAML text is edited on PyYAML's node marks (``yaml.compose``), never re-dumped, so
comments, order, quoting and blank lines survive. After every edit the new text is parsed again
and checked: the affected entries hold what they should and everything else is byte-identical;
anything else is a bug, reported instead of written.

Nothing here returns, raises or formats a token: values are named by fingerprint.
"""

from __future__ import annotations

import re

import yaml

from ansible.parsing.vault import VaultLib, is_encrypted

from ansible_collections.tokenops.tiflux.plugins.module_utils._token import TokenError, fingerprint, normalize

DEFAULT_VAR = "vault_tiflux_token"
PROMOTED = "promoted"
PREVIOUS_REMOVED = "previous_removed"
STATES = (PROMOTED, PREVIOUS_REMOVED)
PREVIOUS_SUFFIX = "_previous"
NEXT_SUFFIX = "_next"

VAULT_TAG = "!vault"
_STR_TAG = "tag:yaml.org,2002:str"
# The indentation ansible-vault encrypt_string gives the lines of a !vault block.
_BLOCK_INDENT = 10
# The options of tokenops.tiflux.vault_promote (plugins/modules/vault_promote.py documents them).
ARGUMENT_SPEC = {
    "path": {"type": "path", "required": True},
    "var": {"type": "str", "default": DEFAULT_VAR},
    "token": {"type": "str", "no_log": True},
    "old_token": {"type": "str", "no_log": True},
    "state": {"type": "str", "default": PROMOTED, "choices": list(STATES)},
}
_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_KINDS = {"tag:yaml.org,2002:int": "a number", "tag:yaml.org,2002:float": "a number", "tag:yaml.org,2002:bool": "a boolean",
          "tag:yaml.org,2002:null": "empty", "tag:yaml.org,2002:map": "a mapping", "tag:yaml.org,2002:seq": "a list"}


class PromoteError(Exception):
    """One line that says what is wrong and what to do; never holds a token. The file is left as it was."""


def names(var):
    """The three variables a promotion touches: the token, the one it replaced, the one staged for the next rotation."""
    return var, var + PREVIOUS_SUFFIX, var + NEXT_SUFFIX


def check_var(var):
    if not isinstance(var, str) or not _VAR_NAME.match(var):
        raise PromoteError("var must be a variable name (letters, digits, _), such as %s" % DEFAULT_VAR)
    return var


def _yaml_problem(exc):
    """Where and what, without PyYAML's quoted excerpt of the text (which could hold a token)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or "invalid YAML"
    # PyYAML quotes pieces of the text in its problems ('found undefined alias %r'): drop them.
    problem = re.sub(r"'[^']*'|\"[^\"]*\"", "…", str(problem))[:120]
    if mark is not None:
        return "line %d, column %d: %s" % (mark.line + 1, mark.column + 1, problem)
    return problem


def _describe_fp(value):
    return "<token %s>" % value if value else "(none)"


class Vault:
    """The play's vault secrets (the loader's), used as ansible-vault uses them."""

    def __init__(self, secrets):
        self.secrets = list(secrets or [])
        self.lib = VaultLib(self.secrets)

    def decrypt(self, vaulttext, what):
        """Return (plaintext bytes, secret, header line) or raise PromoteError."""
        if not self.secrets:
            raise PromoteError("%s is vaulted and this run has no vault password: run with --ask-vault-pass, "
                               "--vault-password-file or --vault-id; the file is unchanged" % what)
        try:
            plaintext, _vault_id, secret = self.lib.decrypt_and_get_vault_id(vaulttext)
        except Exception:  # pylint: disable=broad-except
            # AnsibleVaultError/AnsibleVaultFormatError/cipher errors: the message never helps more than this.
            raise PromoteError("cannot decrypt %s with the vault password(s) of this run (wrong password or vault id, "
                               "or a damaged vault block): run with the password that encrypted it; the file is unchanged" % what)
        return bytes(plaintext), secret, envelope_header(vaulttext)

    def encrypt(self, plaintext, secret, header):
        """A vault envelope (lines, no trailing newline) under the given header: same version, cipher and vault id."""
        vault_id = None
        fields = header.split(";")
        if len(fields) >= 4:
            vault_id = fields[3].strip()
        envelope = self.lib.encrypt(plaintext, secret=secret, vault_id=vault_id).decode("ascii")
        # The vault id in the header is a label outside the encrypted payload: keep the original one byte for byte.
        return "\n".join([header] + envelope.splitlines()[1:])


def envelope_header(vaulttext):
    if isinstance(vaulttext, bytes):
        vaulttext = vaulttext.decode("ascii", "replace")
    return vaulttext.lstrip().splitlines()[0].strip()


class Entry:
    """One top-level key of the vars mapping, with the source positions needed to edit it."""

    def __init__(self, doc, key, value):
        self.doc = doc
        self.key = key
        self.value = value
        self.name = key.value
        self.line = key.start_mark.line + 1

    @property
    def kind(self):
        if isinstance(self.value, yaml.ScalarNode) and self.value.tag == VAULT_TAG:
            return "vault"
        if isinstance(self.value, yaml.ScalarNode) and self.value.tag == _STR_TAG:
            return "str"
        return _KINDS.get(self.value.tag, "a value tagged %s" % self.value.tag)

    def check_editable(self):
        text = self.doc.text
        start = self.value.start_mark.index
        if start < self.key.end_mark.index:
            raise PromoteError("%s in %s (line %d) is an alias (*name): write the value itself" % (self.name, self.doc.where, self.line))
        if text[start] == "&":
            raise PromoteError("%s in %s (line %d) carries an anchor (&name) that other keys may use: remove it first"
                               % (self.name, self.doc.where, self.line))
        line_start = text.rfind("\n", 0, self.key.start_mark.index) + 1
        if text[line_start:self.key.start_mark.index].strip():
            raise PromoteError("%s in %s (line %d) does not start its line: write the vars file as a block mapping (one key per line)"
                               % (self.name, self.doc.where, self.line))

    def value_span(self):
        """Start and end of the value's text; for a block scalar, the end of its last non-blank line."""
        start, end = self.value.start_mark.index, self.value.end_mark.index
        if self.value.style in ("|", ">"):
            end = start + len(self.doc.text[start:end].rstrip())
        return start, end

    def line_after(self):
        """Index just after the newline that ends the value's last line (its trailing comment included)."""
        _start, end = self.value_span()
        newline = self.doc.text.find("\n", end)
        return len(self.doc.text) if newline < 0 else newline + 1

    def span(self):
        """The whole entry, from the start of its key's line to the end of its value's last line."""
        text = self.doc.text
        return text.rfind("\n", 0, self.key.start_mark.index) + 1, self.line_after()

    def block_indent(self):
        """Indentation of a !vault block's lines (to write new ones the same way)."""
        if self.value.style == "|":
            start, end = self.value_span()
            for line in self.doc.text[start:end].splitlines()[1:]:
                if line.strip():
                    return len(line) - len(line.lstrip(" "))
        return self.key.start_mark.column + _BLOCK_INDENT

    def source(self):
        start, end = self.span()
        return self.doc.text[start:end]


class Document:
    """The top-level mapping of a vars file's YAML text."""

    def __init__(self, text, where):
        self.text = text
        self.where = where
        self.newline = "\r\n" if "\r\n" in text else "\n"
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            raise PromoteError("%s is not valid YAML (%s): fix it and run again; the file is unchanged" % (where, _yaml_problem(exc)))
        self.entries = []
        if root is None:
            return
        if not isinstance(root, yaml.MappingNode):
            raise PromoteError("%s is not a YAML mapping of variables: point path at the vars file that holds the token" % where)
        if root.flow_style:
            raise PromoteError("%s is a flow mapping ({...}): write it as a block mapping (one key per line) and run again" % where)
        for key, value in root.value:
            if isinstance(key, yaml.ScalarNode):
                self.entries.append(Entry(self, key, value))

    def get(self, name):
        found = [entry for entry in self.entries if entry.name == name]
        if len(found) > 1:
            raise PromoteError("%s defines %s more than once (lines %s): keep one and run again"
                               % (self.where, name, ", ".join(str(entry.line) for entry in found)))
        if found:
            found[0].check_editable()
            return found[0]
        return None

    def without(self, skip):
        """The text with the entries named in skip cut out (to prove that nothing else changed)."""
        spans = sorted(entry.span() for entry in self.entries if entry.name in skip)
        pieces, position = [], 0
        for start, end in spans:
            pieces.append(self.text[position:start])
            position = end
        pieces.append(self.text[position:])
        return "".join(pieces)


class _Value:
    """What one entry holds: its token (normalised text) or None when it cannot be read, and how to write it again."""

    def __init__(self, entry, token=None, secret=None, header=None):
        self.entry = entry
        self.token = token
        self.secret = secret
        self.header = header

    @property
    def fingerprint(self):
        return fingerprint(self.token) if self.token is not None else None


def _token_text(data):
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    return data.strip()


class Promotion:
    """Compute the promotion of one vars file. ``run()`` returns the outcome; nothing is written here."""

    def __init__(self, data, secrets, var=DEFAULT_VAR, token=None, old_token=None, state=PROMOTED, where="the vars file"):
        self.data = data
        self.vault = Vault(secrets)
        self.var, self.previous, self.next = names(check_var(var))
        if state not in STATES:
            raise PromoteError("state must be one of %s" % ", ".join(STATES))
        self.state = state
        self.where = where
        self.token = self._token(token, "token", required=state == PROMOTED)
        self.old_token = self._token(old_token, "old_token", required=state == PROMOTED)
        if self.token is not None and self.token == self.old_token:
            raise PromoteError("token and old_token are the same token (%s): pass the new token as token and the one it "
                               "replaces as old_token" % fingerprint(self.token))
        self.changes = []  # (name, fingerprint before, fingerprint after)
        self.notes = []
        self.fingerprint = None
        self.previous_fingerprint = None

    @staticmethod
    def _token(value, option, required):
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise PromoteError("%s is required with state=promoted: pass the %s token" % (option, "new" if option == "token" else "old"))
            return None
        try:
            return normalize(value, option)
        except TokenError as exc:
            raise PromoteError(str(exc))

    # -- reading -----------------------------------------------------------------------------------------------

    def _read(self, entry, plain_allowed, required):
        """The value of entry, or PromoteError when it must be readable (required) and is not."""
        what = "%s in %s (line %d)" % (entry.name, self.where, entry.line)
        kind = entry.kind
        if kind == "vault":
            try:
                plaintext, secret, header = self.vault.decrypt(entry.value.value, what)
            except PromoteError:
                if required:
                    raise
                return _Value(entry)
            return _Value(entry, _token_text(plaintext), secret, header)
        if kind == "str" and plain_allowed:
            return _Value(entry, _token_text(entry.value.value))
        if not required:
            return _Value(entry)
        if kind == "str":
            raise PromoteError("%s is a plain value, not a vaulted string: the token must not sit in clear text in a vars file; "
                               "replace it with the output of ansible-vault encrypt_string --prompt, then run again" % what)
        raise PromoteError("%s is %s, not a vaulted string: set var to the variable that holds the token" % (what, kind))

    # -- writing -----------------------------------------------------------------------------------------------

    def _render(self, like, token, indent_of):
        """The text of a new value for token, written as the value `like` (the current token's) is written."""
        if like.entry.kind == "vault":
            lines = self.vault.encrypt(token, like.secret, like.header).splitlines()
            pad = " " * indent_of.block_indent()
            return "!vault |" + "".join(self.doc.newline + pad + line for line in lines)
        return _scalar(token, like.entry.value.style)

    def _edit_document(self, plain_allowed):
        doc = self.doc
        edits = []
        entry = doc.get(self.var)
        previous = doc.get(self.previous)
        staged = doc.get(self.next)
        current = self._read(entry, plain_allowed, required=self.state == PROMOTED) if entry is not None else None
        if current is not None:
            self.fingerprint = current.fingerprint
        if self.state == PROMOTED:
            if current is None:
                raise PromoteError("%s has no %s: set var to the variable that holds the token (rotate_vault_var), "
                                   "or path to the file that defines it (rotate_vault_file)" % (self.where, self.var))
            new_fp, old_fp = fingerprint(self.token), fingerprint(self.old_token)
            if current.token not in (self.token, self.old_token):
                raise PromoteError("%s in %s holds %s, neither the old token %s nor the new one %s: check path and var; "
                                   "the file is unchanged" % (self.var, self.where, current.fingerprint, old_fp, new_fp))
            self.fingerprint, self.previous_fingerprint = new_fp, old_fp
            if current.token != self.token:
                edits.append(entry.value_span() + (self._render(current, self.token, entry),))
                self.changes.append((self.var, current.fingerprint, new_fp))
            held = self._read(previous, plain_allowed, required=False) if previous is not None else None
            if held is None:
                position = entry.line_after()
                lead = doc.newline if position == len(doc.text) and not doc.text.endswith("\n") else ""
                line = " " * entry.key.start_mark.column + self.previous + ": " + self._render(current, self.old_token, entry)
                edits.append((position, position, lead + line + doc.newline))
                self.changes.append((self.previous, None, old_fp))
            elif held.token != self.old_token:
                edits.append(previous.value_span() + (self._render(current, self.old_token, entry),))
                self.changes.append((self.previous, held.fingerprint, old_fp))
            if staged is not None:
                waiting = self._read(staged, plain_allowed, required=False)
                if waiting.token == self.token:
                    edits.append(staged.span() + ("",))
                    self.changes.append((self.next, new_fp, None))
                else:
                    self.notes.append("%s (%s) left in place: it is not the token promoted" % (
                        self.next, waiting.fingerprint or "not readable with this run's vault password"))
        else:
            if previous is None:
                self.notes.append("no %s to remove" % self.previous)
            else:
                held = self._read(previous, plain_allowed, required=False)
                self.previous_fingerprint = held.fingerprint
                if self.old_token is not None and held.token != self.old_token:
                    self.notes.append("%s (%s) left in place: it is not the old token %s" % (
                        self.previous, held.fingerprint or "not readable with this run's vault password", fingerprint(self.old_token)))
                else:
                    edits.append(previous.span() + ("",))
                    self.changes.append((self.previous, held.fingerprint, None))
            if self.token is not None and current is not None and current.token != self.token:
                self.notes.append("%s holds %s, not the new token %s: promote it (state=promoted)" % (
                    self.var, current.fingerprint, fingerprint(self.token)))
        return _apply(doc.text, edits)

    def _verify(self, old_doc, new_text, plain_allowed):
        """Parse the edited text again: the affected entries hold what they must, every other byte is unchanged."""
        new_doc = Document(new_text, old_doc.where)
        affected = names(self.var)
        broken = "editing %s went wrong (%s); nothing was written: please report this" % (self.where, "%s")
        if new_doc.without(affected) != old_doc.without(affected):
            raise PromoteError(broken % "other lines would change")
        expect = {self.var: self.token, self.previous: self.old_token} if self.state == PROMOTED else {}
        removed = set(name for name, _before, after in self.changes if after is None)
        for name in affected:
            entry = new_doc.get(name)
            if name in removed and entry is not None:
                raise PromoteError(broken % ("%s would stay" % name))
            if name in expect and (entry is None or self._read(entry, plain_allowed, required=False).token != expect[name]):
                raise PromoteError(broken % ("%s would not hold %s" % (name, fingerprint(expect[name]))))

    def run(self):
        """Return the new bytes (the same object when nothing changes)."""
        data = self.data
        whole = is_encrypted(data)
        if whole:
            plaintext, secret, header = self.vault.decrypt(data, self.where)
            text = _utf8(plaintext, "%s decrypts to something that is not UTF-8 text" % self.where)
            self.doc = Document(text, self.where + " (decrypted)")
        else:
            text = _utf8(data, "%s is not UTF-8 text: point path at the vars file" % self.where)
            self.doc = Document(text, self.where)
        new_text = self._edit_document(plain_allowed=whole)
        if not self.changes:
            return data
        self._verify(self.doc, new_text, whole)
        if not whole:
            return new_text.encode("utf-8")
        tail = b"\n" if data.endswith(b"\n") else b""
        return self.vault.encrypt(new_text.encode("utf-8"), secret, header).encode("ascii") + tail

    # -- reporting ---------------------------------------------------------------------------------------------

    def message(self, path, check_mode=False):
        verb = "would " if check_mode else ""
        parts = []
        for name, before, after in self.changes:
            if after is None:
                parts.append("%s%s %s (%s)" % (verb, "remove" if verb else "removed", name, before or "unreadable"))
            elif before is None:
                parts.append("%s%s %s = %s" % (verb, "add" if verb else "added", name, after))
            else:
                parts.append("%s%s %s from %s to %s" % (verb, "set" if verb else "changed", name, before, after))
        if not parts:
            if self.state == PROMOTED:
                parts.append("%s already holds the new token %s and %s the old one %s: nothing to change" % (
                    self.var, self.fingerprint, self.previous, self.previous_fingerprint))
            elif not self.notes:
                parts.append("nothing to change")
        return "%s: %s" % (path, "; ".join(parts + self.notes))

    def diff(self, path):
        before = "".join("%s: %s\n" % (name, _describe_fp(old)) for name, old, _new in self.changes if old)
        after = "".join("%s: %s\n" % (name, _describe_fp(new)) for name, _old, new in self.changes if new)
        return {"before": before, "after": after, "before_header": "%s (tokens by fingerprint)" % path,
                "after_header": "%s (tokens by fingerprint)" % path}


def _utf8(data, problem):
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise PromoteError(problem + "; the file is unchanged")


def _apply(text, edits):
    """Apply (start, end, replacement) edits that do not overlap, from the end so earlier indexes stay valid."""
    for start, end, replacement in sorted(edits, key=lambda edit: (edit[0], edit[1]), reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _scalar(token, style):
    """A one-line YAML scalar for token, quoted as the value it replaces was (plain only where YAML reads it back)."""
    if style == '"':
        return '"%s"' % token.replace("\\", "\\\\").replace('"', '\\"')
    if style is None or style == "":
        try:
            if yaml.safe_load("k: " + token) == {"k": token}:
                return token
        except yaml.YAMLError:
            pass
    return "'%s'" % token.replace("'", "''")
