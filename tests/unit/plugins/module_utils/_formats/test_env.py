# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Example-based tests of the env editor (module_utils/_formats/_env.py)."""

from __future__ import annotations

import io

import pytest

from ansible_collections.tokenops.tiflux.plugins.module_utils import _formats as F
from ansible_collections.tokenops.tiflux.tests.unit.plugins.module_utils._formats.helpers import OLD, TOKEN, check_edit, env, expect

try:
    import dotenv
except ImportError:  # pragma: no cover - python-dotenv is an optional second oracle
    dotenv = None

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


@pytest.mark.parametrize("text, line", [
    ("[tiflux]\ntoken = %s\n" % OLD, 1),
    ("# GLPI agent\n\n  [tiflux] \r\nTIFLUX_TOKEN=%s\r\n" % OLD, 3),
    ("[s]x\nTIFLUX_TOKEN=%s\n" % OLD, 1),
])
def test_env_refuses_a_file_that_starts_like_an_ini_file(text, line):
    message = "line %d is an INI section header, not KEY=value: the file is an ini file; use format: ini" % line
    for call in (env.find, env.find_all, env.remove):
        expect(F.MalformedConfig, message, call, text, "TIFLUX_TOKEN")
    expect(F.MalformedConfig, message, env.set, text, "TIFLUX_TOKEN", TOKEN)


def test_env_reads_a_bracketed_line_after_the_first_as_before():
    text = "A=1\n[x]\nTIFLUX_TOKEN=%s\n" % OLD  # a bare declaration, as shells and python-dotenv take it
    assert env.read(text, "TIFLUX_TOKEN") == OLD
