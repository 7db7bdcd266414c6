# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The yaml editor (see the package docstring for the rules every editor keeps)."""

from __future__ import annotations

import re
import unicodedata

from ansible_collections.tokenops.tiflux.plugins.module_utils._formats import (
    Editor, KeyNotFound, Located, MalformedConfig, UnsafeEdit, _append_lines, _check_common,
    _check_text, _delete_lines, _insert_lines, _newline, _show, _split_lines,
)


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

    def find_all(self, text, path):
        _check_text(text)
        path = self._path(path)
        doc = _YamlDoc(text)
        found = []

        def extent(e, n):
            """The node's whole text: from its first character to the end of its last line."""
            ln = doc.lines[n.line]
            start = _ws(text, e.colon) if n.line == e.line else ln.start + len(ln.text) - len(ln.text.lstrip(" \t"))
            end = doc.lines[n.last].end
            return Located(text[start:end], start, end, doc.lines[e.line].num)

        def walk(node, depth):
            for e in node.entries:
                n = e.node
                if e.key == "<<" and n.kind in ("map", "flow"):
                    found.append(extent(e, n))  # an inline merge may supply the key
                    continue
                if e.key != path[depth] or n.kind == "null":
                    continue
                if depth < len(path) - 1:
                    if n.kind == "map":
                        walk(n, depth + 1)
                    elif n.kind in ("flow", "seq"):
                        found.append(extent(e, n))  # {token: ...} or a list may hold it too
                elif n.kind == "scalar" and n.start is not None and not n.multi:
                    if n.quote == "plain" and _yaml_type(n.value) is not None:
                        continue  # null, a bool or a number: not a token, shown as it is
                    found.append(Located(n.value, n.start, n.end, doc.lines[e.line].num))
                elif n.kind != "alias":
                    # multi-line, block, flow, sequence or mapping: hidden as written
                    found.append(extent(e, n))

        if doc.root is not None and doc.root.kind == "map":
            walk(doc.root, 0)
        return sorted(found, key=lambda located: located.start)

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
