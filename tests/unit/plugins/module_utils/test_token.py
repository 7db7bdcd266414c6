# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from ansible_collections.tokenops.tiflux.plugins.module_utils._token import (
    TokenError, claims, dates, describe, fingerprint, normalize, redact, request_limit, session_date, user_label,
)

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


# -- claims ----------------------------------------------------------------------------------------

def _jwt(payload, header=None):
    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return part(header or {"alg": "HS256"}) + "." + part(payload) + ".c2lnbmF0dXJl"


# The shape of the token published in Tiflux's official client docs (values changed).
PUBLISHED = {"sub": "42", "scp": "user", "aud": None, "iat": 1759746540, "exp": 1822818540,
             "jti": "7f0c1a2e-5d3b-4a8e-9c61-2b7d8e9f0a1b", "req_limit": 120}


def test_claims_decode_the_payload_without_a_secret():
    token = _jwt(PUBLISHED)
    assert claims(token) == PUBLISHED
    assert claims(token + "\n") == PUBLISHED and claims(token.encode()) == PUBLISHED
    assert request_limit(token) == 120


@pytest.mark.parametrize("token", [
    TOKEN, "", None, 42, "a.b", "a.b.c.d", "eyJ.eyJ.x", "!!!.eyJhIjoxfQ.sig",
    _jwt([1, 2]), _jwt({"a": 1}, header=["x"]), "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.sig", b"\xff.\xfe.\xfd",
])
def test_opaque_or_unparsable_tokens_have_no_claims(token):
    assert claims(token) is None
    assert dates(token) == dict(issued_at=None, expires_at=None, expires_in_days=None)
    assert request_limit(token) is None


def test_dates_are_iso_utc_and_days_round_away_from_zero():
    token = _jwt(PUBLISHED)
    assert dates(token, now=PUBLISHED["iat"]) == dict(issued_at="2025-10-06T10:29:00Z", expires_at="2027-10-06T10:29:00Z",
                                                      expires_in_days=730)
    exp = PUBLISHED["exp"]
    assert dates(token, now=exp - 10 * 86400 + 5)["expires_in_days"] == 10
    assert dates(token, now=exp - 3600)["expires_in_days"] == 1
    assert dates(token, now=exp + 3600)["expires_in_days"] == -1
    assert dates(token, now=exp)["expires_in_days"] == 0


@pytest.mark.parametrize("bad", [True, "1759746540", -1, 1e20, float("nan"), None])
def test_implausible_times_are_ignored(bad):
    token = _jwt(dict(PUBLISHED, iat=bad, exp=bad, req_limit=bad))
    assert dates(token) == dict(issued_at=None, expires_at=None, expires_in_days=None)
    assert request_limit(token) is None


def test_session_date_is_what_sessoes_api_shows():
    assert session_date("2025-10-06T10:29:00Z") == "06/10/2025 07:29"
    assert session_date(1759746540, "UTC") == "06/10/2025 10:29"
    assert session_date(1759746540, "Europe/Lisbon") == "06/10/2025 11:29"
    assert session_date(None) is None and session_date("yesterday") is None
    assert session_date(1759746540, "Nowhere/Atlantis") is None


def test_user_label():
    assert user_label({"id": 1, "name": "Ana", "email": "ana@example.com"}) == "Ana <ana@example.com>"
    assert user_label({"id": 1, "name": None, "email": "ana@example.com"}) == "ana@example.com"
    assert user_label({"id": 1}) == "id 1"
    assert user_label(None) is None
