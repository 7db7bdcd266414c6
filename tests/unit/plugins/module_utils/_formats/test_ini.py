# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Example-based tests of the ini editor (module_utils/_formats/_ini.py)."""

from __future__ import annotations

import configparser

from ansible_collections.tokenops.tiflux.plugins.module_utils import _formats as F
from ansible_collections.tokenops.tiflux.tests.unit.plugins.module_utils._formats.helpers import OLD, TOKEN, check_edit, expect, ini

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


def test_find_all_gives_a_multi_line_ini_value_as_configparser_reads_it():
    text = "[s]\nt = D1\n    D1b\nt = D2\n"
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read_string("[s]\nt = D1\n    D1b\n")
    assert F.get_editor("ini").find_all(text, "s.t")[0].value == parser["s"]["t"]
