# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one Tiflux API v2 client: requests, retries, outcome classification and messages.

Private to the collection. Used by the lookup on the controller and by the modules on
target hosts, always through Python's urllib (the stack ansible.module_utils.urls is built on, and
most integrations' HTTP libraries honour the same settings): proxies from http_proxy, https_proxy and
no_proxy, the system's CA bundle or ca_path, no redirects followed.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from urllib.parse import urlsplit

from ansible_collections.tokenops.tiflux.plugins.module_utils._connection import (
    CONNECTION_OPTIONS, DEFAULT_API_URL, DEFAULT_EXPIRY_WARNING_DAYS, DEFAULT_PROBES, DEFAULT_RATE_LIMIT_MARGIN, ApiConfigError,
)
from ansible_collections.tokenops.tiflux.plugins.module_utils._token import (
    SESSOES_API, UI_TIMEZONE, claim_time, claims, dates, fingerprint, redact, session_date, user_label, utc_iso,
)

USER_AGENT = "tokenops.tiflux"
# valid: 2xx with Tiflux's answer; invalid: 401; forbidden: 403; rate_limited: 429 after retries;
# error: 5xx, an unexpected status, or an answer that is not Tiflux's; unreachable: DNS, connection, TLS or timeout.
STATUSES = ("valid", "invalid", "forbidden", "rate_limited", "error", "unreachable")
EXPECT_CHOICES = ("valid", "invalid", "any")
QUOTA_KEYS = ("quota_limit", "quota_remaining", "quota_reset")

# Where distributions keep the system CA bundle, for a Python whose OpenSSL was built with default paths that do
# not exist on this host (as ansible.module_utils.urls looks for them too).
CA_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Alpine, Arch
    "/etc/pki/tls/certs/ca-bundle.crt",  # RHEL, Fedora, Amazon Linux
    "/etc/ssl/ca-bundle.pem",  # SUSE
    "/etc/ssl/cert.pem",  # macOS, OpenBSD
    "/usr/local/share/certs/ca-root-nss.crt",  # FreeBSD
)

# Tiflux's answers are small JSON documents; anything bigger is someone else's, and is not read whole.
MAX_BODY = 1 << 20
READ_CHUNK = 1 << 16
# Backoff for 5xx and connection errors; a 429 waits what the server asks instead.
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
    """One HTTP attempt's outcome: an HTTP status, or a transport failure.

    problem is set when an HTTP answer came but its body could not be taken: "too_large" (over MAX_BODY)
    or "slow" (not complete within the timeout).
    """

    def __init__(self, http_status=None, headers=None, body=b"", failure=None, retryable=False, problem=None):
        self.http_status = http_status
        self.headers = headers or {}
        self.body = body
        self.failure = failure  # (kind, detail) for transport failures
        self.retryable = retryable
        self.problem = problem
        self.attempts = 1
        self.after_429 = False

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
        return "error" if answer.problem else "valid"
    return {401: "invalid", 403: "forbidden", 429: "rate_limited"}.get(code, "error")


def _reset_epoch(value, now):
    """RateLimit-Reset as epoch seconds: an ISO-8601 instant (what Tiflux sends), a delta in seconds or an epoch time."""
    value = (value or "").strip()
    if not value:
        return None
    if re.match(r"^\d+(\.\d+)?$", value):
        number = float(value)
        return number if number > 1e9 else now + number
    match = re.match(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$", value)
    if not match:
        return None
    import calendar  # pylint: disable=import-outside-toplevel

    parts = [int(p) for p in match.groups()[:6]]
    try:
        epoch = calendar.timegm(tuple(parts) + (0, 0, 0))
    except (ValueError, OverflowError):
        return None
    zone = match.group(7)
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        epoch -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return float(epoch)


def _parse_retry_after(value, now):
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date), or None."""
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    import email.utils  # pylint: disable=import-outside-toplevel

    parsed = email.utils.parsedate_tz(value)
    return email.utils.mktime_tz(parsed) - now if parsed else None


def _header_int(answer, name):
    value = (answer.header(name) or "").strip()
    return int(value) if value.isdigit() else None


def quota_of(answer, now):
    """quota_limit, quota_remaining, quota_reset from the RateLimit-* headers Tiflux puts on every answer."""
    reset = _reset_epoch(answer.header("RateLimit-Reset"), now)
    return dict(quota_limit=_header_int(answer, "RateLimit-Limit"), quota_remaining=_header_int(answer, "RateLimit-Remaining"),
                quota_reset=utc_iso(reset) if reset is not None else None)


def _socket_of(response):
    """The socket under an http.client response, to bound each read by the time left (None if out of reach)."""
    try:
        sock = response.fp.raw._sock  # pylint: disable=protected-access
        return sock if hasattr(sock, "settimeout") else None
    except AttributeError:
        return None


def _read_body(response, deadline):
    """(body, problem): at most MAX_BODY bytes, all of them before the deadline, or (None, problem)."""
    length = (response.headers.get("Content-Length") or "").strip() if hasattr(response, "headers") else ""
    if length.isdigit() and int(length) > MAX_BODY:
        return None, "too_large"
    read = getattr(response, "read1", None)
    if read is None:  # not an http.client response: one bounded read
        return response.read(MAX_BODY + 1)[:MAX_BODY + 1], None
    sock = _socket_of(response)
    chunks, size = [], 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None, "slow"
        if sock is not None:
            try:
                sock.settimeout(left)
            except OSError:
                sock = None
        try:
            chunk = read(READ_CHUNK)
        except (socket.timeout, TimeoutError):
            return None, "slow"
        if not chunk:
            return b"".join(chunks), None
        size += len(chunk)
        if size > MAX_BODY:
            return None, "too_large"
        chunks.append(chunk)


def _opener(validate_certs, ca_path):
    """A urllib opener for the API: proxies from the environment, TLS verified against ca_path or the system's CA
    bundle (unless validate_certs is false), redirects answered as they are (never followed)."""
    # Imported here, like everything only a request needs: a module run that makes no API call (token_push without
    # verify) should not pay for ssl and urllib.request.
    # pylint: disable=import-outside-toplevel
    import ssl
    import urllib.request

    context = ssl.create_default_context(cafile=ca_path)
    if not validate_certs:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif ca_path is None:
        defaults = ssl.get_default_verify_paths()
        if not any(p and os.path.exists(p) for p in (defaults.cafile, defaults.capath)):
            bundle = next((p for p in CA_BUNDLES if os.path.isfile(p)), None)
            if bundle:
                context.load_verify_locations(cafile=bundle)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None  # the 3xx itself is the answer (HTTPError): a token is never sent on to another address

    return urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), NoRedirect())


def _transport_failure(exc):
    """Classify an exception from a request as an unreachable _Answer."""
    import ssl  # pylint: disable=import-outside-toplevel
    from urllib.error import URLError  # pylint: disable=import-outside-toplevel

    if isinstance(exc, (ssl.SSLError, ssl.CertificateError)):
        return _Answer(failure=("tls", str(exc)))
    if isinstance(exc, URLError):
        reason = exc.reason
        if isinstance(reason, (ssl.SSLError, ssl.CertificateError)):
            return _Answer(failure=("tls", str(reason)))
        if isinstance(reason, socket.gaierror):
            return _Answer(failure=("dns", str(reason)))
        if isinstance(reason, (socket.timeout, TimeoutError)):
            return _Answer(failure=("timeout", str(reason)), retryable=True)
        return _Answer(failure=("connection", str(reason)), retryable=True)
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return _Answer(failure=("timeout", str(exc) or "timed out"), retryable=True)
    # Dropped connections (RemoteDisconnected, reset), ...
    kind = "tls" if "certificate" in str(exc).lower() or "ssl" in type(exc).__name__.lower() else "connection"
    return _Answer(failure=(kind, "%s: %s" % (type(exc).__name__, exc)), retryable=kind == "connection")


def _attempts(count):
    return "1 attempt" if count == 1 else "%d attempts" % count


def _is_me(path):
    return path.split("?", 1)[0].rstrip("/") == "/users/me"


def _not_tiflux(path, answer):
    """Why a 2xx answer is not what Tiflux sends for this path, or None. Tiflux answers JSON; /users/me is the
    token's user, an object with an id. A captive portal or a web app answering 200 HTML is not a valid check."""
    body = answer.json()
    if body is None:
        kind = (answer.header("Content-Type") or "").split(";")[0].strip().lower()
        looks_html = "html" in kind or (answer.body or b"").lstrip()[:1] == b"<"
        return "an HTML page" if looks_html else "not JSON (Content-Type %s)" % (kind or "none")
    if _is_me(path):
        uid = body.get("id") if isinstance(body, dict) else None
        if isinstance(uid, bool) or not (isinstance(uid, int) or (isinstance(uid, str) and uid.strip())):
            return "JSON without the user's id"
    return None


def _user_of(answer, token):
    """id, name and email of the token's user, redacted like every output (a server could echo the token there)."""
    body = answer.json()
    if not isinstance(body, dict):
        return None
    user = {}
    for key in ("id", "name", "email"):
        value = body.get(key)
        if isinstance(value, str):
            value = redact(value, [token])
        elif isinstance(value, bool) or not isinstance(value, int):
            value = None
        user[key] = value
    return user


def _error_code(answer):
    body = answer.json() if answer is not None and answer.body else None
    code = body.get("error_code") if isinstance(body, dict) else None
    return " (error_code %s)" % code if isinstance(code, int) and not isinstance(code, bool) else ""


class Client:
    """Checks tokens against Tiflux API v2 and explains the outcome."""

    def __init__(self, api_url=DEFAULT_API_URL, validate_certs=True, ca_path=None, timeout=10, retries=3,
                 max_retry_wait=90, allow_http=False, probes=None, rate_limit_margin=DEFAULT_RATE_LIMIT_MARGIN,
                 expiry_warning_days=DEFAULT_EXPIRY_WARNING_DAYS, sleep=time.sleep, clock=time.time):
        self.api_url = check_api_url(api_url, allow_http)
        # Checked now, before a module writes anything, not when the first check runs.
        self.probes = check_probes(probes)
        self.validate_certs = validate_certs
        self.ca_path = check_ca_path(ca_path)
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.max_retry_wait = max_retry_wait
        self.rate_limit_margin = max(0.0, float(rate_limit_margin))
        self.expiry_warning_days = expiry_warning_days
        self._sleep = sleep
        self._clock = clock
        self._opener = None

    @classmethod
    def from_options(cls, options):
        """Build from a mapping holding the shared connection options (module params or lookup options)."""
        return cls(**dict((name, options[name]) for name in CONNECTION_OPTIONS if options.get(name) is not None))

    # -- transport -------------------------------------------------------------------------

    def _exchange(self, path, token, deadline, box):
        """One request, run in a worker thread so the caller can stop waiting at the deadline whatever the server does."""
        # pylint: disable=import-outside-toplevel
        from urllib.error import HTTPError
        from urllib.request import Request

        # No Content-Type on GET: Tiflux answers 400 "unpermitted parameter" to it.
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if token is not None:
            headers["Authorization"] = "Bearer %s" % token
        response = error = None
        try:
            try:
                if self._opener is None:
                    self._opener = _opener(self.validate_certs, self.ca_path)
                response = self._opener.open(Request(self.api_url + path, headers=headers, method="GET"),
                                             timeout=max(0.1, deadline - time.monotonic()))
                status, answer_headers = response.getcode(), response.headers
            except HTTPError as exc:
                # Keep the exception alive while its body is read: collecting it closes its fp.
                status, answer_headers, error = exc.code, exc.headers, exc
                response = getattr(error, "fp", None)
            box["headers"] = (status, answer_headers)
            try:
                body, problem = _read_body(response, deadline) if response is not None else (b"", None)
            except Exception as exc:  # pylint: disable=broad-except
                # The connection broke in the middle of the body.
                box["answer"] = _transport_failure(exc)
                return
            retryable = problem is None and (status == 429 or status >= 500)
            box["answer"] = _Answer(status, answer_headers, body, retryable=retryable, problem=problem)
        except Exception as exc:  # pylint: disable=broad-except
            box["answer"] = _transport_failure(exc)
        finally:
            if response is not None:
                try:
                    response.close()
                except Exception:  # pylint: disable=broad-except
                    pass

    def _attempt(self, path, token):
        """One HTTP attempt, bounded as a whole by timeout (connection, answer and body)."""
        deadline = time.monotonic() + self.timeout
        box = {}
        worker = threading.Thread(target=self._exchange, args=(path, token, deadline, box), name="tokenops-tiflux-request")
        worker.daemon = True  # a server that holds the connection open must not hold the process too
        worker.start()
        worker.join(max(0.0, deadline - time.monotonic()) + 0.05)
        answer = box.get("answer")
        if answer is not None:
            return answer
        if "headers" in box:
            status, answer_headers = box["headers"]
            return _Answer(status, answer_headers, None, problem="slow")
        return _Answer(failure=("timeout", "no answer within %ss" % self.timeout), retryable=True)

    def _wait_for(self, answer, attempt):
        """Seconds to wait before the next attempt, or None to give up now."""
        if answer.http_status in (401, 429):
            now = self._clock()
            wait = _parse_retry_after(answer.header("Retry-After"), now)
            if wait is None:
                reset = _reset_epoch(answer.header("RateLimit-Reset"), now)
                # Tiflux's clock runs behind: its reset comes a little after the instant it names.
                wait = reset - now + self.rate_limit_margin if reset is not None else float(2 ** attempt)
            wait = max(0.0, wait)
            return wait if wait <= self.max_retry_wait else None
        return min(BACKOFF_CAP, BACKOFF_BASE * (2 ** attempt))

    def _get(self, path, token, http_retries=True):
        """GET with retries. http_retries=False retries transport failures only (any HTTP answer is final)."""
        attempt, after_429 = 0, False
        while True:
            answer = self._attempt(path, token)
            answer.attempts, answer.after_429 = attempt + 1, after_429
            if http_retries:
                # Observed: under persistent quota excess Tiflux may answer 401 instead of 429; ask again after the reset.
                retry = answer.retryable or (answer.http_status == 401 and after_429)
            else:
                retry = answer.failure is not None and answer.retryable
            if not retry or attempt >= self.retries:
                return answer
            wait = self._wait_for(answer, attempt)
            if wait is None:
                return answer
            after_429 = after_429 or answer.http_status == 429
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
        result.update(dates(token, started))
        result.update(dict.fromkeys(QUOTA_KEYS))
        answer, not_tiflux = None, None
        for path in check_probes(probes) if probes is not None else self.probes:
            answer = self._get(path, token)
            status = _status_of(answer)
            if answer.http_status is not None:
                result.update(quota_of(answer, self._clock()))
            if status == "valid":
                not_tiflux = _not_tiflux(path, answer)
                status = "error" if not_tiflux else status
            result["attempts"] += answer.attempts
            result["probes"].append(dict(path=path, http_status=answer.http_status, status=status))
            result["status"], result["http_status"] = status, answer.http_status
            if status == "valid" and _is_me(path):
                result["user"] = _user_of(answer, token)
            if status != "valid":
                break
        result["valid"] = result["status"] == "valid"
        result["message"] = redact(self._message(result, answer, token, not_tiflux), [token])
        result["elapsed_ms"] = int(round((self._clock() - started) * 1000))
        return result

    def reach(self, path="/users/me"):
        """Prove this host's network path to api_url (DNS, proxy, TLS, CA) with a GET that carries no token.

        Any HTTP answer (401 and 429 included) means reached, but a 2xx, which Tiflux never gives a request without a
        token (a captive portal, a proxy's page); only the per-IP limit of requests without a valid token is spent,
        none of the user's quota. Transport failures are retried like in check().
        """
        path = check_probes([path])[0]
        started = self._clock()
        answer = self._get(path, None, http_retries=False)
        reached = answer.failure is None and not 200 <= answer.http_status < 300
        if reached:
            message = "reached %s from this host (HTTP %s to %s without a token): the network path to Tiflux works" % (
                self.api_url, answer.http_status, path)
        elif answer.failure is None:
            # Tiflux answers a request without a token with 401 (or 429): a 2xx comes from someone else.
            message = ("%s answered HTTP %s to %s without a token, which Tiflux never does: a captive portal or proxy "
                       "answers in its place; check api_url and this host's proxy settings" % (
                           self.api_url, answer.http_status, path))
        else:
            message = self._transport_message(answer)
        return dict(reached=reached, status="reached" if reached else "unreachable", http_status=answer.http_status,
                    message=message, elapsed_ms=int(round((self._clock() - started) * 1000)), api_url=self.api_url,
                    attempts=answer.attempts)

    def _transport_message(self, answer):
        kind, detail = answer.failure
        detail = " ".join(detail.split())[:200]
        if kind == "tls":
            return (
                "TLS verification of %s failed (%s): set ca_path to the CA bundle that signs the server "
                "certificate, or validate_certs: false for a test server only" % (self.api_url, detail)
            )
        if kind == "timeout":
            return "no answer from %s within %ss after %s: check the proxy and firewall of this host, or raise timeout" % (
                self.api_url, self.timeout, _attempts(answer.attempts))
        return "cannot reach %s from this host (%s) after %s: check DNS, proxy and firewall, and api_url" % (
            self.api_url, detail, _attempts(answer.attempts))

    def _message(self, result, answer, token, not_tiflux):
        fp, status = result["fingerprint"], result["status"]
        path = result["probes"][-1]["path"]
        if status == "valid":
            label = user_label(result["user"])
            return "token %s is valid at %s%s" % (fp, self.api_url, " (user %s)" % label if label else "")
        if status == "invalid":
            return self._invalid_message(result, answer, token)
        if status == "forbidden":
            return (
                "token %s is valid but Tiflux answered 403%s for %s: tokens carry exactly their user's permissions, "
                "so ask a Tiflux admin to grant it to that user's access profile (Configurações > Usuários), "
                "or drop %s from probes" % (fp, _error_code(answer), path, path)
            )
        if status == "rate_limited":
            quota = "%s requests per minute" % result["quota_limit"] if result["quota_limit"] else "about 120 requests per minute"
            return (
                "Tiflux answered 429%s (quota exceeded) for token %s after %s: the quota (%s per user) is "
                "shared by every token and integration of the same user, and requests without a valid token have "
                "their own limit per client IP; wait until %s or lower the request rate"
                % (_error_code(answer), fp, _attempts(answer.attempts), quota, result["quota_reset"] or "the next minute")
            )
        if status == "unreachable":
            return self._transport_message(answer)
        code = answer.http_status
        if answer.problem == "too_large":
            return (
                "the answer from %s%s (HTTP %s) is larger than %d KiB, which Tiflux never sends, so token %s is not proven: "
                "api_url, or a proxy on the way, does not lead to Tiflux API v2; check api_url and this host's proxy"
                % (self.api_url, path, code, MAX_BODY // 1024, fp)
            )
        if answer.problem == "slow":
            return (
                "the answer from %s%s (HTTP %s) did not arrive whole within %ss (timeout bounds the whole request), so "
                "token %s is not proven: a slow proxy or a server that is not Tiflux API v2 answers at api_url; check "
                "api_url and this host's proxy, or raise timeout" % (self.api_url, path, code, self.timeout, fp)
            )
        if not_tiflux:
            return (
                "the answer from %s%s (HTTP %s, %s) is not Tiflux's, so token %s is not proven: a captive portal, a proxy "
                "login page or another web app answers at api_url; check api_url and this host's proxy, then check again"
                % (self.api_url, path, code, not_tiflux, fp)
            )
        if 300 <= code < 400:
            remedy = "set api_url to the final address (redirects are not followed, so the token is not sent elsewhere)"
        elif code == 404:
            remedy = "check that api_url ends in /api/v2 and that the probe path exists"
        elif code >= 500:
            remedy = "Tiflux failed after %s; try again later" % _attempts(answer.attempts)
        else:
            remedy = "check api_url and probes"
        return "Tiflux answered HTTP %s%s for %s with token %s: %s" % (code, _error_code(answer), path, fp, remedy)

    def _invalid_message(self, result, answer, token):
        fp = result["fingerprint"]
        expires = claim_time(claims(token), "exp")
        if expires is not None and expires <= self._clock():
            message = (
                "Tiflux rejected token %s with 401 (Token de API inválido ou expirado) at %s: it expired on %s "
                "(Tiflux tokens expire two years after they are made) and cannot be renewed; generate a new one in "
                "%s, vault it and push it (or rotate it with tokenops.tiflux.rotate)" % (fp, self.api_url, result["expires_at"], SESSOES_API)
            )
        else:
            message = (
                "Tiflux rejected token %s with 401 (Token de API inválido ou expirado) at %s: it was revoked in "
                "Sessões API, replaced by a newer token made in the same browser, mistyped, or its user was "
                "deactivated; a lost token cannot be shown again, so generate a new one in %s, vault it and push it"
                % (fp, self.api_url, SESSOES_API)
            )
        if answer.after_429:
            message += (
                " (this 401 came after a 429: under persistent quota excess Tiflux may answer 401, so check again once "
                "the quota resets before treating the token as revoked)"
            )
        return message


def unchecked(token):
    """The result of a shape-only check (no API call): what the token's claims say, no verdict."""
    fp = fingerprint(token)
    result = dict(status="unchecked", valid=None, http_status=None, fingerprint=fp, user=None, probes=[],
                  message="token %s has a valid shape (not checked: check=false)" % fp, elapsed_ms=0, api_url=None, attempts=0)
    result.update(dates(token))
    result.update(dict.fromkeys(QUOTA_KEYS))
    return result


def expiry_warning(result, days=DEFAULT_EXPIRY_WARNING_DAYS):
    """The warning for a token that expires within ``days`` by its claims, or None (also for days 0/None).

    A token Tiflux rejected has its failure message instead.
    """
    left = result.get("expires_in_days")
    if left is None or not days or days < 0 or left > days or result.get("status") == "invalid":
        return None
    fp, when = result.get("fingerprint"), result.get("expires_at")
    if left < 0:
        return (
            "token %s expired on %s by its claims, but Tiflux did not reject it (status %s): generate a new one in %s "
            "and rotate it before Tiflux does" % (fp, when, result.get("status"), SESSOES_API)
        )
    return (
        "token %s expires on %s (in %d day%s); Tiflux rejects it from then on: generate a new one in %s and rotate it "
        "before then (warned %d days ahead: expiry_warning_days)" % (fp, when, left, "" if left == 1 else "s", SESSOES_API, days)
    )


def expectation_failure(result, expect):
    """The failure message when the outcome differs from what the caller expects, else None."""
    status = result["status"]
    if expect == "any" or status == expect:
        return None
    if expect == "invalid" and status == "valid":
        made = session_date(result.get("issued_at"))
        session = ("the session whose Data da sessão is %s, %s time" % (made, UI_TIMEZONE) if made
                   else "the session with its creation date")
        return (
            "token %s still works at %s: revoke it by hand in %s (%s), then run this check again"
            % (result["fingerprint"], result["api_url"], SESSOES_API, session)
        )
    if expect == "invalid":
        return "cannot prove that token %s is revoked: %s" % (result["fingerprint"], result["message"])
    return result["message"]
