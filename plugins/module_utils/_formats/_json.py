# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The json editor (see the package docstring for the rules every editor keeps)."""

from __future__ import annotations

import json
import re

from ansible_collections.tokenops.tiflux.plugins.module_utils._formats import (
    Editor, KeyNotFound, Located, MalformedConfig, UnsafeEdit, _bom_len, _check_text, _line_of,
    _newline, _show,
)


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


def _json_all(obj, path):
    """Every member at path, through every duplicate on the way; an array on the way is returned itself."""
    hits = [m for m in obj.members if m.key == path[0]]
    if len(path) == 1:
        return hits
    found = []
    for m in hits:
        if m.child is not None:
            found += _json_all(m.child, path[1:])
        elif m.kind == "array":
            found.append(m)
    return found


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

    def find_all(self, text, path):
        _check_text(text)
        path = self._path(path)
        root = _json_parse(text)
        if root is None:
            return []
        found = []
        for m in _json_all(root, path):
            if m.kind == "string":
                found.append(Located(m.value, m.vstart + 1, m.vend - 1, _line_of(text, m.vstart)))
            elif m.kind in ("array", "object"):  # may hold a token: hidden as written
                found.append(Located(text[m.vstart:m.vend], m.vstart, m.vend, _line_of(text, m.vstart)))
        return sorted(found, key=lambda located: located.start)

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
