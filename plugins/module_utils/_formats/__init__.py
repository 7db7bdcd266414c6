# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Find, replace and remove one token in an integration config file.

One editor per format (env, ini, json, yaml, raw) behind a single interface.
Every editor works on the decoded text and changes only the bytes of the
token (or the lines it adds/removes); everything else is preserved byte for
byte: decode() and encode() round-trip any file the format accepts.  Runs on
the target host, Python 3.8+, standard library only, except the yaml editor,
which reads the file with PyYAML.

This package holds what the editors share (errors, key parsing, decoding, the
Editor interface); each editor lives in its own module (_env, _ini, _json,
_yaml, _raw), imported by get_editor() only when its format is asked for: a
module run compiles its sources from the AnsiballZ zip every time, and most
runs need one format of five.

Exception messages never contain a value read from the file or the token
passed in: only key names, line/column numbers and causes.
"""

from __future__ import annotations

import json
import re
import unicodedata

FORMATS = ("env", "ini", "json", "yaml", "raw")

__all__ = [
    "FORMATS", "ConfigError", "MalformedConfig", "KeyNotFound", "UnsafeEdit",
    "Located", "parse_key", "decode", "encode", "printable", "get_editor", "Editor",
]


# ---------------------------------------------------------------------------
# errors and results
# ---------------------------------------------------------------------------

class ConfigError(Exception):
    """Base error: one-line message, never containing a token or file value."""


class MalformedConfig(ConfigError):
    """The file cannot be parsed in the requested format."""


class KeyNotFound(ConfigError):
    """The key path is absent (or holds no value)."""


class UnsafeEdit(ConfigError):
    """The key cannot be read or edited safely (or the token cannot be written)."""


class Located:
    """Where a token is: its value and the span that set() replaces."""

    __slots__ = ("value", "start", "end", "line")

    def __init__(self, value, start, end, line):
        self.value = value
        self.start = start
        self.end = end
        self.line = line

    def __repr__(self):  # never show the token
        return "Located(value=<redacted>, start=%d, end=%d, line=%d)" % (
            self.start, self.end, self.line)


# ---------------------------------------------------------------------------
# shared helpers
# ---------------------------------------------------------------------------

_BOM = "\ufeff"


def _bom_len(text):
    return 1 if text.startswith(_BOM) else 0


def _check_text(text):
    if not isinstance(text, str):
        raise TypeError("text must be str; decode the file bytes with decode() first")


def _newline(text):
    """The file's line ending: the one of its first line break, else LF."""
    i = text.find("\n")
    if i > 0 and text[i - 1] == "\r":
        return "\r\n"
    return "\n"


def _line_of(text, pos):
    return text.count("\n", 0, pos) + 1


class _Line:
    __slots__ = ("num", "start", "end", "next", "text")

    def __init__(self, num, start, end, nxt, text):
        self.num = num        # 1-based line number
        self.start = start    # offset of the first character (after the BOM on line 1)
        self.end = end        # offset after the content (before CR LF / LF)
        self.next = nxt       # offset of the next line (after the line break)
        self.text = text      # content without the line break


def _split_lines(text):
    """Lines of text (the BOM is skipped); a bare CR is refused."""
    lines = []
    pos = _bom_len(text)
    n = len(text)
    num = 1
    while pos < n:
        nl = text.find("\n", pos)
        if nl < 0:
            end = nxt = n
        else:
            nxt = nl + 1
            end = nl - 1 if (nl > pos and text[nl - 1] == "\r") else nl
        content = text[pos:end]
        if "\r" in content:
            raise MalformedConfig(
                "line %d contains a bare carriage return (old Mac line ending); "
                "convert the file to LF or CRLF line endings" % num)
        lines.append(_Line(num, pos, end, nxt, content))
        pos = nxt
        num += 1
    return lines


def _insert_lines(text, lines, after, new, nl):
    """Insert the strings of `new` as lines after line index `after` (-1: at the top).

    A file without a trailing line break keeps having none."""
    body = nl.join(new)
    if after < 0:
        pos = _bom_len(text)
        return text[:pos] + body + nl + text[pos:]
    ln = lines[after]
    if ln.next == ln.end:  # last line, no line break after it
        return text[:ln.end] + nl + body + text[ln.end:]
    return text[:ln.next] + body + nl + text[ln.next:]


def _append_lines(text, lines, new, nl):
    if not lines:
        return text + nl.join(new) + nl
    return _insert_lines(text, lines, len(lines) - 1, new, nl)


def _cut(text, start, end):
    """Remove text[start:end] (whole lines).  When that is the last line and it has
    no line break, the line break before it goes instead, so the file keeps
    having no trailing line break."""
    bom = _bom_len(text)
    if end >= len(text) and not text.endswith("\n") and start > bom:
        s = start - 1
        if s > bom and text[s - 1] == "\r":
            s -= 1
        return text[:s]
    return text[:start] + text[end:]


def _delete_lines(text, lines, first, last):
    return _cut(text, lines[first].start, lines[last].next)


def _show(path):
    """Key path for messages: dotted, or a JSON list if a part contains a dot."""
    if any("." in p for p in path):
        return json.dumps(list(path))
    return ".".join(path)


_BAD_CATEGORIES = ("Cc", "Cs", "Zl", "Zp")


def _has_control(s):
    for c in s:
        if c == _BOM or unicodedata.category(c) in _BAD_CATEGORIES:
            return True
    return False


def _check_common(fmt, value):
    if not isinstance(value, str):
        raise UnsafeEdit("the token must be a string")
    if not value:
        raise UnsafeEdit("the token is empty; nothing to write")
    if _has_control(value):
        raise UnsafeEdit(
            "the token contains control or line-break characters and cannot be "
            "written safely in %s format; normalise the token first" % fmt)


# ---------------------------------------------------------------------------
# public functions
# ---------------------------------------------------------------------------

# Formats whose files may be in any ASCII-compatible encoding (Latin-1, Windows-1252, no encoding at all):
# what is not ASCII is kept as opaque bytes.  JSON and YAML files must be UTF-8, as their specs say.
_ANY_ENCODING = ("env", "ini", "raw")
_OPAQUE = re.compile("[\udc80-\udcff]")  # a byte that is not ASCII in a file that is not UTF-8, once decoded


def decode(data, fmt=None):
    """File bytes as text for the editor of `fmt`; encode() gives the same bytes back.

    UTF-8 is decoded as such; a leading BOM stays in the text (every editor skips it).  For env, ini and
    raw, a file that is not UTF-8 (Latin-1, Windows-1252, bytes of no encoding) is read as ASCII, each other
    byte standing for itself (surrogateescape): the editors only ever change ASCII there.  Without fmt, or
    for json and yaml, a file that is not UTF-8 is refused."""
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise TypeError("decode() takes the file content as bytes")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise MalformedConfig(
            "the file is UTF-16 encoded (it starts with a UTF-16 byte order mark); convert it to UTF-8")
    if b"\x00" in data:
        raise MalformedConfig(
            "the file contains binary data (a NUL byte); point the module at a text config file")
    bad = None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = exc.start
    if fmt in _ANY_ENCODING:
        bom = data.startswith(b"\xef\xbb\xbf")
        return "\ufeff" * bom + data[3 * bom:].decode("ascii", "surrogateescape")
    # raised outside the except block: the UnicodeDecodeError holds the file bytes
    raise MalformedConfig(
        "the file is not valid UTF-8 (first bad byte at offset %d); convert it to UTF-8" % bad)


def encode(text):
    """The bytes of a text that decode() gave, as an editor changed it."""
    return text.encode("utf-8", "surrogateescape")


def printable(text):
    """A text from decode() as outputs may show it (a diff): each byte of a file that is not UTF-8 that is not
    ASCII shown as the Latin-1 character of that byte, since JSON and AWX take no lone surrogate."""
    return _OPAQUE.sub(lambda match: chr(ord(match.group(0)) - 0xDC00), text)


def _check_opaque(text, written):
    """In a file that is not UTF-8, what an edit writes must be ASCII: it would be in no encoding of the file."""
    if _OPAQUE.search(text) and not all(part.isascii() for part in written):
        raise UnsafeEdit(
            "the file is not UTF-8 (Latin-1 or another encoding), and the token or key to write is not ASCII; "
            "write ASCII only, or convert the file to UTF-8")


def _check_fmt(fmt):
    if not isinstance(fmt, str) or fmt not in FORMATS:
        raise ConfigError("unknown config format; use one of: %s" % ", ".join(FORMATS))
    return fmt


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def parse_key(fmt, key):
    """Validate `key` for format `fmt` and return it as a tuple of path parts.

    env: "NAME"; ini: "section.option" (split at the last dot), "option" (before
    any section header) or [section, option]; json/yaml: "a.b.c" or a list of
    parts (for names containing dots); raw: no key (None, "" or [])."""
    fmt = _check_fmt(fmt)
    empty = key is None or key == "" or (isinstance(key, (list, tuple)) and len(key) == 0)
    if fmt == "raw":
        if empty:
            return ()
        raise ConfigError("format raw takes no key (the whole file is the token); remove the key")
    if empty:
        raise ConfigError("format %s needs a key naming the setting that holds the token" % fmt)
    if isinstance(key, str):
        if fmt == "env":
            parts = (key,)
        elif fmt == "ini":
            i = key.rfind(".")
            parts = (key,) if i < 0 else (key[:i], key[i + 1:])
        else:
            parts = tuple(key.split("."))
    elif isinstance(key, (list, tuple)):
        if not all(isinstance(p, str) for p in key):
            raise ConfigError("the key must be a string or a list of strings")
        parts = tuple(key)
    else:
        raise ConfigError("the key must be a string or a list of strings")
    for p in parts:
        if _has_control(p):
            raise ConfigError("the key contains control or line-break characters; use a plain key name")
    shown = _show(parts)
    if fmt == "env":
        if len(parts) != 1:
            raise ConfigError("format env takes a single variable name, not a path")
        if not _ENV_NAME.match(parts[0]):
            raise ConfigError(
                "key %s is not a valid environment variable name; use letters, digits and '_', "
                "not starting with a digit" % shown)
    elif fmt == "ini":
        if len(parts) not in (1, 2):
            raise ConfigError("format ini takes 'section.option', 'option' or [section, option]")
        option = parts[-1]
        if not option or option.strip() != option:
            raise ConfigError(
                "key %s: the ini option name is empty or has surrounding whitespace" % shown)
        if "=" in option or ":" in option or option[0] in "[#;":
            raise ConfigError(
                "key %s: an ini option name cannot contain '=' or ':' nor start with '[', '#' "
                "or ';'" % shown)
        if len(parts) == 2 and not parts[0]:
            raise ConfigError("key %s: the ini section name is empty" % shown)
    else:
        if isinstance(key, str) and any(p == "" for p in parts):
            raise ConfigError(
                "key %s has an empty part; give the key as a list when names contain dots" % shown)
        if fmt == "yaml" and any(p == "" for p in parts):
            raise ConfigError("key %s has an empty part; YAML keys must not be empty" % shown)
    return parts


def get_editor(fmt):
    """The editor for `fmt` (one of FORMATS)."""
    # pylint: disable=import-outside-toplevel
    # Plain import statements, not importlib: AnsiballZ finds a module's dependencies by reading them.
    fmt = _check_fmt(fmt)
    if fmt == "env":
        from ansible_collections.tokenops.tiflux.plugins.module_utils._formats._env import EnvEditor as editor
    elif fmt == "ini":
        from ansible_collections.tokenops.tiflux.plugins.module_utils._formats._ini import IniEditor as editor
    elif fmt == "json":
        from ansible_collections.tokenops.tiflux.plugins.module_utils._formats._json import JsonEditor as editor
    elif fmt == "yaml":
        from ansible_collections.tokenops.tiflux.plugins.module_utils._formats._yaml import YamlEditor as editor
    else:
        from ansible_collections.tokenops.tiflux.plugins.module_utils._formats._raw import RawEditor as editor
    return editor()


# ---------------------------------------------------------------------------
# editor base
# ---------------------------------------------------------------------------

class Editor:
    """Interface of every format editor.  `path` is what parse_key() returns
    (a str/list key is accepted too and goes through parse_key())."""

    name = ""

    def _path(self, path):
        return parse_key(self.name, path)

    def find(self, text, path):
        """Locate the token; raises KeyNotFound / MalformedConfig / UnsafeEdit."""
        raise NotImplementedError

    def read(self, text, path):
        return self.find(text, path).value

    def find_all(self, text, path):
        """Every value at the key path, shadowed duplicates included, in file order: what a diff must hide.
        No checks: a value find() would refuse to edit is still listed (a single-value format lists find())."""
        try:
            return [self.find(text, path)]
        except KeyNotFound:
            return []

    def set(self, text, path, value):
        """Return the new full text with the token set (missing keys are created)."""
        raise NotImplementedError

    def remove(self, text, path):
        """Return the text without the key (unchanged if it is absent)."""
        raise NotImplementedError

    def check_value(self, value):
        """Raise UnsafeEdit if `value` cannot be written safely in this format."""
        _check_common(self.name, value)
