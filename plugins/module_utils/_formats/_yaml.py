# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The yaml editor (see the package docstring for the rules every editor keeps), on PyYAML's own reading: its
composer gives each node's span (start_mark.index, end_mark.index) and each scalar's style. On the key path,
anything but a one-line scalar in a block mapping is refused; a missing key becomes lines after the last entry
of the deepest existing mapping. Needs PyYAML where the module runs (the other formats need nothing)."""

from __future__ import annotations

import json
import re
import unicodedata

from ansible_collections.tokenops.tiflux.plugins.module_utils._formats import (
    ConfigError, Editor, KeyNotFound, Located, MalformedConfig, UnsafeEdit, _check_common,
    _check_text, _delete_lines, _insert_lines, _newline, _show, _split_lines,
)

try:
    import yaml
except ImportError:
    yaml = None

_MERGE, _STR = "tag:yaml.org,2002:merge", "tag:yaml.org,2002:str"
# what a plain scalar that is not a string is read as, by the last part of its resolved tag
_TYPES = dict(null="null", bool="boolean", int="number", float="number", timestamp="date", merge="special value", value="special value")
_KIND_TEXT = {"map": "a mapping", "seq": "a sequence", "block": "a block scalar (| or >)",
              "flow": "a flow collection ({...} or [...])", "alias": "an alias (*)"}
# plain only with a letter first (no YAML 1.2 number has one), no indicator, and not y/n (YAML 1.1 booleans)
_PLAIN = re.compile(r"(?![yYnN]\Z)[A-Za-z_][A-Za-z0-9_.~+/=@-]*\Z")
_DOC_START, _DOC_END = re.compile(r"---(?:[ \t]|$)"), re.compile(r"\.\.\.(?:[ \t]|$)")
_SEPARATORS = re.compile("[\x85\u2028\u2029]")
_BLANKS = re.compile(r"[ \t]*")
_BLOCK_HEADER = re.compile(r"[|>]([-+0-9]*)")
_QUOTED = re.compile(r" ?'(?!<)[^']*'| ?\"[^\"]*\"")  # a character or a name from the file, in PyYAML's message

# PyYAML's errors in a few words: (words of its context or problem, the mark whose line is named, message)
_FIX = "; fix the YAML"
_SYNTAX = (
    (r"single document", "problem", "the file holds more than one YAML document; only single-document files are supported"),
    (r"'\\t'", "problem", "tab character in the indentation; YAML indentation must use spaces"),
    (r"escape|hexadecimal", "context", "invalid escape sequence in a double-quoted value" + _FIX),
    (r"quoted scalar", "context", "a quoted value is not closed" + _FIX),
    (r"flow (sequence|mapping).*(stream end|document)", "context", "a flow collection ([...] or {...}) is not closed" + _FIX),
    (r"mapping values are not allowed", "problem",
     "a plain value contains ': ' (mapping values are not allowed here); quote the value" + _FIX),
    (r"simple key", "context", "expected 'key: value'" + _FIX),
    (r"<block end>, but found '-'", "problem", "a sequence item where a mapping key was expected" + _FIX),
    (r"<block end>", "problem", "unexpected indentation" + _FIX),
    (r"<document start>", "problem", "unexpected content (check the indentation)" + _FIX),
)

if yaml is not None:
    class _Loader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
        """PyYAML's composer that marks each node with its `kind` (see _kind), `line`, `column` (a block mapping's:
        that of its keys), `props` (an anchor or a tag is written on it), `leaf` (the node a block collection ends
        with), and for a scalar the `span` of its value (inside the quotes) and `type` (what a plain scalar that is
        no string reads as); returns an alias as a node of its own; keeps in `last` the node composed last with
        the keys above it."""

        def __init__(self, text):
            super().__init__(text)
            self.trail, self.last = [], ((), None)

        def compose_node(self, parent, index):
            self.trail.append(index)
            event = self.peek_event()
            alias = isinstance(event, yaml.AliasEvent)
            if alias and event.anchor not in self.anchors:
                raise yaml.composer.ComposerError(None, None, "found undefined alias", event.start_mark)
            node = yaml.Node(None, None, self.get_event().start_mark, event.end_mark) if alias else super().compose_node(parent, index)
            node.props = not alias and (event.tag is not None or event.anchor is not None)
            node.kind, node.line = _kind(node), node.start_mark.line + 1
            node.column = node.value[0][0].start_mark.column if node.kind == "map" else node.start_mark.column
            quoted = getattr(node, "style", None) in ("'", '"')
            node.span = (node.start_mark.index + quoted, node.end_mark.index - quoted)
            node.type = _TYPES.get(node.tag.rsplit(":", 1)[-1]) if node.kind in ("scalar", "null") and node.style is None else None
            node.leaf = (node.value[-1][1] if node.kind == "map" else node.value[-1]).leaf if node.kind in ("map", "seq") else node
            self.last = (tuple(self.trail), node)
            self.trail.pop()
            return node


def _kind(node):
    """map, seq, flow, alias, block (| or >), null (nothing written) or scalar."""
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
        return "flow" if node.flow_style else "map" if isinstance(node, yaml.MappingNode) else "seq"
    if not isinstance(node, yaml.ScalarNode):
        return "alias"
    return "block" if node.style in ("|", ">") else "null" if node.style is None and node.value == "" else "scalar"


def _last_line(text, node):
    """Index of the line that holds the node's last character (a block scalar ends with its last line break)."""
    return text.count("\n", 0, max(node.leaf.end_mark.index - 1, node.leaf.start_mark.index))


def _scalar(value):
    """value as a new scalar: plain if every YAML 1.1 and 1.2 reader takes it as this string, else double-quoted."""
    if _PLAIN.match(value) and yaml.resolver.Resolver().resolve(yaml.ScalarNode, value, (True, False)) == _STR:
        return value
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def _syntax_error(exc, text, last, path):
    """PyYAML's error as one line, without the file's content."""
    if isinstance(exc, yaml.reader.ReaderError):
        return MalformedConfig("line %d: a control character that YAML does not allow; remove it"
                               % (text.count("\n", 0, exc.position) + 1))
    context, problem, mark = exc.context or "", exc.problem or "", exc.problem_mark or exc.context_mark
    keys, node = last
    names = tuple(key.value for key in keys[1:] if isinstance(key, yaml.ScalarNode))
    if (problem.startswith("mapping values") and names == path and len(names) == len(keys) - 1 and node.kind == "scalar"
            and node.style is None and node.start_mark.line < node.end_mark.line == mark.line):
        # the target's plain value goes on to a line that reads as "key: value"
        return UnsafeEdit("key %s on line %d holds a multi-line scalar or a value not on the key's line; edit it by hand"
                          % (_show(path), keys[-1].line))
    which, message = next(((which, message) for words, which, message in _SYNTAX if re.search(words, context + " | " + problem)),
                          ("problem", _QUOTED.sub("", problem or context) + _FIX))
    mark = (exc.context_mark if which == "context" else exc.problem_mark) or mark
    return (UnsafeEdit if message == _SYNTAX[0][2] else MalformedConfig)("line %d: %s" % (mark.line + 1, message))


def _parse(text, path):
    """(lines, root mapping or None for an empty document) of a single-document file, else the one-line error."""
    if yaml is None:
        from ansible.module_utils.basic import missing_required_lib  # pylint: disable=import-outside-toplevel
        raise ConfigError(missing_required_lib(
            "PyYAML", reason="for format yaml (install the python3-yaml package, or PyYAML with pip, on that host)"))
    lines = _split_lines(text)
    odd = _SEPARATORS.search(text)
    if odd:
        raise MalformedConfig("line %d: a Unicode line separator (NEL, LS or PS), where YAML 1.1 readers break the line "
                              "and others do not; replace it with a line break" % (text.count("\n", 0, odd.start()) + 1))
    first = next((ln for ln in lines if ln.text.strip(" \t")[:1] not in ("", "#")), None)
    if first is not None and first.text.startswith("%"):
        raise UnsafeEdit("line %d: YAML directives (%%YAML, %%TAG) are not supported; remove the directive" % first.num)
    if first is not None and _DOC_START.match(first.text) and first.text[3:].strip(" \t")[:1] not in ("", "#"):
        raise UnsafeEdit("line %d: content on the '---' line is not supported; move it to the next line" % first.num)
    loader = error = None
    try:
        loader = _Loader(text)
        root = loader.get_single_node()
    except yaml.YAMLError as exc:
        error = exc
    except RecursionError:
        error = MalformedConfig("the YAML document is nested too deeply to be edited safely")
    if error is not None:  # raised here, not in the except block: PyYAML's error holds the whole text
        raise error if isinstance(error, ConfigError) else _syntax_error(error, text, loader.last if loader else ((), None), path)
    if root is not None and root.kind == "null" and not root.props:
        root = None  # "---" and comments only
    if root is not None and root.kind != "map":
        raise UnsafeEdit("line %d: the top level of the YAML document is not a mapping; no key can be set in it" % root.line)
    if root is not None and root.props:
        raise UnsafeEdit("line %d: the top-level mapping has an anchor or tag; edit the file by hand" % root.line)
    return lines, root


def _resolve(text, root, path):
    """(state, depth, mapping, key, value) following the last duplicates, as PyYAML does: 'found' the key;
    'missing' path[depth] in mapping; 'under' the empty value of key in mapping, which gets path[depth:]."""
    mapping = root
    for depth, part in enumerate(path):
        if mapping is None:  # an empty document
            return "missing", 0, None, None, None
        for key, _value in mapping.value:  # plain one-line keys followed by ':' only
            kind, after = key.kind, _BLANKS.match(text, key.end_mark.index).end()
            if kind in ("alias", "flow"):
                raise UnsafeEdit("line %d: %s used as a mapping key is not supported; edit the file by hand" % (key.line, _KIND_TEXT[kind]))
            if key.props:
                raise UnsafeEdit("line %d: anchors or tags on mapping keys are not supported; edit the file by hand" % key.line)
            if kind not in ("scalar", "null") or text[after:after + 1] != ":":
                raise UnsafeEdit("line %d: complex mapping keys ('? ') are not supported; edit the file by hand" % key.line)
        hits = [(key, value) for key, value in mapping.value if key.value == part]
        merges = [key for key, _value in mapping.value if key.tag == _MERGE]
        if not hits and merges:
            raise UnsafeEdit("line %d: the mapping that should hold %s uses a merge key (<<), so the value may come "
                             "from elsewhere; edit the file by hand" % (merges[-1].line, _show(path)))
        if not hits:
            return "missing", depth, mapping, None, None
        key, value = hits[-1]
        shown, kind = _show(path[:depth + 1]), value.kind
        if depth == len(path) - 1:
            return "found", depth, mapping, key, value
        if value.props:
            raise UnsafeEdit("%s on line %d has an anchor or tag; edit the file by hand" % (shown, key.line))
        if kind == "null":
            return "under", depth + 1, mapping, key, value
        if kind == "seq":
            raise UnsafeEdit("%s on line %d is a sequence; keys inside sequences are not supported" % (shown, key.line))
        if kind != "map":
            raise UnsafeEdit("%s on line %d is %s, not a mapping, so %s cannot be reached through it"
                             % (shown, key.line, _KIND_TEXT.get(kind, "a scalar"), _show(path)))
        mapping = value
    raise AssertionError("unreachable")


def _target(path, key, value, for_set=False):
    """Refuse a value that is not a one-line string; for set, say 'empty' or 'null' for a placeholder."""
    shown, line, kind = _show(path), key.line, value.kind
    if value.props:
        raise UnsafeEdit("key %s on line %d has an anchor or tag; edit it by hand" % (shown, line))
    if kind not in ("scalar", "null"):
        raise UnsafeEdit("key %s on line %d holds %s, not a one-line string; edit it by hand" % (shown, line, _KIND_TEXT[kind]))
    if value.start_mark.line != key.start_mark.line or value.end_mark.line != value.start_mark.line:
        raise UnsafeEdit("key %s on line %d holds a multi-line scalar or a value not on the key's line; edit it by hand"
                         % (shown, line))
    typ = value.type
    placeholder = "empty" if kind == "null" else typ if typ == "null" else None
    if placeholder and not for_set:
        raise KeyNotFound("key %s on line %d %s; no token is set there" % (shown, line, "is null" if typ == placeholder else "has no value"))
    if typ not in (None, "null"):
        raise UnsafeEdit("key %s on line %d holds a %s, not a string; fix the key or the file" % (shown, line, typ))
    return placeholder


class YamlEditor(Editor):
    """Block-mapping YAML as PyYAML reads it, edited in place."""

    name = "yaml"

    def find(self, text, path):
        _check_text(text)
        path = self._path(path)
        state, _depth, _mapping, key, value = _resolve(text, _parse(text, path)[1], path)
        if state != "found":
            raise KeyNotFound("key %s not found" % _show(path))
        _target(path, key, value)
        return Located(value.value, *value.span, line=key.line)

    def find_all(self, text, path):
        _check_text(text)
        path = self._path(path)
        lines, root = _parse(text, path)
        found = []

        def whole(key, node):  # the node as written, to the end of its last line
            end = lines[_last_line(text, node)].end
            return Located(text[node.start_mark.index:end], node.start_mark.index, end, key.line)

        def walk(mapping, depth):
            for key, node in mapping.value:
                kind, name = node.kind, key.value if isinstance(key, yaml.ScalarNode) else None
                if name == "<<" and kind in ("map", "flow"):
                    found.append(whole(key, node))  # an inline merge may supply the key
                elif name != path[depth] or kind in ("null", "alias"):
                    continue
                elif depth < len(path) - 1:
                    if kind == "map":
                        walk(node, depth + 1)
                    elif kind in ("flow", "seq"):
                        found.append(whole(key, node))  # {token: ...} or a list may hold it too
                elif kind != "scalar" or node.props or node.start_mark.line != node.end_mark.line:
                    found.append(whole(key, node))  # multi-line, block, flow, sequence or mapping: hidden as written
                elif node.type is None:  # null, a boolean or a number is not a token: shown as it is
                    found.append(Located(node.value, *node.span, line=key.line))

        if root is not None:
            walk(root, 0)
        return sorted(found, key=lambda located: located.start)

    def set(self, text, path, value):
        _check_text(text)
        path = self._path(path)
        self.check_value(value)
        lines, root = _parse(text, path)
        state, depth, mapping, key, node = _resolve(text, root, path)
        if state == "found":
            empty = _target(path, key, node, for_set=True) == "empty"  # then the value goes right after the ':'
            raw = {"'": value.replace("'", "''"), '"': json.dumps(value, ensure_ascii=False)[1:-1]}.get(node.style) or _scalar(value)
            return text[:node.span[0]] + " " * empty + raw + text[node.span[1]:]
        # the indentation step: that of the first nested mapping, else 2
        unit = next((child.column - root.column for _key, child in (root.value if root else ())
                     if child.kind == "map" and child.column > root.column), 2)
        if state == "under":
            indent, after = mapping.column + unit, key.start_mark.line
        elif mapping is None:
            end_marker = next((i for i, ln in enumerate(lines) if _DOC_END.match(ln.text)), None)
            indent, after = 0, len(lines) - 1 if end_marker is None else end_marker - 1
        else:
            indent, after = mapping.column, _last_line(text, mapping)
            if mapping.leaf.kind == "block" and mapping.leaf.end_mark.index == len(text) and not text.endswith("\n"):
                # a line after a block scalar that ends the file without a line break would add one to its value
                after = mapping.value[-1][0].start_mark.line - 1
        new = [" " * (indent + k * unit) + _scalar(part) + ":" for k, part in enumerate(path[depth:])]
        new[-1] += " " + _scalar(value)
        return _insert_lines(text, lines, after, new, _newline(text))

    def remove(self, text, path):
        _check_text(text)
        path = self._path(path)
        checked = False
        while True:
            lines, root = _parse(text, path)
            state, _depth, mapping, key, value = _resolve(text, root, path)
            if state != "found":
                return text
            if not checked:  # an earlier duplicate goes whatever it holds, as a later one hid it
                _target(path, key, value, for_set=True)
            checked = True
            first, last = key.start_mark.line, max(key.start_mark.line, _last_line(text, value))
            i = next(i for i, (k, _v) in enumerate(mapping.value) if k is key)
            above = mapping.value[i - 1][1].leaf if i else None
            if above is not None and above.kind == "block" and _last_line(text, above) == first - 1:
                # the lines after the removed ones must not slide into the block scalar above them
                keep = "+" in _BLOCK_HEADER.search(text, above.start_mark.index).group(1)
                for ln in lines[last + 1:]:
                    blank = not ln.text.strip(" \t")
                    if _DOC_START.match(ln.text) or _DOC_END.match(ln.text) or not (blank or _BLANKS.match(ln.text).end() > key.start_mark.column):
                        break
                    if keep or not blank:
                        raise UnsafeEdit("removing key %s on line %d would merge the lines after it into the block "
                                         "scalar above it; edit the file by hand" % (_show(path), first + 1))
                if last == len(lines) - 1 and lines[last].next == lines[last].end:
                    text = text[:lines[first].start]  # keep the line break that ends the block scalar
                    continue
            text = _delete_lines(text, lines, first, last)

    def check_value(self, value):
        _check_common(self.name, value)
        if any(unicodedata.category(c) == "Cn" or c == "\x85" for c in value):
            raise UnsafeEdit("the token contains unassigned or non-printable characters, which YAML cannot hold; it cannot be "
                             "written safely")
