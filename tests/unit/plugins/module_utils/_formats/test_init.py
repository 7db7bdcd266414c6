# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What every editor shares (module_utils/_formats/__init__.py): the interface, keys, decoding, and the rules
every editor keeps (only the token's bytes change, no value from the file in any message, find_all)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ansible_collections.tokenops.tiflux.plugins.module_utils import _formats as F
from ansible_collections.tokenops.tiflux.plugins.module_utils._formats import _env, _ini, _json, _raw, _yaml
from ansible_collections.tokenops.tiflux.tests.unit.plugins.module_utils._formats.helpers import OLD, TOKEN, env, expect, ini, jsn, raw, yml


def test_public_surface():
    assert F.FORMATS == ("env", "ini", "json", "yaml", "raw")
    for name, cls in (("env", _env.EnvEditor), ("ini", _ini.IniEditor), ("json", _json.JsonEditor),
                      ("yaml", _yaml.YamlEditor), ("raw", _raw.RawEditor)):
        editor = F.get_editor(name)
        assert editor.__class__ is cls and isinstance(editor, F.Editor) and editor.name == name
    for cls in (F.MalformedConfig, F.KeyNotFound, F.UnsafeEdit):
        assert issubclass(cls, F.ConfigError) and issubclass(cls, Exception)


@pytest.mark.parametrize("fmt", ["env", "ini", "json", "yaml", "raw"])
def test_get_editor_imports_only_the_format_asked(fmt):
    # A module run compiles every module it imports from the AnsiballZ zip: one format, one editor module.
    code = ("import sys\n"
            "from ansible_collections.tokenops.tiflux.plugins.module_utils._formats import get_editor\n"
            "get_editor(%r)\n"
            "prefix = 'ansible_collections.tokenops.tiflux.plugins.module_utils._formats._'\n"
            "print(sorted(m[len(prefix):] for m in sys.modules if m.startswith(prefix)))\n" % fmt)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "[%r]" % fmt


def test_get_editor_unknown_format():
    expect(F.ConfigError, "unknown config format; use one of: env, ini, json, yaml, raw",
           F.get_editor, "toml")
    expect(F.ConfigError, "unknown config format; use one of: env, ini, json, yaml, raw",
           F.parse_key, None, "a")


def test_located_repr_hides_the_value():
    loc = env.find("TIFLUX_TOKEN=%s\n" % OLD, ("TIFLUX_TOKEN",))
    assert (loc.value, loc.start, loc.end, loc.line) == (OLD, 13, 13 + len(OLD), 1)
    assert OLD not in repr(loc) and "redacted" in repr(loc)


@pytest.mark.parametrize("fmt, key, parts", [
    ("env", "TIFLUX_TOKEN", ("TIFLUX_TOKEN",)),
    ("env", ["_x1"], ("_x1",)),
    ("ini", "tiflux.api_token", ("tiflux", "api_token")),
    ("ini", "my.section.token", ("my.section", "token")),
    ("ini", "token", ("token",)),
    ("ini", ["a.b", "Token"], ("a.b", "Token")),
    ("ini", ("token",), ("token",)),
    ("json", "a.b.c", ("a", "b", "c")),
    ("json", ["a.b", "c"], ("a.b", "c")),
    ("json", ["", "x"], ("", "x")),
    ("yaml", "tiflux.auth.token", ("tiflux", "auth", "token")),
    ("yaml", ["tiflux.io", "token"], ("tiflux.io", "token")),
    ("raw", None, ()),
    ("raw", "", ()),
    ("raw", [], ()),
])
def test_parse_key(fmt, key, parts):
    assert F.parse_key(fmt, key) == parts
    assert F.parse_key(fmt, parts) == parts  # idempotent on its own result


@pytest.mark.parametrize("fmt, key, message", [
    ("raw", "token", "format raw takes no key (the whole file is the token); remove the key"),
    ("env", None, "format env needs a key naming the setting that holds the token"),
    ("yaml", [], "format yaml needs a key naming the setting that holds the token"),
    ("env", "1ABC", "key 1ABC is not a valid environment variable name; use letters, digits and '_', "
                    "not starting with a digit"),
    ("env", "A-B", "key A-B is not a valid environment variable name; use letters, digits and '_', "
                   "not starting with a digit"),
    ("env", ["A", "B"], "format env takes a single variable name, not a path"),
    ("ini", ["a", "b", "c"], "format ini takes 'section.option', 'option' or [section, option]"),
    ("ini", "sect.", "key sect.: the ini option name is empty or has surrounding whitespace"),
    ("ini", ".opt", "key .opt: the ini section name is empty"),
    ("ini", ["s", "a=b"], "key s.a=b: an ini option name cannot contain '=' or ':' nor start with '[', "
                          "'#' or ';'"),
    ("json", "a..b", "key a..b has an empty part; give the key as a list when names contain dots"),
    ("yaml", ["a", ""], "key a. has an empty part; YAML keys must not be empty"),
    ("json", ["a", 1], "the key must be a string or a list of strings"),
    ("json", 42, "the key must be a string or a list of strings"),
    ("yaml", "a\nb", "the key contains control or line-break characters; use a plain key name"),
])
def test_parse_key_errors(fmt, key, message):
    expect(F.ConfigError, message, F.parse_key, fmt, key)


def test_decode():
    assert F.decode(b"A=1\r\n") == "A=1\r\n"
    assert F.decode("\ufeffA=\u00e9\n".encode("utf-8")) == "\ufeffA=\u00e9\n"  # BOM kept
    assert F.decode(bytearray(b"x")) == "x"
    expect(F.MalformedConfig,
           "the file contains binary data (a NUL byte); point the module at a text config file",
           F.decode, b"A=1\x00\n")
    expect(F.MalformedConfig,
           "the file is UTF-16 encoded (it starts with a UTF-16 byte order mark); convert it to UTF-8",
           F.decode, "A=1\n".encode("utf-16"))
    err = expect(F.MalformedConfig,
                 "the file is not valid UTF-8 (first bad byte at offset 13); convert it to UTF-8",
                 F.decode, b"TIFLUX_TOKEN=\xffsecret\n")
    assert err.__context__ is None and err.__cause__ is None
    with pytest.raises(TypeError):
        F.decode("text")


def test_bom_round_trips_through_every_line_format():
    assert env.set("\ufeffA=1\n", "B", TOKEN) == "\ufeffA=1\nB=%s\n" % TOKEN
    assert env.read("\ufeffB=x\n", "B") == "x"
    assert ini.set("\ufeff[s]\na = 1\n", "s.b", TOKEN) == "\ufeff[s]\na = 1\nb = %s\n" % TOKEN
    assert jsn.set('\ufeff{"a": "x"}', "a", TOKEN) == '\ufeff{"a": "%s"}' % TOKEN
    assert yml.set("\ufeffa: x\n", "a", TOKEN) == "\ufeffa: %s\n" % TOKEN
    assert raw.set("\ufeffold\n", None, TOKEN) == "\ufeff%s\n" % TOKEN
    assert yml.set("\ufeff", "a", TOKEN) == "\ufeffa: %s\n" % TOKEN
    assert jsn.set("\ufeff", "a", TOKEN) == '\ufeff{\n  "a": "%s"\n}\n' % TOKEN


SECRET_CASES = [
    ("env", "A=%s\nnot an assignment %s\n" % (OLD, OLD), "A"),
    ("env", "A=\"%s\n" % OLD, "A"),
    ("env", "A=\"%s\nmore\"\n" % OLD, "A"),
    ("env", "A= #%s\n" % OLD, "A"),
    ("env", "'%s'=1\n" % OLD, "A"),
    ("env", "A=1\r%s\n" % OLD, "A"),
    ("ini", "[s]\n%s\n" % OLD, "s.a"),
    ("ini", "[%s\n" % OLD, "s.a"),
    ("ini", "[s]\na = %s\n  %s\n" % (OLD, OLD), "s.a"),
    ("json", '{"a": "%s"' % OLD, "a"),
    ("json", '{"a": %s}' % OLD, "a"),
    ("json", '{"a": ["%s"]}' % OLD, "a"),
    ("json", '{"a": "%s"}' % OLD, "a.b"),
    ("json", '["%s"]' % OLD, "a"),
    ("yaml", "a: &%s x\n" % OLD, "a"),
    ("yaml", "a: %s: x\n" % OLD, "a"),
    ("yaml", "a: '%s\n" % OLD, "a"),
    ("yaml", "a: \"\\q%s\"\n" % OLD, "a"),
    ("yaml", "a:\n  - %s\n" % OLD, "a.b"),
    ("yaml", "a: %s\n  %s\n" % (OLD, OLD), "a"),
    ("yaml", "a: |\n  %s\n" % OLD, "a"),
    ("yaml", "%s\n" % OLD, "a"),
    ("yaml", "a: [%s\n" % OLD, "a"),
    ("yaml", "a:\n\t%s: x\n" % OLD, "a"),
    ("raw", "%s %s" % (OLD, OLD), None),
]


@pytest.mark.parametrize("fmt, text, key", SECRET_CASES)
def test_no_message_contains_the_old_value_or_the_token(fmt, text, key):
    editor = F.get_editor(fmt)
    calls = [lambda: editor.find(text, key), lambda: editor.set(text, key, TOKEN),
             lambda: editor.remove(text, key)]
    raised = 0
    for call in calls:
        try:
            call()
        except F.ConfigError as exc:
            raised += 1
            for shown in (str(exc), repr(exc)):
                assert OLD not in shown and TOKEN not in shown
                assert OLD[5:] not in shown and TOKEN[5:] not in shown
            assert "\n" not in str(exc)
            assert exc.__context__ is None or not isinstance(exc.__context__, ValueError)
    assert raised >= 1


@pytest.mark.parametrize("fmt", F.FORMATS)
def test_check_value_messages_do_not_contain_the_token(fmt):
    editor = F.get_editor(fmt)
    for bad in (TOKEN + " x", TOKEN + "\n", TOKEN + "%", TOKEN + "$#'\"\\`", "~" + TOKEN, "\u00e9" + TOKEN):
        try:
            editor.check_value(bad)
        except F.UnsafeEdit as exc:
            assert TOKEN not in str(exc) and TOKEN[5:] not in str(exc)


@pytest.mark.parametrize("fmt, key, text, raws", [
    ("env", "T", "T=a1\nexport T='b2'\nU=c3\nT=\"d\\\"4\"\n", ["a1", "b2", 'd\\"4']),
    ("env", "T", "T\nU=1\n", []),
    ("ini", "s.t", "[s]\nt = a1\n[u]\nt = x\n[s]\nt: b2\n  more\n", ["a1", "b2\n  more"]),
    ("json", "a.t", '{"a": {"t": "a1"}, "a": {"t": 5, "u": {"t": "x"}}, "a": {"t": "b\\u0032"}}', ["a1", "b\\u0032"]),
    ("json", "a.t", "", []),
    ("yaml", "a.t", "a:\n  t: a1\n  t: ~\nb:\n  t: x\na:\n  t: |\n    b2\n  u: 1\n  t: 'c3'\n", ["a1", "|\n    b2", "c3"]),
    ("raw", None, "  tok  \n", ["tok"]),
    ("raw", None, "\n", []),
])
def test_find_all_lists_every_value_at_the_key_in_file_order(fmt, key, text, raws):
    # What a diff hides: shadowed duplicates included, the last one being what find() returns.
    editor = F.get_editor(fmt)
    found = editor.find_all(text, key)
    assert [text[located.start:located.end] for located in found] == raws
    try:
        last = editor.find(text, key)
    except (F.KeyNotFound, F.UnsafeEdit):  # nothing there, or a value find() refuses to edit (still hidden)
        return
    assert (found[-1].start, found[-1].end, found[-1].value) == (last.start, last.end, last.value)


@pytest.mark.parametrize("fmt, text, raws", [
    # a flow mapping, a sequence or an inline merge on the way may hold the key: hidden whole
    ("yaml", "a: {t: D1, x: 1}\na:\n  t: D2\n", ["{t: D1, x: 1}", "D2"]),
    ("yaml", "a:\n  <<: {t: D1}\n  t: D2\n", ["{t: D1}", "D2"]),
    ("yaml", "a:\n  - t: D1\na:\n  t: D2\n", ["- t: D1", "D2"]),
    # a multi-line plain scalar, one on its own line, a sequence: to the end of their extent
    ("yaml", "a:\n  t: D1\n    D1b\n  t: D2\n", ["D1\n    D1b", "D2"]),
    ("yaml", "a:\n  t:\n    D1\n  t: D2\n", ["D1", "D2"]),
    ("yaml", "a:\n  t:\n    - D1\n  t: D2\n", ["- D1", "D2"]),
    ("yaml", "a:\n  t: \"D1\n    D1b\"  # c\n  t: D2\n", ['"D1\n    D1b"  # c', "D2"]),
    ("json", '{"a": {"t": ["D1"], "t": {"v": "D3"}, "t": "D2"}}', ['["D1"]', '{"v": "D3"}', "D2"]),
    ("json", '{"a": ["D1"], "a": {"t": "D2"}}', ['["D1"]', "D2"]),
])
def test_find_all_hides_containers_that_may_hold_the_key(fmt, text, raws):
    found = F.get_editor(fmt).find_all(text, "a.t")
    assert [text[located.start:located.end] for located in found] == raws


# ---------------------------------------------------------------------------
# any file encoding for env, ini and raw; UTF-8 for json and yaml
# ---------------------------------------------------------------------------

ANY_ENCODING = [
    # Tiflux's own client ships a Latin-1 .env.example
    ("env", "TIFLUX_API_KEY", "latin-1", "# Configuração do cliente\n# TIFLUX_API_KEY é obrigatório\nTIFLUX_API_KEY=%s\n"),
    ("env", "TIFLUX_API_KEY", "cp1252", "# \u201cPreço\u201d: 10 €\r\nTIFLUX_API_KEY = '%s'\r\nDESCRIÇÃO=ação\r\n"),
    ("ini", "tiflux.token", "latin-1", "[tiflux]\n; obrigatório\nusuário = joão\ntoken = %s\n"),
    ("ini", "token", "cp1252", "; \u201cquoted\u201d \u2014 dash\ntoken: %s\n[outra seção]\nx = €\n"),
    ("raw", None, "latin-1", "  %s\n"),
]


@pytest.mark.parametrize("fmt, key, encoding, template", ANY_ENCODING)
def test_files_in_any_encoding_change_only_the_token_bytes(fmt, key, encoding, template):
    data = (template % OLD).encode(encoding)
    if fmt != "raw":
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
    editor = F.get_editor(fmt)
    text = F.decode(data, fmt)
    assert editor.read(text, key) == OLD
    assert F.encode(text) == data
    assert F.encode(editor.set(text, key, TOKEN)) == data.replace(OLD.encode(), TOKEN.encode())
    if fmt != "raw":
        assert F.encode(editor.remove(text, key)).count(OLD.encode()) == 0


def test_bytes_of_no_encoding_and_a_bom_stay_as_they_are():
    data = b"\xef\xbb\xbf# \xff\xfe\x80\x81\xc3 n\xe3o \xed\xa0\x80 UTF-8\nA=\x9d\x8f\nTIFLUX_TOKEN=" + OLD.encode() + b"\n"
    text = F.decode(data, "env")
    assert text.startswith("\ufeff# ") and env.read(text, "A") == "\udc9d\udc8f"
    assert F.encode(env.set(text, "TIFLUX_TOKEN", TOKEN)) == data.replace(OLD.encode(), TOKEN.encode())
    assert F.encode(env.set(text, "NEW_TOKEN", TOKEN)) == data + b"NEW_TOKEN=" + TOKEN.encode() + b"\n"


@pytest.mark.parametrize("fmt", ["json", "yaml", None])
def test_json_and_yaml_files_must_be_utf8(fmt):
    expect(F.MalformedConfig, "the file is not valid UTF-8 (first bad byte at offset 16); convert it to UTF-8",
           F.decode, '{"a": "Configuração"}'.encode("latin-1"), fmt)


def test_nothing_but_ascii_is_written_into_a_file_that_is_not_utf8():
    text = F.decode("[tiflux]\n; obrigatório\ntoken = x\n".encode("latin-1"), "ini")
    message = ("the file is not UTF-8 (Latin-1 or another encoding), and the token or key to write is not ASCII; "
               "write ASCII only, or convert the file to UTF-8")
    expect(F.UnsafeEdit, message, ini.set, text, "tiflux.token", "t\u00f6ken")
    expect(F.UnsafeEdit, message, ini.set, text, ["configuração", "token"], TOKEN)
    expect(F.UnsafeEdit, message, raw.set, F.decode(b"old\xe9\n", "raw"), None, "t\u00f6ken")
    assert ini.set("[tiflux]\n; obrigatório\ntoken = x\n", "tiflux.token", "t\u00f6ken")  # a UTF-8 file takes it


def test_printable_shows_each_byte_of_a_file_that_is_not_utf8_as_latin1():
    data = "# Configuração\nA=é\n".encode("latin-1")
    assert F.printable(F.decode(data, "env")) == "# Configuração\nA=é\n"
    assert F.printable("# Configuração ✓\n") == "# Configuração ✓\n"  # a UTF-8 file's text is shown as it is
    F.printable(F.decode(b"\x80\xff", "raw")).encode("utf-8")  # no lone surrogate left: JSON and AWX take it
