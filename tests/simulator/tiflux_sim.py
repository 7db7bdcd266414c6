"""Tiflux API v2 simulator for integration tests, molecule scenarios, benchmarks and the demo.

A real HTTP(S) server on loopback that behaves like https://api.tiflux.com/api/v2 as far as
the collection cares (per-user JWT tokens that expire, device sessions, 401/403/422/429 with
Tiflux's error bodies, RateLimit headers, pagination, quota per user and per client IP), plus
a control API under /_sim to create users, issue and revoke tokens, inject faults (including
answers that are not Tiflux's) and read counters. README.md lists each behaviour beside its
source. Standard library only (Python >= 3.9); ``--tls`` also needs the ``openssl`` CLI.

    python tiflux_sim.py serve [--tls] [--info-file PATH] ...
    python tiflux_sim.py ctl --info-file PATH create-user --name N --email E

Tokens are generated at run time, kept only as SHA-256 digests and named everywhere by
their fingerprint; the value appears once, in the answer that issues it.
"""

from __future__ import annotations

import argparse
import base64
import calendar
import hashlib
import hmac
import json
import logging
import math
import os
import re
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from socketserver import TCPServer
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger("tiflux_sim")

LICENCE = "API por usuário"
ADMIN_HEADER = "X-Sim-Admin-Key"
SIM_PREFIX = "/_sim/"
HEALTH_PATH = "/_sim/health"
MAX_BODY = 1 << 20
PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX = 20, 200
FAULT_KINDS = ("latency", "status", "drop", "rate_limit", "html", "trickle", "oversize")
INVALID_MESSAGE = "Token de API inválido ou expirado"  # the official client's words for a 401; Tiflux's body is not published
QUOTA_MESSAGE = "Limite de requisições excedido, tente novamente mais tarde"
UI_TIMEZONE = "America/Sao_Paulo"  # where "Data da sessão" is shown unless the config says otherwise
STREAM_CHUNK = 1 << 16
CAPTIVE_PORTAL = (b"<!DOCTYPE html>\n<html><head><title>Wi-Fi - Acesso</title></head>"
                  b"<body><h1>Bem-vindo</h1><form method=\"post\"><input name=\"login\"></form></body></html>\n")


def utc_iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def fingerprint(token: str) -> str:
    """Same as the collection's module_utils/_token.py: the only way anything names a token."""
    return "sha256:" + _digest(token)[:16]  # Token.fingerprint derives the same from the stored digest


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_jwt(claims: dict, secret: bytes) -> str:
    """HS256 JWT with the header Tiflux's tokens carry ({"alg":"HS256"})."""
    signing_input = _b64url(b'{"alg":"HS256"}') + "." + _b64url(json.dumps(claims, separators=(",", ":")).encode("utf-8"))
    signature = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
    return signing_input + "." + _b64url(signature)


def two_years_after(ts: int) -> int:
    """exp of a Tiflux token: the same instant two calendar years later (29 February becomes 28 February)."""
    moment = datetime.fromtimestamp(ts, timezone.utc)
    try:
        later = moment.replace(year=moment.year + 2)
    except ValueError:
        later = moment.replace(year=moment.year + 2, day=28)
    return int(later.timestamp())


def _zone(name: str):
    try:
        import zoneinfo  # pylint: disable=import-outside-toplevel

        return zoneinfo.ZoneInfo(name)
    except Exception:  # pylint: disable=broad-except
        if name == UI_TIMEZONE:
            return timezone(timedelta(hours=-3))  # no tz database: Brazil has kept UTC-3 all year since 2019
        raise ValueError("unknown timezone %r" % name) from None


def session_date(ts: float, zone_name: str) -> str:
    """"Data da sessão" as Sessões API shows it: dd/mm/yyyy HH:MM in the viewer's local time."""
    return datetime.fromtimestamp(ts, _zone(zone_name)).strftime("%d/%m/%Y %H:%M")


def _epoch(value) -> int:
    """An epoch number or a YYYY-MM-DDTHH:MM:SSZ string as epoch seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    return calendar.timegm(time.strptime(value, "%Y-%m-%dT%H:%M:%SZ"))


# -- deterministic fixtures ------------------------------------------------------------------

DESKS = [{"id": i, "name": name, "active": i != 5}
         for i, name in enumerate(("Suporte N1", "Suporte N2", "Infraestrutura", "Financeiro", "Comercial (antiga)"), 1)]
CLIENTS = [{"id": i, "name": "Cliente Exemplo %02d Ltda" % i, "active": True} for i in range(1, 13)]
# Which desks serve each client: two each, in turn.
CLIENT_DESKS = {c["id"]: [DESKS[(c["id"] - 1) % 4], DESKS[c["id"] % 4]] for c in CLIENTS}
_TICKET_STATUSES = ("Aberto", "Em atendimento", "Aguardando cliente", "Fechado")
_TICKETS_START = datetime(2026, 1, 5, 12, tzinfo=timezone.utc)
TICKETS = [
    {
        "ticket_number": n,
        "title": "Chamado de teste %d" % n,
        "status": {"id": n % 4 + 1, "name": _TICKET_STATUSES[n % 4]},
        "priority": ("baixa", "média", "alta")[n % 3],
        "desk": {"id": DESKS[n % 4]["id"], "name": DESKS[n % 4]["name"]},
        "client": {"id": CLIENTS[n % 12]["id"], "name": CLIENTS[n % 12]["name"]},
        "created_at": (_TICKETS_START + timedelta(hours=n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    for n in range(1, 46)
]


# -- replies -----------------------------------------------------------------------------------

class Reply(Exception):
    """An HTTP answer. Handlers return it; raising it anywhere short-circuits the pipeline.

    body is JSON; raw (bytes, with content_type) replaces it; chunks, an iterable of (bytes, seconds to wait
    before sending them), streams the body with length bytes in all (None: no Content-Length, the connection
    closes after the body).
    """

    def __init__(self, status: int, body, headers: dict | None = None, raw: bytes | None = None,
                 content_type: str = "application/json; charset=utf-8", chunks=None, length: int | None = None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, dict(headers or {})
        self.raw, self.content_type, self.chunks, self.length = raw, content_type, chunks, length


class Drop(Exception):
    """Close the connection without sending a byte (the 'drop' fault)."""


def fail(status: int, message: str, code: int | None = None, headers: dict | None = None, detail: dict | None = None) -> Reply:
    """The one error helper. API errors have Tiflux's errors_object: error_code, message, detail ({key: [str]});
    control errors only a message."""
    body = {"error": message} if code is None else {"error_code": code, "message": message, "detail": dict(detail or {})}
    return Reply(status, body, headers)


def quota_headers(limit: int, remaining: int, reset_at: float) -> dict:
    return {"RateLimit-Limit": str(limit), "RateLimit-Remaining": str(max(0, remaining)), "RateLimit-Reset": utc_iso(reset_at)}


def rate_limited(reset_at: float, limit: int, retry_after: int | None = None) -> Reply:
    headers = quota_headers(limit, 0, reset_at)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return fail(429, QUOTA_MESSAGE, 42901, headers)


def invalid(headers: dict | None = None) -> Reply:
    return fail(401, INVALID_MESSAGE, 40101, headers)


class Request:
    def __init__(self, method: str, target: str, headers, body: bytes, client_ip: str = "127.0.0.1"):
        parts = urlsplit(target)
        self.method, self.path, self.headers, self.body = method, parts.path, headers, body
        self.query = parse_qs(parts.query, keep_blank_values=True)
        self.client_ip = client_ip
        self.params: tuple = ()
        self.data = None          # parsed JSON body (control API)
        self.user = None          # authenticated user (API)
        self.fingerprint = None   # of the bearer token, for the access log


# -- validation of control API bodies -------------------------------------------------------------

def _is_int(lo, hi):
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def _is_number(lo, hi):
    return lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and lo <= v <= hi


def _is_text(value) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _is_bool(value) -> bool:
    return isinstance(value, bool)


def _is_names(value) -> bool:
    return isinstance(value, list) and all(isinstance(x, str) for x in value)


def _is_ms(value) -> bool:
    return _is_number(0, 600000)(value)


def _is_zone(value) -> bool:
    try:
        return _is_text(value) and _zone(value) is not None
    except ValueError:
        return False


def _is_instant(value) -> bool:
    try:
        return _is_number(0, 253402300799)(value) or (isinstance(value, str) and _epoch(value) >= 0)
    except ValueError:
        return False


def _is_ip(value) -> bool:
    return isinstance(value, str) and bool(re.fullmatch(r"[0-9A-Fa-f:.]{2,45}", value))


USER_FIELDS = {"name": _is_text, "email": _is_text, "licensed": _is_bool, "active": _is_bool, "permissions": _is_names}
CONFIG_DEFAULTS = {
    "quota_per_minute": 120,         # documented: 120 per minute per user
    "window_seconds": 60,            # documented: the clock minute
    "ip_quota_per_minute": 0,        # documented: 10 per minute per client IP without a valid token; 0 = not enforced
    "clock_skew_seconds": 0,         # observed: Tiflux's clock runs 1-2 s behind (-2)
    "quota_retry_after": False,      # observed: one client reads Retry-After "when present"; not documented
    "quota_excess_401_after": 0,     # observed, unconfirmed: 401 instead of 429 under persistent excess; 0 = never
    "token_lifetime_seconds": 0,     # 0 = two calendar years (what a real token showed)
    "timezone": UI_TIMEZONE,         # the viewer's timezone for "Data da sessão"
}
CONFIG_FIELDS = {
    "quota_per_minute": _is_int(0, 10 ** 9), "window_seconds": _is_int(1, 86400),
    "ip_quota_per_minute": _is_int(0, 10 ** 9), "clock_skew_seconds": _is_number(-86400, 86400),
    "quota_retry_after": _is_bool, "quota_excess_401_after": _is_int(0, 10 ** 9),
    "token_lifetime_seconds": _is_int(0, 100 * 366 * 86400), "timezone": _is_zone,
}
TOKEN_FIELDS = {"device": _is_text, "ip": _is_ip, "lifetime_seconds": _is_int(1, 100 * 366 * 86400),
                "issued_at": _is_instant, "opaque": _is_bool}
FAULT_COMMON = {
    "kind": lambda v: v in FAULT_KINDS,
    "count": lambda v: _is_int(-1, -1)(v) or _is_int(1, 10 ** 9)(v),  # -1 = until cleared
    # any path but the control API's: a captive portal answers every path
    "path_prefix": lambda v: isinstance(v, str) and v.startswith("/") and not v.startswith("/_sim"),
}
FAULT_OPTIONS = {  # per kind: {field: (validator, default)}; a None default makes the field required
    "latency": {"latency_ms": (_is_ms, None)},
    "status": {"status": (_is_int(400, 599), None)},
    "drop": {},
    "rate_limit": {"retry_after": (lambda v: v is False or _is_int(0, 86400)(v), 1)},  # false: no Retry-After header
    "html": {},
    "trickle": {"interval_ms": (_is_ms, 2000)},
    "oversize": {"size_bytes": (_is_int(1, 1 << 40), 400 << 20), "content_length": (_is_bool, True)},
}


def checked(data, fields: dict, required=()) -> dict:
    """Validate a JSON object against {name: predicate}; 400 on anything unexpected."""
    if not isinstance(data, dict):
        raise fail(400, "expected a JSON object")
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise fail(400, "unknown field(s): %s" % ", ".join(unknown))
    for name in required:
        if name not in data:
            raise fail(400, "missing field: %s" % name)
    for name, value in data.items():
        if not fields[name](value):
            raise fail(400, "invalid value for %s: %r" % (name, value))
    return data


def checked_fault(data) -> dict:
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind not in FAULT_KINDS:
        raise fail(400, "fault kind must be one of %s" % ", ".join(FAULT_KINDS))
    options = FAULT_OPTIONS[kind]
    checked(data, dict(FAULT_COMMON, **{name: option[0] for name, option in options.items()}),
            required=[name for name, option in options.items() if option[1] is None])
    defaults = {name: option[1] for name, option in options.items() if option[1] is not None}
    return {"count": 1, "path_prefix": "/api/", **defaults, **data}


def _query_int(req: Request, name: str, default: int) -> int:
    values = req.query.get(name)
    if not values:
        return default
    if not re.fullmatch(r"-?[0-9]+", values[-1]):
        raise fail(422, "%s deve ser um número inteiro" % name, 42201, detail={name: ["deve ser um número inteiro"]})
    return int(values[-1])


# -- state and request pipeline ----------------------------------------------------------------

class User:
    def __init__(self, uid: int, name, email, licensed=True, active=True, permissions=()):
        self.id, self.name, self.email = uid, name, email
        self.licensed, self.active, self.permissions = licensed, active, list(permissions)

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "email": self.email, "licensed": self.licensed,
                "active": self.active, "permissions": list(self.permissions)}


class Token:
    """One API session: a token, the device (browser) and IP it was made from, when, and until when it works."""

    def __init__(self, tid: int, user_id: int, digest: str, issued_at: int, expires_at: int, device: str, ip: str, jwt: bool):
        self.id, self.user_id, self.digest = tid, user_id, digest
        self.issued_at, self.expires_at, self.device, self.ip, self.jwt = issued_at, expires_at, device, ip, jwt
        self.last_used_at, self.revoked, self.revoked_reason = None, False, None

    @property
    def fingerprint(self) -> str:
        return "sha256:" + self.digest[:16]

    def expired(self, now: float) -> bool:
        return now >= self.expires_at

    def to_dict(self, now: float | None = None) -> dict:
        return {"id": self.id, "user_id": self.user_id, "created_at": utc_iso(self.issued_at),
                "expires_at": utc_iso(self.expires_at), "expired": now is not None and self.expired(now),
                "last_used_at": self.last_used_at, "revoked": self.revoked, "revoked_reason": self.revoked_reason,
                "device": self.device, "ip": self.ip, "jwt": self.jwt, "fingerprint": self.fingerprint}


def _empty_counters() -> dict:
    return {"total": 0, "rejected_429": 0, "rejected_429_ip": 0, "dropped": 0, "streamed_bytes": 0, "by_status": Counter(),
            "by_path": Counter(), "by_token": Counter(), "by_fingerprint": Counter(), "by_user": Counter(),
            "by_ip": Counter(), "per_minute": defaultdict(Counter)}


class SimState:
    """Everything the simulator knows, guarded by one lock; HTTP-agnostic."""

    def __init__(self, admin_key: str, quota_per_minute: int = 120, window_seconds: int = 60, **config):
        self.admin_key = admin_key
        try:
            self.initial_config = dict(CONFIG_DEFAULTS, **checked(
                dict(config, quota_per_minute=quota_per_minute, window_seconds=window_seconds), CONFIG_FIELDS))
        except Reply as err:
            raise ValueError(err.body["error"]) from None
        self.secret = secrets.token_bytes(32)  # signs the JWTs; never leaves the process
        self.lock = threading.Lock()
        # ids keep growing across resets so a stale id held by a test never names a new object
        self.ids = {"user": count(1), "token": count(1), "fault": count(1), "device": count(1)}
        self._wipe()

    def _wipe(self):
        self.users: dict[int, User] = {}
        self.tokens: dict[int, Token] = {}
        self.tokens_by_digest: dict[str, Token] = {}
        self.faults: list[dict] = []
        self.counters = _empty_counters()
        self.config = dict(self.initial_config)
        self.quota: dict[int, tuple] = {}     # user id -> (window start, requests used, 429s answered)
        self.ip_quota: dict[str, tuple] = {}  # client IP -> (window start, requests without a valid token)

    def now(self) -> float:
        """The simulated Tiflux's clock (clock_skew_seconds off the real one)."""
        return time.time() + self.config["clock_skew_seconds"]

    def _window(self, now: float) -> tuple:
        window = self.config["window_seconds"]
        start = now // window * window  # aligned on the clock: with 60 s, the clock minute
        return start, start + window

    def handle(self, req: Request) -> Reply:
        """Answer one request; raises Drop when the connection must close silently."""
        try:
            if req.path.startswith(SIM_PREFIX):
                return self._control(req)
            return self._api(req)
        except Reply as reply:
            return reply

    # -- API pipeline: count -> faults -> v1 -> auth (per-IP limit) -> quota -> licence -> content type -> route

    def _api(self, req: Request) -> Reply:
        try:
            reply = self._api_pipeline(req)
        except Reply as err:
            reply = err
        except Drop:
            with self.lock:
                self.counters["dropped"] += 1
            raise
        with self.lock:
            self.counters["by_status"][str(reply.status)] += 1
        return reply

    def _api_pipeline(self, req: Request) -> Reply:
        token = _bearer(req.headers.get("Authorization"))
        req.fingerprint = fingerprint(token) if token else None
        with self.lock:
            record = self.tokens_by_digest.get(_digest(token)) if token else None
            self._count_received(req, record)
            latency, fault = self._take_faults(req.path)
        if latency:
            time.sleep(latency["latency_ms"] / 1000.0)
        if fault:
            raise self._fault_reply(fault, req)
        if not req.path.startswith("/api/"):
            raise fail(404, "not found", 40401)
        if req.path == "/api/v1" or req.path.startswith("/api/v1/"):
            raise fail(401, "A API v1 não aceita tokens de usuário da API v2", 40100)
        with self.lock:
            req.user = self._authenticate(record, req)
            headers = self._consume_quota(req.user)
        try:
            if not req.user.licensed:  # the licence was taken away after the token was made
                raise fail(403, 'Usuário sem a licença "%s"' % LICENCE, 40304)
            if req.method == "GET" and _media_type(req.headers.get("Content-Type")) == "application/json":
                raise fail(400, "unpermitted parameter", 40001, detail={"content_type": ["unpermitted parameter"]})
            reply = self._route(req, api=True)
        except Reply as err:
            reply = err
        reply.headers.update(headers)
        return reply

    def _count_received(self, req: Request, record: Token | None):
        c = self.counters
        c["total"] += 1
        c["by_path"][req.path] += 1
        if req.fingerprint:
            c["by_fingerprint"][req.fingerprint] += 1
        if record:
            c["by_token"][str(record.id)] += 1
            c["by_user"][str(record.user_id)] += 1

    def _take_faults(self, path: str):
        """Latency combines with the rest; of the other kinds the first queued one wins.
        Only the faults applied are consumed."""
        matching = [f for f in self.faults if path.startswith(f["path_prefix"])]
        latency = next((f for f in matching if f["kind"] == "latency"), None)
        final = next((f for f in matching if f["kind"] != "latency"), None)
        for fault in (latency, final):
            if fault and fault["count"] > 0:
                fault["count"] -= 1
                if fault["count"] == 0:
                    self.faults.remove(fault)
        return latency, final

    def _authenticate(self, record: Token | None, req: Request) -> User:
        now = self.now()
        user = self.users.get(record.user_id) if record else None
        if not user or record.revoked or not user.active or record.expired(now):
            raise self._unauthenticated(req, now)
        record.last_used_at = utc_iso(now)
        return user

    def _unauthenticated(self, req: Request, now: float) -> Reply:
        """A request without a valid token: 401, on the per-IP limit (10/min documented) when it is enforced."""
        self.counters["by_ip"][req.client_ip] += 1
        limit = self.config["ip_quota_per_minute"]
        if not limit:
            return invalid()
        start, end = self._window(now)
        used_start, used = self.ip_quota.get(req.client_ip, (start, 0))
        used = used if used_start == start else 0
        if used >= limit:
            self.counters["rejected_429_ip"] += 1
            return rate_limited(end, limit, max(1, math.ceil(end - now)) if self.config["quota_retry_after"] else None)
        self.ip_quota[req.client_ip] = (start, used + 1)
        return invalid(quota_headers(limit, limit - used - 1, end))

    def _consume_quota(self, user: User) -> dict:
        now = self.now()
        limit = self.config["quota_per_minute"]
        start, end = self._window(now)
        used_start, used, refused = self.quota.get(user.id, (start, 0, 0))
        if used_start != start:
            used, refused = 0, 0
        if used >= limit:
            self.quota[user.id] = (start, used, refused + 1)
            self.counters["rejected_429"] += 1
            excess = self.config["quota_excess_401_after"]
            if excess and refused >= excess:
                raise invalid(quota_headers(limit, 0, end))
            raise rate_limited(end, limit, max(1, math.ceil(end - now)) if self.config["quota_retry_after"] else None)
        self.quota[user.id] = (start, used + 1, refused)
        minute = datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M")
        self.counters["per_minute"][str(user.id)][minute] += 1
        return quota_headers(limit, limit - used - 1, end)

    def _fault_reply(self, fault: dict, req: Request) -> Exception:
        kind = fault["kind"]
        if kind == "drop":
            return Drop()
        if kind == "status":
            return fail(fault["status"], "simulated fault", fault["status"] * 100)
        if kind == "html":  # a captive portal or a web app at the wrong end of api_url
            return Reply(200, None, raw=CAPTIVE_PORTAL, content_type="text/html; charset=utf-8")
        if kind == "trickle":  # a JSON user that would pass as /users/me if the client waited for all of it
            body = json.dumps({"id": 1, "name": "slow", "email": "slow@example.com"}).encode("utf-8")
            delay = fault["interval_ms"] / 1000.0
            return Reply(200, None, chunks=((body[i:i + 1], delay) for i in range(len(body))), length=len(body))
        if kind == "oversize":
            size = fault["size_bytes"]
            return Reply(200, None, chunks=_oversize_chunks(size), length=size if fault["content_length"] else None)
        now = self.now()
        retry_after = fault["retry_after"]
        # Reset rounded up so a client honouring it never retries before Retry-After
        reset = math.ceil(now + retry_after) if retry_after is not False else self._window(now)[1]
        return rate_limited(reset, self.config["quota_per_minute"], None if retry_after is False else retry_after)

    def add_streamed(self, size: int):
        with self.lock:
            self.counters["streamed_bytes"] += size

    # -- control pipeline ---------------------------------------------------------------------

    def _control(self, req: Request) -> Reply:
        if req.path != HEALTH_PATH:
            key = req.headers.get(ADMIN_HEADER) or ""
            if not hmac.compare_digest(key.encode(), self.admin_key.encode()):
                raise fail(403, "admin key required")
        if req.body:
            try:
                req.data = json.loads(req.body)
            except ValueError:
                raise fail(400, "request body is not valid JSON") from None
        return self._route(req, api=False)

    def _route(self, req: Request, api: bool) -> Reply:
        allowed = []
        for method, pattern, handler in self.ROUTES:
            match = re.fullmatch(pattern, req.path)
            if match and method == req.method:
                req.params = match.groups()
                with self.lock:
                    return handler(self, req)
            if match:
                allowed.append(method)
        if allowed:
            raise fail(405, "method not allowed", 40500 if api else None, {"Allow": ", ".join(allowed)})
        raise fail(404, "not found", 40401 if api else None)

    # -- API resources (called with the lock held) ------------------------------------------------

    def api_me(self, req):
        return Reply(200, {"id": req.user.id, "name": req.user.name, "email": req.user.email})

    def api_users(self, req):
        if "users_manage" not in req.user.permissions:
            raise fail(403, "Usuário sem permissão para acessar este recurso", 40301)
        users = [{"id": u.id, "name": u.name, "email": u.email, "active": u.active} for u in self.users.values()]
        return _page(req, users)

    def api_tickets(self, req):
        return _page(req, TICKETS)

    def api_ticket(self, req):
        number = int(req.params[0])
        ticket = next((t for t in TICKETS if t["ticket_number"] == number), None)
        if ticket is None:
            raise fail(404, "not found", 40401)
        return Reply(200, ticket)

    def api_desks(self, req):
        active = (req.query.get("active") or [None])[-1]
        if active not in (None, "true", "false"):
            raise fail(422, "active deve ser true ou false", 42201, detail={"active": ["deve ser true ou false"]})
        return _page(req, [d for d in DESKS if active is None or d["active"] == (active == "true")])

    def api_clients(self, req):
        return _page(req, CLIENTS)

    def api_client_desks(self, req):
        desks = CLIENT_DESKS.get(int(req.params[0]))
        if desks is None:
            raise fail(404, "not found", 40401)
        return _page(req, desks)

    # -- control endpoints (called with the lock held) ---------------------------------------------

    def ctl_health(self, req):
        return Reply(200, {"ok": True})

    def _user(self, req) -> User:
        user = self.users.get(int(req.params[0]))
        if not user:
            raise fail(404, "user not found")
        return user

    def _token_view(self, token: Token) -> dict:
        return token.to_dict(self.now())

    def _user_detail(self, user: User) -> dict:
        return dict(user.to_dict(), tokens=[self._token_view(t) for t in self.tokens.values() if t.user_id == user.id])

    def ctl_create_user(self, req):
        fields = checked(req.data, USER_FIELDS, required=("name", "email"))
        user = User(next(self.ids["user"]), **fields)
        self.users[user.id] = user
        return Reply(201, user.to_dict())

    def ctl_list_users(self, req):
        return Reply(200, [u.to_dict() for u in self.users.values()])

    def ctl_get_user(self, req):
        return Reply(200, self._user_detail(self._user(req)))

    def ctl_patch_user(self, req):
        user = self._user(req)
        for name, value in checked(req.data, USER_FIELDS).items():
            setattr(user, name, list(value) if name == "permissions" else value)
        return Reply(200, self._user_detail(user))

    def ctl_set_active(self, req):
        user = self._user(req)
        user.active = req.params[1] == "activate"  # tokens are kept: reactivating revives them
        return Reply(200, self._user_detail(user))

    def ctl_issue_token(self, req):
        """"Gerar novo token" in Sessões API. A device (browser) holds one API session per user: a new token made
        from the same device invalidates that device's previous token at once; other devices' tokens stay valid."""
        user = self._user(req)
        options = checked(req.data if req.data is not None else {}, TOKEN_FIELDS)
        if not user.licensed:
            raise fail(409, 'licence "%s" is not assigned to this user' % LICENCE)
        if not user.active:
            raise fail(409, "user is inactive")
        issued = _epoch(options["issued_at"]) if "issued_at" in options else int(self.now())
        lifetime = options.get("lifetime_seconds") or self.config["token_lifetime_seconds"]
        expires = issued + lifetime if lifetime else two_years_after(issued)
        device = options.get("device") or "Dispositivo %d" % next(self.ids["device"])  # default: a device of its own
        if options.get("opaque"):
            value = secrets.token_urlsafe(36)
        else:
            value = make_jwt({"sub": str(user.id), "scp": "user", "aud": None, "iat": issued, "exp": expires,
                              "jti": str(uuid.uuid4()), "req_limit": self.config["quota_per_minute"]}, self.secret)
        for old in self.tokens.values():
            if old.user_id == user.id and old.device == device and not old.revoked:
                old.revoked, old.revoked_reason = True, "replaced"
        token = Token(next(self.ids["token"]), user.id, _digest(value), issued, expires, device,
                      options.get("ip") or req.client_ip, not options.get("opaque"))
        self.tokens[token.id] = token
        self.tokens_by_digest[token.digest] = token
        return Reply(201, dict(self._token_view(token), token=value))  # the only answer that carries a value

    def ctl_list_tokens(self, req):
        user = self._user(req)
        return Reply(200, [self._token_view(t) for t in self.tokens.values() if t.user_id == user.id])

    def ctl_list_sessions(self, req):
        """What the user sees in Sessões API: one entry per live session, newest first."""
        user = self._user(req)
        live = sorted((t for t in self.tokens.values() if t.user_id == user.id and not t.revoked),
                      key=lambda t: (t.issued_at, t.id), reverse=True)
        zone = self.config["timezone"]
        return Reply(200, [{"id": t.id, "device": t.device, "ip": t.ip, "data_da_sessao": session_date(t.issued_at, zone),
                            "created_at": utc_iso(t.issued_at), "last_used_at": t.last_used_at,
                            "fingerprint": t.fingerprint} for t in live])

    def _revoke(self, token: Token) -> Reply:
        if not token.revoked:
            token.revoked, token.revoked_reason = True, "revoked"
        return Reply(200, self._token_view(token))

    def ctl_delete_token(self, req):
        token = self.tokens.get(int(req.params[0]))
        if not token:
            raise fail(404, "token not found")
        return self._revoke(token)

    def ctl_revoke_token(self, req):
        data = req.data if isinstance(req.data, dict) else {}
        if len(data) != 1 or not _is_text(data.get("token", data.get("fingerprint"))):
            raise fail(400, 'expected {"token": "<value>"} or {"fingerprint": "sha256:..."}')
        if "token" in data:
            token = self.tokens_by_digest.get(_digest(data["token"]))
        else:
            token = next((t for t in self.tokens.values() if t.fingerprint == data["fingerprint"]), None)
        if not token:
            raise fail(404, "token not found")
        return self._revoke(token)

    def ctl_get_config(self, req):
        return Reply(200, dict(self.config))

    def ctl_put_config(self, req):
        self.config.update(checked(req.data, CONFIG_FIELDS))
        self.quota.clear()  # a new limit or window starts from a clean slate
        self.ip_quota.clear()
        return Reply(200, dict(self.config))

    def ctl_add_faults(self, req):
        faults = [checked_fault(f) for f in (req.data if isinstance(req.data, list) else [req.data])]
        for fault in faults:
            fault["id"] = next(self.ids["fault"])
        self.faults.extend(faults)
        return Reply(201, [dict(f) for f in faults])

    def ctl_list_faults(self, req):
        return Reply(200, [dict(f) for f in self.faults])

    def ctl_clear_faults(self, req):
        cleared, self.faults = len(self.faults), []
        return Reply(200, {"cleared": cleared})

    def ctl_counters(self, req):
        c = self.counters
        per_minute = {uid: dict(minutes) for uid, minutes in c["per_minute"].items()}
        snapshot = {name: (dict(value) if isinstance(value, dict) else value) for name, value in c.items()}
        snapshot.update(per_minute=per_minute, max_per_minute={uid: max(m.values()) for uid, m in per_minute.items()})
        return Reply(200, snapshot)

    def ctl_reset_counters(self, req):
        self.counters = _empty_counters()
        return Reply(200, {"ok": True})

    def ctl_reset(self, req):
        self._wipe()
        return Reply(200, {"ok": True})

    # The one routing table: (method, full-match path regex, handler).
    ROUTES = [
        ("GET", r"/api/v2/users/me", api_me),
        ("GET", r"/api/v2/users", api_users),
        ("GET", r"/api/v2/tickets", api_tickets),
        ("GET", r"/api/v2/tickets/([0-9]+)", api_ticket),
        ("GET", r"/api/v2/desks", api_desks),
        ("GET", r"/api/v2/clients", api_clients),
        ("GET", r"/api/v2/clients/([0-9]+)/desks", api_client_desks),
        ("GET", r"/_sim/health", ctl_health),
        ("POST", r"/_sim/users", ctl_create_user),
        ("GET", r"/_sim/users", ctl_list_users),
        ("GET", r"/_sim/users/([0-9]+)", ctl_get_user),
        ("PATCH", r"/_sim/users/([0-9]+)", ctl_patch_user),
        ("POST", r"/_sim/users/([0-9]+)/(activate|deactivate)", ctl_set_active),
        ("POST", r"/_sim/users/([0-9]+)/tokens", ctl_issue_token),
        ("GET", r"/_sim/users/([0-9]+)/tokens", ctl_list_tokens),
        ("GET", r"/_sim/users/([0-9]+)/sessions", ctl_list_sessions),
        ("DELETE", r"/_sim/tokens/([0-9]+)", ctl_delete_token),
        ("POST", r"/_sim/tokens/revoke", ctl_revoke_token),
        ("GET", r"/_sim/config", ctl_get_config),
        ("PUT", r"/_sim/config", ctl_put_config),
        ("POST", r"/_sim/faults", ctl_add_faults),
        ("GET", r"/_sim/faults", ctl_list_faults),
        ("DELETE", r"/_sim/faults", ctl_clear_faults),
        ("GET", r"/_sim/counters", ctl_counters),
        ("DELETE", r"/_sim/counters", ctl_reset_counters),
        ("POST", r"/_sim/reset", ctl_reset),
    ]


def _bearer(header: str | None) -> str | None:
    parts = (header or "").split()
    return parts[1] if len(parts) == 2 and parts[0].lower() == "bearer" else None


def _media_type(header: str | None) -> str:
    return (header or "").split(";")[0].strip().lower()


def _page(req: Request, items: list) -> Reply:
    """Tiflux lists: bare arrays, offset = 1-based page number, limit per page, total in X-Total-Items.
    page/per_page, which some integrations send, are taken as offset/limit."""
    offset = _query_int(req, "offset", _query_int(req, "page", 1))
    limit = _query_int(req, "limit", _query_int(req, "per_page", PAGE_LIMIT_DEFAULT))
    if not 1 <= limit <= PAGE_LIMIT_MAX:
        raise fail(422, "limit deve estar entre 1 e %d" % PAGE_LIMIT_MAX, 42202, detail={"limit": ["deve estar entre 1 e %d" % PAGE_LIMIT_MAX]})
    if offset < 1:
        raise fail(422, "offset deve ser maior ou igual a 1", 42202, detail={"offset": ["deve ser maior ou igual a 1"]})
    start = (offset - 1) * limit
    return Reply(200, items[start:start + limit], {"X-Total-Items": str(len(items))})


def _oversize_chunks(size: int):
    """A JSON object of exactly size bytes ({"id": 1, "pad": "xxx..."}), generated as it is sent."""
    head, tail = b'{"id": 1, "pad": "', b'"}'
    pad = max(0, size - len(head) - len(tail))
    yield head[:size], 0
    sent = min(size, len(head))
    filler = b"x" * STREAM_CHUNK
    while pad > 0:
        piece = filler[:min(pad, STREAM_CHUNK)]
        pad -= len(piece)
        sent += len(piece)
        yield piece, 0
    if sent < size:
        yield tail[:size - sent], 0


# -- HTTP ----------------------------------------------------------------------------------------

class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tiflux-sim"
    timeout = 30  # idle keep-alive connections

    def _dispatch(self):
        req, reply = None, None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True
            reply = fail(413 if length > MAX_BODY else 400, "bad or too large request body")
        else:
            req = Request(self.command, self.path, self.headers, self.rfile.read(length), self.client_address[0])
            try:
                reply = self.server.state.handle(req)
            except Drop:
                self.close_connection = True
        if reply is not None:
            self._send(reply)
        # method, path without query, status, fingerprint: nothing else about a request is logged
        log.info("%s %s %s %s", self.command, urlsplit(self.path).path,
                 reply.status if reply else "dropped", (req and req.fingerprint) or "-")

    def _send(self, reply: Reply):
        if reply.chunks is None:
            body = reply.raw if reply.raw is not None else (
                b"" if reply.body is None else json.dumps(reply.body, ensure_ascii=False).encode("utf-8"))
            length = len(body)
        else:
            body, length = None, reply.length
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", reply.content_type)
        if length is None:
            self.send_header("Connection", "close")  # the body ends when the connection does
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        if self.command == "HEAD":
            return
        if body is not None:
            self.wfile.write(body)
            return
        sent = 0
        try:
            for piece, delay in reply.chunks:
                if delay:
                    time.sleep(delay)
                self.wfile.write(piece)
                self.wfile.flush()
                sent += len(piece)
        except OSError:  # the client hung up (as it should, on a body it will not take)
            self.close_connection = True
        finally:
            self.server.state.add_streamed(sent)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _dispatch

    def log_message(self, format, *args):  # noqa: A002
        """Silence the stdlib access log: it prints the raw request line, query string included."""


class SimServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # socketserver's 5 drops SYNs under benchmark bursts (1 s client retry)

    def __init__(self, address, state: SimState, ssl_context: ssl.SSLContext | None = None):
        self.state, self.ssl_context = state, ssl_context
        super().__init__(address, _Handler)

    def server_bind(self):
        # skip HTTPServer's reverse DNS lookup of the host (slow where no resolver answers)
        TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def get_request(self):
        sock, address = super().get_request()
        if self.ssl_context:
            # handshake later, in the request's own thread, so a stalled client cannot block accept()
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request, client_address):
        # failed TLS handshakes and clients hanging up are expected in tests: no traceback on stderr
        log.debug("connection from %s ended with an error", client_address[0], exc_info=True)


def make_tls_files(state_dir: str) -> tuple:
    """Self-signed CA + server certificate (SAN 127.0.0.1, localhost) signed by it, via openssl.
    Returns (ca_path, cert_path, key_path); the CA key is deleted once it has signed."""
    if not shutil.which("openssl"):
        raise RuntimeError("--tls needs the openssl command line tool on PATH")

    def path(name):
        return os.path.join(state_dir, name)

    with open(path("openssl.cnf"), "w") as cnf:
        cnf.write(
            "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = tiflux-sim test CA\n"
            "[v3_ca]\nbasicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign\n"
            "subjectKeyIdentifier = hash\n"
            "[v3_server]\nbasicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature, keyEncipherment\n"
            "extendedKeyUsage = serverAuth\nsubjectAltName = IP:127.0.0.1, DNS:localhost\n"
            "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid, issuer\n"
        )
    ec_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    commands = [
        ["req", "-x509", "-new", *ec_key, "-keyout", path("ca.key"), "-out", path("ca.pem"), "-days", "30",
         "-config", path("openssl.cnf"), "-extensions", "v3_ca"],
        ["req", "-new", *ec_key, "-keyout", path("server.key"), "-out", path("server.csr"),
         "-config", path("openssl.cnf"), "-subj", "/CN=localhost"],
        ["x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
         "-set_serial", str(secrets.randbits(63)), "-days", "30", "-out", path("server.pem"),
         "-extfile", path("openssl.cnf"), "-extensions", "v3_server"],
    ]
    for args in commands:
        done = subprocess.run(["openssl", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
        if done.returncode:
            raise RuntimeError("openssl %s failed: %s" % (args[0], done.stderr.strip()))
    for name in ("ca.key", "server.csr", "openssl.cnf"):
        os.remove(path(name))
    os.chmod(path("server.key"), 0o600)
    return path("ca.pem"), path("server.pem"), path("server.key")


class Simulator:
    """A running simulator (see start_simulator): .info, .control, .stop(); also a context manager."""

    def __init__(self, server: SimServer, info: dict, temp_dir: str | None):
        self.server, self.info, self._temp_dir = server, info, temp_dir
        self.control = SimControl(info["url"], info["admin_key"], info["ca_path"])
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="tiflux-sim", daemon=True)
        self._thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()
        if self._temp_dir:
            shutil.rmtree(self._temp_dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start_simulator(tls=False, quota_per_minute=120, window_seconds=60, admin_key=None, state_dir=None,
                    host="127.0.0.1", port=0, **config) -> Simulator:
    """Start a simulator in a background thread; port 0 lets the OS pick.

    config: any other field of /_sim/config (ip_quota_per_minute, clock_skew_seconds, quota_retry_after,
    quota_excess_401_after, token_lifetime_seconds, timezone)."""
    state = SimState(admin_key or secrets.token_urlsafe(24), quota_per_minute, window_seconds, **config)
    context, ca_path = None, None
    temp_dir = tempfile.mkdtemp(prefix="tiflux-sim-") if tls and not state_dir else None
    try:
        if tls:
            state_dir = os.path.abspath(state_dir or temp_dir)  # ca_path must work from any cwd
            os.makedirs(state_dir, mode=0o700, exist_ok=True)
            ca_path, cert, key = make_tls_files(state_dir)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
        server = SimServer((host, port), state, context)
    except BaseException:
        if temp_dir:
            shutil.rmtree(temp_dir, ignore_errors=True)
        raise
    url = "%s://%s:%d" % ("https" if tls else "http", host, server.server_port)
    info = {"url": url, "api_url": url + "/api/v2", "admin_key": state.admin_key, "ca_path": ca_path, "pid": os.getpid()}
    return Simulator(server, info, temp_dir)


# -- control client ------------------------------------------------------------------------------

class SimControlError(RuntimeError):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class SimControl:
    """Python client of the /_sim control API; raises SimControlError on any non-2xx answer."""

    def __init__(self, url: str, admin_key: str, ca_path: str | None = None, timeout: float = 10):
        self.url, self._admin_key, self.timeout = url.rstrip("/"), admin_key, timeout
        context = ssl.create_default_context(cafile=ca_path) if ca_path else None
        # no proxies: the simulator is on loopback whatever http_proxy says
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))

    def _call(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {ADMIN_HEADER: self._admin_key, "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            raise SimControlError("%s %s -> %d: %s" % (method, path, exc.code, detail), exc.code) from None
        except (urllib.error.URLError, OSError) as exc:
            raise SimControlError("%s %s: simulator at %s unreachable: %s" % (method, path, self.url, exc)) from None

    def health(self):
        return self._call("GET", HEALTH_PATH)

    def wait_ready(self, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.health()
            except SimControlError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.1)

    def create_user(self, name, email, licensed=True, active=True, permissions=()):
        user = {"name": name, "email": email, "licensed": licensed, "active": active, "permissions": list(permissions)}
        return self._call("POST", "/_sim/users", user)

    def users(self):
        return self._call("GET", "/_sim/users")

    def user(self, user_id):
        return self._call("GET", "/_sim/users/%d" % user_id)

    def update_user(self, user_id, **fields):
        return self._call("PATCH", "/_sim/users/%d" % user_id, fields)

    def deactivate(self, user_id):
        return self._call("POST", "/_sim/users/%d/deactivate" % user_id)

    def activate(self, user_id):
        return self._call("POST", "/_sim/users/%d/activate" % user_id)

    def issue_token(self, user_id, device=None, ip=None, lifetime_seconds=None, issued_at=None, opaque=False):
        """A new token, as "Gerar novo token" in Sessões API from device (a browser label such as "Chrome no
        Windows"): it invalidates that device's previous token of the user. Without device, a device of its own."""
        options = {"device": device, "ip": ip, "lifetime_seconds": lifetime_seconds, "issued_at": issued_at}
        options = {k: v for k, v in options.items() if v is not None}
        if opaque:
            options["opaque"] = True
        return self._call("POST", "/_sim/users/%d/tokens" % user_id, options or None)

    def tokens(self, user_id):
        return self._call("GET", "/_sim/users/%d/tokens" % user_id)

    def sessions(self, user_id):
        """The user's Sessões API list: device, IP and "Data da sessão" of each live session, newest first."""
        return self._call("GET", "/_sim/users/%d/sessions" % user_id)

    def revoke(self, token=None, token_id=None, fingerprint=None):
        if [token, token_id, fingerprint].count(None) != 2:
            raise ValueError("revoke takes exactly one of token, token_id, fingerprint")
        if token_id is not None:
            return self._call("DELETE", "/_sim/tokens/%d" % token_id)
        return self._call("POST", "/_sim/tokens/revoke", {"token": token} if token else {"fingerprint": fingerprint})

    def add_fault(self, **fault):
        return self._call("POST", "/_sim/faults", fault)[0]

    def faults(self):
        return self._call("GET", "/_sim/faults")

    def clear_faults(self):
        return self._call("DELETE", "/_sim/faults")

    def config(self):
        return self._call("GET", "/_sim/config")

    def set_config(self, quota_per_minute=None, window_seconds=None, **more):
        changes = dict(more, quota_per_minute=quota_per_minute, window_seconds=window_seconds)
        return self._call("PUT", "/_sim/config", {k: v for k, v in changes.items() if v is not None})

    def counters(self):
        return self._call("GET", "/_sim/counters")

    def reset_counters(self):
        return self._call("DELETE", "/_sim/counters")

    def reset(self):
        return self._call("POST", "/_sim/reset")


# -- CLI -----------------------------------------------------------------------------------------

def write_private(path: str, text: str):
    """Write a 0600 file atomically (temp file + rename) so a poller never reads half of it."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".tiflux-sim-")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _serve(args) -> int:
    if args.verbose:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s tiflux-sim %(message)s")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    sim = start_simulator(tls=args.tls, quota_per_minute=args.quota_per_minute, window_seconds=args.window_seconds,
                          admin_key=args.admin_key, state_dir=args.state_dir, host=args.host, port=args.port,
                          **_config_args(args))
    try:
        line = json.dumps(sim.info)
        if args.info_file:
            write_private(args.info_file, line + "\n")
        print(line, flush=True)
        stop.wait()
    finally:
        sim.stop()
        if args.info_file and os.path.exists(args.info_file):
            os.remove(args.info_file)  # a stale info file would point pollers at a dead server
    return 0


def _control_from(args) -> SimControl:
    if args.info_file:
        with open(args.info_file) as handle:
            info = json.load(handle)
        return SimControl(info["url"], info["admin_key"], info.get("ca_path"))
    if not (args.url and args.admin_key):
        raise SimControlError("ctl needs --info-file, or --url and --admin-key")
    return SimControl(args.url, args.admin_key, args.ca_path)


def _wait_ready(args):
    """Wait for the info file to appear (when given) and for /_sim/health to answer."""
    deadline = time.monotonic() + args.timeout
    while True:
        try:
            return _control_from(args).wait_ready(timeout=0)
        except (OSError, ValueError, SimControlError):
            if time.monotonic() >= deadline:
                raise SimControlError("simulator not ready after %s s" % args.timeout) from None
            time.sleep(0.1)


def _revoke(ctl: SimControl, args):
    if args.token_file:
        with open(args.token_file) as handle:
            return ctl.revoke(token=handle.read().strip())
    return ctl.revoke(token_id=args.token_id, fingerprint=args.fingerprint)


def _fault(ctl: SimControl, args):
    fault = {"kind": args.kind, "count": args.count, "status": args.status, "latency_ms": args.latency_ms,
             "retry_after": False if args.no_retry_after else args.retry_after, "path_prefix": args.path_prefix,
             "interval_ms": args.interval_ms, "size_bytes": args.size_bytes,
             "content_length": False if args.no_content_length else None}
    return ctl.add_fault(**{k: v for k, v in fault.items() if v is not None})


# serve and ctl config options beyond the quota: (flag, field, type or "bool", help)
CONFIG_FLAGS = (
    ("--ip-quota-per-minute", "ip_quota_per_minute", int,
     "requests without a valid token per client IP per window (documented: 10); 0 = not enforced"),
    ("--clock-skew-seconds", "clock_skew_seconds", float, "the simulated clock's offset (observed: -1 to -2)"),
    ("--quota-retry-after", "quota_retry_after", "bool", "quota 429s also carry Retry-After"),
    ("--quota-excess-401-after", "quota_excess_401_after", int,
     "after this many 429s in a window, answer 401 instead (observed, unconfirmed); 0 = never"),
    ("--token-lifetime-seconds", "token_lifetime_seconds", int, "default token lifetime; 0 = two calendar years"),
    ("--timezone", "timezone", str, 'timezone of "Data da sessão" (default America/Sao_Paulo)'),
)


def _add_config_flags(parser):
    for flag, field, kind, text in CONFIG_FLAGS:
        if kind == "bool":
            parser.add_argument(flag, dest=field, action="store_const", const=True, help=text)
        else:
            parser.add_argument(flag, dest=field, type=kind, help=text)


def _config_args(args) -> dict:
    return {field: getattr(args, field) for _flag, field, _kind, _text in CONFIG_FLAGS if getattr(args, field) is not None}


def _set_config(ctl: SimControl, args):
    more = _config_args(args)
    if args.quota_per_minute is None and args.window_seconds is None and not more:
        return ctl.config()
    return ctl.set_config(args.quota_per_minute, args.window_seconds, **more)


def _issue(ctl: SimControl, args):
    return ctl.issue_token(args.user_id, device=args.device, ip=args.ip, lifetime_seconds=args.lifetime_seconds,
                           issued_at=args.issued_at, opaque=args.opaque)


CTL_COMMANDS = {
    "create-user": lambda c, a: c.create_user(a.name, a.email, licensed=a.licence, active=a.active, permissions=a.permission),
    "issue-token": _issue,
    "tokens": lambda c, a: c.tokens(a.user_id),
    "sessions": lambda c, a: c.sessions(a.user_id),
    "revoke": _revoke,
    "deactivate": lambda c, a: c.deactivate(a.user_id),
    "activate": lambda c, a: c.activate(a.user_id),
    "fault": _fault,
    "clear-faults": lambda c, a: c.clear_faults(),
    "config": _set_config,
    "counters": lambda c, a: c.counters(),
    "reset-counters": lambda c, a: c.reset_counters(),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tiflux_sim.py", description="Tiflux API v2 simulator for tests and demos.")
    modes = parser.add_subparsers(dest="mode", required=True)

    serve = modes.add_parser("serve", help="run the simulator until SIGTERM/SIGINT")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 lets the OS pick (default)")
    serve.add_argument("--tls", action="store_true", help="serve HTTPS with a generated CA (needs openssl)")
    serve.add_argument("--state-dir", help="where TLS files go (default: a temp dir removed on exit)")
    serve.add_argument("--admin-key", help="control API key (default: random)")
    serve.add_argument("--quota-per-minute", type=int, default=120, help="requests per user per window")
    serve.add_argument("--window-seconds", type=int, default=60, help="quota window, aligned on the clock")
    _add_config_flags(serve)
    serve.add_argument("--info-file", help="also write the JSON info line here (0600, atomic; removed on exit)")
    serve.add_argument("--verbose", action="store_true", help="access log on stderr (method, path, status, fingerprint)")

    ctl = modes.add_parser("ctl", help="drive a running simulator through /_sim")
    ctl.add_argument("--info-file", help="info file written by serve --info-file")
    ctl.add_argument("--url", help="simulator URL (instead of --info-file)")
    ctl.add_argument("--admin-key", help="admin key (instead of --info-file)")
    ctl.add_argument("--ca-path", help="CA to trust with --url https://...")
    commands = ctl.add_subparsers(dest="command", required=True)
    user = commands.add_parser("create-user")
    user.add_argument("--name", required=True)
    user.add_argument("--email", required=True)
    user.add_argument("--no-licence", dest="licence", action="store_false", help='without "API por usuário"')
    user.add_argument("--inactive", dest="active", action="store_false")
    user.add_argument("--permission", action="append", default=[], help="repeatable, e.g. users_manage")
    for name in ("tokens", "sessions", "deactivate", "activate"):
        commands.add_parser(name).add_argument("--user-id", type=int, required=True)
    issue = commands.add_parser("issue-token", help="prints the token: the only output that shows it")
    issue.add_argument("--user-id", type=int, required=True)
    issue.add_argument("--device", help='browser it is made from, e.g. "Chrome no Windows": replaces that device\'s token')
    issue.add_argument("--ip", help="IP Sessões API shows (default: the caller's)")
    issue.add_argument("--lifetime-seconds", type=int, help="default: two calendar years")
    issue.add_argument("--issued-at", type=lambda v: int(v) if v.isdigit() else v, help="epoch or YYYY-MM-DDTHH:MM:SSZ")
    issue.add_argument("--opaque", action="store_true", help="an opaque token instead of a JWT")
    revoke = commands.add_parser("revoke").add_mutually_exclusive_group(required=True)
    revoke.add_argument("--token-id", type=int)
    revoke.add_argument("--fingerprint")
    revoke.add_argument("--token-file", help="file holding the token value (keeps it out of argv)")
    fault = commands.add_parser("fault")
    fault.add_argument("--kind", required=True, choices=FAULT_KINDS)
    fault.add_argument("--count", type=int, help="default 1; -1 = until cleared")
    fault.add_argument("--status", type=int)
    fault.add_argument("--latency-ms", type=float)
    fault.add_argument("--retry-after", type=int)
    fault.add_argument("--no-retry-after", action="store_true", help="rate_limit without a Retry-After header")
    fault.add_argument("--path-prefix")
    fault.add_argument("--interval-ms", type=float, help="trickle: between two bytes (default 2000)")
    fault.add_argument("--size-bytes", type=int, help="oversize: body size (default 400 MiB)")
    fault.add_argument("--no-content-length", action="store_true", help="oversize: no Content-Length header")
    for name in ("clear-faults", "counters", "reset-counters"):
        commands.add_parser(name)
    config = commands.add_parser("config", help="show, or change with the options")
    config.add_argument("--quota-per-minute", type=int)
    config.add_argument("--window-seconds", type=int)
    _add_config_flags(config)
    commands.add_parser("wait-ready").add_argument("--timeout", type=float, default=10.0)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.mode == "serve":
            return _serve(args)
        result = _wait_ready(args) if args.command == "wait-ready" else CTL_COMMANDS[args.command](_control_from(args), args)
    except (SimControlError, RuntimeError, OSError, ValueError) as exc:  # bad options, openssl, port in use, HTTP
        print("tiflux_sim %s: %s" % (args.mode, exc), file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
