# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The promotion edit, in memory: both shapes of vars file, idempotence, every refusal, and no token in any message."""

from __future__ import annotations

import re

import pytest

from ansible.parsing.vault import VaultLib, VaultSecret

from ansible_collections.tokenops.tiflux.plugins.module_utils._token import fingerprint
from ansible_collections.tokenops.tiflux.plugins.plugin_utils import _vault
from ansible_collections.tokenops.tiflux.plugins.plugin_utils._vault import PREVIOUS_REMOVED, PromoteError, Promotion

OLD = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.old-signature-0123456789abcdef"
NEW = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.new-signature-fedcba9876543210"
OTHER = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.someone-else-5555555555555555"
SECRETS = (("default", VaultSecret(b"correct horse")),)
PROD = (("prod", VaultSecret(b"prod password")),)


def inline(name, value, secrets=SECRETS, vault_id=None, indent=10):
    """What ansible-vault encrypt_string writes for name."""
    envelope = VaultLib(secrets).encrypt(value, secret=secrets[0][1], vault_id=vault_id).decode()
    return "%s: !vault |\n%s\n" % (name, "\n".join(" " * indent + line for line in envelope.splitlines()))


def whole(text, secrets=SECRETS, vault_id=None):
    return VaultLib(secrets).encrypt(text, secret=secrets[0][1], vault_id=vault_id)


def values(data, secrets=SECRETS):
    """The file's variables as Ansible reads them: decrypted (an independent reader: PyYAML constructors + VaultLib)."""
    import yaml

    lib = VaultLib(secrets)
    if data.startswith(b"$ANSIBLE_VAULT"):
        data = lib.decrypt(data)

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor("!vault", lambda loader, node: lib.decrypt(loader.construct_scalar(node)).decode())
    return yaml.load(data.decode(), Loader=Loader)  # noqa: S506 - SafeLoader subclass


def other_lines(text, skip):
    """The lines of text outside the top-level entries named in skip (a top-level key line and its indented lines)."""
    kept, skipping = [], False
    for line in text.splitlines(True):
        top = re.match(r"^([A-Za-z_][A-Za-z0-9_]*):", line)
        if top:
            skipping = top.group(1) in skip
        elif line.strip() and not line[0].isspace() and not line.startswith("#"):
            skipping = False
        if not skipping:
            kept.append(line)
    return kept


AFFECTED = ("vault_tiflux_token", "vault_tiflux_token_previous", "vault_tiflux_token_next")


def promote(data, **kwargs):
    kwargs.setdefault("token", NEW)
    kwargs.setdefault("old_token", OLD)
    promotion = Promotion(data, kwargs.pop("secrets", SECRETS), where="vault.yml", **kwargs)
    return promotion, promotion.run()


def assert_no_token(text):
    for token in (OLD, NEW, OTHER):
        assert token not in text
        for start in range(0, len(token) - 12):
            assert token[start:start + 12] not in text, "part of a token in %r" % text


# --- inline !vault values -------------------------------------------------------------------------------------

DB = inline("db_password", "s3cret-db-password")
INLINE = ("# Tiflux and friends\n"
          + DB
          + "\n"
          + inline("vault_tiflux_token", OLD)
          + "plain_setting: 'keep me'   # a comment\n"
          + inline("vault_tiflux_token_next", NEW)
          + "last: [1, 2]\n")


def test_inline_promotion_moves_the_tokens_and_keeps_every_other_line():
    promotion, data = promote(INLINE.encode())
    got = values(data)
    assert got["vault_tiflux_token"] == NEW
    assert got["vault_tiflux_token_previous"] == OLD
    assert "vault_tiflux_token_next" not in got
    assert other_lines(data.decode(), AFFECTED) == other_lines(INLINE, AFFECTED)
    assert promotion.fingerprint == fingerprint(NEW) and promotion.previous_fingerprint == fingerprint(OLD)
    # The untouched vaulted value is byte-identical, not re-encrypted.
    assert DB in data.decode()


def test_inline_previous_sits_under_the_token_with_the_same_indentation():
    text = "# x\n" + inline("vault_tiflux_token", OLD, indent=4) + "b: 1\n"
    _promotion, data = promote(text.encode())
    lines = data.decode().splitlines()
    assert lines[0] == "# x" and lines[-1] == "b: 1"
    start = lines.index("vault_tiflux_token_previous: !vault |")
    assert lines[start - 1].startswith("    ") and lines[start + 1].startswith("    $ANSIBLE_VAULT;1.1;AES256")
    assert all(line.startswith("    ") and not line.startswith("     ") for line in lines[2:start])


def test_inline_rerun_with_the_same_tokens_changes_nothing():
    _promotion, once = promote(INLINE.encode())
    promotion, twice = promote(once)
    assert twice == once and not promotion.changes
    assert "nothing to change" in promotion.message("vault.yml")


def test_token_already_promoted_by_hand_only_records_the_previous_one():
    text = inline("vault_tiflux_token", NEW) + "b: 1\n"
    promotion, data = promote(text.encode())
    assert values(data) == {"vault_tiflux_token": NEW, "vault_tiflux_token_previous": OLD, "b": 1}
    assert [name for name, _before, _after in promotion.changes] == ["vault_tiflux_token_previous"]
    assert data.decode().startswith(text.split("b: 1")[0]), "the token's own block was not re-encrypted"


def test_an_older_previous_is_replaced_in_place():
    text = inline("vault_tiflux_token_previous", OTHER) + "middle: 1\n" + inline("vault_tiflux_token", OLD)
    _promotion, data = promote(text.encode())
    assert values(data) == {"vault_tiflux_token_previous": OLD, "middle": 1, "vault_tiflux_token": NEW}
    assert data.decode().index("vault_tiflux_token_previous") == 0


def test_next_holding_another_token_is_left_and_named():
    text = inline("vault_tiflux_token", OLD) + inline("vault_tiflux_token_next", OTHER)
    promotion, data = promote(text.encode())
    assert values(data)["vault_tiflux_token_next"] == OTHER
    message = promotion.message("vault.yml")
    assert "vault_tiflux_token_next (%s) left in place" % fingerprint(OTHER) in message
    assert_no_token(message)


def test_new_values_keep_the_vault_id_of_the_token():
    text = inline("vault_tiflux_token", OLD, secrets=PROD, vault_id="prod")
    _promotion, data = promote(text.encode(), secrets=PROD + SECRETS)
    assert data.decode().count("$ANSIBLE_VAULT;1.2;AES256;prod") == 2
    assert values(data, PROD) == {"vault_tiflux_token": NEW, "vault_tiflux_token_previous": OLD}


def test_crlf_file_stays_crlf():
    text = ("a: 1\r\n" + inline("vault_tiflux_token", OLD).replace("\n", "\r\n") + "b: 2\r\n")
    _promotion, data = promote(text.encode())
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert values(data)["vault_tiflux_token_previous"] == OLD


def test_token_at_end_of_file_without_newline():
    text = "a: 1\n" + inline("vault_tiflux_token", OLD).rstrip("\n")
    _promotion, data = promote(text.encode())
    assert values(data) == {"a": 1, "vault_tiflux_token": NEW, "vault_tiflux_token_previous": OLD}


def test_blank_lines_and_comments_after_a_block_stay_where_they_are():
    text = inline("vault_tiflux_token", OLD) + "\n\n# next section\nb: 1\n"
    _promotion, data = promote(text.encode())
    assert data.decode().endswith("\n\n# next section\nb: 1\n")
    assert data.decode().index("vault_tiflux_token_previous") < data.decode().index("# next section")


def test_a_vault_value_with_trailing_whitespace_counts_as_the_token():
    text = inline("vault_tiflux_token", OLD + "\n")
    promotion, data = promote(text.encode())
    assert values(data)["vault_tiflux_token"] == NEW
    assert promotion.changes[0] == ("vault_tiflux_token", fingerprint(OLD), fingerprint(NEW))


# --- whole-file vault -----------------------------------------------------------------------------------------

PLAIN = "# vault of the fleet\nother: \"q\"   # keep\nvault_tiflux_token: '%s'\nlist:\n  - 1\n" % OLD


def test_whole_file_is_re_encrypted_with_the_same_header_and_layout():
    data = whole(PLAIN, secrets=PROD, vault_id="prod")
    _promotion, new = promote(data, secrets=SECRETS + PROD)
    assert new.splitlines()[0] == b"$ANSIBLE_VAULT;1.2;AES256;prod"
    assert new.endswith(b"\n") == data.endswith(b"\n")
    plaintext = VaultLib(PROD).decrypt(new).decode()
    assert plaintext == PLAIN.replace("vault_tiflux_token: '%s'\n" % OLD,
                                      "vault_tiflux_token: '%s'\nvault_tiflux_token_previous: '%s'\n" % (NEW, OLD))


@pytest.mark.parametrize("written", ["%s", "'%s'", '"%s"'])
def test_whole_file_keeps_the_quoting(written):
    data = whole("vault_tiflux_token: %s  # current\n" % (written % OLD))
    _promotion, new = promote(data)
    plaintext = VaultLib(SECRETS).decrypt(new).decode()
    assert plaintext == "vault_tiflux_token: %s  # current\nvault_tiflux_token_previous: %s\n" % (written % NEW, written % OLD)


def test_whole_file_plain_scalar_that_yaml_would_misread_is_quoted():
    data = whole("vault_tiflux_token: %s\n" % OLD)
    _promotion, new = promote(data, token="12345678901234567890", old_token=OLD)
    assert "vault_tiflux_token: '12345678901234567890'\n" in VaultLib(SECRETS).decrypt(new).decode()


def test_whole_file_rerun_returns_the_same_bytes():
    _promotion, once = promote(whole(PLAIN))
    promotion, twice = promote(once)
    assert twice is once and not promotion.changes


def test_whole_file_previous_removed():
    _promotion, once = promote(whole(PLAIN))
    promotion, data = promote(once, state=PREVIOUS_REMOVED)
    assert VaultLib(SECRETS).decrypt(data).decode() == PLAIN.replace(OLD, NEW)
    assert promotion.previous_fingerprint == fingerprint(OLD)


# --- previous_removed -----------------------------------------------------------------------------------------


def test_previous_removed_drops_only_the_previous_entry():
    _promotion, once = promote(INLINE.encode())
    promotion, data = promote(once, state=PREVIOUS_REMOVED)
    got = values(data)
    assert "vault_tiflux_token_previous" not in got and got["vault_tiflux_token"] == NEW
    assert other_lines(data.decode(), AFFECTED) == other_lines(INLINE, AFFECTED)
    assert promotion.message("vault.yml") == "vault.yml: removed vault_tiflux_token_previous (%s)" % fingerprint(OLD)
    again, same = promote(data, state=PREVIOUS_REMOVED)
    assert same is data and "no vault_tiflux_token_previous to remove" in again.message("vault.yml")


def test_previous_removed_keeps_a_previous_that_is_not_the_old_token():
    text = inline("vault_tiflux_token", NEW) + inline("vault_tiflux_token_previous", OTHER)
    promotion, data = promote(text.encode(), state=PREVIOUS_REMOVED)
    assert data == text.encode()
    assert "left in place: it is not the old token %s" % fingerprint(OLD) in promotion.message("vault.yml")


def test_previous_removed_without_tokens_needs_no_password_for_an_inline_file():
    keep = inline("vault_tiflux_token", NEW)
    _promotion, data = promote((keep + inline("vault_tiflux_token_previous", OLD)).encode(), state=PREVIOUS_REMOVED,
                               token=None, old_token=None, secrets=[])
    assert data.decode() == keep


# --- check mode and diff --------------------------------------------------------------------------------------


def test_message_and_diff_name_tokens_by_fingerprint_only():
    promotion, _data = promote(INLINE.encode())
    message = promotion.message("vault.yml", check_mode=True)
    assert message.startswith("vault.yml: would set vault_tiflux_token from %s to %s" % (fingerprint(OLD), fingerprint(NEW)))
    assert "would remove vault_tiflux_token_next" in message
    diff = promotion.diff("vault.yml")
    assert diff["before"] == "vault_tiflux_token: <token %s>\nvault_tiflux_token_next: <token %s>\n" % (fingerprint(OLD), fingerprint(NEW))
    assert diff["after"] == "vault_tiflux_token: <token %s>\nvault_tiflux_token_previous: <token %s>\n" % (fingerprint(NEW), fingerprint(OLD))
    assert_no_token(message + repr(diff))


# --- refusals: one line, no token, nothing to write -----------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("a: 1\n  b: [\n", r"is not valid YAML \(line \d+, column \d+: "),
    ("- a\n- b\n", "is not a YAML mapping of variables"),
    ("{vault_tiflux_token: x}\n", "is a flow mapping"),
    ("b: 1\n", "has no vault_tiflux_token"),
    ("", "has no vault_tiflux_token"),
    ("vault_tiflux_token: %s\n" % OLD, "is a plain value, not a vaulted string"),
    ("vault_tiflux_token:\n  a: 1\n", "is a mapping, not a vaulted string"),
    ("vault_tiflux_token: 12\n", "is a number, not a vaulted string"),
    (inline("vault_tiflux_token", OLD) + inline("vault_tiflux_token", OLD), r"defines vault_tiflux_token more than once \(lines 1, \d+\)"),
    ("x: &tok " + inline("vault_tiflux_token", OLD).split(": ", 1)[1] + "vault_tiflux_token: *tok\n", "is an alias"),
    ("vault_tiflux_token: &tok " + inline("y", OLD).split(": ", 1)[1], "carries an anchor"),
    (inline("vault_tiflux_token", OTHER), "holds %s, neither the old token %s nor the new one %s" % (fingerprint(OTHER), fingerprint(OLD), fingerprint(NEW))),
])
def test_refusals(text, expected):
    with pytest.raises(PromoteError) as err:
        promote(text.encode())
    message = str(err.value)
    assert re.search(expected, message), message
    assert "\n" not in message
    assert_no_token(message)


def test_yaml_error_never_quotes_the_text():
    # PyYAML's own message would quote the line, token included.
    text = "vault_tiflux_token: %s\n  bad: [%s\n" % (OLD, NEW)
    with pytest.raises(PromoteError) as err:
        promote(whole(text))
    assert "(decrypted) is not valid YAML" in str(err.value)
    assert_no_token(str(err.value))


def test_yaml_problem_drops_quoted_pieces():
    with pytest.raises(PromoteError) as err:
        promote(("a: *%s\n" % OLD.replace(".", "_")).encode())
    assert_no_token(str(err.value))


def test_wrong_password():
    with pytest.raises(PromoteError, match="cannot decrypt vault.yml with the vault password"):
        promote(whole(PLAIN), secrets=[("default", VaultSecret(b"wrong"))])
    with pytest.raises(PromoteError, match=r"cannot decrypt vault_tiflux_token in vault.yml \(line 1\)"):
        promote(inline("vault_tiflux_token", OLD).encode(), secrets=[("default", VaultSecret(b"wrong"))])


def test_no_password_in_this_run():
    with pytest.raises(PromoteError, match="this run has no vault password: run with --ask-vault-pass"):
        promote(whole(PLAIN), secrets=[])


def test_damaged_vault_block():
    text = "vault_tiflux_token: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  zz\n"
    with pytest.raises(PromoteError, match="cannot decrypt"):
        promote(text.encode())


def test_not_utf8():
    with pytest.raises(PromoteError, match="is not UTF-8 text"):
        promote(b"a: \xff\xfe\n")


@pytest.mark.parametrize("kwargs, expected", [
    (dict(token=OLD), "token and old_token are the same token"),
    (dict(old_token=""), "old_token is required with state=promoted"),
    (dict(token=None), "token is required with state=promoted"),
    (dict(token=NEW[:20] + " " + NEW[20:]), "contains whitespace"),
    (dict(var="vault-tiflux"), "var must be a variable name"),
    (dict(state="absent"), "state must be one of promoted, previous_removed"),
])
def test_bad_options(kwargs, expected):
    with pytest.raises(PromoteError, match=expected) as err:
        promote(INLINE.encode(), **kwargs)
    assert_no_token(str(err.value))


def test_a_broken_edit_is_caught_before_anything_is_written(monkeypatch):
    # The check after the edit is what stands between a bug in the editor and a damaged vault.
    real_apply = _vault._apply
    monkeypatch.setattr(_vault, "_apply", lambda text, edits: real_apply(text, edits).replace("plain_setting", "plain_settings"))
    with pytest.raises(PromoteError, match="editing vault.yml went wrong .other lines would change.; nothing was written"):
        promote(INLINE.encode())


def test_an_edit_that_loses_the_previous_value_is_caught(monkeypatch):
    monkeypatch.setattr(_vault, "_apply", lambda text, edits: text)
    with pytest.raises(PromoteError, match="would not hold"):
        promote(INLINE.encode())


def test_custom_var_names():
    text = inline("tiflux_api", OLD) + inline("tiflux_api_next", NEW) + inline("vault_tiflux_token", OTHER)
    _promotion, data = promote(text.encode(), var="tiflux_api")
    assert values(data) == {"tiflux_api": NEW, "tiflux_api_previous": OLD, "vault_tiflux_token": OTHER}
