# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import hashlib

import pytest

from ansible_collections.tokenops.tiflux.plugins.module_utils._token import TokenError, describe, fingerprint, normalize, redact

TOKEN = "tFx_9fK2-abcDEF.ghi~JKL"


def test_fingerprint_is_sha256_prefix_of_16_hex():
    assert fingerprint(TOKEN) == "sha256:" + hashlib.sha256(TOKEN.encode()).hexdigest()[:16]
    assert fingerprint(TOKEN.encode()) == fingerprint(TOKEN)
    assert describe(TOKEN) == "<token %s>" % fingerprint(TOKEN)


@pytest.mark.parametrize("raw", [TOKEN + "\n", "  " + TOKEN + "\r\n", "\t" + TOKEN, TOKEN.encode() + b"\n"])
def test_normalize_strips_surrounding_whitespace(raw):
    assert normalize(raw) == TOKEN


@pytest.mark.parametrize("raw, cause", [
    (None, "is missing"),
    ("", "is empty"),
    ("  \n", "is empty"),
    (TOKEN[:5] + " " + TOKEN[5:], "whitespace or a line break"),
    (TOKEN[:5] + "\n" + TOKEN[5:], "whitespace or a line break"),
    (TOKEN[:5] + "\x00" + TOKEN[5:], "control or invisible"),
    (TOKEN[:5] + "\u200b" + TOKEN[5:], "control or invisible"),
    (TOKEN[:5] + "é" + TOKEN[5:], "non-ASCII"),
    (b"\xff\xfe", "not valid UTF-8"),
    (12345, "must be a string"),
])
def test_normalize_rejects_bad_tokens_without_naming_them(raw, cause):
    with pytest.raises(TokenError) as err:
        normalize(raw)
    message = str(err.value)
    assert cause in message
    assert "\n" not in message
    if isinstance(raw, str) and raw.strip():
        assert raw.strip() not in message
        assert TOKEN[5:] not in message


def test_normalize_names_the_source():
    with pytest.raises(TokenError, match="^the token in /etc/x.env is empty"):
        normalize("", what="the token in /etc/x.env")


def test_redact_replaces_every_occurrence():
    text = "a %s b %s" % (TOKEN, TOKEN)
    out = redact(text, [TOKEN, None, ""])
    assert TOKEN not in out
    assert out.count(fingerprint(TOKEN)) == 2
