# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Property tests of the config format editors over generated config files.

For every format, hypothesis builds a structured document (random neighbours,
comments, spacing, duplicates, line endings, BOM, trailing newline), renders
it, picks a target key (existing or not) and checks that after set():
  1. find() returns the new token;
  2. a real parser (own dotenv-like reader and python-dotenv, configparser,
     json, PyYAML) reads the same data as before except the target;
  3. for an existing key, the bytes outside the token's span are unchanged.
Where the model says the edit must be refused, UnsafeEdit is expected instead.

Examples per test: TIFLUX_HYPOTHESIS_EXAMPLES (default 100; the full run uses 1000).
"""

from __future__ import annotations

import configparser
import copy
import io
import json
import os
import re

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ansible_collections.tokenops.tiflux.plugins.module_utils import _formats as F

try:
    import dotenv
except ImportError:  # pragma: no cover - python-dotenv is an optional second oracle
    dotenv = None

settings.register_profile(
    "tiflux-formats",
    max_examples=int(os.environ.get("TIFLUX_HYPOTHESIS_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
PROFILE = settings.get_profile("tiflux-formats")


def finish(lines, draw):
    """Join lines with a drawn line ending; maybe no trailing newline, maybe a BOM."""
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    text = nl.join(lines)
    if lines and draw(st.booleans()):
        text += nl
    if draw(st.integers(0, 5)) == 0:
        text = "\ufeff" + text
    return text


def check_span(old, new, loc):
    """Only the bytes of the old value changed (quoting may be added around it)."""
    assert new[:loc.start] == old[:loc.start]
    assert new.endswith(old[loc.end:])
    assert len(new) - len(old[loc.end:]) >= loc.start


def check_find_all(editor, old, new, key, loc, token):
    """find_all (what diffs hide) ends with what find() edits, before and after the edit."""
    if loc is not None:
        last = editor.find_all(old, key)[-1]
        assert (last.start, last.end, last.value) == (loc.start, loc.end, loc.value)
    found, edited = editor.find_all(new, key), editor.find(new, key)
    assert (found[-1].start, found[-1].end, found[-1].value) == (edited.start, edited.end, token)


def words(alphabet, min_size=1, max_size=12):
    return st.text(alphabet=alphabet, min_size=min_size, max_size=max_size)


# ---------------------------------------------------------------------------
# env
# ---------------------------------------------------------------------------

ENV_NAMES = ["TIFLUX_TOKEN", "TIFLUX_URL", "A", "b_2", "_X"]
ENV_TOKEN_CHARS = "ABCxyz019-._~+/=:@,"
ENV_VALUE_CHARS = "abcXYZ019-_./:@=+, #'\"$\\"
ENV_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "a": "\x07", "b": "\x08", "f": "\x0c",
               "n": "\n", "r": "\r", "t": "\t", "v": "\x0b"}

env_tokens = words(ENV_TOKEN_CHARS, max_size=24).filter(lambda t: not t.startswith("~") and ":~" not in t)


def ref_env(text):
    """A small python-dotenv-like reader, written independently of the module."""
    s = text[1:] if text.startswith("\ufeff") else text
    out = {}
    pos, n = 0, len(s)

    def skip_ws(j):
        while j < n and s[j] in " \t":
            j += 1
        return j

    def next_line(j):
        k = s.find("\n", j)
        return n if k < 0 else k + 1

    while pos < n:
        j = skip_ws(pos)
        if j >= n:
            break
        if s[j] in "\r\n#":
            pos = next_line(j)
            continue
        if s.startswith("export", j) and j + 6 < n and s[j + 6] in " \t":
            j = skip_ws(j + 6)
        k = j
        while k < n and s[k] not in "=# \t\r\n":
            k += 1
        key = s[j:k]
        j = skip_ws(k)
        if j >= n or s[j] != "=":
            out[key] = None
            pos = next_line(j)
            continue
        j = skip_ws(j + 1)
        quote = s[j] if j < n else ""
        if quote in ("'", '"'):
            k = j + 1
            buf = []
            while s[k] != quote:
                if quote == '"' and s[k] == "\\" and s[k + 1] in ENV_ESCAPES:
                    buf.append(ENV_ESCAPES[s[k + 1]])
                    k += 2
                    continue
                buf.append(s[k])
                k += 1
            out[key] = "".join(buf)
            pos = next_line(k + 1)
        else:
            e = next_line(j)
            value = s[j:e].rstrip("\r\n")
            m = re.search(r"[ \t]#", value)
            if m:
                value = value[:m.start()]
            out[key] = value.rstrip(" \t")
            pos = e
    return out


def dotenv_values(text, ref):
    """python-dotenv's view, reconciled with ref on "KEY= #x": python-dotenv < 1.2.3 reads "#x",
    newer versions read "" (as shells do); the module refuses to edit such a value."""
    s = text[1:] if text.startswith("\ufeff") else text
    values = dict(dotenv.dotenv_values(stream=io.StringIO(s), interpolate=False))
    for key, value in values.items():
        if value == "" and (ref.get(key) or "").startswith("#"):
            values[key] = ref[key]
    return values


@st.composite
def env_value(draw):
    style = draw(st.sampled_from(["unquoted", "single", "double", "empty", "multi"]))
    if style == "unquoted":
        first = draw(st.sampled_from("abcXYZ019-_./:@=+,#$\\"))
        return first + draw(words(ENV_VALUE_CHARS, 0, 12)).rstrip(" ")
    if style == "single":
        return "'" + draw(words(ENV_VALUE_CHARS.replace("'", "").replace("\\", ""), 0, 12)) + "'"
    if style == "double":
        parts = draw(st.lists(st.one_of(words(ENV_VALUE_CHARS.replace('"', "").replace("\\", ""), 1, 6),
                                        st.sampled_from(["\\n", '\\"', "\\t"])), max_size=4))
        return '"' + "".join(parts) + '"'
    if style == "multi":
        return '"' + draw(words("abc #=", 0, 5)) + "\n" + draw(words("abc #=", 0, 5)) + '"'
    return ""


@st.composite
def env_line(draw, names):
    kind = draw(st.sampled_from(["assign", "assign", "assign", "blank", "comment", "bare"]))
    if kind == "blank":
        return draw(st.sampled_from(["", " ", "\t", "   "]))
    if kind == "comment":
        return draw(st.sampled_from(["", "  "])) + "#" + draw(words(ENV_VALUE_CHARS, 0, 15))
    name = draw(st.sampled_from(names))
    lead = draw(st.sampled_from(["", "", " ", "\t"]))
    export = draw(st.sampled_from(["", "", "export ", "export\t"]))
    if kind == "bare":
        return lead + export + name + draw(st.sampled_from(["", " # c"]))
    before, after = draw(st.sampled_from([("", ""), ("", ""), (" ", " "), (" ", ""), ("", "\t")]))
    value = draw(env_value())
    tail = ""
    if value.startswith(("'", '"')) or value == "":
        tail = draw(st.sampled_from(["", "", " # note", "\t#x", " "]))
    elif draw(st.booleans()):
        tail = draw(st.sampled_from([" # note", "\t# x y", "  "]))
    return lead + export + name + before + "=" + after + value + tail


@st.composite
def env_documents(draw):
    lines = draw(st.lists(env_line(ENV_NAMES), max_size=10))
    text = finish(lines, draw)  # a multi-line value keeps its LF inside the quotes
    target = draw(st.sampled_from(ENV_NAMES + ["NEW_TOKEN"]))
    return text, target


def env_assignments(text, target):
    text = text.lstrip("\ufeff")
    return list(re.finditer(r"(?m)^[ \t]*(?:export[ \t]+)?%s[ \t]*=[ \t]*(.?)" % re.escape(target), text))


def env_refused(text, target):
    """Whether set() must refuse: the last assignment is multi-line or its value starts with '#'."""
    found = env_assignments(text, target)
    if not found:
        return False
    rest = text.lstrip("\ufeff")[found[-1].start(1):]
    if rest.startswith("#") and found[-1].group(0).rstrip("#").endswith((" ", "\t")):
        return True
    if rest[:1] in ("'", '"'):
        close = rest.index(rest[0], 1)
        return "\n" in rest[:close]
    return False


@PROFILE
@given(env_documents(), env_tokens)
def test_env_set_property(doc, token):
    old, target = doc
    editor = F.get_editor("env")
    before = ref_env(old)
    if dotenv is not None:
        assert dotenv_values(old, before) == before  # the reference reader agrees with python-dotenv
    if env_refused(old, target):
        try:
            editor.set(old, target, token)
        except F.UnsafeEdit:
            event("refused")
            return
        raise AssertionError("an unsafe env edit was not refused")
    exists = bool(env_assignments(old, target))
    loc = editor.find(old, target) if exists else None
    new = editor.set(old, target, token)
    check_find_all(editor, old, new, target, loc, token)
    assert editor.read(new, target) == token
    after = ref_env(new)
    if exists and before[target] is None:
        # a declaration without '=' after the last assignment: python-dotenv reads None there
        # (shells keep the assigned value); the assignment is what gets edited
        assert after == before
    else:
        assert after == dict(before, **{target: token})
    if dotenv is not None:
        assert dotenv_values(new, after) == after
    event("edited an existing key" if loc is not None else "created or filled a key")
    if loc is not None:
        check_span(old, new, loc)
        assert new == old[:loc.start] + token + old[loc.end:]
    else:
        assert new.startswith(old)
    gone = editor.remove(new, target)
    assert target not in ref_env(gone)
    expected = dict(before)
    expected.pop(target, None)
    assert ref_env(gone) == expected


# ---------------------------------------------------------------------------
# ini
# ---------------------------------------------------------------------------

INI_SECTIONS = ["tiflux", "Tiflux", "db", "a.b", "sec 1"]
INI_OPTIONS = ["token", "Token", "API_TOKEN", "url", "x"]
INI_DELIMS = ["=", " = ", ": ", ":", " : ", "  =  ", " ="]
INI_VALUE_CHARS = "abcXYZ019-_./:=+,;#%$[]'\" "

ini_tokens = words("abcXYZ019-_./:=+,;#$[]'\"", max_size=24).filter(lambda t: t[0] not in "#;")


@st.composite
def ini_option(draw, indent):
    name = draw(st.sampled_from(INI_OPTIONS))
    delim = draw(st.sampled_from(INI_DELIMS))
    value = draw(words(INI_VALUE_CHARS, 0, 12)).strip()
    if not value and delim.endswith(" "):
        delim = delim.rstrip(" ")
    lines = [indent + name + delim + value + draw(st.sampled_from(["", "", "  "]))]
    cont = False
    if draw(st.integers(0, 5)) == 0:
        cont = True
        for _count in range(draw(st.integers(1, 2))):
            if draw(st.booleans()):
                lines.append("")
            lines.append(indent + "   " + draw(words("abc =:x", 1, 8)).strip() + "z")
    return name.lower(), lines, cont


@st.composite
def ini_filler(draw):
    return draw(st.sampled_from(["", "# comment", "; comment = no", "  # indented comment", "   "]))


@st.composite
def ini_documents(draw):
    """(text, model) where model maps (section or None, option) -> list of has-continuation flags."""
    lines = []
    model = {}

    def block(section, indent):
        for _count in range(draw(st.integers(0, 4))):
            if draw(st.booleans()):
                lines.append(draw(ini_filler()))
            name, opt_lines, cont = draw(ini_option(indent))
            lines.extend(opt_lines)
            model.setdefault((section, name), []).append(cont)

    if draw(st.integers(0, 3)) == 0:
        block(None, "")
    for _count in range(draw(st.integers(0, 4))):
        if draw(st.booleans()):
            lines.append(draw(ini_filler()))
        section = draw(st.sampled_from(INI_SECTIONS))
        lines.append("[%s]%s" % (section, draw(st.sampled_from(["", "", "  "]))))
        model.setdefault((section, None), [])
        block(section, draw(st.sampled_from(["", "", "  "])))
    text = finish(lines, draw)
    sections = INI_SECTIONS + ["new sect"]
    existing = sorted(((sec, opt) if sec else (opt,)) for sec, opt in model if opt is not None)
    if existing and draw(st.booleans()):
        target = draw(st.sampled_from(existing))
        if draw(st.booleans()):  # option names are case-insensitive
            target = target[:-1] + (target[-1].upper(),)
    else:
        target = draw(st.one_of(
            st.tuples(st.sampled_from(sections), st.sampled_from(INI_OPTIONS + ["fresh"])),
            st.tuples(st.sampled_from(INI_OPTIONS + ["fresh"])),
        ))
    return text, model, target


def ini_data(text):
    """configparser's view (strict=False: duplicates allowed, the last one wins).

    Options before the first header are read under a '__top__' section."""
    s = text[1:] if text.startswith("\ufeff") else text
    parser = configparser.RawConfigParser(strict=False)
    parser.read_string("[__top__]\n" + s)
    return {name: dict(parser.items(name)) for name in parser.sections()}


@PROFILE
@given(ini_documents(), ini_tokens)
def test_ini_set_property(doc, token):
    old, model, target = doc
    editor = F.get_editor("ini")
    section = target[0] if len(target) == 2 else None
    option = target[-1].lower()
    before = ini_data(old)
    flags = model.get((section, option))
    if flags and flags[-1]:
        try:
            editor.set(old, target, token)
        except F.UnsafeEdit:
            event("refused")
            return
        raise AssertionError("an option with continuation lines was edited")
    loc = editor.find(old, target) if flags else None
    new = editor.set(old, target, token)
    check_find_all(editor, old, new, target, loc, token)
    assert editor.read(new, target) == token
    expected = copy.deepcopy(before)
    expected.setdefault(section or "__top__", {})[option] = token
    assert ini_data(new) == expected
    event("edited an existing key" if loc is not None else "created or filled a key")
    if loc is not None:
        check_span(old, new, loc)
        assert new == old[:loc.start] + token + old[loc.end:]
    gone = editor.remove(new, target)
    expected[section or "__top__"].pop(option)
    assert ini_data(gone) == expected


# ---------------------------------------------------------------------------
# json
# ---------------------------------------------------------------------------

JSON_KEYS = ["a", "b", "token", "a.b", "", "\u00fc", "x y"]


class Pairs(list):
    """A JSON object as a list of (key, value) pairs: duplicates are possible."""


json_scalars = st.one_of(
    st.text(max_size=8),
    st.integers(-10 ** 6, 10 ** 6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.none(),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.lists(st.tuples(st.sampled_from(JSON_KEYS), children), max_size=4).map(Pairs),
    ),
    max_leaves=12,
)
json_roots = st.lists(st.tuples(st.sampled_from(JSON_KEYS), json_values), max_size=5).map(Pairs)


def render_json(value, indent, level, item_sep, key_sep, ascii_only):
    nl = "" if indent is None else "\n"
    pad = "" if indent is None else indent * (level + 1)
    end_pad = "" if indent is None else indent * level
    if isinstance(value, Pairs):
        if not value:
            return "{}"
        parts = [json.dumps(k, ensure_ascii=ascii_only) + key_sep
                 + render_json(v, indent, level + 1, item_sep, key_sep, ascii_only) for k, v in value]
        return "{" + nl + pad + (item_sep + nl + pad).join(parts) + nl + end_pad + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        parts = [render_json(v, indent, level + 1, item_sep, key_sep, ascii_only) for v in value]
        return "[" + nl + pad + (item_sep + nl + pad).join(parts) + nl + end_pad + "]"
    return json.dumps(value, ensure_ascii=ascii_only)


@st.composite
def json_documents(draw):
    root = draw(json_roots)
    indent = draw(st.sampled_from([None, "  ", "    ", "\t"]))
    if indent is None:
        item_sep, key_sep = draw(st.sampled_from([(", ", ": "), (",", ":")]))
    else:
        item_sep, key_sep = ",", draw(st.sampled_from([": ", " : ", ":"]))
    text = render_json(root, indent, 0, item_sep, key_sep, draw(st.booleans()))
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
        if draw(st.booleans()):
            text += "\r\n"
    elif draw(st.booleans()):
        text += "\n"
    if draw(st.integers(0, 5)) == 0:
        text = "\ufeff" + text
    existing = []
    strings = []

    def walk(value, path):
        if isinstance(value, Pairs):
            for k, v in value:
                existing.append(path + (k,))
                if isinstance(v, str):
                    strings.append(path + (k,))
                walk(v, path + (k,))

    walk(root, ())
    fresh = st.lists(st.sampled_from(JSON_KEYS + ["new"]), min_size=1, max_size=3).map(tuple)
    choice = draw(st.integers(0, 4))
    if strings and choice < 2:
        target = draw(st.sampled_from(strings))
    elif existing and choice < 3:
        target = draw(st.sampled_from(existing))
    else:
        target = draw(fresh)
    return text, target


json_tokens = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"),
                                    blacklist_characters="\ufeff"), min_size=1, max_size=16)


def json_expect(data, path):
    """'set', 'refuse' (crosses a non-object or the target is not a string/null) for python's view."""
    node = data
    for comp in path[:-1]:
        if comp not in node:
            return "set"
        node = node[comp]
        if not isinstance(node, dict):
            return "refuse"
    if path[-1] in node and not (node[path[-1]] is None or isinstance(node[path[-1]], str)):
        return "refuse"
    return "set"


def json_assign(data, path, value):
    data = copy.deepcopy(data)
    node = data
    for comp in path[:-1]:
        node = node.setdefault(comp, {})
    node[path[-1]] = value
    return data


def json_loads(text):
    return json.loads(text[1:] if text.startswith("\ufeff") else text)


@PROFILE
@given(json_documents(), json_tokens)
def test_json_set_property(doc, token):
    old, path = doc
    editor = F.get_editor("json")
    before = json_loads(old)
    if json_expect(before, path) == "refuse":
        try:
            editor.set(old, list(path), token)
        except F.UnsafeEdit:
            event("refused")
            return
        raise AssertionError("an unsafe json edit was not refused")
    node = before
    for comp in path[:-1]:
        node = node.get(comp, {})
    loc = editor.find(old, list(path)) if isinstance(node.get(path[-1]), str) else None
    new = editor.set(old, list(path), token)
    check_find_all(editor, old, new, list(path), loc, token)
    assert editor.read(new, list(path)) == token
    assert json_loads(new) == json_assign(before, path, token)
    event("edited an existing key" if loc is not None else "created or filled a key")
    if loc is not None:
        check_span(old, new, loc)
        assert new == old[:loc.start] + json.dumps(token)[1:-1] + old[loc.end:]
    gone = editor.remove(new, list(path))
    expected = json_assign(before, path, token)
    node = expected
    for comp in path[:-1]:
        node = node[comp]
    del node[path[-1]]
    assert json_loads(gone) == expected


# ---------------------------------------------------------------------------
# yaml
# ---------------------------------------------------------------------------

YAML_KEYS = ["a", "b", "token", "tiflux", "url", "key_1"]


def _yaml_str(s):
    try:
        return yaml.safe_load("k: " + s) == {"k": s}
    except yaml.YAMLError:
        return False


yaml_plain = st.from_regex(r"\A[a-z][a-z0-9_./ -]{0,10}[a-z0-9]\Z").filter(
    lambda s: "  " not in s and " -" not in s and _yaml_str(s))
yaml_text = st.text(st.characters(min_codepoint=32, max_codepoint=0x2fff,
                                  blacklist_categories=("Cs", "Cc", "Zl", "Zp", "Cn")), max_size=10)


@st.composite
def yaml_value(draw, depth):
    kinds = ["plain", "sq", "dq", "int", "bool", "tilde", "empty", "seq", "flow", "block", "seqmap",
             "anchored", "alias", "mplain", "mdq"]
    if depth < 2:
        kinds += ["map", "map"]
    kind = draw(st.sampled_from(kinds))
    if kind == "plain":
        return kind, draw(yaml_plain)
    if kind in ("sq", "dq"):
        return kind, draw(yaml_text)
    if kind in ("anchored", "mplain", "mdq"):
        return kind, draw(yaml_plain)
    if kind == "int":
        return kind, str(draw(st.integers(-999, 999)))
    if kind == "bool":
        return kind, draw(st.sampled_from(["true", "false", "yes", "off"]))
    if kind == "seq":
        return kind, (draw(st.booleans()), draw(st.lists(yaml_plain, min_size=1, max_size=3)))
    if kind == "flow":
        return kind, draw(st.sampled_from(["[1, two]", "{a: 1, token: x}", "[]", "{}", "[a,\n    b]"]))
    if kind == "block":
        return kind, (draw(st.sampled_from(["|", ">", "|-", "|+"])),
                      draw(st.lists(st.sampled_from(["token: no", "# not a comment", "- item", "text", ""]),
                                    min_size=1, max_size=3)))
    if kind == "seqmap":
        return kind, draw(st.lists(st.tuples(st.sampled_from(YAML_KEYS), yaml_plain), min_size=1, max_size=2))
    if kind == "map":
        return kind, draw(yaml_entries(depth + 1, 1))
    return kind, None


@st.composite
def yaml_entries(draw, depth, min_size=0):
    return draw(st.lists(
        st.tuples(st.sampled_from(YAML_KEYS), st.sampled_from(["", "", "", "'", '"']), yaml_value(depth),
                  st.sampled_from(["", "", "", " # note", "   #x"]),
                  st.sampled_from(["", "", "", "blank", "comment", "comment0", "deep"])),
        min_size=min_size, max_size=4))


def render_yaml(entries, indent, unit, out):
    pad = " " * indent
    for key, quote, (kind, value), comment, before in entries:
        if before == "blank":
            out.append("")
        elif before == "comment":
            out.append(pad + "# a comment: with a colon")
        elif before == "comment0":
            out.append("#at column 0")
        elif before == "deep":
            out.append(pad + "      # deeper comment")
        head = pad + quote + key + quote + ":"
        if kind == "plain":
            out.append(head + " " + value + comment)
        elif kind == "alias-target":
            out.append(head + " &anc " + value + comment)
        elif kind == "sq":
            out.append(head + " '" + value.replace("'", "''") + "'" + comment)
        elif kind == "dq":
            out.append(head + " " + json.dumps(value) + comment)
        elif kind in ("int", "bool"):
            out.append(head + " " + value + comment)
        elif kind == "anchored":  # anchors must be unique for PyYAML
            out.append(head + " &anc%d " % len(out) + value + comment)
        elif kind == "alias":
            out.append(head + " *anc" + comment)
        elif kind == "mplain":
            out.append(head + " " + value)
            out.append(pad + " " * unit + "continued" + comment)
        elif kind == "mdq":
            out.append(head + ' "' + value)
            out.append(pad + " " * unit + 'next line"' + comment)
        elif kind == "tilde":
            out.append(head + " ~" + comment)
        elif kind == "empty":
            out.append(head + comment)
        elif kind == "flow":
            out.append(head + " " + value.replace("\n", "\n" + pad) + comment)
        elif kind == "block":
            style, lines = value
            out.append(head + " " + style + comment)
            out.extend((pad + " " * unit + ln) if ln else "" for ln in lines)
        elif kind == "seq":
            same, items = value
            out.append(head + comment)
            out.extend(pad + ("" if same else " " * unit) + "- " + item for item in items)
        elif kind == "seqmap":
            out.append(head + comment)
            for k, v in value:
                out.append(pad + "- " + k + ": " + v)
                out.append(pad + "  extra: " + v)
        elif kind == "map":
            out.append(head + comment)
            render_yaml(value, indent + unit, unit, out)


def _all_entries(entries):
    for entry in entries:
        yield entry
        if entry[2][0] == "map":
            yield from _all_entries(entry[2][1])


def yaml_paths(entries, path=()):
    for key, _q, (kind, value), _c, _b in entries:
        yield path + (key,)
        if kind == "map":
            yield from yaml_paths(value, path + (key,))


@st.composite
def yaml_documents(draw):
    entries = draw(yaml_entries(0))
    if any(kind == "alias" for _k, _q, (kind, _v), _c, _b in _all_entries(entries)):
        entries.insert(0, ("anchor", "", ("alias-target", "shared"), "", ""))
    unit = draw(st.sampled_from([2, 4]))
    lines = []
    if draw(st.booleans()):
        lines.append("# generated")
    if draw(st.booleans()):
        lines.append("---")
    render_yaml(entries, 0, unit, lines)
    if "---" in lines and draw(st.integers(0, 5)) == 0:
        lines.append("...")  # PyYAML reads a lone "..." (no "---") as an error
    text = finish(lines, draw)
    existing = list(yaml_paths(entries))
    scalars = [p for p in existing if yaml_expect(entries, p) == "set"]
    fresh = st.lists(st.sampled_from(YAML_KEYS + ["new"]), min_size=1, max_size=3).map(tuple)
    choice = draw(st.integers(0, 4))
    if scalars and choice < 2:
        target = draw(st.sampled_from(scalars))
    elif existing and choice < 3:
        target = draw(st.sampled_from(existing))
    else:
        target = draw(fresh)
    return text, entries, target


def yaml_expect(entries, path):
    """'set', 'refuse' or 'null' following the model, the last duplicate winning."""
    for depth, comp in enumerate(path):
        hits = [e for e in entries if e[0] == comp]
        if not hits:
            return "set"
        kind, value = hits[-1][2]
        if depth == len(path) - 1:
            return "set" if kind in ("plain", "sq", "dq", "tilde", "empty") else "refuse"
        if kind == "empty":
            return "set"
        if kind != "map":
            return "refuse"
        entries = value
    raise AssertionError("unreachable")


def yaml_assign(data, path, value):
    data = copy.deepcopy(data) or {}
    node = data
    for comp in path[:-1]:
        if node.get(comp) is None:
            node[comp] = {}
        node = node[comp]
    node[path[-1]] = value
    return data


yaml_tokens = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Zs", "Cn"),
                                    blacklist_characters="\ufeff\x85"), min_size=1, max_size=16) | \
    st.sampled_from(["123", "true", "no", "~", "null", "1e3", "0x1f", "2024-01-01", "-x", "a: b", "#x",
                     "a #b", "'q'", '"q"', "*a", "&a", "!t", "|", ">", "[x]", "{y}", "%p", "@q", "`r"])


@PROFILE
@given(yaml_documents(), yaml_tokens)
def test_yaml_set_property(doc, token):
    old, entries, path = doc
    editor = F.get_editor("yaml")
    before = yaml.safe_load(old) or {}
    outcome = yaml_expect(entries, path)
    if outcome == "refuse":
        try:
            editor.set(old, list(path), token)
        except F.UnsafeEdit:
            event("refused")
            return
        raise AssertionError("an unsafe yaml edit was not refused")
    node = before
    for comp in path[:-1]:
        node = node.get(comp) or {}
    loc = editor.find(old, list(path)) if isinstance(node.get(path[-1]), str) else None
    new = editor.set(old, list(path), token)
    check_find_all(editor, old, new, list(path), loc, token)
    assert editor.read(new, list(path)) == token
    after = yaml.safe_load(new)
    assert after == yaml_assign(before, path, token)
    event("edited an existing key" if loc is not None else "created or filled a key")
    if loc is not None:
        check_span(old, new, loc)
    try:
        gone = editor.remove(new, list(path))
    except F.UnsafeEdit as exc:
        # the removed line separated a block scalar from more-indented lines after it
        assert "block scalar above" in str(exc)
        return
    expected = yaml_assign(before, path, token)
    node = expected
    for comp in path[:-1]:
        node = node[comp]
    del node[path[-1]]
    got = yaml.safe_load(gone) or {}
    # a mapping emptied by remove() reads as null: that is the only allowed difference
    assert _drop_empty(got) == _drop_empty(expected)


def _drop_empty(data):
    if isinstance(data, dict):
        return {k: _drop_empty(v) for k, v in data.items() if v not in ({}, None)}
    return data


# ---------------------------------------------------------------------------
# raw
# ---------------------------------------------------------------------------

raw_tokens = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Zs"),
                                   blacklist_characters="\ufeff\x85"), min_size=1, max_size=24)
raw_space = st.text(alphabet=" \t\r\n", max_size=4)


@PROFILE
@given(raw_space, raw_tokens, raw_space, raw_tokens, st.booleans())
def test_raw_set_property(lead, old_token, trail, token, bom):
    old = ("\ufeff" if bom else "") + lead + old_token + trail
    editor = F.get_editor("raw")
    loc = editor.find(old, None)
    assert loc.value == old_token
    new = editor.set(old, None, token)
    assert editor.read(new, None) == token
    assert new.strip("\ufeff \t\r\n") == token
    check_span(old, new, loc)
    assert new == old[:loc.start] + token + old[loc.end:]
    assert editor.remove(new, None) == ""


# ---------------------------------------------------------------------------
# any encoding: env, ini and raw keep every byte of a file but the token's
# ---------------------------------------------------------------------------

opaque = st.binary(max_size=12).map(lambda b: b.replace(b"\x00", b"").replace(b"\n", b"").replace(b"\r", b""))
file_bytes = st.binary(max_size=40).filter(lambda b: b"\x00" not in b and not b.startswith((b"\xff\xfe", b"\xfe\xff")))


@PROFILE
@given(file_bytes, st.sampled_from(["env", "ini", "raw"]))
def test_decode_and_encode_give_back_any_bytes(data, fmt):
    assert F.encode(F.decode(data, fmt)) == data


@PROFILE
@given(st.lists(opaque, max_size=4), st.lists(opaque, max_size=4), env_tokens, env_tokens, st.sampled_from(["env", "ini"]))
def test_only_the_token_bytes_change_whatever_the_other_bytes_are(before, after, old, token, fmt):
    key, line = ("TIFLUX_TOKEN", b"TIFLUX_TOKEN=%s") if fmt == "env" else ("s.token", b"[s]\ntoken = %s")
    data = b"\n".join([b"# " + chunk for chunk in before] + [line % old.encode()] + [b"# " + chunk for chunk in after]) + b"\n"
    editor = F.get_editor(fmt)
    text = F.decode(data, fmt)
    loc = editor.find(text, key)
    assert loc.value == old
    new = F.encode(editor.set(text, key, token))
    start = len(F.encode(text[:loc.start]))
    assert new == data[:start] + token.encode() + data[start + len(old):]


# ---------------------------------------------------------------------------
# any text: only ConfigError, never a crash, never the file's content in a message
# ---------------------------------------------------------------------------

MARK = "Zq7Secret"
FUZZ_KEYS = {"env": "TIFLUX_TOKEN", "ini": "s.token", "json": "a.token", "yaml": "a.token", "raw": None}
fuzz_pieces = st.sampled_from([
    MARK, "TIFLUX_TOKEN", "token", "a", "s", "=", ":", ": ", "- ", "#", ";", "[", "]", "{", "}", ",", '"', "'",
    "\\", "|", ">", "&x", "*x", "!t", "?", "---", "...", "export ", "%", " ", "  ", "\t", "\n", "\n", "\n",
    "\r\n", "\r", "\n  ", "\n    ", "\n- ",
    "\ufeff", "null", "~", "1", "true", '"token": ', "[s]", "a:\n  token: ",
])
fuzz_texts = st.lists(fuzz_pieces, max_size=25).map("".join)


@PROFILE
@given(st.sampled_from(F.FORMATS), fuzz_texts)
def test_any_text_gives_a_result_or_a_config_error(fmt, text):
    editor = F.get_editor(fmt)
    key = FUZZ_KEYS[fmt]
    token = "tok-" + "9" * 8
    for call in (lambda: editor.find(text, key), lambda: editor.set(text, key, token),
                 lambda: editor.remove(text, key)):
        try:
            result = call()
        except F.ConfigError as exc:
            event("%s: %s" % (fmt, type(exc).__name__))
            message = str(exc)
            assert MARK not in message and "\n" not in message and "\r" not in message
            continue
        if isinstance(result, str) and result != text and call is not None:
            if result.count(token) == 1:
                assert editor.read(result, key) == token
    # What a diff hides: a list or a ConfigError on any text, and its last value is what find() edits.
    try:
        found = editor.find_all(text, key)
    except F.ConfigError:
        return
    assert all(0 <= a.start <= a.end <= len(text) for a in found)
    assert all(a.end <= b.start for a, b in zip(found, found[1:])), "spans in file order, not overlapping"
    try:
        last = editor.find(text, key)
    except (F.KeyNotFound, F.UnsafeEdit):
        return
    event("%s: find_all agrees with find (%d value(s))" % (fmt, min(len(found), 2)))
    assert (found[-1].start, found[-1].end, found[-1].value) == (last.start, last.end, last.value)


yaml_pieces = st.sampled_from([
    "a", "token", "b", ": ", ":", "\n", "\n", "\n", "\n  ", "\n    ", "  ", " ", "- ", "'", '"', "x y", "#c",
    " #c", "|", ">-", "[", "]", "{", "}", ", ", "&a ", "*a", "!t ", "? ", "---", "...", "~", "1", "yes",
    "\\", "\t", "a: ", "token: ", "\n  token: ", "\n- a: ", "''", '""', "\\n",
])


@PROFILE
@given(st.lists(yaml_pieces, max_size=30).map("".join), st.sampled_from([("token",), ("a", "token"), ("a", "b")]))
def test_yaml_agrees_with_pyyaml_on_any_text(text, path):
    """Differential test: whatever this module reads or writes, PyYAML reads the same."""
    editor = F.get_editor("yaml")
    token = "tok-7"
    try:
        before = yaml.safe_load(text)
    except yaml.YAMLError:
        before = Ellipsis
    try:
        value = editor.read(text, list(path))
    except F.ConfigError:
        value = None
    if value is not None and before is not Ellipsis:
        node = before
        for comp in path:
            node = node[comp]
        assert node == value
    try:
        new = editor.set(text, list(path), token)
    except F.ConfigError:
        return
    assert editor.read(new, list(path)) == token
    if before is Ellipsis or not isinstance(before, (dict, type(None))):
        return
    event("set checked against PyYAML")
    assert yaml.safe_load(new) == yaml_assign(before, path, token)
