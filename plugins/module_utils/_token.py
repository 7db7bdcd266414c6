# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Token normalisation and fingerprints: the only way any output names a token.

Private to the collection; runs on the controller and on target hosts (stdlib only).
"""

from __future__ import annotations

import base64
import calendar
import datetime
import hashlib
import json
import math
import time
import unicodedata

FINGERPRINT_PREFIX = "sha256:"
FINGERPRINT_HEX = 16

# Where Tiflux's UI lists the API v2 sessions: tokens are generated and revoked there, by hand.
SESSOES_API = "Configurações > Minha conta > Sessões > Sessões API"
GENERATE_HINT = "generate a new token in Tiflux (%s) and store it again with ansible-vault encrypt_string" % SESSOES_API


# A value read from a config file that is shorter than this is a placeholder ("changeme", "x", "token"), not a
# Tiflux token. Masking it wherever it appears in a result (ansible's no_log_values, free-text redaction) would
# garble paths, keys and messages that happen to contain it; diffs hide it by its position in the file instead.
MASK_MIN_LENGTH = 16


class TokenError(ValueError):
    """A token that cannot be used as given. The message never contains the token."""


def fingerprint(token):
    """Return ``sha256:`` + the first 16 hex digits of SHA-256 of the token."""
    if isinstance(token, str):
        token = token.encode("utf-8", "surrogatepass")
    return FINGERPRINT_PREFIX + hashlib.sha256(token).hexdigest()[:FINGERPRINT_HEX]


def describe(token):
    """How outputs (diffs, messages) show a token: ``<token sha256:...>``."""
    return "<token %s>" % fingerprint(token)


# Tiflux JWTs are ~250 characters; anything much longer is a file's content or a certificate, not a token.
TOKEN_MAX_LENGTH = 4096
TOKEN_TYPE = "a string of printable ASCII without whitespace, at most %d characters" % TOKEN_MAX_LENGTH


def normalize(token, what="the token"):
    """Strip surrounding whitespace (vault files often end in a newline) and check the shape.

    Raises TokenError for missing/empty tokens, values that are not strings, inner whitespace, control or
    non-ASCII characters, and values longer than TOKEN_MAX_LENGTH. Tiflux tokens are printable ASCII
    without spaces.
    """
    if token is None:
        raise TokenError("%s is missing: pass a Tiflux API v2 token (from Ansible Vault or an AWX credential)" % what)
    if isinstance(token, bytes):
        try:
            token = token.decode("utf-8")
        except UnicodeDecodeError:
            raise TokenError("%s is not valid UTF-8 text: copy it again from Sessões API or %s" % (what, GENERATE_HINT))
    if not isinstance(token, str):
        kind = {bool: "a boolean", int: "a number", float: "a number", list: "a list", dict: "a dict"}.get(type(token))
        raise TokenError("%s must be %s, got %s: quote it in YAML or pass it from a vaulted variable"
                         % (what, TOKEN_TYPE, kind or type(token).__name__))
    value = token.strip()
    if not value:
        raise TokenError("%s is empty: check the vaulted variable or AWX credential that should hold it" % what)
    if len(value) > TOKEN_MAX_LENGTH:
        raise TokenError("%s (%s) is %d characters long; it must be %s (Tiflux tokens are about 250): check that the "
                         "variable holds the token, not a file's content" % (what, fingerprint(value), len(value), TOKEN_TYPE))
    for char in value:
        if char.isspace():
            problem = "contains whitespace or a line break inside it"
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            problem = "contains control or invisible characters"
        elif ord(char) > 126:
            problem = "contains non-ASCII characters"
        else:
            continue
        raise TokenError(
            "%s (%s) %s: it was probably pasted wrongly; copy it again as one line, or %s"
            % (what, fingerprint(value), problem, GENERATE_HINT)
        )
    return value


def maskable(values):
    """The values read from files worth masking wherever they appear in an output (see MASK_MIN_LENGTH)."""
    return set(v for v in values if isinstance(v, str) and len(v.strip()) >= MASK_MIN_LENGTH)


# Any run of this many characters of a token is masked in text we quote (command output, server answers):
# a validate or health command that prints part of a config must not print part of a token.
REDACT_MIN_RUN = 12


def redact(text, tokens, limit=None):
    """text with every token in it named by its fingerprint and any other run of REDACT_MIN_RUN or more characters
    of one masked as ``<part of token sha256:...>``. With limit: one line of at most limit characters (for quoting
    command output).

    The one redaction of the collection: messages built from command output or server answers, diffs.
    """
    if not text:
        return text
    if limit is not None:
        text = text[:64 * 1024]  # a run cut at this end is still masked if long enough; the cut below is far earlier
    secrets = sorted(set(t for t in tokens if isinstance(t, str) and t), key=len, reverse=True)
    covered = [None] * len(text)  # per character: (token, whole) of the token it belongs to
    for token in secrets:
        start = text.find(token)
        while start >= 0:
            end = start + len(token)
            if not any(covered[start:end]):
                covered[start:end] = [(token, True)] * len(token)
            start = text.find(token, end if covered[start] else start + 1)
    grams = {}
    for token in secrets:
        for i in range(len(token) - REDACT_MIN_RUN + 1):
            grams.setdefault(token[i:i + REDACT_MIN_RUN], token)
    for i in range(len(text) - REDACT_MIN_RUN + 1 if grams else 0):
        token = grams.get(text[i:i + REDACT_MIN_RUN])
        if token is not None:
            for j in range(i, i + REDACT_MIN_RUN):
                covered[j] = covered[j] or (token, False)
    out, i = [], 0
    while i < len(text):
        mark, j = covered[i], i + 1
        if mark is not None and mark[1]:
            j = i + len(mark[0])
            out.append(describe(mark[0]))
            i = j
            continue
        while j < len(text) and covered[j] == mark:
            j += 1
        out.append(text[i:j] if mark is None else "<part of token %s>" % fingerprint(mark[0]))
        i = j
    text = "".join(out)
    if limit is not None:
        text = " ".join(text.split())
        if len(text) > limit:
            text = text[:limit].rstrip() + "..."
    return text


# -- claims: what a JWT token says about itself ------------------------------------------------
#
# Tiflux API v2 tokens are JWTs (HS256; claims jti, sub, scp, aud, iat, exp = iat + 2 years, req_limit).
# The payload is readable without Tiflux's secret, but its signature cannot be checked here: claims are hints
# for people (when was it made, when does it expire), never proof that a token works. Opaque tokens have none.

# The timezone Tiflux's UI shows "Data da sessão" in, unless the viewer's is another.
UI_TIMEZONE = "America/Sao_Paulo"
_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_MAX_EPOCH = 253402300799  # 9999-12-31T23:59:59Z
DAY = 86400
_UTC = datetime.timezone.utc


def _b64url_json(part):
    if not part or len(part) > 8192 or not set(part) <= _B64URL:
        return None
    raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    return json.loads(raw.decode("utf-8"))


def claims(token):
    """The JWT payload of the token as a dict, or None for an opaque or unparsable token. Never raises."""
    try:
        if isinstance(token, bytes):
            token = token.decode("ascii")
        if not isinstance(token, str):
            return None
        parts = token.strip().split(".")
        if len(parts) != 3:
            return None
        header, payload = _b64url_json(parts[0]), _b64url_json(parts[1])
        if not isinstance(header, dict) or not isinstance(payload, dict):
            return None
        return payload
    except Exception:  # pylint: disable=broad-except
        return None


def claim_time(payload, name):
    """A NumericDate claim (iat, exp) as epoch seconds, or None when absent or not a plausible time."""
    value = (payload or {}).get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return None
    return float(value) if 0 <= value <= _MAX_EPOCH else None


def utc_iso(epoch):
    """``YYYY-MM-DDTHH:MM:SSZ`` for epoch seconds, None for None."""
    if epoch is None:
        return None
    return datetime.datetime.fromtimestamp(int(epoch), _UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def dates(token, now=None):
    """issued_at, expires_at (ISO UTC or None) and expires_in_days (whole days, rounded away from zero:
    10 for a token made to expire in 10 days, negative once expired; None without exp)."""
    payload = claims(token)
    issued, expires = claim_time(payload, "iat"), claim_time(payload, "exp")
    days = None
    if expires is not None:
        left = (expires - (time.time() if now is None else now)) / DAY
        days = int(math.ceil(left)) if left >= 0 else int(math.floor(left))
    return dict(issued_at=utc_iso(issued), expires_at=utc_iso(expires), expires_in_days=days)


def request_limit(token):
    """The token's req_limit claim (requests per minute), or None."""
    value = (claims(token) or {}).get("req_limit")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _zone(name):
    try:
        import zoneinfo  # pylint: disable=import-outside-toplevel  # Python >= 3.9 with tz data

        return zoneinfo.ZoneInfo(name)
    except Exception:  # pylint: disable=broad-except
        # No tz database: Brazil has kept UTC-3 all year since 2019.
        return datetime.timezone(datetime.timedelta(hours=-3)) if name == UI_TIMEZONE else None


def session_date(value, timezone=UI_TIMEZONE):
    """How Sessões API shows a session's date ("Data da sessão"): ``dd/mm/yyyy HH:MM`` in the viewer's timezone.

    value: epoch seconds or an ISO string as returned in issued_at. None when value or timezone is unusable.
    """
    if isinstance(value, str):
        try:
            value = calendar.timegm(time.strptime(value, "%Y-%m-%dT%H:%M:%SZ"))
        except ValueError:
            return None
    zone = _zone(timezone or UI_TIMEZONE)
    if value is None or zone is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return datetime.datetime.fromtimestamp(value, zone).strftime("%d/%m/%Y %H:%M")


def user_label(user):
    """The one way outputs name a token's user: ``name <email>`` (either part alone when the other is missing)."""
    if not isinstance(user, dict):
        return None
    name, email = user.get("name"), user.get("email")
    if name and email:
        return "%s <%s>" % (name, email)
    if name or email:
        return "%s" % (name or email)
    return "id %s" % user.get("id") if user.get("id") is not None else None
