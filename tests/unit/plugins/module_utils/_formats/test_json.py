# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Example-based tests of the json editor (module_utils/_formats/_json.py)."""

from __future__ import annotations

import json

from ansible_collections.tokenops.tiflux.plugins.module_utils import _formats as F
from ansible_collections.tokenops.tiflux.tests.unit.plugins.module_utils._formats.helpers import OLD, TOKEN, check_edit, expect, jsn

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
