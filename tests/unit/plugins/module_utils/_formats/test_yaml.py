# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Example-based tests of the yaml editor (module_utils/_formats/_yaml.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from ansible_collections.tokenops.tiflux.plugins.module_utils import _formats as F
from ansible_collections.tokenops.tiflux.tests.unit.plugins.module_utils._formats.helpers import OLD, TOKEN, check_edit, expect, yml

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
# a host without PyYAML
# ---------------------------------------------------------------------------

WITHOUT_PYYAML = (
    "import sys\n"
    "sys.modules['yaml'] = None  # 'import yaml' raises ImportError, as on a host without PyYAML\n"
)


def run_without_pyyaml(code):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    return subprocess.run([sys.executable, "-c", WITHOUT_PYYAML + code], capture_output=True, text=True, env=env, check=False)


def test_without_pyyaml_only_the_yaml_editor_fails_and_says_what_to_install():
    out = run_without_pyyaml(
        "from ansible_collections.tokenops.tiflux.plugins.module_utils import _formats as F\n"
        "for fmt, key, text in (('env', 'A', 'A=1'), ('ini', 's.a', '[s]'), ('json', 'a', '{}'), ('raw', None, '')):\n"
        "    assert F.get_editor(fmt).read(F.get_editor(fmt).set(text, key, 'tok'), key) == 'tok'\n"
        "try:\n"
        "    F.get_editor('yaml').set('a: 1\\n', 'a', 'tok')\n"
        "except F.ConfigError as exc:\n"
        "    print(exc)\n")
    assert out.returncode == 0, out.stderr
    message = out.stdout.strip()
    assert message.startswith("Failed to import the required Python library (PyYAML) on ")
    assert "This is required for format yaml (install the python3-yaml package, or PyYAML with pip, on that host)." in message
    assert "\n" not in message


def test_token_push_on_a_host_without_pyyaml_says_so_and_leaves_the_file(tmp_path):
    path = tmp_path / "app.yml"
    path.write_text("tiflux:\n  token: %s\n" % OLD)
    args = dict(ANSIBLE_MODULE_ARGS=dict(path=str(path), format="yaml", key="tiflux.token", token=TOKEN, _ansible_remote_tmp=str(tmp_path)))
    out = run_without_pyyaml(
        "from ansible.module_utils import basic\n"
        "basic._ANSIBLE_ARGS = %r\n"
        "basic._ANSIBLE_PROFILE = 'legacy'\n"
        "from ansible_collections.tokenops.tiflux.plugins.modules.token_push import main\n"
        "main()\n" % json.dumps(args).encode())
    result = json.loads(out.stdout)
    assert out.returncode == 1 and result["failed"] is True and not result.get("changed")
    assert result["msg"].startswith("%s: Failed to import the required Python library (PyYAML) on " % path)
    assert "install the python3-yaml package, or PyYAML with pip, on that host" in result["msg"]
    assert path.read_text() == "tiflux:\n  token: %s\n" % OLD
    assert OLD not in out.stdout and TOKEN not in out.stdout
