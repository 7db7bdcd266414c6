# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Example-based tests of the config format editors (module_utils/_formats/)."""

from __future__ import annotations

import configparser
import io
import json
import os
import subprocess
import sys

import pytest
import yaml

from ansible_collections.tokenops.tiflux.plugins.module_utils import _formats as F
from ansible_collections.tokenops.tiflux.plugins.module_utils._formats import _env, _ini, _json, _raw, _yaml

try:
    import dotenv
except ImportError:  # pragma: no cover - python-dotenv is an optional second oracle
    dotenv = None

TOKEN = "tfx2-NEW-9f8e7d6c5b4a"
OLD = "tfx2-OLD-0a1b2c3d4e5f"

env = F.get_editor("env")
ini = F.get_editor("ini")
jsn = F.get_editor("json")
yml = F.get_editor("yaml")
raw = F.get_editor("raw")


def check_edit(editor, old, path, new_value=TOKEN):
    """set(), then: find() gives the value, and only the value's bytes changed."""
    loc = editor.find(old, path)
    new = editor.set(old, path, new_value)
    assert editor.read(new, path) == new_value
    assert new[:loc.start] == old[:loc.start]
    assert new.endswith(old[loc.end:])
    return new


def expect(exc_type, message, func, *args):
    with pytest.raises(exc_type) as info:
        func(*args)
    assert info.value.__class__ is exc_type
    assert str(info.value) == message
    assert "\n" not in str(info.value) and "\r" not in str(info.value)
    return info.value


# ---------------------------------------------------------------------------
# public surface
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# env
# ---------------------------------------------------------------------------

ENV_FILE = (
    "# Tiflux integration settings\n"
    "\n"
    "export TIFLUX_URL=https://api.tiflux.com/api/v2   # endpoint\n"
    "TIFLUX_TOKEN = 'first-token'\n"
    'OTHER="a \\"quoted\\" value"   # neighbour\n'
    "TIFLUX_TOKEN=%s # rotated by ansible\n"
    'MOTD="multi\n'
    'line"\n'
    "EMPTY=\n"
    "  INDENTED = spaced value\n"
) % OLD


def test_env_find_uses_the_last_duplicate():
    loc = env.find(ENV_FILE, ("TIFLUX_TOKEN",))
    assert (loc.value, loc.line) == (OLD, 6)
    assert ENV_FILE[loc.start:loc.end] == OLD
    assert env.read(ENV_FILE, "OTHER") == 'a "quoted" value'
    assert env.read(ENV_FILE, "TIFLUX_URL") == "https://api.tiflux.com/api/v2"
    assert env.read(ENV_FILE, "EMPTY") == ""
    assert env.read(ENV_FILE, "INDENTED") == "spaced value"


def test_env_set_edits_only_the_last_duplicate():
    new = check_edit(env, ENV_FILE, ("TIFLUX_TOKEN",))
    assert new == ENV_FILE.replace(OLD, TOKEN)
    assert "TIFLUX_TOKEN = 'first-token'" in new


@pytest.mark.parametrize("line, expected", [
    ("K='%s'" % OLD, "K='%s'" % TOKEN),
    ('K="%s"  # c' % OLD, 'K="%s"  # c' % TOKEN),
    ("export K = %s" % OLD, "export K = %s" % TOKEN),
    ("K=", "K=%s" % TOKEN),
    ("K=%s\t" % OLD, "K=%s\t" % TOKEN),
])
def test_env_set_keeps_the_quoting_of_the_line(line, expected):
    assert env.set("A=1\n%s\nB=2\n" % line, "K", TOKEN) == "A=1\n%s\nB=2\n" % expected


def test_env_new_key():
    assert env.set("A=1\n", "K", TOKEN) == "A=1\nK=%s\n" % TOKEN
    assert env.set("A=1", "K", TOKEN) == "A=1\nK=%s" % TOKEN
    assert env.set("A=1\r\nB=2\r\n", "K", TOKEN) == "A=1\r\nB=2\r\nK=%s\r\n" % TOKEN
    assert env.set("A=1\r\nB=2", "K", TOKEN) == "A=1\r\nB=2\r\nK=%s" % TOKEN
    assert env.set("", "K", TOKEN) == "K=%s\n" % TOKEN
    # a file that exports everything (sourced by a shell) gets an exported line
    assert env.set("export A=1\nexport B=2\n", "K", TOKEN) == "export A=1\nexport B=2\nexport K=%s\n" % TOKEN
    # a bare declaration does not assign: a new assignment is appended after it
    assert env.set("K\n", "K", TOKEN) == "K\nK=%s\n" % TOKEN


def test_env_crlf_edit():
    old = "# c\r\nK=%s\r\nL='x'\r\n" % OLD
    assert check_edit(env, old, "K") == old.replace(OLD, TOKEN)


def test_env_remove_deletes_every_occurrence():
    new = env.remove(ENV_FILE, "TIFLUX_TOKEN")
    assert "TIFLUX_TOKEN" not in new
    assert new == ENV_FILE.replace("TIFLUX_TOKEN = 'first-token'\n", "").replace(
        "TIFLUX_TOKEN=%s # rotated by ansible\n" % OLD, "")
    assert env.remove(ENV_FILE, "ABSENT") == ENV_FILE
    assert env.remove("A=1\nK=x\nexport K\n", "K") == "A=1\n"
    assert env.remove("A=1\r\nK=x", "K") == "A=1"  # still no trailing newline
    assert env.remove("K=x", "K") == ""
    assert env.remove('K="multi\nline"\nA=1\n', "K") == "A=1\n"


def test_env_errors():
    expect(F.KeyNotFound, "variable ABSENT is not set in the file", env.find, ENV_FILE, "ABSENT")
    expect(F.KeyNotFound, "variable K is only declared without a value (no '='); no token is set",
           env.find, "export K\n", "K")
    expect(F.UnsafeEdit, "variable MOTD on line 7 has a multi-line quoted value; edit it by hand",
           env.set, ENV_FILE, "MOTD", TOKEN)
    expect(F.UnsafeEdit, "the value of K on line 2 starts with '#' after a space, which some readers "
                         "take as a comment; edit that line by hand", env.find, "A=1\nK= #%s\n" % OLD, "K")
    assert env.read("K=#%s\n" % OLD, "K") == "#" + OLD  # no space: every reader keeps the '#'
    expect(F.MalformedConfig, "line 3 is not a KEY=value assignment, a comment or a blank line; fix or "
                              "remove it", env.find, "A=1\n\nthis is not=an assignment\n", "A")
    expect(F.MalformedConfig, "line 2: a quoted value is not closed; add the closing quote",
           env.find, "A=1\nK=\"%s\n" % OLD, "A")
    expect(F.MalformedConfig, "line 1 is not a KEY=value assignment, a comment or a blank line; fix or "
                              "remove it", env.find, "K='%s' trailing\n" % OLD, "K")
    expect(F.MalformedConfig, "line 1: quoted variable names are not supported; write the name unquoted",
           env.find, "'K'=1\n", "K")
    expect(F.MalformedConfig, "line 1 contains a bare carriage return (old Mac line ending); convert the "
                              "file to LF or CRLF line endings", env.find, "A=1\rK=2\r", "K")


@pytest.mark.parametrize("token, cls", [
    ("has space", "whitespace"),
    ("a#b", "a '#' (comment marker)"),
    ("a'b", "quote characters"),
    ('a"b', "quote characters"),
    ("a`b", "quote characters"),
    ("a$b", "a '$' (variable expansion)"),
    ("a\\b", "a backslash (escape character)"),
    ("caf\u00e9", "non-ASCII characters"),
    ("a;b", "shell metacharacters"),
    ("a*b", "shell metacharacters"),
])
def test_env_check_value(token, cls):
    expect(F.UnsafeEdit, "the token contains %s, which need quoting in env format, and env tokens are "
                         "written unquoted; it cannot be written safely" % cls, env.check_value, token)
    with pytest.raises(F.UnsafeEdit):
        env.set("A=1\n", "A", token)


def test_env_check_value_accepts_and_refuses():
    env.check_value("AZaz09-._~+/=:@,")
    for token in ("~abc", "a:~b"):
        expect(F.UnsafeEdit, "the token has a '~' at its start or after ':', which shells expand to a "
                             "home directory in assignments; it cannot be written safely in env format",
               env.check_value, token)
    expect(F.UnsafeEdit, "the token is empty; nothing to write", env.check_value, "")
    expect(F.UnsafeEdit, "the token contains control or line-break characters and cannot be written "
                         "safely in env format; normalise the token first", env.check_value, "a\nb")


@pytest.mark.skipif(dotenv is None, reason="python-dotenv not installed")
def test_env_agrees_with_python_dotenv():
    values = dotenv.dotenv_values(stream=io.StringIO(ENV_FILE), interpolate=False)
    for key, value in values.items():
        if key != "MOTD":  # multi-line values are refused, not misread
            assert env.read(ENV_FILE, key) == value
    new = env.set(ENV_FILE, "TIFLUX_TOKEN", TOKEN)
    after = dotenv.dotenv_values(stream=io.StringIO(new), interpolate=False)
    assert after == dict(values, TIFLUX_TOKEN=TOKEN)


# ---------------------------------------------------------------------------
# ini
# ---------------------------------------------------------------------------

INI_FILE = (
    "# Tiflux sync configuration\n"
    "[DEFAULT]\n"
    "timeout = 30\n"
    "\n"
    "[tiflux]\n"
    "url: https://api.tiflux.com/api/v2\n"
    "API_Token: first-token\n"
    "; the token below wins (last duplicate)\n"
    "api_token:   %s   \n"
    "description: first line\n"
    "  second line ; kept\n"
    "\n"
    "[other]\n"
    "token=zzz ; inline comments are part of the value\n"
) % OLD


def ini_data(text):
    parser = configparser.RawConfigParser(strict=False)
    parser.read_string(text.lstrip("\ufeff"))
    return {s: dict(parser.items(s)) for s in parser.sections()}


def test_ini_find_like_configparser():
    loc = ini.find(INI_FILE, ("tiflux", "api_token"))
    assert (loc.value, loc.line) == (OLD, 9)
    assert INI_FILE[loc.start:loc.end] == OLD
    assert ini.read(INI_FILE, "tiflux.API_TOKEN") == OLD  # option names are case-insensitive
    assert ini.read(INI_FILE, "other.token") == "zzz ; inline comments are part of the value"
    assert ini.read(INI_FILE, "DEFAULT.timeout") == "30"
    data = ini_data(INI_FILE)
    assert data["tiflux"]["api_token"] == OLD


def test_ini_set_existing():
    new = check_edit(ini, INI_FILE, "tiflux.api_token")
    assert new == INI_FILE.replace(OLD, TOKEN)
    expected = ini_data(INI_FILE)
    expected["tiflux"]["api_token"] = TOKEN
    assert ini_data(new) == expected


def test_ini_insert_missing_option_after_the_last_option_with_its_delimiter():
    new = ini.set(INI_FILE, "tiflux.token2", TOKEN)
    assert new == INI_FILE.replace("  second line ; kept\n", "  second line ; kept\ntoken2: %s\n" % TOKEN)
    assert ini.set("[a]\nx=1\n[b]\ny = 2\n", "a.t", TOKEN) == "[a]\nx=1\nt=%s\n[b]\ny = 2\n" % TOKEN
    assert ini.set("[a]\n  x = 1\n", "a.t", TOKEN) == "[a]\n  x = 1\n  t = %s\n" % TOKEN
    # an empty section gets the option right after its header
    assert ini.set("[a]\n# nothing yet\n\n[b]\ny: 2\n", "a.t", TOKEN) == \
        "[a]\nt: %s\n# nothing yet\n\n[b]\ny: 2\n" % TOKEN
    # duplicate sections: configparser merges them; the option goes to the last one
    assert ini.set("[a]\nx=1\n[a]\ny=2\n", "a.t", TOKEN) == "[a]\nx=1\n[a]\ny=2\nt=%s\n" % TOKEN


def test_ini_missing_section_is_appended():
    assert ini.set("[a]\nx = 1\n", "b.token", TOKEN) == "[a]\nx = 1\n\n[b]\ntoken = %s\n" % TOKEN
    assert ini.set("[a]\nx = 1\n\n", "b.token", TOKEN) == "[a]\nx = 1\n\n[b]\ntoken = %s\n" % TOKEN
    assert ini.set("[a]\r\nx: 1", "b.token", TOKEN) == "[a]\r\nx: 1\r\n\r\n[b]\r\ntoken: %s" % TOKEN
    assert ini.set("", "tiflux.token", TOKEN) == "[tiflux]\ntoken = %s\n" % TOKEN
    new = ini.set(INI_FILE, "new.section.token", TOKEN)
    assert new == INI_FILE + "\n[new.section]\ntoken=%s\n" % TOKEN
    assert ini_data(new)["new.section"] == {"timeout": "30", "token": TOKEN}


def test_ini_options_before_the_first_header():
    text = "# top\ntoken = %s\n[s]\na = 1\n" % OLD
    assert ini.read(text, "token") == OLD
    assert check_edit(ini, text, "token") == text.replace(OLD, TOKEN)
    assert ini.set("[s]\na = 1\n", "token", TOKEN) == "token = %s\n[s]\na = 1\n" % TOKEN
    assert ini.set("", "token", TOKEN) == "token = %s\n" % TOKEN
    expect(F.KeyNotFound, "option token before the first section header not found",
           ini.find, "[s]\ntoken = x\n", "token")


def test_ini_empty_value_and_crlf():
    assert ini.set("[s]\r\ntoken =\r\n", "s.token", TOKEN) == "[s]\r\ntoken =%s\r\n" % TOKEN
    assert ini.set("[s]\ntoken = \n", "s.token", TOKEN) == "[s]\ntoken = %s\n" % TOKEN
    assert ini.set("[s]\ntoken =\n", "s.other", TOKEN) == "[s]\ntoken =\nother = %s\n" % TOKEN


def test_ini_new_option_never_becomes_a_continuation_line():
    # "  [b]" follows a header, so it is a header; the new option must not be less indented
    text = "[a]\n  [b]\n  x = 1\n"
    new = ini.set(text, "a.t", TOKEN)
    assert new == "[a]\n  t = %s\n  [b]\n  x = 1\n" % TOKEN
    assert ini_data(new) == {"a": {"t": TOKEN}, "b": {"x": "1"}}


def test_ini_remove():
    new = ini.remove(INI_FILE, "tiflux.api_token")
    assert "first-token" not in new and OLD not in new
    assert "api_token" not in ini_data(new)["tiflux"]
    assert ini.remove(INI_FILE, "tiflux.description") == INI_FILE.replace(
        "description: first line\n  second line ; kept\n", "")
    assert ini.remove(INI_FILE, "tiflux.absent") == INI_FILE
    assert ini.remove(INI_FILE, "absent.absent") == INI_FILE
    assert ini.remove("[s]\na = 1\ntoken = x", "s.token") == "[s]\na = 1"


def test_ini_errors():
    expect(F.KeyNotFound, "section [Tiflux] not found", ini.find, INI_FILE, "Tiflux.api_token")
    expect(F.KeyNotFound, "option nope in section [tiflux] not found", ini.find, INI_FILE, "tiflux.nope")
    expect(F.UnsafeEdit, "option description in section [tiflux] on line 10 has continuation lines "
                         "(a multi-line value); edit it by hand",
           ini.set, INI_FILE, "tiflux.description", TOKEN)
    expect(F.MalformedConfig, "line 3 is not 'key = value', a [section] header or a comment; fix or "
                              "remove it", ini.find, "[s]\na = 1\njust words\n", "s.a")
    expect(F.MalformedConfig, "line 1: the section header is not closed with ']'; fix the header",
           ini.find, "[tiflux\ntoken = x\n", "tiflux.token")
    expect(F.UnsafeEdit, "the token contains a '%', which configparser's default interpolation "
                         "misreads; it cannot be written safely in ini format", ini.check_value, "a%b")
    expect(F.UnsafeEdit, "the token contains whitespace, which ini readers strip or split on; it "
                         "cannot be written safely in ini format", ini.check_value, "a b")
    expect(F.UnsafeEdit, "the token starts with '#' or ';', which ini readers with inline comments "
                         "take as a comment; it cannot be written safely in ini format",
           ini.check_value, ";abc")
    ini.check_value("abc;#$=:")


# ---------------------------------------------------------------------------
# json
# ---------------------------------------------------------------------------

JSON_4 = (
    '{\n'
    '    "name": "helpdesk sync",\n'
    '    "tiflux": {\n'
    '        "url": "https://api.tiflux.com/api/v2",\n'
    '        "auth": {\n'
    '            "token": "%s",\n'
    '            "retries": 3\n'
    '        }\n'
    '    },\n'
    '    "tags": ["a", {"token": "not this one"}]\n'
    '}\n'
) % OLD


def test_json_find_and_set_nested():
    loc = jsn.find(JSON_4, "tiflux.auth.token")
    assert (loc.value, loc.line) == (OLD, 6)
    new = check_edit(jsn, JSON_4, "tiflux.auth.token")
    assert new == JSON_4.replace(OLD, TOKEN)


def test_json_escapes_and_duplicates():
    text = '{"t": "first", "a\\/b": "x\\u0041", "t": "%s"}' % OLD
    assert jsn.read(text, ["a/b"]) == "xA"
    assert jsn.find(text, "t").value == OLD  # last duplicate wins, as in Python's json
    new = check_edit(jsn, text, "t", 'q"uote\\')
    assert json.loads(new) == {"t": 'q"uote\\', "a/b": "xA"}
    assert new.startswith('{"t": "first"')


def test_json_insert_follows_the_indentation_4_spaces():
    new = jsn.set(JSON_4, "tiflux.api.v2.token", TOKEN)
    assert new == JSON_4.replace(
        '            "retries": 3\n        }\n',
        '            "retries": 3\n        },\n'
        '        "api": {\n            "v2": {\n                "token": "%s"\n            }\n        }\n' % TOKEN)
    assert json.loads(new)["tiflux"]["api"] == {"v2": {"token": TOKEN}}


def test_json_insert_tabs_and_crlf():
    text = '{\r\n\t"a": {\r\n\t\t"x": 1\r\n\t}\r\n}'
    new = jsn.set(text, "a.b.c", TOKEN)
    assert new == '{\r\n\t"a": {\r\n\t\t"x": 1,\r\n\t\t"b": {\r\n\t\t\t"c": "%s"\r\n\t\t}\r\n\t}\r\n}' % TOKEN
    assert jsn.set(text, "z", TOKEN) == '{\r\n\t"a": {\r\n\t\t"x": 1\r\n\t},\r\n\t"z": "%s"\r\n}' % TOKEN


def test_json_insert_one_line_objects():
    assert jsn.set('{"a": {"b": 1}}', "a.c.d", TOKEN) == '{"a": {"b": 1, "c": {"d": "%s"}}}' % TOKEN
    assert jsn.set('{"a":1,"b":2}', "c", TOKEN) == '{"a":1,"b":2,"c":"%s"}' % TOKEN
    assert jsn.set('{"a": {}}', "a.t", TOKEN) == '{"a": {"t": "%s"}}' % TOKEN
    assert jsn.set('{}\n', "a.t", TOKEN) == '{\n  "a": {\n    "t": "%s"\n  }\n}\n' % TOKEN
    assert jsn.set('{\n  "a": {}\n}\n', "a.t", TOKEN) == '{\n  "a": {\n    "t": "%s"\n  }\n}\n' % TOKEN


def test_json_new_file():
    assert jsn.set("", "a.b", TOKEN) == '{\n  "a": {\n    "b": "%s"\n  }\n}\n' % TOKEN
    assert jsn.set(" \n", "t", TOKEN) == '{\n  "t": "%s"\n}\n' % TOKEN
    expect(F.KeyNotFound, "key t not found (the file is empty)", jsn.find, "", "t")


def test_json_null_is_a_placeholder():
    text = '{"token": null}'
    expect(F.KeyNotFound, "key token is null on line 1; no token is set there", jsn.find, text, "token")
    assert jsn.set(text, "token", TOKEN) == '{"token": "%s"}' % TOKEN


def test_json_remove():
    text = '{\n  "a": "1",\n  "t": "%s",\n  "b": 2\n}\n' % OLD
    assert jsn.remove(text, "t") == '{\n  "a": "1",\n  "b": 2\n}\n'
    assert jsn.remove(text, "a") == '{\n  "t": "%s",\n  "b": 2\n}\n' % OLD
    assert jsn.remove('{"a": 1, "t": "x"}', "t") == '{"a": 1}'
    assert jsn.remove('{"x": {"t": "x"}}', "x.t") == '{"x": {}}'
    assert jsn.remove('{"t": "1", "a": 2, "t": "2"}', "t") == '{"a": 2}'
    assert jsn.remove(text, "absent") == text
    assert jsn.remove(text, "absent.deeper") == text
    assert jsn.remove("", "t") == ""


def test_json_errors():
    expect(F.KeyNotFound, "key tiflux.auth.nope not found", jsn.find, JSON_4, "tiflux.auth.nope")
    expect(F.UnsafeEdit, "key tiflux.auth.retries on line 7 holds a JSON number, not a string; fix the "
                         "key or the file", jsn.set, JSON_4, "tiflux.auth.retries", TOKEN)
    expect(F.UnsafeEdit, "key tiflux.auth on line 5 holds a JSON object, not a string; refusing to "
                         "remove it", jsn.remove, JSON_4, "tiflux.auth")
    expect(F.UnsafeEdit, "tags is a JSON array, not an object, so tags.token cannot be reached through "
                         "it; fix the key or the file", jsn.set, JSON_4, "tags.token", TOKEN)
    expect(F.UnsafeEdit, "name is a JSON string, not an object, so name.x cannot be reached through it; "
                         "fix the key or the file", jsn.find, JSON_4, "name.x")
    expect(F.UnsafeEdit, "the top level of the JSON document is not an object; no key can be set in it",
           jsn.set, '["%s"]' % OLD, "t", TOKEN)
    expect(F.MalformedConfig, "invalid JSON at line 3, column 3: Expecting ',' delimiter; fix the file "
                              "or choose the right format",
           jsn.find, '{\n  "t": "%s"\n  "u": 1\n}' % OLD, "t")
    expect(F.MalformedConfig, "invalid JSON at line 1, column 10: Extra data; fix the file or choose the "
                              "right format", jsn.find, '{"a": 1} {"b": 2}', "a")
    err = expect(F.MalformedConfig, "invalid JSON at line 1, column 7: Unterminated string starting at; "
                                    "fix the file or choose the right format",
                 jsn.find, '{"t": "%s' % OLD, "t")
    assert err.__context__ is None


# ---------------------------------------------------------------------------
# yaml
# ---------------------------------------------------------------------------

YAML_FILE = (
    "# Tiflux connector\n"
    "---\n"
    "service:\n"
    "  name: helpdesk-sync   # shown in the UI\n"
    "  hosts:\n"
    "  - one.example.org\n"
    "  - name: two\n"
    "    token: not-this-one\n"
    "  tiflux:\n"
    "    url: 'https://api.tiflux.com/api/v2'\n"
    "    token: %s # rotated by ansible\n"
    "    quoted: \"it's \\\"double\\\"\"\n"
    "    single: 'it''s'\n"
    "    flow: {a: 1, b: [2, 3]}\n"
    "    script: |\n"
    "      token: inside a block scalar\n"
    "\n"
    "    retries: 3\n"
    "  \"dotted.key\": {}\n"
    "empty:\n"
    "last: value\n"
) % OLD


def yaml_data(text):
    return yaml.safe_load(text)


def test_yaml_find():
    loc = yml.find(YAML_FILE, "service.tiflux.token")
    assert (loc.value, loc.line) == (OLD, 11)
    assert YAML_FILE[loc.start:loc.end] == OLD
    assert yml.read(YAML_FILE, "service.tiflux.url") == "https://api.tiflux.com/api/v2"
    assert yml.read(YAML_FILE, "service.tiflux.quoted") == 'it\'s "double"'
    assert yml.read(YAML_FILE, "service.tiflux.single") == "it's"
    assert yml.read(YAML_FILE, "service.name") == "helpdesk-sync"
    assert yml.read(YAML_FILE, "last") == "value"
    data = yaml_data(YAML_FILE)
    for path in ("service.tiflux.token", "service.tiflux.url", "service.tiflux.quoted", "service.name"):
        node = data
        for part in path.split("."):
            node = node[part]
        assert yml.read(YAML_FILE, path) == node


def test_yaml_set_existing_keeps_everything_else():
    new = check_edit(yml, YAML_FILE, "service.tiflux.token")
    assert new == YAML_FILE.replace(OLD, TOKEN)
    expected = yaml_data(YAML_FILE)
    expected["service"]["tiflux"]["token"] = TOKEN
    assert yaml_data(new) == expected


@pytest.mark.parametrize("key, token, written", [
    ("service.tiflux.token", "12345", '"12345"'),
    ("service.tiflux.token", "true", '"true"'),
    ("service.tiflux.token", "no", '"no"'),
    ("service.tiflux.token", "0x1F", '"0x1F"'),
    ("service.tiflux.token", "1e3", '"1e3"'),
    ("service.tiflux.token", "2024-01-02", '"2024-01-02"'),
    ("service.tiflux.token", "-abc", '"-abc"'),
    ("service.tiflux.token", "a:b", '"a:b"'),
    ("service.tiflux.token", "a#b", '"a#b"'),
    ("service.tiflux.token", 'a"b\\c', '"a\\"b\\\\c"'),
    ("service.tiflux.token", "abc/+=", "abc/+="),
    ("service.tiflux.single", "it's", "it''s"),
    ("service.tiflux.quoted", 'q"\\', 'q\\"\\\\'),
])
def test_yaml_set_quotes_when_needed(key, token, written):
    new = yml.set(YAML_FILE, key, token)
    assert yml.read(new, key) == token
    loc = yml.find(YAML_FILE, key)
    assert new == YAML_FILE[:loc.start] + written + YAML_FILE[loc.end:]
    node = yaml_data(new)
    for part in key.split("."):
        node = node[part]
    assert node == token


def test_yaml_create_missing_keys():
    new = yml.set(YAML_FILE, "service.tiflux.auth.v2", TOKEN)
    assert new == YAML_FILE.replace("    retries: 3\n", "    retries: 3\n    auth:\n      v2: %s\n" % TOKEN)
    new = yml.set(YAML_FILE, ["service", "new.key", "true"], "yes")
    assert new == YAML_FILE.replace('  "dotted.key": {}\n',
                                    '  "dotted.key": {}\n  new.key:\n    "true": "yes"\n')
    assert yaml_data(new)["service"]["new.key"] == {"true": "yes"}
    # under an empty (null) key
    new = yml.set(YAML_FILE, "empty.token", TOKEN)
    assert new == YAML_FILE.replace("empty:\n", "empty:\n  token: %s\n" % TOKEN)
    new = yml.set(YAML_FILE, "top.token", TOKEN)
    assert new == YAML_FILE + "top:\n  token: %s\n" % TOKEN


def test_yaml_create_with_4_space_indent_crlf_and_no_trailing_newline():
    text = "a:\r\n    b: 1\r\n# end"
    assert yml.set(text, "a.c.d", TOKEN) == "a:\r\n    b: 1\r\n    c:\r\n        d: %s\r\n# end" % TOKEN
    assert yml.set("a: 1", "b", TOKEN) == "a: 1\nb: %s" % TOKEN


def test_yaml_new_file_and_empty_documents():
    assert yml.set("", "tiflux.token", TOKEN) == "tiflux:\n  token: %s\n" % TOKEN
    assert yml.set("---\n# nothing yet\n", "token", TOKEN) == "---\n# nothing yet\ntoken: %s\n" % TOKEN
    assert yml.set("---\n...\n", "token", TOKEN) == "---\ntoken: %s\n...\n" % TOKEN
    expect(F.KeyNotFound, "key token not found", yml.find, "", "token")


def test_yaml_null_placeholders():
    for text in ("token:\n", "token: # fill me\n", "token: ~\n", "token: null\n"):
        with pytest.raises(F.KeyNotFound):
            yml.find(text, "token")
        new = yml.set(text, "token", TOKEN)
        assert yaml_data(new) == {"token": TOKEN}
    assert yml.set("token: # fill me\n", "token", TOKEN) == "token: %s # fill me\n" % TOKEN
    assert yml.set("token: ~\n", "token", "123") == 'token: "123"\n'


def test_yaml_quoted_keys_and_sequences_elsewhere():
    text = (
        "'tiflux.io':\n"
        "  \"token\": %s\n"
        "list:\n"
        "- token: seq\n"
        "-   - nested\n"
        "    - seq\n"
        "other: {token: flow}\n"
    ) % OLD
    assert yml.read(text, ["tiflux.io", "token"]) == OLD
    new = check_edit(yml, text, ["tiflux.io", "token"])
    assert yaml_data(new)["tiflux.io"]["token"] == TOKEN


def test_yaml_remove():
    assert yml.remove(YAML_FILE, "service.tiflux.token") == YAML_FILE.replace(
        "    token: %s # rotated by ansible\n" % OLD, "")
    assert yml.remove(YAML_FILE, "service.nope") == YAML_FILE
    assert yml.remove(YAML_FILE, "nope.deeper") == YAML_FILE
    assert yml.remove("a: 1\nt: first\nt: second", "t") == "a: 1"
    # lines after the removed key must not slide into a block scalar above it
    assert yml.remove("a: |\n  x\nt: v\n\nb: 1\n", "t") == "a: |\n  x\n\nb: 1\n"
    for text in ("a: |\n  x\nt: v\n    # deeper comment\nb: 1\n", "a: |+\n  x\nt: v\n\nb: 1\n"):
        expect(F.UnsafeEdit, "removing key t on line 3 would merge the lines after it into the block "
                             "scalar above it; edit the file by hand", yml.remove, text, "t")
    # a block scalar ending the file without a line break keeps its value
    assert yml.remove("b: |\n  text\nt: x", "t") == "b: |\n  text\n"
    assert yml.set("b: |\n  text", "t", TOKEN) == "t: %s\nb: |\n  text" % TOKEN
    expect(F.UnsafeEdit, "key service.tiflux on line 9 holds a mapping, not a one-line string; edit it by "
                         "hand", yml.remove, YAML_FILE, "service.tiflux")


@pytest.mark.parametrize("text, key, exc, message", [
    ("a:\n  t: &anc x\n", "a.t", F.UnsafeEdit,
     "key a.t on line 2 has an anchor or tag; edit it by hand"),
    ("a:\n  t: !!str x\n", "a.t", F.UnsafeEdit,
     "key a.t on line 2 has an anchor or tag; edit it by hand"),
    ("a: &base\n  t: x\n", "a.t", F.UnsafeEdit,
     "a on line 1 has an anchor or tag; edit the file by hand"),
    ("b: &x y\na:\n  t: *x\n", "a.t", F.UnsafeEdit,
     "key a.t on line 3 holds an alias (*), not a one-line string; edit it by hand"),
    ("a:\n  t: {x: 1}\n", "a.t", F.UnsafeEdit,
     "key a.t on line 2 holds a flow collection ({...} or [...]), not a one-line string; edit it by hand"),
    ("a: {t: x}\n", "a.t", F.UnsafeEdit,
     "a on line 1 is a flow collection ({...} or [...]), not a mapping, so a.t cannot be reached through it"),
    ("a:\n  t: |\n    x\n", "a.t", F.UnsafeEdit,
     "key a.t on line 2 holds a block scalar (| or >), not a one-line string; edit it by hand"),
    ("a:\n  t: >-\n    x\n", "a.t", F.UnsafeEdit,
     "key a.t on line 2 holds a block scalar (| or >), not a one-line string; edit it by hand"),
    ("a:\n  t: x\n    y\n", "a.t", F.UnsafeEdit,
     "key a.t on line 2 holds a multi-line scalar or a value not on the key's line; edit it by hand"),
    ("a:\n  t: \"x\n    y\"\n", "a.t", F.UnsafeEdit,
     "key a.t on line 2 holds a multi-line scalar or a value not on the key's line; edit it by hand"),
    ("a:\n  t:\n    x\n", "a.t", F.UnsafeEdit,
     "key a.t on line 2 holds a multi-line scalar or a value not on the key's line; edit it by hand"),
    ("a:\n- t: x\n", "a.t", F.UnsafeEdit,
     "a on line 1 is a sequence; keys inside sequences are not supported"),
    ("a:\n  t: 42\n", "a.t", F.UnsafeEdit,
     "key a.t on line 2 holds a number, not a string; fix the key or the file"),
    ("a:\n  t: yes\n", "a.t", F.UnsafeEdit,
     "key a.t on line 2 holds a boolean, not a string; fix the key or the file"),
    ("a:\n  t: x\n", "a.t.u", F.UnsafeEdit,
     "a.t on line 2 is a scalar, not a mapping, so a.t.u cannot be reached through it"),
    ("a:\n  ? t\n  : x\n", "a.t", F.UnsafeEdit,
     "line 2: complex mapping keys ('? ') are not supported; edit the file by hand"),
    ("a:\n  &k t: x\n", "a.t", F.UnsafeEdit,
     "line 2: anchors or tags on mapping keys are not supported; edit the file by hand"),
    ("base: &b {t: 1}\na:\n  <<: *b\n", "a.t", F.UnsafeEdit,
     "line 3: the mapping that should hold a.t uses a merge key (<<), so the value may come from "
     "elsewhere; edit the file by hand"),
    ("a: 1\n---\nb: 2\n", "a", F.UnsafeEdit,
     "line 2: the file holds more than one YAML document; only single-document files are supported"),
    ("%YAML 1.2\n---\na: 1\n", "a", F.UnsafeEdit,
     "line 1: YAML directives (%YAML, %TAG) are not supported; remove the directive"),
    ("--- {a: 1}\n", "a", F.UnsafeEdit,
     "line 1: content on the '---' line is not supported; move it to the next line"),
    ("- a\n- b\n", "a", F.UnsafeEdit,
     "line 1: the top level of the YAML document is not a mapping; no key can be set in it"),
    ("a:\n\tt: x\n", "a.t", F.MalformedConfig,
     "line 2: tab character in the indentation; YAML indentation must use spaces"),
    ("a:\n  t: x\n b: 1\n", "a.t", F.MalformedConfig,
     "line 3: unexpected indentation; fix the YAML"),
    ("  a: 1\nb: 2\n", "a", F.MalformedConfig,
     "line 2: unexpected content (check the indentation); fix the YAML"),
    ("a:\n  t: x\n    u: 1\n", "a.t", F.UnsafeEdit,
     "key a.t on line 2 holds a multi-line scalar or a value not on the key's line; edit it by hand"),
    ("a:\n  t: 'x\n", "a.t", F.MalformedConfig,
     "line 2: a quoted value is not closed; fix the YAML"),
    ("a:\n  t: [x, y\n", "a.t", F.MalformedConfig,
     "line 2: a flow collection ([...] or {...}) is not closed; fix the YAML"),
    ("a:\n  t: x: y\n", "a.t", F.MalformedConfig,
     "line 2: a plain value contains ': ' (mapping values are not allowed here); quote the value; "
     "fix the YAML"),
    ("a:\n  t: \"\\q\"\n", "a.t", F.MalformedConfig,
     "line 2: invalid escape sequence in a double-quoted value; fix the YAML"),
    ("a:\n  just text\n", "a.t", F.UnsafeEdit,
     "a on line 1 is a scalar, not a mapping, so a.t cannot be reached through it"),
    ("a:\n  t: x\n  oops\n", "a.t", F.MalformedConfig,
     "line 3: expected 'key: value'; fix the YAML"),
    ("a:\n  t: x\n", "a.x", F.KeyNotFound, "key a.x not found"),
    ("a:\n  t:\n", "a.t", F.KeyNotFound, "key a.t on line 2 has no value; no token is set there"),
    ("a:\n  t: ~\n", "a.t", F.KeyNotFound, "key a.t on line 2 is null; no token is set there"),
])
def test_yaml_refuses(text, key, exc, message):
    expect(exc, message, yml.find, text, key)
    expect(exc, message, yml.set, text, key, TOKEN) if exc is not F.KeyNotFound else None


def test_yaml_unrelated_odd_constructs_are_skipped():
    text = (
        "defaults: &defaults\n"
        "  adapter: postgres\n"
        "dev:\n"
        "  <<: *defaults\n"
        "script: >\n"
        "  folded: text\n"
        "  - not a list\n"
        "matrix: [1,\n"
        "  2, {a: 'b]'}]\n"
        "msg: \"multi\n"
        "  line: not a key\"\n"
        "plain: first\n"
        "  continued\n"
        "? complex\n"
        "tiflux:\n"
        "  token: %s\n"
    ) % OLD
    # a complex key anywhere is refused: the mapping cannot be listed reliably
    with pytest.raises(F.UnsafeEdit):
        yml.find(text, "tiflux.token")
    text = text.replace("? complex\n", "")
    new = check_edit(yml, text, "tiflux.token")
    expected = yaml_data(text)
    expected["tiflux"]["token"] = TOKEN
    assert yaml_data(new) == expected
    new = yml.set(text, "tiflux.other", TOKEN)
    expected = yaml_data(text)
    expected["tiflux"]["other"] = TOKEN
    assert yaml_data(new) == expected


def test_yaml_check_value():
    yml.check_value("anything goes: 'quoted' \"too\" #1")
    expect(F.UnsafeEdit, "the token contains control or line-break characters and cannot be written "
                         "safely in yaml format; normalise the token first", yml.check_value, "a\u2028b")
    expect(F.UnsafeEdit, "the token contains unassigned or non-printable characters, which YAML cannot "
                         "hold; it cannot be written safely", yml.check_value, "a\uffffb")


# ---------------------------------------------------------------------------
# raw
# ---------------------------------------------------------------------------

def test_raw():
    for text in (OLD, OLD + "\n", "  %s \r\n\n" % OLD, "\n" + OLD):
        loc = raw.find(text, ())
        assert loc.value == OLD and text[loc.start:loc.end] == OLD
        assert check_edit(raw, text, None) == text.replace(OLD, TOKEN)
    assert raw.find("\n\n" + OLD, None).line == 3
    assert raw.set("", None, TOKEN) == TOKEN  # no trailing newline for a new file
    assert raw.set("\n", None, TOKEN) == TOKEN + "\n"
    assert raw.remove(OLD + "\n", None) == ""
    expect(F.KeyNotFound, "the file is empty; no token is set", raw.find, " \n", None)
    expect(F.MalformedConfig, "the file holds more than one line or word; a raw token file must contain "
                              "only the token", raw.find, "%s\n%s\n" % (OLD, OLD), None)
    expect(F.MalformedConfig, "the file holds more than one line or word; a raw token file must contain "
                              "only the token", raw.set, "TOKEN=%s\n" % OLD.replace("-", " "), None, TOKEN)
    expect(F.UnsafeEdit, "the token contains whitespace, which readers of a raw token file strip or "
                         "split on; it cannot be written safely", raw.check_value, "a\u00a0b")
    expect(F.ConfigError, "format raw takes no key (the whole file is the token); remove the key",
           raw.find, OLD, ("x",))


# ---------------------------------------------------------------------------
# messages never leak a value
# ---------------------------------------------------------------------------

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


def test_find_all_gives_a_multi_line_ini_value_as_configparser_reads_it():
    text = "[s]\nt = D1\n    D1b\nt = D2\n"
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read_string("[s]\nt = D1\n    D1b\n")
    assert F.get_editor("ini").find_all(text, "s.t")[0].value == parser["s"]["t"]
