"""Tiflux API v2 simulator for integration tests, molecule scenarios, benchmarks and the demo.

A real HTTP(S) server on loopback that behaves like https://api.tiflux.com/api/v2 as far as
the collection cares (per-user tokens, 401/403/422/429, pagination, quota per user), plus a
control API under /_sim to create users, issue and revoke tokens, inject faults and read
counters. Standard library only (Python >= 3.9); ``--tls`` also needs the ``openssl`` CLI.

    python tiflux_sim.py serve [--tls] [--info-file PATH] ...
    python tiflux_sim.py ctl --info-file PATH create-user --name N --email E

Tokens are generated at run time, kept only as SHA-256 digests and named everywhere by
their fingerprint; the value appears once, in the answer that issues it.
"""

from __future__ import annotations

import argparse
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
FAULT_KINDS = ("latency", "status", "drop", "rate_limit")


def utc_iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def fingerprint(token: str) -> str:
    """Same as the collection's module_utils/_token.py: the only way anything names a token."""
    return "sha256:" + _digest(token)[:16]  # Token.fingerprint derives the same from the stored digest


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


# -- deterministic fixtures ------------------------------------------------------------------

DESKS = [{"id": i, "name": name, "active": True}
         for i, name in enumerate(("Suporte N1", "Suporte N2", "Infraestrutura", "Financeiro", "Comercial"), 1)]
CLIENTS = [{"id": i, "name": "Cliente Exemplo %02d Ltda" % i, "active": True} for i in range(1, 13)]
_TICKET_STATUSES = ("Aberto", "Em atendimento", "Aguardando cliente", "Fechado")
_TICKETS_START = datetime(2026, 1, 5, 12, tzinfo=timezone.utc)
TICKETS = [
    {
        "ticket_number": n,
        "title": "Chamado de teste %d" % n,
        "status": {"id": n % 4 + 1, "name": _TICKET_STATUSES[n % 4]},
        "priority": ("baixa", "média", "alta")[n % 3],
        "desk": {"id": DESKS[n % 5]["id"], "name": DESKS[n % 5]["name"]},
        "client": {"id": CLIENTS[n % 12]["id"], "name": CLIENTS[n % 12]["name"]},
        "created_at": (_TICKETS_START + timedelta(hours=n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    for n in range(1, 46)
]


# -- replies -----------------------------------------------------------------------------------

class Reply(Exception):
    """An HTTP answer. Handlers return it; raising it anywhere short-circuits the pipeline."""

    def __init__(self, status: int, body, headers: dict | None = None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, dict(headers or {})


class Drop(Exception):
    """Close the connection without sending a byte (the 'drop' fault)."""


def fail(status: int, message: str, code: int | None = None, headers: dict | None = None) -> Reply:
    """The one error helper: API errors carry Tiflux's numeric error_code, control errors only a message."""
    body = {"error": message} if code is None else {"error_code": code, "message": message}
    return Reply(status, body, headers)


def rate_limited(retry_after: int, reset_at: float, limit: int | None = None) -> Reply:
    headers = {"Retry-After": str(retry_after), "RateLimit-Remaining": "0", "RateLimit-Reset": utc_iso(reset_at)}
    if limit is not None:
        headers["RateLimit-Limit"] = str(limit)
    return fail(429, "Limite de requisições excedido, tente novamente mais tarde", 42901, headers)


class Request:
    def __init__(self, method: str, target: str, headers, body: bytes):
        parts = urlsplit(target)
        self.method, self.path, self.headers, self.body = method, parts.path, headers, body
        self.query = parse_qs(parts.query, keep_blank_values=True)
        self.params: tuple = ()
        self.data = None          # parsed JSON body (control API)
        self.user = None          # authenticated user (API)
        self.fingerprint = None   # of the bearer token, for the access log


# -- validation of control API bodies -------------------------------------------------------------

def _is_int(lo, hi):
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def _is_text(value) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _is_bool(value) -> bool:
    return isinstance(value, bool)


def _is_names(value) -> bool:
    return isinstance(value, list) and all(isinstance(x, str) for x in value)


def _is_ms(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 600000


USER_FIELDS = {"name": _is_text, "email": _is_text, "licensed": _is_bool, "active": _is_bool, "permissions": _is_names}
CONFIG_FIELDS = {"quota_per_minute": _is_int(0, 10 ** 9), "window_seconds": _is_int(1, 86400)}
FAULT_COMMON = {
    "kind": lambda v: v in FAULT_KINDS,
    "count": lambda v: _is_int(-1, -1)(v) or _is_int(1, 10 ** 9)(v),  # -1 = until cleared
    "path_prefix": lambda v: isinstance(v, str) and v.startswith("/api/"),  # faults never touch /_sim
}
FAULT_OPTIONS = {  # per kind: {field: (validator, default)}; a None default makes the field required
    "latency": {"latency_ms": (_is_ms, None)},
    "status": {"status": (_is_int(400, 599), None)},
    "drop": {},
    "rate_limit": {"retry_after": (_is_int(0, 86400), 1)},
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
        raise fail(422, "%s deve ser um número inteiro" % name, 42201)
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
    def __init__(self, tid: int, user_id: int, digest: str):
        self.id, self.user_id, self.digest = tid, user_id, digest
        self.created_at, self.last_used_at, self.revoked = utc_iso(time.time()), None, False

    @property
    def fingerprint(self) -> str:
        return "sha256:" + self.digest[:16]

    def to_dict(self) -> dict:
        return {"id": self.id, "user_id": self.user_id, "created_at": self.created_at,
                "last_used_at": self.last_used_at, "revoked": self.revoked, "fingerprint": self.fingerprint}


def _empty_counters() -> dict:
    return {"total": 0, "rejected_429": 0, "dropped": 0, "by_status": Counter(), "by_path": Counter(),
            "by_token": Counter(), "by_fingerprint": Counter(), "by_user": Counter(), "per_minute": defaultdict(Counter)}


class SimState:
    """Everything the simulator knows, guarded by one lock; HTTP-agnostic."""

    def __init__(self, admin_key: str, quota_per_minute: int = 120, window_seconds: int = 60):
        self.admin_key = admin_key
        try:
            self.initial_config = checked({"quota_per_minute": quota_per_minute, "window_seconds": window_seconds}, CONFIG_FIELDS)
        except Reply as err:
            raise ValueError(err.body["error"]) from None
        self.lock = threading.Lock()
        # ids keep growing across resets so a stale id held by a test never names a new object
        self.ids = {"user": count(1), "token": count(1), "fault": count(1)}
        self._wipe()

    def _wipe(self):
        self.users: dict[int, User] = {}
        self.tokens: dict[int, Token] = {}
        self.tokens_by_digest: dict[str, Token] = {}
        self.faults: list[dict] = []
        self.counters = _empty_counters()
        self.config = dict(self.initial_config)
        self.quota: dict[int, tuple] = {}  # user id -> (window start, requests used)

    def handle(self, req: Request) -> Reply:
        """Answer one request; raises Drop when the connection must close silently."""
        try:
            if req.path.startswith("/api/"):
                return self._api(req)
            if req.path.startswith(SIM_PREFIX):
                return self._control(req)
            raise fail(404, "not found", 40400)
        except Reply as reply:
            return reply

    # -- API pipeline: count -> faults -> v1 -> auth -> quota -> content type -> route -----------

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
            raise _fault_reply(fault)
        if req.path == "/api/v1" or req.path.startswith("/api/v1/"):
            raise fail(401, "A API v1 não aceita tokens de usuário da API v2", 40100)
        with self.lock:
            req.user = self._authenticate(record)
            quota_headers = self._consume_quota(req.user)
        try:
            if req.method == "GET" and _media_type(req.headers.get("Content-Type")) == "application/json":
                raise fail(400, "unpermitted parameter", 40001)
            reply = self._route(req, api=True)
        except Reply as err:
            reply = err
        reply.headers.update(quota_headers)
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
        """Latency combines with the rest; of drop/status/rate_limit the first queued one wins.
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

    def _authenticate(self, record: Token | None) -> User:
        user = self.users.get(record.user_id) if record else None
        if not user or record.revoked or not user.active:
            raise fail(401, "Token de API inválido ou expirado", 40101)
        record.last_used_at = utc_iso(time.time())
        return user

    def _consume_quota(self, user: User) -> dict:
        now = time.time()
        limit, window = self.config["quota_per_minute"], self.config["window_seconds"]
        start = now // window * window  # aligned on the clock: with 60 s, the clock minute
        end = start + window
        used_start, used = self.quota.get(user.id, (start, 0))
        if used_start != start:
            used = 0
        if used >= limit:
            self.counters["rejected_429"] += 1
            raise rate_limited(max(1, math.ceil(end - now)), end, limit)
        self.quota[user.id] = (start, used + 1)
        minute = datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M")
        self.counters["per_minute"][str(user.id)][minute] += 1
        return {"RateLimit-Limit": str(limit), "RateLimit-Remaining": str(limit - used - 1), "RateLimit-Reset": utc_iso(end)}

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
        raise fail(404, "not found", 40400 if api else None)

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
            raise fail(404, "not found", 40400)
        return Reply(200, ticket)

    def api_desks(self, req):
        return _page(req, DESKS)

    def api_clients(self, req):
        return _page(req, CLIENTS)

    # -- control endpoints (called with the lock held) ---------------------------------------------

    def ctl_health(self, req):
        return Reply(200, {"ok": True})

    def _user(self, req) -> User:
        user = self.users.get(int(req.params[0]))
        if not user:
            raise fail(404, "user not found")
        return user

    def _user_detail(self, user: User) -> dict:
        return dict(user.to_dict(), tokens=[t.to_dict() for t in self.tokens.values() if t.user_id == user.id])

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
        user = self._user(req)
        if not user.licensed:
            raise fail(409, 'licence "%s" is not assigned to this user' % LICENCE)
        if not user.active:
            raise fail(409, "user is inactive")
        value = secrets.token_urlsafe(36)
        token = Token(next(self.ids["token"]), user.id, _digest(value))
        self.tokens[token.id] = token
        self.tokens_by_digest[token.digest] = token
        return Reply(201, dict(token.to_dict(), token=value))  # the only answer that carries a value

    def ctl_list_tokens(self, req):
        user = self._user(req)
        return Reply(200, [t.to_dict() for t in self.tokens.values() if t.user_id == user.id])

    def ctl_delete_token(self, req):
        token = self.tokens.get(int(req.params[0]))
        if not token:
            raise fail(404, "token not found")
        token.revoked = True
        return Reply(200, token.to_dict())

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
        token.revoked = True
        return Reply(200, token.to_dict())

    def ctl_get_config(self, req):
        return Reply(200, dict(self.config))

    def ctl_put_config(self, req):
        self.config.update(checked(req.data, CONFIG_FIELDS))
        self.quota.clear()  # a new limit or window starts from a clean slate
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
        ("GET", r"/_sim/health", ctl_health),
        ("POST", r"/_sim/users", ctl_create_user),
        ("GET", r"/_sim/users", ctl_list_users),
        ("GET", r"/_sim/users/([0-9]+)", ctl_get_user),
        ("PATCH", r"/_sim/users/([0-9]+)", ctl_patch_user),
        ("POST", r"/_sim/users/([0-9]+)/(activate|deactivate)", ctl_set_active),
        ("POST", r"/_sim/users/([0-9]+)/tokens", ctl_issue_token),
        ("GET", r"/_sim/users/([0-9]+)/tokens", ctl_list_tokens),
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
    """Tiflux lists: bare arrays, offset = 1-based page number, total in X-Total-Items."""
    offset = _query_int(req, "offset", 1)
    limit = _query_int(req, "limit", PAGE_LIMIT_DEFAULT)
    if not 1 <= limit <= PAGE_LIMIT_MAX:
        raise fail(422, "limit deve estar entre 1 e %d" % PAGE_LIMIT_MAX, 42202)
    if offset < 1:
        raise fail(422, "offset deve ser maior ou igual a 1", 42202)
    start = (offset - 1) * limit
    return Reply(200, items[start:start + limit], {"X-Total-Items": str(len(items))})


def _fault_reply(fault: dict) -> Exception:
    if fault["kind"] == "drop":
        return Drop()
    if fault["kind"] == "status":
        return fail(fault["status"], "simulated fault", fault["status"] * 100)
    # rounded up so a client honouring RateLimit-Reset never retries before Retry-After
    return rate_limited(fault["retry_after"], math.ceil(time.time() + fault["retry_after"]))


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
            req = Request(self.command, self.path, self.headers, self.rfile.read(length))
            try:
                reply = self.server.state.handle(req)
            except Drop:
                self.close_connection = True
        if reply is not None:
            body = b"" if reply.body is None else json.dumps(reply.body, ensure_ascii=False).encode("utf-8")
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        # method, path without query, status, fingerprint: nothing else about a request is logged
        log.info("%s %s %s %s", self.command, urlsplit(self.path).path,
                 reply.status if reply else "dropped", (req and req.fingerprint) or "-")

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
                    host="127.0.0.1", port=0) -> Simulator:
    """Start a simulator in a background thread; port 0 lets the OS pick."""
    state = SimState(admin_key or secrets.token_urlsafe(24), quota_per_minute, window_seconds)
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

    def issue_token(self, user_id):
        return self._call("POST", "/_sim/users/%d/tokens" % user_id)

    def tokens(self, user_id):
        return self._call("GET", "/_sim/users/%d/tokens" % user_id)

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

    def set_config(self, quota_per_minute=None, window_seconds=None):
        changes = {"quota_per_minute": quota_per_minute, "window_seconds": window_seconds}
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
                          admin_key=args.admin_key, state_dir=args.state_dir, host=args.host, port=args.port)
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
             "retry_after": args.retry_after, "path_prefix": args.path_prefix}
    return ctl.add_fault(**{k: v for k, v in fault.items() if v is not None})


CTL_COMMANDS = {
    "create-user": lambda c, a: c.create_user(a.name, a.email, licensed=a.licence, active=a.active, permissions=a.permission),
    "issue-token": lambda c, a: c.issue_token(a.user_id),
    "tokens": lambda c, a: c.tokens(a.user_id),
    "revoke": _revoke,
    "deactivate": lambda c, a: c.deactivate(a.user_id),
    "activate": lambda c, a: c.activate(a.user_id),
    "fault": _fault,
    "clear-faults": lambda c, a: c.clear_faults(),
    "config": lambda c, a: (c.set_config(a.quota_per_minute, a.window_seconds)
                            if a.quota_per_minute is not None or a.window_seconds is not None else c.config()),
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
    for name in ("issue-token", "tokens", "deactivate", "activate"):
        commands.add_parser(name).add_argument("--user-id", type=int, required=True)
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
    fault.add_argument("--path-prefix")
    for name in ("clear-faults", "counters", "reset-counters"):
        commands.add_parser(name)
    config = commands.add_parser("config", help="show, or change with the options")
    config.add_argument("--quota-per-minute", type=int)
    config.add_argument("--window-seconds", type=int)
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
