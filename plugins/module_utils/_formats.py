# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Find, replace and remove one token in an integration config file.

One editor per format (env, ini, json, yaml, raw) behind a single interface.
Every editor works on the decoded text and changes only the bytes of the
token (or the lines it adds/removes); everything else is preserved byte for
byte.  Standard library only, Python 3.8+, runs on the target host.

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
    "Located", "parse_key", "decode", "get_editor", "Editor",
    "EnvEditor", "IniEditor", "JsonEditor", "YamlEditor", "RawEditor",
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

def decode(data):
    """Strict UTF-8 decoding of file bytes.  A leading BOM stays in the text
    (every editor skips it), so the bytes round-trip."""
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
    # raised outside the except block: the UnicodeDecodeError holds the file bytes
    raise MalformedConfig(
        "the file is not valid UTF-8 (first bad byte at offset %d); convert it to UTF-8" % bad)


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
    return _EDITORS[_check_fmt(fmt)]()


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

    def set(self, text, path, value):
        """Return the new full text with the token set (missing keys are created)."""
        raise NotImplementedError

    def remove(self, text, path):
        """Return the text without the key (unchanged if it is absent)."""
        raise NotImplementedError

    def check_value(self, value):
        """Raise UnsafeEdit if `value` cannot be written safely in this format."""
        _check_common(self.name, value)


# ---------------------------------------------------------------------------
# env
# ---------------------------------------------------------------------------
# Parsing follows python-dotenv's grammar (regular expressions below are the
# same), so values read here are the values python-dotenv reads.

_ENV_WS = re.compile(r"[^\S\r\n]*")
_ENV_EXPORT = re.compile(r"(?:export[^\S\r\n]+)?")
_ENV_KEY = re.compile(r"[^=#\s'\"]+")
_ENV_EQ = re.compile(r"=[^\S\r\n]*")
_ENV_SQ = re.compile(r"'((?:\\'|[^'])*)'")
_ENV_DQ = re.compile(r'"((?:\\"|[^"])*)"')
_ENV_UNQ = re.compile(r"[^\r\n]*")
_ENV_COMMENT_TAIL = re.compile(r"\s+#.*")
_ENV_COMMENT = re.compile(r"(?:[^\S\r\n]*#[^\r\n]*)?")
_ENV_EOL = re.compile(r"[^\S\r\n]*(?:\r\n|\n|\Z)")
_ENV_DQ_ESC = re.compile(r"\\[\\'\"abfnrtv]")
_ENV_SQ_ESC = re.compile(r"\\[\\']")
_ENV_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "a": "\x07", "b": "\x08",
                "f": "\x0c", "n": "\n", "r": "\r", "t": "\t", "v": "\x0b"}
_ENV_SAFE = re.compile(r"[A-Za-z0-9\-._~+/=:@,]+\Z")


class _EnvEntry:
    __slots__ = ("key", "line", "start", "end", "bare", "export", "value",
                 "vstart", "vend", "quote", "multi", "space_before")


def _env_unescape(regex, s):
    return regex.sub(lambda m: _ENV_ESCAPES[m.group(0)[1]], s)


def _env_scan(text):
    _split_lines(text)  # refuses bare CRs
    entries = []
    n = len(text)
    pos = _bom_len(text)
    line = 1
    while pos < n:
        p = _ENV_WS.match(text, pos).end()
        nl = text.find("\n", pos)
        eol = n if nl < 0 else nl + 1
        if p >= n or text[p] in "\r\n" or text[p] == "#":
            line += text.count("\n", pos, eol)
            pos = eol
            continue
        e = _EnvEntry()
        e.line = line
        e.start = pos
        m = _ENV_EXPORT.match(text, p)
        e.export = m.end() > p
        p = m.end()
        if text.startswith("'", p):
            raise MalformedConfig(
                "line %d: quoted variable names are not supported; write the name unquoted" % line)
        m = _ENV_KEY.match(text, p)
        if not m:
            raise MalformedConfig(
                "line %d is not a KEY=value assignment, a comment or a blank line; fix or "
                "remove it" % line)
        e.key = m.group(0)
        p = _ENV_WS.match(text, m.end()).end()
        e.bare = not text.startswith("=", p)
        e.value = None
        e.quote = None
        e.multi = False
        e.vstart = e.vend = p
        e.space_before = False
        if not e.bare:
            q = p + 1
            p = _ENV_EQ.match(text, p).end()
            e.space_before = p > q  # whitespace between '=' and the value
            c = text[p:p + 1]
            if c in ("'", '"'):
                m = (_ENV_SQ if c == "'" else _ENV_DQ).match(text, p)
                if not m:
                    raise MalformedConfig(
                        "line %d: a quoted value is not closed; add the closing quote" % line)
                e.quote = c
                e.vstart, e.vend = m.start(1), m.end(1)
                e.value = _env_unescape(_ENV_SQ_ESC if c == "'" else _ENV_DQ_ESC, m.group(1))
                e.multi = "\n" in m.group(1)
                p = m.end()
            elif c in ("", "\r", "\n"):
                e.value = ""
                e.vstart = e.vend = p
            else:
                m = _ENV_UNQ.match(text, p)
                e.value = _ENV_COMMENT_TAIL.sub("", m.group(0)).rstrip()
                e.vstart, e.vend = p, p + len(e.value)
                p = m.end()
        p = _ENV_COMMENT.match(text, p).end()
        m = _ENV_EOL.match(text, p)
        if not m:
            raise MalformedConfig(
                "line %d is not a KEY=value assignment, a comment or a blank line; fix or "
                "remove it" % line)
        e.end = m.end()
        entries.append(e)
        line += text.count("\n", pos, e.end)
        pos = e.end
    return entries


class EnvEditor(Editor):
    """KEY=value files (.env, systemd EnvironmentFile, docker --env-file)."""

    name = "env"

    def _target(self, entries, name):
        found = [e for e in entries if e.key == name and not e.bare]
        if not found:
            if any(e.key == name for e in entries):
                raise KeyNotFound(
                    "variable %s is only declared without a value (no '='); no token is set" % name)
            raise KeyNotFound("variable %s is not set in the file" % name)
        e = found[-1]  # the last assignment wins (shells, python-dotenv, systemd)
        if e.multi:
            raise UnsafeEdit(
                "variable %s on line %d has a multi-line quoted value; edit it by hand"
                % (name, e.line))
        if e.quote is None and e.value.startswith("#") and e.space_before:
            # "KEY= #x": python-dotenv < 1.2.3 reads "#x", newer versions and shells read ""
            raise UnsafeEdit(
                "the value of %s on line %d starts with '#' after a space, which some readers "
                "take as a comment; edit that line by hand" % (name, e.line))
        return e

    def find(self, text, path):
        _check_text(text)
        (name,) = self._path(path)
        e = self._target(_env_scan(text), name)
        return Located(e.value, e.vstart, e.vend, e.line)

    def set(self, text, path, value):
        _check_text(text)
        (name,) = self._path(path)
        self.check_value(value)
        entries = _env_scan(text)
        if any(e.key == name and not e.bare for e in entries):
            e = self._target(entries, name)
            return text[:e.vstart] + value + text[e.vend:]
        assigns = [e for e in entries if not e.bare]
        prefix = "export " if assigns and all(e.export for e in assigns) else ""
        nl = _newline(text)
        new = prefix + name + "=" + value
        if text[_bom_len(text):] == "" or text.endswith("\n"):
            return text + new + nl
        return text + nl + new

    def remove(self, text, path):
        _check_text(text)
        (name,) = self._path(path)
        while True:
            hits = [e for e in _env_scan(text) if e.key == name]
            if not hits:
                return text
            text = _cut(text, hits[-1].start, hits[-1].end)

    def check_value(self, value):
        _check_common(self.name, value)
        if not _ENV_SAFE.match(value):
            cls = "characters outside A-Z a-z 0-9 - . _ ~ + / = : @ ,"
            for c in value:
                if _ENV_SAFE.match(c):
                    continue
                if c.isspace():
                    cls = "whitespace"
                elif c == "#":
                    cls = "a '#' (comment marker)"
                elif c in "'\"`":
                    cls = "quote characters"
                elif c == "$":
                    cls = "a '$' (variable expansion)"
                elif c == "\\":
                    cls = "a backslash (escape character)"
                elif ord(c) > 127:
                    cls = "non-ASCII characters"
                else:
                    cls = "shell metacharacters"
                break
            raise UnsafeEdit(
                "the token contains %s, which need quoting in env format, and env tokens are "
                "written unquoted; it cannot be written safely" % cls)
        if value.startswith("~") or ":~" in value:
            raise UnsafeEdit(
                "the token has a '~' at its start or after ':', which shells expand to a home "
                "directory in assignments; it cannot be written safely in env format")


# ---------------------------------------------------------------------------
# ini
# ---------------------------------------------------------------------------
# Line classification mirrors configparser.RawConfigParser._read with its
# defaults (delimiters '=' ':', full-line comments '#' ';', no inline
# comments, empty_lines_in_values=True), with strict=False semantics (the last
# duplicate wins) and options before the first header allowed.

_INI_SECT = re.compile(r"\[(?P<header>.+)\]")
_INI_OPT = re.compile(r"(?P<option>.*?)\s*(?P<vi>=|:)\s*(?P<value>.*)$")
_INI_NONSPACE = re.compile(r"\S")


class _IniOpt:
    __slots__ = ("name", "idx", "vstart", "vend", "value", "indent", "delim", "last")


class _IniBlock:
    __slots__ = ("name", "idx", "opts")

    def __init__(self, name, idx):
        self.name = name  # None: options before the first section header
        self.idx = idx
        self.opts = []


def _ini_scan(text):
    lines = _split_lines(text)
    blocks = [_IniBlock(None, -1)]
    cur = None
    indent_level = 0
    for idx, ln in enumerate(lines):
        s = ln.text.strip()
        if not s or s.startswith(("#", ";")):
            continue
        m = _INI_NONSPACE.search(ln.text)
        cur_indent = m.start() if m else 0
        if cur is not None and cur_indent > indent_level:
            cur.last = idx  # continuation line
            continue
        indent_level = cur_indent
        base = ln.start + (len(ln.text) - len(ln.text.lstrip()))
        m = _INI_SECT.match(s)
        if m:
            blocks.append(_IniBlock(m.group("header"), idx))
            cur = None
            continue
        if s.startswith("["):
            raise MalformedConfig(
                "line %d: the section header is not closed with ']'; fix the header" % ln.num)
        m = _INI_OPT.match(s)
        if not m or not m.group("option").rstrip():
            raise MalformedConfig(
                "line %d is not 'key = value', a [section] header or a comment; fix or remove it"
                % ln.num)
        o = _IniOpt()
        o.name = m.group("option").rstrip().lower()
        o.idx = o.last = idx
        o.value = m.group("value")
        if o.value:
            o.vstart, o.vend = base + m.start("value"), base + m.end("value")
        else:
            o.vstart = o.vend = ln.end
        o.indent = ln.text[:len(ln.text) - len(ln.text.lstrip())]
        o.delim = s[m.end("option"):m.start("value")]
        blocks[-1].opts.append(o)
        cur = o
    return lines, blocks


def _ini_where(path):
    if len(path) == 2:
        return path[0], "option %s in section [%s]" % (path[1], path[0])
    return None, "option %s before the first section header" % path[0]


class IniEditor(Editor):
    """INI files as Python's configparser reads them."""

    name = "ini"

    def _matches(self, blocks, path):
        sect = path[0] if len(path) == 2 else None
        opt = path[-1].lower()
        return [o for b in blocks if b.name == sect for o in b.opts if o.name == opt]

    def _target(self, lines, blocks, path):
        sect, where = _ini_where(path)
        found = self._matches(blocks, path)
        if not found:
            if sect is not None and not any(b.name == sect for b in blocks):
                raise KeyNotFound("section [%s] not found" % sect)
            raise KeyNotFound("%s not found" % where)
        o = found[-1]  # the last duplicate wins (configparser with strict=False)
        if o.last != o.idx:
            raise UnsafeEdit(
                "%s on line %d has continuation lines (a multi-line value); edit it by hand"
                % (where, lines[o.idx].num))
        return o

    def find(self, text, path):
        _check_text(text)
        path = self._path(path)
        lines, blocks = _ini_scan(text)
        o = self._target(lines, blocks, path)
        return Located(o.value, o.vstart, o.vend, lines[o.idx].num)

    def set(self, text, path, value):
        _check_text(text)
        path = self._path(path)
        self.check_value(value)
        lines, blocks = _ini_scan(text)
        if self._matches(blocks, path):
            o = self._target(lines, blocks, path)
            return text[:o.vstart] + value + text[o.vend:]
        nl = _newline(text)
        sect = path[0] if len(path) == 2 else None
        all_opts = [o for b in blocks for o in b.opts]
        mine = [b for b in blocks if b.name == sect]
        if sect is not None and not mine:
            style = all_opts[-1] if all_opts else None
            new = []
            if lines and lines[-1].text.strip():
                new.append("")
            new.append("[%s]" % sect)
            new.append(self._line(style, path[-1], value))
            return _append_lines(text, lines, new, nl)
        block = mine[-1]
        if block.opts:
            style = block.opts[-1]
            after = style.last
        else:
            style = all_opts[-1] if all_opts else None
            after = block.idx  # the header, or -1: top of the file
        line = self._line(style, path[-1], value)
        # the next significant line must not become a continuation of the new option
        for ln in lines[after + 1:]:
            s = ln.text.strip()
            if not s or s.startswith(("#", ";")):
                continue
            m = _INI_NONSPACE.search(ln.text)
            ind = ln.text[:m.start()]
            cur = line[:len(line) - len(line.lstrip())]
            if len(ind) > len(cur):
                line = ind + line.lstrip()
            break
        return _insert_lines(text, lines, after, [line], nl)

    @staticmethod
    def _line(style, option, value):
        if style is None:
            return option + " = " + value
        delim = style.delim
        if not style.value:  # "key =" : mirror the space before the delimiter
            lead = delim[:len(delim) - len(delim.lstrip())]
            delim = delim + lead
        return style.indent + option + delim + value

    def remove(self, text, path):
        _check_text(text)
        path = self._path(path)
        while True:
            lines, blocks = _ini_scan(text)
            found = self._matches(blocks, path)
            if not found:
                return text
            o = found[-1]
            text = _delete_lines(text, lines, o.idx, o.last)

    def check_value(self, value):
        _check_common(self.name, value)
        if any(c.isspace() for c in value):
            raise UnsafeEdit(
                "the token contains whitespace, which ini readers strip or split on; it cannot "
                "be written safely in ini format")
        if "%" in value:
            raise UnsafeEdit(
                "the token contains a '%', which configparser's default interpolation misreads; "
                "it cannot be written safely in ini format")
        if value[0] in "#;":
            raise UnsafeEdit(
                "the token starts with '#' or ';', which ini readers with inline comments take "
                "as a comment; it cannot be written safely in ini format")


# ---------------------------------------------------------------------------
# json
# ---------------------------------------------------------------------------

_JSON_WS = re.compile(r"[ \t\n\r]*")
_JSON_DECODER = json.JSONDecoder()


class _JMember:
    __slots__ = ("key", "kstart", "kend", "vstart", "vend", "kind", "child", "value")


class _JObj:
    __slots__ = ("start", "end", "members")

    def __init__(self, start):
        self.start = start   # offset of '{'
        self.end = None      # offset after '}'
        self.members = []


def _json_kind(v):
    if isinstance(v, str):
        return "string"
    if isinstance(v, bool):
        return "boolean"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, list):
        return "array"
    return "object"


def _json_object(text, pos):
    """Scan the (already validated) object at text[pos] == '{' with positions."""
    obj = _JObj(pos)
    i = _JSON_WS.match(text, pos + 1).end()
    if text[i] == "}":
        obj.end = i + 1
        return obj
    while True:
        m = _JMember()
        m.kstart = i
        m.key, m.kend = json.decoder.scanstring(text, i + 1)
        i = _JSON_WS.match(text, m.kend).end()  # at ':'
        i = _JSON_WS.match(text, i + 1).end()
        m.vstart = i
        m.value = None
        if text[i] == "{":
            m.child = _json_object(text, i)
            m.vend = m.child.end
            m.kind = "object"
        else:
            m.child = None
            m.value, m.vend = _JSON_DECODER.raw_decode(text, i)
            m.kind = _json_kind(m.value)
        obj.members.append(m)
        i = _JSON_WS.match(text, m.vend).end()
        if text[i] == ",":
            i = _JSON_WS.match(text, i + 1).end()
            continue
        obj.end = i + 1  # text[i] == '}'
        return obj


def _json_parse(text):
    """Root object of text, or None if the text is empty/whitespace only."""
    bom = _bom_len(text)
    body = text[bom:]
    if not body.strip(" \t\r\n"):
        return None
    err = None
    try:
        json.loads(body)
    except ValueError as exc:  # JSONDecodeError
        err = (exc.msg, exc.pos + bom)
    except RecursionError:
        err = ("nesting is too deep", bom)
    if err is not None:
        # raised outside the except block: JSONDecodeError carries the whole document
        msg, pos = err
        col = pos - (text.rfind("\n", 0, pos) + 1) + 1
        raise MalformedConfig(
            "invalid JSON at line %d, column %d: %s; fix the file or choose the right format"
            % (_line_of(text, pos), col, msg))
    start = _JSON_WS.match(text, bom).end()
    if text[start] != "{":
        raise UnsafeEdit("the top level of the JSON document is not an object; no key can be set in it")
    try:
        return _json_object(text, start)
    except RecursionError:
        pass
    raise MalformedConfig("the JSON document is nested too deeply to be edited safely")


def _json_resolve(root, path):
    """('found', obj, member) | ('missing', depth, obj) following the last duplicates."""
    obj = root
    for d, comp in enumerate(path):
        hits = [m for m in obj.members if m.key == comp]
        if not hits:
            return "missing", d, obj, None
        m = hits[-1]  # the last duplicate wins (Python's json)
        if d == len(path) - 1:
            return "found", d, obj, m
        if m.child is None:
            raise UnsafeEdit(
                "%s is a JSON %s, not an object, so %s cannot be reached through it; fix the key "
                "or the file" % (_show(path[:d + 1]), m.kind, _show(path)))
        obj = m.child
    raise AssertionError("unreachable")


def _line_indent(text, pos):
    """Leading spaces/tabs of the line holding pos."""
    ls = text.rfind("\n", 0, pos) + 1
    if ls == 0:
        ls = _bom_len(text)
    m = re.compile(r"[ \t]*").match(text, ls)
    return m.group(0)


def _line_prefix(text, pos):
    """Whitespace between the start of pos's line and pos, or None if not only whitespace."""
    ls = text.rfind("\n", 0, pos) + 1
    if ls == 0:
        ls = _bom_len(text)
    prefix = text[ls:pos]
    return prefix if prefix.strip(" \t") == "" else None


class JsonEditor(Editor):
    """JSON objects, edited in place (never re-serialised)."""

    name = "json"

    def _check_target(self, text, path, m):
        line = _line_of(text, m.vstart)
        if m.kind == "null":
            raise KeyNotFound("key %s is null on line %d; no token is set there" % (_show(path), line))
        if m.kind != "string":
            raise UnsafeEdit(
                "key %s on line %d holds a JSON %s, not a string; fix the key or the file"
                % (_show(path), line, m.kind))
        return line

    def find(self, text, path):
        _check_text(text)
        path = self._path(path)
        root = _json_parse(text)
        if root is None:
            raise KeyNotFound("key %s not found (the file is empty)" % _show(path))
        state, _d, _obj, m = _json_resolve(root, path)
        if state != "found":
            raise KeyNotFound("key %s not found" % _show(path))
        line = self._check_target(text, path, m)
        return Located(m.value, m.vstart + 1, m.vend - 1, line)

    def set(self, text, path, value):
        _check_text(text)
        path = self._path(path)
        self.check_value(value)
        root = _json_parse(text)
        if root is None:
            bom = _bom_len(text)
            nl = _newline(text)
            member = self._render(path, value, "  ", "  ", nl, ": ", True)
            return text[:bom] + "{" + nl + "  " + member + nl + "}" + nl
        state, d, obj, m = _json_resolve(root, path)
        if state == "found":
            if m.kind == "null":
                return text[:m.vstart] + json.dumps(value) + text[m.vend:]
            self._check_target(text, path, m)
            return text[:m.vstart + 1] + json.dumps(value)[1:-1] + text[m.vend - 1:]
        return self._insert(text, root, obj, path[d:], value)

    @staticmethod
    def _render(keys, value, indent, unit, nl, colon, multiline):
        head = json.dumps(keys[0]) + colon
        if len(keys) == 1:
            return head + json.dumps(value)
        inner = indent + unit
        sub = JsonEditor._render(keys[1:], value, inner, unit, nl, colon, multiline)
        if multiline:
            return head + "{" + nl + inner + sub + nl + indent + "}"
        return head + "{" + sub + "}"

    @staticmethod
    def _unit(text, root):
        todo = [root]
        while todo:
            obj = todo.pop(0)
            if obj.members and "\n" in text[obj.start:obj.members[0].kstart]:
                parent = _line_indent(text, obj.start)
                mine = _line_prefix(text, obj.members[0].kstart)
                if mine is not None and mine.startswith(parent) and len(mine) > len(parent):
                    return mine[len(parent):]
            todo.extend(m.child for m in obj.members if m.child is not None)
        return "  "

    def _insert(self, text, root, obj, keys, value):
        nl = _newline(text)
        unit = self._unit(text, root)
        colon = ": "
        for cand in (obj, root):
            if cand.members:
                last = cand.members[-1]
                colon = text[last.kend:last.vstart]
                if "\n" in colon or "\r" in colon:
                    colon = ": "
                break
        parent_indent = _line_indent(text, obj.start)
        if obj.members:
            last = obj.members[-1]
            if "\n" in text[obj.start:obj.members[0].kstart]:
                indent = _line_prefix(text, last.kstart)
                if indent is None:
                    indent = parent_indent + unit
                new = "," + nl + indent + self._render(keys, value, indent, unit, nl, colon, True)
            else:
                sep = ", "
                if len(obj.members) > 1:
                    between = text[obj.members[-2].vend:last.kstart]
                    if "\n" not in between:
                        sep = between
                new = sep + self._render(keys, value, "", unit, nl, colon, False)
            return text[:last.vend] + new + text[last.vend:]
        multiline = obj is root or "\n" in text[root.start:root.end]
        if multiline:
            indent = parent_indent + unit
            inner = nl + indent + self._render(keys, value, indent, unit, nl, colon, True) + nl + parent_indent
        else:
            inner = self._render(keys, value, "", unit, nl, colon, False)
        return text[:obj.start + 1] + inner + text[obj.end - 1:]

    def remove(self, text, path):
        _check_text(text)
        path = self._path(path)
        first = True
        while True:
            root = _json_parse(text)
            if root is None:
                return text
            state, _d, obj, m = _json_resolve(root, path)
            if state != "found":
                return text
            if first and m.kind not in ("string", "null"):
                raise UnsafeEdit(
                    "key %s on line %d holds a JSON %s, not a string; refusing to remove it"
                    % (_show(path), _line_of(text, m.vstart), m.kind))
            first = False
            ms = obj.members
            k = ms.index(m)
            if len(ms) == 1:
                text = text[:obj.start + 1] + text[obj.end - 1:]
            elif k < len(ms) - 1:
                text = text[:m.kstart] + text[ms[k + 1].kstart:]
            else:
                text = text[:ms[k - 1].vend] + text[m.vend:]


# ---------------------------------------------------------------------------
# yaml
# ---------------------------------------------------------------------------
# A parser for the block structure of one YAML document: block mappings and
# sequences by indentation, plain/quoted scalars, and enough of everything
# else (flow collections, block scalars, multi-line scalars, anchors, tags,
# aliases) to skip it correctly.  Anything on the key path that cannot be
# edited as a one-line scalar is refused.

_Y_NULL = re.compile(r"(?:~|null|Null|NULL|)\Z")
_Y_BOOL = re.compile(
    r"(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)\Z")
# YAML 1.1 (PyYAML, Psych, go-yaml v2) and 1.2 core schema numbers
_Y_NUMBER = re.compile(r"""(?:
    [-+]?0b[0-1_]+
  | [-+]?0o?[0-7_]+
  | [-+]?0x[0-9a-fA-F_]+
  | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?
  | [-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?
  | [-+]?\.(?:inf|Inf|INF)
  | \.(?:nan|NaN|NAN)
)\Z""", re.X)
_Y_DATE = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+).*)?\Z")
_Y_PLAIN_SAFE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.~+/=@-]*\Z")
_Y_PROP = re.compile(r"[&!][^\s]*")
_Y_ALIAS = re.compile(r"\*[^\s,\[\]{}]+")
_Y_BLOCK_HEADER = re.compile(r"[|>](?:[1-9][+-]?|[+-][1-9]?)?")
_Y_ESCAPES = {"0": "\0", "a": "\x07", "b": "\x08", "t": "\t", "\t": "\t", "n": "\n",
              "v": "\x0b", "f": "\x0c", "r": "\r", "e": "\x1b", " ": " ", '"': '"',
              "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0", "L": "\u2028", "P": "\u2029"}
_Y_HEX = {"x": 2, "u": 4, "U": 8}


def _yaml_type(s):
    """None if the plain scalar s is read as a string, else a type name."""
    if _Y_NULL.match(s):
        return "null"
    if _Y_BOOL.match(s):
        return "boolean"
    if _Y_NUMBER.match(s):
        return "number"
    if _Y_DATE.match(s):
        return "date"
    if s in ("=", "<<"):
        return "special value"
    return None


def _yaml_plain_ok(s):
    return bool(_Y_PLAIN_SAFE.match(s)) and _yaml_type(s) is None


def _yaml_dq(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _yaml_scalar(s):
    return s if _yaml_plain_ok(s) else _yaml_dq(s)


class _YNode:
    __slots__ = ("kind", "line", "last", "props", "quote", "multi", "own_line",
                 "start", "end", "value", "entries", "indent", "merge")

    def __init__(self, kind, line):
        self.kind = kind      # map seq scalar null block flow alias
        self.line = line      # index of its first line
        self.last = line      # index of the last line of its extent
        self.props = False    # anchor or tag
        self.quote = None     # scalar: "plain", "'" or '"'
        self.multi = False    # scalar spanning lines
        self.own_line = False  # scalar not on the key's line
        self.start = self.end = None  # scalar: raw span (inside quotes)
        self.value = None
        self.entries = []
        self.indent = None
        self.merge = None     # map: index of a '<<' key line


class _YEntry:
    __slots__ = ("key", "line", "node", "colon")

    def __init__(self, key, line, node, colon):
        self.key = key
        self.line = line
        self.node = node
        self.colon = colon    # offset right after the ':'


def _ws(t, p):
    while p < len(t) and t[p] in " \t":
        p += 1
    return p


def _rest_ok(t, p):
    """Only whitespace and an optional comment from p to the end of the line."""
    p = _ws(t, p)
    return p >= len(t) or (t[p] == "#" and (p == 0 or t[p - 1] in " \t"))


class _YamlDoc:

    def __init__(self, text):
        self.text = text
        self.lines = lines = _split_lines(text)
        self.ind = []
        self.blank = []
        self.comment = []
        self.doc = []
        for ln in lines:
            t = ln.text
            s = t.lstrip(" \t")
            self.ind.append(len(t) - len(t.lstrip(" ")))
            self.blank.append(not s)
            self.comment.append(s.startswith("#"))
            self.doc.append(t[:3] in ("---", "...") and (len(t) == 3 or t[3] in " \t"))
        self.n = len(lines)
        self.end_marker = None
        self.block_lines = {}  # index of a line inside a block scalar -> (parent indent, keep)
        self.root = self._document()

    # -- helpers --------------------------------------------------------
    def _num(self, i):
        return self.lines[i].num

    def _sig(self, i):
        while i < self.n and (self.blank[i] or self.comment[i]):
            i += 1
        return i

    def _tabs(self, i):
        t = self.lines[i].text
        if "\t" in t[:len(t) - len(t.lstrip(" \t"))]:
            raise MalformedConfig(
                "line %d: tab character in the indentation; YAML indentation must use spaces"
                % self._num(i))

    def _bad(self, i, what):
        raise MalformedConfig("line %d: %s; fix the YAML" % (self._num(i), what))

    @staticmethod
    def _is_seq(t, col):
        return col < len(t) and t[col] == "-" and (col + 1 == len(t) or t[col + 1] in " \t")

    def _quote_end(self, i, col):
        """(line index, column after the closing quote) of the quoted scalar at (i, col)."""
        q = self.lines[i].text[col]
        li, p = i, col + 1
        while True:
            t = self.lines[li].text
            while p < len(t):
                ch = t[p]
                if q == "'":
                    if ch == "'":
                        if p + 1 < len(t) and t[p + 1] == "'":
                            p += 2
                            continue
                        return li, p + 1
                elif ch == "\\":
                    p += 2
                    continue
                elif ch == '"':
                    return li, p + 1
                p += 1
            li += 1
            p = 0
            if li >= self.n or self.doc[li]:
                self._bad(i, "a quoted value is not closed")

    def _flow_end(self, i, col):
        """(line index, column after the closing bracket) of the flow collection at (i, col)."""
        depth = 0
        li, p = i, col
        prev = "["
        while True:
            t = self.lines[li].text
            while p < len(t):
                ch = t[p]
                if ch in "[{":
                    depth += 1
                elif ch in "]}":
                    depth -= 1
                    if depth == 0:
                        return li, p + 1
                elif ch in "'\"" and prev in "[{,:?":
                    li, p = self._quote_end(li, p)
                    t = self.lines[li].text
                    prev = ch
                    continue
                elif ch == "#" and (p == 0 or t[p - 1] in " \t"):
                    break
                if ch not in " \t":
                    prev = ch
                p += 1
            li += 1
            p = 0
            if li >= self.n or self.doc[li]:
                self._bad(i, "a flow collection ([...] or {...}) is not closed")

    def _key(self, i, col):
        """(key, quoted, column after ':') if a mapping key starts at (i, col), else None."""
        t = self.lines[i].text
        c = t[col]
        nxt_ws = col + 1 >= len(t) or t[col + 1] in " \t"
        num = self._num(i)
        if c in "?:" and nxt_ws:
            raise UnsafeEdit(
                "line %d: complex mapping keys ('? ') are not supported; edit the file by hand" % num)
        if c in "&!":
            p = col
            while p < len(t) and t[p] in "&!":
                p = _ws(t, _Y_PROP.match(t, p).end())
            if p < len(t) and self._key(i, p) is not None:
                raise UnsafeEdit(
                    "line %d: anchors or tags on mapping keys are not supported; edit the file "
                    "by hand" % num)
            return None
        if c == "*":
            p = _ws(t, _Y_ALIAS.match(t, col).end() if _Y_ALIAS.match(t, col) else col + 1)
            if p < len(t) and t[p] == ":" and (p + 1 >= len(t) or t[p + 1] in " \t"):
                raise UnsafeEdit(
                    "line %d: an alias used as a mapping key is not supported; edit the file by "
                    "hand" % num)
            return None
        if c in "[{":
            li, p = self._flow_end(i, col)
            p = _ws(self.lines[li].text, p)
            if li == i and p < len(t) and t[p] == ":" and (p + 1 >= len(t) or t[p + 1] in " \t"):
                raise UnsafeEdit(
                    "line %d: a flow collection used as a mapping key is not supported" % num)
            return None
        if c in "'\"":
            li, p = self._quote_end(i, col)
            if li != i:
                return None
            raw = t[col + 1:p - 1]
            q = _ws(t, p)
            if q < len(t) and t[q] == ":" and (q + 1 >= len(t) or t[q + 1] in " \t"):
                return self._unquote(i, c, raw), True, q + 1
            return None
        if c in "#|>%@`,]}" or (c == "-" and nxt_ws):
            return None
        p = col
        while p < len(t):
            ch = t[p]
            if ch == ":" and (p + 1 >= len(t) or t[p + 1] in " \t"):
                return t[col:p].rstrip(" \t"), False, p + 1
            if ch == "#" and t[p - 1] in " \t":
                return None
            p += 1
        return None

    def _unquote(self, i, q, raw):
        if q == "'":
            return raw.replace("''", "'")
        out = []
        p = 0
        while p < len(raw):
            ch = raw[p]
            if ch != "\\":
                out.append(ch)
                p += 1
                continue
            e = raw[p + 1:p + 2]
            if e in _Y_ESCAPES:
                out.append(_Y_ESCAPES[e])
                p += 2
            elif e in _Y_HEX:
                h = raw[p + 2:p + 2 + _Y_HEX[e]]
                if len(h) != _Y_HEX[e] or not all(x in "0123456789abcdefABCDEF" for x in h):
                    self._bad(i, "invalid escape sequence in a double-quoted value")
                out.append(chr(int(h, 16)))
                p += 2 + _Y_HEX[e]
            else:
                self._bad(i, "invalid escape sequence in a double-quoted value")
        return "".join(out)

    # -- structure ------------------------------------------------------
    def _document(self):
        i = self._sig(0)
        if i < self.n and self.lines[i].text.startswith("%"):
            raise UnsafeEdit(
                "line %d: YAML directives (%%YAML, %%TAG) are not supported; remove the directive"
                % self._num(i))
        if i < self.n and self.lines[i].text[:3] == "---" and self.doc[i]:
            if not _rest_ok(self.lines[i].text, 3):
                raise UnsafeEdit(
                    "line %d: content on the '---' line is not supported; move it to the next "
                    "line" % self._num(i))
            i = self._sig(i + 1)
        root = None
        if i < self.n and not self.doc[i]:
            self._tabs(i)
            root, i = self._node(i, self.ind[i], -1, "line")
            if root.kind != "map":
                raise UnsafeEdit(
                    "line %d: the top level of the YAML document is not a mapping; no key can "
                    "be set in it" % self._num(root.line))
            if root.props:
                raise UnsafeEdit(
                    "line %d: the top-level mapping has an anchor or tag; edit the file by hand"
                    % self._num(root.line))
        j = self._sig(i)
        if j < self.n:
            if self.lines[j].text[:3] == "..." and self.doc[j]:
                self.end_marker = j
                if not _rest_ok(self.lines[j].text, 3):
                    self._bad(j, "unexpected content after the document end marker")
                k = self._sig(j + 1)
                if k < self.n:
                    j = k
                else:
                    return root
            if self.doc[j] and self.lines[j].text[:3] == "---":
                raise UnsafeEdit(
                    "line %d: the file holds more than one YAML document; only single-document "
                    "files are supported" % self._num(j))
            self._bad(j, "unexpected content (check the indentation)")
        return root

    def _node(self, i, col, parent, ctx):
        """Parse the node starting at line i, column col.  ctx: 'value' (after
        'key:'), 'item' (after '- ') or 'line' (first thing on its line).
        Returns (node, index of the first line after it)."""
        t = self.lines[i].text
        col = _ws(t, col)
        if ctx != "value" and col < len(t):
            if self._is_seq(t, col):
                return self._seq(i, col)
            k = self._key(i, col)
            if k is not None:
                return self._map(i, col, k)
        props = False
        while col < len(t) and t[col] in "&!":
            props = True
            col = _ws(t, _Y_PROP.match(t, col).end())
        if col >= len(t) or t[col] == "#":
            j = self._sig(i + 1)
            if j < self.n and not self.doc[j]:
                if self.ind[j] > parent:
                    self._tabs(j)
                    node, nxt = self._node(j, self.ind[j], parent, "line")
                    node.own_line = True
                    node.props = node.props or props
                    return node, nxt
                if self.ind[j] == parent and ctx == "value" and self._is_seq(self.lines[j].text, parent):
                    self._tabs(j)
                    node, nxt = self._seq(j, parent)
                    node.props = node.props or props
                    return node, nxt
            node = _YNode("null", i)
            node.props = props
            return node, i + 1
        c = t[col]
        if c == "*":
            m = _Y_ALIAS.match(t, col)
            if not m or not _rest_ok(t, m.end()):
                self._bad(i, "invalid alias")
            node = _YNode("alias", i)
            node.props = props
            return node, i + 1
        if c in "|>":
            m = _Y_BLOCK_HEADER.match(t, col)
            if not _rest_ok(t, m.end()):
                self._bad(i, "invalid block scalar header")
            node = _YNode("block", i)
            node.props = props
            keep = "+" in m.group(0)
            j = i + 1
            while j < self.n and not self.doc[j] and (self.blank[j] or self.ind[j] > parent):
                self.block_lines[j] = (parent, keep)
                j += 1
            node.last = j - 1
            return node, j
        if c in "[{":
            li, p = self._flow_end(i, col)
            if not _rest_ok(self.lines[li].text, p):
                self._bad(li, "unexpected text after a flow collection")
            node = _YNode("flow", i)
            node.props = props
            node.last = li
            return node, li + 1
        node = _YNode("scalar", i)
        node.props = props
        ln = self.lines[i]
        if c in "'\"":
            li, p = self._quote_end(i, col)
            if not _rest_ok(self.lines[li].text, p):
                self._bad(li, "unexpected text after a quoted value")
            node.quote = c
            if li != i:
                node.multi = True
                node.last = li
                return node, li + 1
            node.start, node.end = ln.start + col + 1, ln.start + p - 1
            node.value = self._unquote(i, c, t[col + 1:p - 1])
            return node, i + 1
        if (c in "-?:" and (col + 1 >= len(t) or t[col + 1] in " \t")) or c in ",]}%@`":
            self._bad(i, "a value cannot start with this indicator character; quote the value")
        end = len(t)
        for mark in (" #", "\t#"):
            k = t.find(mark, col)
            if 0 <= k < end:
                end = k
        value = t[col:end].rstrip(" \t")
        if ": " in value or ":\t" in value or value.endswith(":"):
            self._bad(i, "a plain value contains ': ' (mapping values are not allowed here); quote "
                         "the value")
        node.quote = "plain"
        node.start, node.end = ln.start + col, ln.start + col + len(value)
        node.value = value
        j = i + 1
        while j < self.n:
            if self.blank[j]:
                j += 1
                continue
            if self.comment[j] or self.doc[j] or self.ind[j] <= parent:
                break
            node.multi = True
            node.last = j
            j += 1
        return node, node.last + 1

    def _map(self, i, col, k):
        node = _YNode("map", i)
        node.indent = col
        while True:
            key, quoted, cend = k
            if key == "<<" and not quoted:
                node.merge = i
            val, nxt = self._node(i, cend, col, "value")
            node.entries.append(_YEntry(key, i, val, self.lines[i].start + cend))
            node.last = max(val.last, i)
            j = self._sig(nxt)
            if j >= self.n or self.doc[j] or self.ind[j] < col:
                return node, nxt
            if self.ind[j] > col:
                self._bad(j, "unexpected indentation")
            self._tabs(j)
            t = self.lines[j].text
            if self._is_seq(t, col):
                self._bad(j, "a sequence item where a mapping key was expected")
            k = self._key(j, col)
            if k is None:
                self._bad(j, "expected 'key: value'")
            i = j

    def _seq(self, i, col):
        node = _YNode("seq", i)
        node.indent = col
        while True:
            item, nxt = self._node(i, col + 1, col, "item")
            node.last = max(item.last, i)
            j = self._sig(nxt)
            if j >= self.n or self.doc[j] or self.ind[j] < col:
                return node, nxt
            if self.ind[j] > col:
                self._bad(j, "unexpected indentation")
            self._tabs(j)
            if not self._is_seq(self.lines[j].text, col):
                return node, nxt
            i = j

    def unit(self):
        """Indentation step of nested mappings (2 if there is none)."""
        if self.root is not None:
            for e in self.root.entries:
                if e.node.kind == "map" and e.node.indent > self.root.indent:
                    return e.node.indent - self.root.indent
        return 2


_Y_KIND_TEXT = {
    "map": "a mapping", "seq": "a sequence", "block": "a block scalar (| or >)",
    "flow": "a flow collection ({...} or [...])", "alias": "an alias (*)",
    "null": "an empty (null) value",
}


class YamlEditor(Editor):
    """Block-mapping YAML, parsed and edited with the standard library only."""

    name = "yaml"

    def _resolve(self, doc, path):
        """('found', map, entry) | ('missing', depth, map) | ('under', depth, entry)."""
        node = doc.root
        if node is None:
            return "missing", 0, None, None
        for d, comp in enumerate(path):
            hits = [e for e in node.entries if e.key == comp]
            if not hits:
                if node.merge is not None:
                    raise UnsafeEdit(
                        "line %d: the mapping that should hold %s uses a merge key (<<), so the "
                        "value may come from elsewhere; edit the file by hand"
                        % (doc.lines[node.merge].num, _show(path)))
                return "missing", d, node, None
            e = hits[-1]  # the last duplicate wins (PyYAML)
            if d == len(path) - 1:
                return "found", d, node, e
            child = e.node
            num = doc.lines[e.line].num
            if child.props:
                raise UnsafeEdit(
                    "%s on line %d has an anchor or tag; edit the file by hand"
                    % (_show(path[:d + 1]), num))
            if child.kind == "map":
                node = child
                continue
            if child.kind == "null":
                return "under", d + 1, node, e
            what = _Y_KIND_TEXT.get(child.kind, "a scalar")
            if child.kind == "seq":
                raise UnsafeEdit(
                    "%s on line %d is a sequence; keys inside sequences are not supported"
                    % (_show(path[:d + 1]), num))
            raise UnsafeEdit(
                "%s on line %d is %s, not a mapping, so %s cannot be reached through it"
                % (_show(path[:d + 1]), num, what, _show(path)))
        raise AssertionError("unreachable")

    def _target(self, doc, path, e, for_set=False):
        """Check the target entry; returns the null/plain type for set."""
        node = e.node
        shown = _show(path)
        num = doc.lines[e.line].num
        if node.props:
            raise UnsafeEdit(
                "key %s on line %d has an anchor or tag; edit it by hand" % (shown, num))
        if node.kind == "null":
            if for_set:
                return "empty"
            raise KeyNotFound("key %s on line %d has no value; no token is set there" % (shown, num))
        if node.kind != "scalar":
            raise UnsafeEdit(
                "key %s on line %d holds %s, not a one-line string; edit it by hand"
                % (shown, num, _Y_KIND_TEXT[node.kind]))
        if node.multi or node.own_line:
            raise UnsafeEdit(
                "key %s on line %d holds a multi-line scalar or a value not on the key's line; "
                "edit it by hand" % (shown, num))
        if node.quote == "plain":
            typ = _yaml_type(node.value)
            if typ == "null":
                if for_set:
                    return "null"
                raise KeyNotFound("key %s on line %d is null; no token is set there" % (shown, num))
            if typ is not None:
                raise UnsafeEdit(
                    "key %s on line %d holds a %s, not a string; fix the key or the file"
                    % (shown, num, typ))
        return None

    def find(self, text, path):
        _check_text(text)
        path = self._path(path)
        doc = _YamlDoc(text)
        state, _d, _m, e = self._resolve(doc, path)
        if state != "found":
            raise KeyNotFound("key %s not found" % _show(path))
        self._target(doc, path, e)
        n = e.node
        return Located(n.value, n.start, n.end, doc.lines[e.line].num)

    def set(self, text, path, value):
        _check_text(text)
        path = self._path(path)
        self.check_value(value)
        doc = _YamlDoc(text)
        state, d, m, e = self._resolve(doc, path)
        if state == "found":
            kind = self._target(doc, path, e, for_set=True)
            n = e.node
            if kind == "empty":
                return text[:e.colon] + " " + _yaml_scalar(value) + text[e.colon:]
            if n.quote == "'":
                raw = value.replace("'", "''")
            elif n.quote == '"':
                raw = _yaml_dq(value)[1:-1]
            else:
                raw = _yaml_scalar(value)
            return text[:n.start] + raw + text[n.end:]
        unit = doc.unit()
        nl = _newline(text)
        if state == "under":
            indent = m.indent + unit
            after = e.line
        elif m is None:
            indent = 0
            after = None
        else:
            indent = m.indent
            after = m.last
        rest = path[d:]
        new = []
        for k, comp in enumerate(rest):
            line = " " * (indent + k * unit) + _yaml_scalar(comp) + ":"
            if k == len(rest) - 1:
                line += " " + _yaml_scalar(value)
            new.append(line)
        if after is None:
            if doc.end_marker is not None:
                return _insert_lines(text, doc.lines, doc.end_marker - 1, new, nl)
            return _append_lines(text, doc.lines, new, nl)
        if state == "missing" and self._ends_in_block(doc, after):
            # a line after a block scalar ending the file without a line break would add a
            # line break to its value: put the new key before the mapping's last entry
            after = m.entries[-1].line - 1
        return _insert_lines(text, doc.lines, after, new, nl)

    @staticmethod
    def _ends_in_block(doc, idx):
        return idx == doc.n - 1 and doc.lines[idx].next == doc.lines[idx].end and idx in doc.block_lines

    def remove(self, text, path):
        _check_text(text)
        path = self._path(path)
        first = True
        while True:
            doc = _YamlDoc(text)
            state, _d, _m, e = self._resolve(doc, path)
            if state != "found":
                return text
            if first:
                self._target(doc, path, e, for_set=True)
                first = False
            last = max(e.line, e.node.last)
            if e.line - 1 in doc.block_lines:
                # lines after the removed ones must not slide into the block scalar above
                parent, keep = doc.block_lines[e.line - 1]
                k = last + 1
                while k < doc.n and not doc.doc[k] and (doc.blank[k] or doc.ind[k] > parent):
                    if keep or not doc.blank[k]:
                        raise UnsafeEdit(
                            "removing key %s on line %d would merge the lines after it into the "
                            "block scalar above it; edit the file by hand"
                            % (_show(path), doc.lines[e.line].num))
                    k += 1
            if (last == doc.n - 1 and doc.lines[last].next == doc.lines[last].end
                    and e.line - 1 in doc.block_lines):
                # keep the line break that ends the block scalar before it
                text = text[:doc.lines[e.line].start]
            else:
                text = _delete_lines(text, doc.lines, e.line, last)

    def check_value(self, value):
        _check_common(self.name, value)
        if any(unicodedata.category(c) == "Cn" or c == "\x85" for c in value):
            raise UnsafeEdit(
                "the token contains unassigned or non-printable characters, which YAML cannot "
                "hold; it cannot be written safely")


# ---------------------------------------------------------------------------
# raw
# ---------------------------------------------------------------------------

class RawEditor(Editor):
    """The whole file is the token (surrounding whitespace ignored)."""

    name = "raw"

    def _span(self, text):
        bom = _bom_len(text)
        body = text[bom:]
        token = body.strip()
        if not token:
            return None
        start = bom + (len(body) - len(body.lstrip()))
        if any(c.isspace() for c in token):
            raise MalformedConfig(
                "the file holds more than one line or word; a raw token file must contain only "
                "the token")
        return start, start + len(token)

    def find(self, text, path):
        _check_text(text)
        self._path(path)
        span = self._span(text)
        if span is None:
            raise KeyNotFound("the file is empty; no token is set")
        start, end = span
        return Located(text[start:end], start, end, _line_of(text, start))

    def set(self, text, path, value):
        _check_text(text)
        self._path(path)
        self.check_value(value)
        span = self._span(text)
        if span is None:
            bom = _bom_len(text)
            return text[:bom] + value + text[bom:]
        start, end = span
        return text[:start] + value + text[end:]

    def remove(self, text, path):
        _check_text(text)
        self._path(path)
        return ""

    def check_value(self, value):
        _check_common(self.name, value)
        if any(c.isspace() for c in value):
            raise UnsafeEdit(
                "the token contains whitespace, which readers of a raw token file strip or "
                "split on; it cannot be written safely")


_EDITORS = {
    "env": EnvEditor,
    "ini": IniEditor,
    "json": JsonEditor,
    "yaml": YamlEditor,
    "raw": RawEditor,
}
