# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The env editor (see the package docstring for the rules every editor keeps)."""

from __future__ import annotations

import re

from ansible_collections.tokenops.tiflux.plugins.module_utils._formats import (
    Editor, KeyNotFound, Located, MalformedConfig, UnsafeEdit, _bom_len, _check_common, _check_text,
    _cut, _newline, _split_lines,
)


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
_INI_HEADER = re.compile(r"\[[^\]\r\n]+\]")  # what configparser takes for a [section] header


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
        if not entries and _INI_HEADER.match(text, p):  # edited as env, an ini file would read wrong
            raise MalformedConfig(
                "line %d is an INI section header, not KEY=value: the file is an ini file; use format: ini" % line)
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

    def find_all(self, text, path):
        _check_text(text)
        (name,) = self._path(path)
        return [Located(e.value, e.vstart, e.vend, e.line) for e in _env_scan(text) if e.key == name and not e.bare]

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
