# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ini editor (see the package docstring for the rules every editor keeps)."""

from __future__ import annotations

import re

from ansible_collections.tokenops.tiflux.plugins.module_utils._formats import (
    Editor, KeyNotFound, Located, MalformedConfig, UnsafeEdit, _append_lines, _check_common,
    _check_opaque, _check_text, _delete_lines, _insert_lines, _newline, _split_lines,
)


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

    def find_all(self, text, path):
        _check_text(text)
        path = self._path(path)
        lines, blocks = _ini_scan(text)
        found = []
        for o in self._matches(blocks, path):
            if o.last == o.idx:
                found.append(Located(o.value, o.vstart, o.vend, lines[o.idx].num))
            else:
                # hidden to the end of its last continuation line; its value as configparser joins it
                end = lines[o.last].end
                value = "\n".join(line.strip() for line in text[o.vstart:end].splitlines()).strip()
                found.append(Located(value, o.vstart, end, lines[o.idx].num))
        return found

    def set(self, text, path, value):
        _check_text(text)
        path = self._path(path)
        self.check_value(value)
        _check_opaque(text, path + (value,))
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
