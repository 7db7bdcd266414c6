# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""_push: the targets spec and its controller-side check, reading a token, one key's edit, diff hiding."""

from __future__ import annotations

import pytest

from ansible_collections.tokenops.tiflux.plugins.module_utils._push import (
    Edit, PushError, check_target, hide, read_token, targets_item_spec, validate_targets)
from ansible_collections.tokenops.tiflux.plugins.module_utils._token import fingerprint

OLD = "oldTokenValue-0123456789abcdef"
NEW = "newTokenValue-fedcba9876543210"


def test_validate_targets_accepts_a_good_list():
    targets = [dict(path="/etc/zabbix/tiflux.env", format="env", key="TIFLUX_API_TOKEN", service="zabbix-server"),
               dict(path="/opt/sync/config.json", format="json", key="tiflux.token", create=True, dir_mode="0750",
                    reload_command="kill -HUP 1", health_retries=5)]
    assert validate_targets(targets) == []
    assert validate_targets([]) == []


@pytest.mark.parametrize("targets, expected", [
    ("/etc/x.env", "targets must be a list"),
    (["/etc/x.env"], "targets[0] must be a dict"),
    ([dict(format="env", key="K")], "targets[0]: missing required arguments: path"),
    ([dict(path="/a", format="jsn", key="k")], "targets[0] (/a): value of format must be one of"),
    ([dict(path="/a", format="env", key="K", health_retries="often")], "health_retries"),
    ([dict(path="/a", format="env", key="K", reload_command="x", service="y")], "mutually exclusive"),
    ([dict(path="/a", format="env", key="K", create="maybe")], "create"),
    ([dict(path="/a", format="env")], "targets[0] (/a): key is required with format=env"),
    ([dict(path="/a", format="json", key="k", section="s")], "section is only used with format=ini"),
    ([dict(path="/a", format="env", key="K", dir_mode="rwx")], "dir_mode must be an octal mode"),
    ([dict(path="/a", format="env", key="K", service="x; touch /tmp/pwned")], "systemd unit name"),
    ([dict(path="/a", format="env", key="K", service="--help")], "systemd unit name"),
    ([dict(path="/a", format="env", key="K", colour="red")], "colour"),
    ([dict(path=" ", format="env", key="K")], "targets[0] ( ): the path is empty: set it to the file itself"),
])
def test_validate_targets_names_each_problem_in_one_line(targets, expected):
    problems = validate_targets(targets)
    assert len(problems) == 1 and expected in problems[0] and "\n" not in problems[0], problems


def test_validate_targets_reports_every_bad_target():
    problems = validate_targets([dict(path="/a", format="toml", key="k"), dict(path="/b", format="env", key="K"),
                                 dict(path="/c", format="env")])
    assert [p.split(":")[0] for p in problems] == ["targets[0] (/a)", "targets[2] (/c)"]


def test_the_spec_defaults_create_and_follow_to_false():
    spec = targets_item_spec()
    assert spec["create"] == dict(type="bool", default=False) and spec["follow"] == dict(type="bool", default=False)


def test_check_target_returns_the_key_path():
    assert check_target(dict(format="ini", key="token", section="tiflux")) == ("tiflux", "token")


def test_two_edits_of_one_text_both_apply_and_each_knows_its_old_value():
    original = "A=%s\nB=%s\n" % (OLD, "x")
    first, second = Edit("env", ("A",), NEW), Edit("env", ("B",), NEW)
    text = second.apply(original, first.apply(original, original))
    assert text == "A=%s\nB=%s\n" % (NEW, NEW)
    assert (first.previous, second.previous) == (OLD, "x") and first.changed and second.changed
    assert first.secrets == {NEW, OLD} and second.secrets == {NEW}, "a short placeholder is not masked everywhere"


def test_an_edit_that_changes_nothing_says_so():
    edit = Edit("env", ("A",), NEW)
    assert edit.apply("A=%s\n" % NEW, "A=%s\n" % NEW) == "A=%s\n" % NEW and not edit.changed


def test_hide_masks_every_key_of_the_file_by_position():
    original = "A=%s\nB=%s\nC=plain\n" % (OLD, OLD)
    edits = [Edit("env", ("A",), NEW), Edit("env", ("B",), NEW)]
    text = original
    for one in edits:
        text = one.apply(original, text)
    before = hide(original, edits, {OLD, NEW}, original=True)
    after = hide(text, edits, {OLD, NEW})
    assert before == "A=<token %s>\nB=<token %s>\nC=plain\n" % (fingerprint(OLD), fingerprint(OLD))
    assert after == "A=<token %s>\nB=<token %s>\nC=plain\n" % (fingerprint(NEW), fingerprint(NEW))


def test_read_token_refuses_what_a_push_refuses_only_when_asked(tmp_path):
    shared = tmp_path / "open"
    shared.mkdir()
    shared.chmod(0o777)
    (shared / "t.env").write_text("T=%s\n" % OLD)
    assert read_token(str(shared / "t.env"), "env", ("T",)) == OLD
    with pytest.raises(PushError) as err:
        read_token(str(shared / "t.env"), "env", ("T",), follow=False)
    assert err.value.reason == "unreadable" and "sticky bit" in str(err.value)
