# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Token normalisation and fingerprints: the only way any output names a token.

Private to the collection; runs on the controller and on target hosts (stdlib only).
"""

from __future__ import annotations

import hashlib
import unicodedata

FINGERPRINT_PREFIX = "sha256:"
FINGERPRINT_HEX = 16

GENERATE_HINT = (
    "generate a new token in Tiflux (Configurações > Minha conta > Sessões > Sessões API) "
    "and store it again with ansible-vault encrypt_string"
)


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


def normalize(token, what="the token"):
    """Strip surrounding whitespace (vault files often end in a newline) and check the shape.

    Raises TokenError for missing/empty tokens, inner whitespace, control or non-ASCII
    characters. Tiflux tokens are printable ASCII without spaces.
    """
    if token is None:
        raise TokenError("%s is missing: pass a Tiflux API v2 token (from Ansible Vault or an AWX credential)" % what)
    if isinstance(token, bytes):
        try:
            token = token.decode("utf-8")
        except UnicodeDecodeError:
            raise TokenError("%s is not valid UTF-8 text: copy it again from Sessões API or %s" % (what, GENERATE_HINT))
    if not isinstance(token, str):
        raise TokenError("%s must be a string, got %s: quote it in YAML or pass it from a vaulted variable" % (what, type(token).__name__))
    value = token.strip()
    if not value:
        raise TokenError("%s is empty: check the vaulted variable or AWX credential that should hold it" % what)
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


def redact(text, tokens):
    """Replace every occurrence of the given tokens in text by their fingerprint.

    A last line of defence for messages built from third-party exceptions.
    """
    if not text:
        return text
    for token in tokens:
        if token:
            text = text.replace(token, describe(token))
    return text


def user_label(user):
    """The one way outputs name a Tiflux user (a /users/me answer): ``name <email>``, or ``-`` without one."""
    if not isinstance(user, dict) or not user:
        return "-"
    return "%s <%s>" % (user.get("name"), user.get("email"))
