# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one Tiflux API v2 client: requests, retries, outcome classification and messages.

Private to the collection. Used by the lookup on the controller and by the modules on
target hosts, always through ansible.module_utils.urls so proxies, CA bundles and TLS
behave the same everywhere.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
from urllib.parse import urlsplit

from ansible_collections.tokenops.tiflux.plugins.module_utils._connection import CONNECTION_OPTIONS, DEFAULT_API_URL, DEFAULT_PROBES, ApiConfigError
from ansible_collections.tokenops.tiflux.plugins.module_utils._token import fingerprint, redact

USER_AGENT = "tokenops.tiflux"
# valid: 2xx; invalid: 401; forbidden: 403; rate_limited: 429 after retries;
# error: 5xx or unexpected answer; unreachable: DNS, connection, TLS or timeout.
STATUSES = ("valid", "invalid", "forbidden", "rate_limited", "error", "unreachable")
EXPECT_CHOICES = ("valid", "invalid", "any")

SESSOES_API = "Configurações > Minha conta > Sessões > Sessões API"
# Backoff for 5xx and connection errors; 429 waits what the server asks instead.
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0


def check_api_url(api_url, allow_http=False):
    """Return the normalised api_url or raise ApiConfigError with the remedy."""
    url = (api_url or "").strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ApiConfigError("api_url %r is not an http(s) URL: use the Tiflux API v2 address, e.g. %s" % (url, DEFAULT_API_URL))
    if re.search(r"/api/v1(/|$)", parts.path):
        raise ApiConfigError(
            "api_url %s points at Tiflux API v1, which does not accept tokens from %s: "
            "tokens from Sessões API only work with API v2, e.g. %s" % (url, SESSOES_API, DEFAULT_API_URL)
        )
    if parts.scheme == "http" and not allow_http:
        raise ApiConfigError(
            "api_url %s uses plain http, which would send the token unencrypted: use https, "
            "or set allow_http: true for a local test server" % url
        )
    return url


def check_ca_path(ca_path):
    """An empty ca_path means none (an unset AWX field or inventory variable)."""
    if not ca_path:
        return None
    if not os.path.isfile(ca_path) or not os.access(ca_path, os.R_OK):
        raise ApiConfigError("ca_path %s is not a readable file: point it at the PEM file of the CA that signs the Tiflux server certificate" % ca_path)
    return ca_path


def check_probes(probes):
    """Probes are API paths relative to api_url, such as /users/me."""
    probes = list(probes or DEFAULT_PROBES)
    for path in probes:
        if not isinstance(path, str) or not path.startswith("/") or "://" in path or any(c.isspace() for c in path):
            raise ApiConfigError("probe %r is not an API path: use paths relative to api_url such as /users/me or /tickets?limit=1" % (path,))
    return probes


class _Answer:
    """One HTTP attempt's outcome: an HTTP status, or a transport failure."""

    def __init__(self, http_status=None, headers=None, body=b"", failure=None, retryable=False):
        self.http_status = http_status
        self.headers = headers or {}
        self.body = body
        self.failure = failure  # (kind, detail) for transport failures
        self.retryable = retryable

    def header(self, name):
        return self.headers.get(name) if hasattr(self.headers, "get") else None

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError, AttributeError):
            return None


def _status_of(answer):
    if answer.failure:
        return "unreachable"
    code = answer.http_status
    if 200 <= code < 300:
        return "valid"
    return {401: "invalid", 403: "forbidden", 429: "rate_limited"}.get(code, "error")


def _parse_reset(value, now):
    """Seconds until an ISO-8601 UTC instant, a delta in seconds or an epoch time."""
    value = (value or "").strip()
    if not value:
        return None
    if re.match(r"^\d+(\.\d+)?$", value):
        number = float(value)
        return number - now if number > 1e9 else number
    match = re.match(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$", value)
    if not match:
        return None
    import calendar  # pylint: disable=import-outside-toplevel

    parts = [int(p) for p in match.groups()[:6]]
    epoch = calendar.timegm(tuple(parts) + (0, 0, 0))
    zone = match.group(7)
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        epoch -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return epoch - now


def _parse_retry_after(value, now):
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    import email.utils  # pylint: disable=import-outside-toplevel

    parsed = email.utils.parsedate_tz(value)
    return email.utils.mktime_tz(parsed) - now if parsed else None


class Client:
    """Checks tokens against Tiflux API v2 and explains the outcome."""

    def __init__(self, api_url=DEFAULT_API_URL, validate_certs=True, ca_path=None, timeout=10, retries=3,
                 max_retry_wait=90, allow_http=False, probes=None, sleep=time.sleep, clock=time.time):
        self.api_url = check_api_url(api_url, allow_http)
        # Checked now, before a module writes anything, not when the first check runs.
        self.probes = check_probes(probes)
        self.validate_certs = validate_certs
        self.ca_path = check_ca_path(ca_path)
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.max_retry_wait = max_retry_wait
        self._sleep = sleep
        self._clock = clock

    @classmethod
    def from_options(cls, options):
        """Build from a mapping holding the shared connection options (module params or lookup options)."""
        return cls(**dict((name, options[name]) for name in CONNECTION_OPTIONS if options.get(name) is not None))

    # -- transport -------------------------------------------------------------------------

    def _attempt(self, path, token):
        # Imported here, like everything only a request needs: ansible.module_utils.urls pulls in cryptography,
        # email.mime, http.cookiejar... which a module run that makes no API call (token_push without verify)
        # should not pay for.
        # pylint: disable=import-outside-toplevel
        import ssl
        from urllib.error import HTTPError, URLError

        from ansible.module_utils.urls import open_url

        headers = {"Authorization": "Bearer %s" % token, "Accept": "application/json"}
        try:
            # No Content-Type on GET: Tiflux answers 400 "unpermitted parameter" to it.
            response = open_url(
                self.api_url + path, method="GET", headers=headers, validate_certs=self.validate_certs,
                ca_path=self.ca_path, timeout=self.timeout, follow_redirects="none", use_netrc=False,
                http_agent=USER_AGENT,
            )
            return _Answer(response.getcode(), response.headers, response.read())
        except HTTPError as exc:
            try:
                body = exc.read()
            except Exception:  # pylint: disable=broad-except
                body = b""
            return _Answer(exc.code, exc.headers, body, retryable=exc.code == 429 or exc.code >= 500)
        except (ssl.SSLError, ssl.CertificateError) as exc:
            return _Answer(failure=("tls", str(exc)))
        except URLError as exc:
            reason = exc.reason
            if isinstance(reason, (ssl.SSLError, ssl.CertificateError)):
                return _Answer(failure=("tls", str(reason)))
            if isinstance(reason, socket.gaierror):
                return _Answer(failure=("dns", str(reason)))
            if isinstance(reason, (socket.timeout, TimeoutError)):
                return _Answer(failure=("timeout", str(reason)), retryable=True)
            return _Answer(failure=("connection", str(reason)), retryable=True)
        except (socket.timeout, TimeoutError) as exc:
            return _Answer(failure=("timeout", str(exc) or "timed out"), retryable=True)
        except Exception as exc:  # pylint: disable=broad-except
            # Dropped connections (RemoteDisconnected, reset), ansible's SSLValidationError, ...
            kind = "tls" if "certificate" in str(exc).lower() or "ssl" in type(exc).__name__.lower() else "connection"
            return _Answer(failure=(kind, "%s: %s" % (type(exc).__name__, exc)), retryable=kind == "connection")

    def _wait_for(self, answer, attempt):
        """Seconds to wait before the next attempt, or None to give up now."""
        if answer.http_status == 429:
            now = self._clock()
            wait = _parse_retry_after(answer.header("Retry-After"), now)
            reset = _parse_reset(answer.header("RateLimit-Reset"), now)
            wait = max(w for w in (wait, reset, 1.0) if w is not None)
            return wait + 0.1 if wait <= self.max_retry_wait else None
        return min(BACKOFF_CAP, BACKOFF_BASE * (2 ** attempt))

    def _get(self, path, token):
        attempt = 0
        while True:
            answer = self._attempt(path, token)
            answer.attempts = attempt + 1
            if not answer.retryable or attempt >= self.retries:
                return answer
            wait = self._wait_for(answer, attempt)
            if wait is None:
                return answer
            self._sleep(wait)
            attempt += 1

    # -- checks ----------------------------------------------------------------------------

    def check(self, token, probes=None):
        """GET each probe (default: the client's probes) with the token; stop at the first outcome that is not valid.

        Returns the result dict every plugin returns. Never contains the token.
        """
        started = self._clock()
        fp = fingerprint(token)
        result = dict(status="valid", valid=False, http_status=None, fingerprint=fp, user=None, probes=[],
                      message="", api_url=self.api_url, attempts=0)
        answer = None
        for path in check_probes(probes) if probes is not None else self.probes:
            answer = self._get(path, token)
            status = _status_of(answer)
            result["attempts"] += answer.attempts
            result["probes"].append(dict(path=path, http_status=answer.http_status, status=status))
            result["status"], result["http_status"] = status, answer.http_status
            if status == "valid" and path.split("?", 1)[0].rstrip("/") == "/users/me":
                result["user"] = _user_of(answer)
            if status != "valid":
                break
        result["valid"] = result["status"] == "valid"
        result["message"] = redact(self._message(result, answer), [token])
        result["elapsed_ms"] = int(round((self._clock() - started) * 1000))
        return result

    def _message(self, result, answer):
        fp, status = result["fingerprint"], result["status"]
        path = result["probes"][-1]["path"]
        if status == "valid":
            user = result["user"]
            who = " (user %s <%s>)" % (user.get("name"), user.get("email")) if user else ""
            return "token %s is valid at %s%s" % (fp, self.api_url, who)
        if status == "invalid":
            return (
                "Tiflux rejected token %s with 401 (Token de API inválido ou expirado) at %s: it was revoked in "
                "Sessões API, mistyped, or its user was deactivated; a lost token cannot be shown again, so generate "
                "a new one in %s, vault it and push it" % (fp, self.api_url, SESSOES_API)
            )
        if status == "forbidden":
            return (
                "token %s is valid but Tiflux answered 403%s for %s: tokens carry exactly their user's permissions, "
                "so ask a Tiflux admin to grant it to that user's access profile (Configurações > Usuários), "
                "or drop %s from probes" % (fp, _error_code(answer), path, path)
            )
        if status == "rate_limited":
            return (
                "Tiflux answered 429%s (quota exceeded) for token %s after %d attempts: the quota (about 120 requests "
                "per minute) is shared by every token and integration of the same user; wait until %s or lower the "
                "request rate" % (_error_code(answer), fp, answer.attempts, answer.header("RateLimit-Reset") or "the next minute")
            )
        if status == "unreachable":
            kind, detail = answer.failure
            detail = " ".join(detail.split())[:200]
            if kind == "tls":
                return (
                    "TLS verification of %s failed (%s): set ca_path to the CA bundle that signs the server "
                    "certificate, or validate_certs: false for a test server only" % (self.api_url, detail)
                )
            if kind == "timeout":
                return "no answer from %s within %ss after %d attempts: check the proxy and firewall of this host, or raise timeout" % (
                    self.api_url, self.timeout, answer.attempts)
            return "cannot reach %s from this host (%s) after %d attempts: check DNS, proxy and firewall, and api_url" % (
                self.api_url, detail, answer.attempts)
        code = answer.http_status
        if 300 <= code < 400:
            remedy = "set api_url to the final address (redirects are not followed, so the token is not sent elsewhere)"
        elif code == 404:
            remedy = "check that api_url ends in /api/v2 and that the probe path exists"
        elif code >= 500:
            remedy = "Tiflux failed after %d attempts; try again later" % answer.attempts
        else:
            remedy = "check api_url and probes"
        return "Tiflux answered HTTP %s%s for %s with token %s: %s" % (code, _error_code(answer), path, fp, remedy)


def _error_code(answer):
    body = answer.json() if answer is not None else None
    code = body.get("error_code") if isinstance(body, dict) else None
    return " (error_code %s)" % code if isinstance(code, int) else ""


def _user_of(answer):
    body = answer.json()
    if not isinstance(body, dict):
        return None
    return dict((key, body.get(key)) for key in ("id", "name", "email"))


def expectation_failure(result, expect):
    """The failure message when the outcome differs from what the caller expects, else None."""
    status = result["status"]
    if expect == "any" or status == expect:
        return None
    if expect == "invalid" and status == "valid":
        return (
            "token %s still works at %s: revoke it by hand in %s (the session with its creation date), "
            "then run this check again" % (result["fingerprint"], result["api_url"], SESSOES_API)
        )
    if expect == "invalid":
        return "cannot prove that token %s is revoked: %s" % (result["fingerprint"], result["message"])
    return result["message"]
