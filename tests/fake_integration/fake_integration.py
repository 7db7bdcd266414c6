#!/usr/bin/env python
# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fake third-party Tiflux integration, for rotation tests on real hosts.

Standard library only, Python >= 3.8, and on purpose independent of plugins/module_utils: it
reads its token the way a small integration would, with its own tiny readers.

    fake_integration.py health --config F --format env|ini|json|yaml|raw [--key K] [--section S]
                               --api-url URL [--ca-path CA] [--timeout 10] [--state-dir D]
    fake_integration.py reload --state-dir D [--name NAME]

health  reads the token from F and calls GET {api_url}/users/me with it. Exit 0 and one line
        "healthy: user ID (fingerprint)" on 200; exit 1 and a one-line reason otherwise (401, other
        status, no token, unreadable config, connection error). Never prints the token.
reload  appends "TIMESTAMP NAME pid=PID" to D/reloads.log (the test counts reloads) and exits 0.

Faults a test can inject through the state dir D:
  D/reject-tokens    fingerprints, one a line: `health` fails for these tokens without calling the
                     API (an integration that cannot work with the new token, e.g. a broken reload).
  D/on-reload.json   {"url", "admin_key", "ca_path", "revoke_fingerprint"}: the next `reload` first
                     revokes that token in the simulator's control API (a person deleting the session
                     in the middle of a rollout), then renames the file to on-reload.json.done.

Keys: --key for env/ini/yaml/json; a dotted key (a.b.c) walks nested JSON objects and YAML
mappings. --section for ini (default: the first section that has the key).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.request


class ConfigError(Exception):
    """The token could not be read from the config."""


def fingerprint(token):
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()[:16]


def unquote(value):
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def read_env(text, key, section=None):
    """KEY=value lines; `export ` prefixes, comments and blank lines are skipped; last one wins."""
    found = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        name, value = line.split("=", 1)
        if name.strip() == key:
            value = value.strip()
            if value[:1] not in "'\"" and " #" in value:
                value = value.split(" #", 1)[0].rstrip()
            found = unquote(value)
    return found


def read_ini(text, key, section=None):
    """[section] headers and `key = value` / `key: value` lines."""
    current = None
    found = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            current = stripped[1:-1].strip()
            continue
        for separator in ("=", ":"):
            if separator in stripped:
                name, value = stripped.split(separator, 1)
                break
        else:
            continue
        if name.strip() == key and (section is None or current == section):
            if found is None:
                found = value.strip()
    return found


def read_json(text, key, section=None):
    data = json.loads(text)
    for part in key.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data if isinstance(data, str) else None


def read_yaml(text, key, section=None):
    """Block mappings only (`a:` then indented `b: value`), as small app configs are written."""
    wanted = key.split(".")
    stack = []  # (indent, name)
    for line in text.splitlines():
        content = line.split(" #", 1)[0].rstrip() if not line.lstrip().startswith("#") else ""
        if not content.strip() or content.strip() in ("---", "..."):
            continue
        indent = len(content) - len(content.lstrip(" "))
        body = content.strip()
        if ":" not in body:
            continue
        name, value = body.split(":", 1)
        name = unquote(name)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = [entry[1] for entry in stack] + [name]
        value = value.strip()
        if value:
            if path == wanted:
                return unquote(value)
        else:
            stack.append((indent, name))
    return None


def read_raw(text, key=None, section=None):
    value = text.strip()
    return value or None


READERS = {"env": read_env, "ini": read_ini, "json": read_json, "yaml": read_yaml, "raw": read_raw}


def read_token(path, fmt, key, section):
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise ConfigError("cannot read %s: %s" % (path, exc.strerror or exc))
    if fmt != "raw" and not key:
        raise ConfigError("--key is required for format %s" % fmt)
    try:
        token = READERS[fmt](text, key, section)
    except ValueError as exc:
        raise ConfigError("%s is not valid %s: %s" % (path, fmt, exc.__class__.__name__))
    if not token:
        raise ConfigError("no token at %s in %s" % (key or "(file)", path))
    return token.strip()


def rejected(state_dir, token):
    """Whether D/reject-tokens lists this token's fingerprint."""
    if not state_dir:
        return False
    try:
        with open(os.path.join(state_dir, "reject-tokens"), encoding="utf-8") as handle:
            return fingerprint(token) in [line.strip() for line in handle]
    except OSError:
        return False


def health(args):
    try:
        token = read_token(args.config, args.format, args.key, args.section)
    except ConfigError as exc:
        print("unhealthy: %s" % exc)
        return 1
    if rejected(args.state_dir, token):
        print("unhealthy: the integration fails with token %s (simulated: %s/reject-tokens)" % (fingerprint(token), args.state_dir))
        return 1
    url = args.api_url.rstrip("/") + "/users/me"
    request = urllib.request.Request(url, headers={"Authorization": "Bearer " + token, "accept": "application/json"})
    context = ssl.create_default_context(cafile=args.ca_path) if url.startswith("https:") else None
    try:
        with urllib.request.urlopen(request, timeout=args.timeout, context=context) as response:  # nosec B310
            body = json.loads(response.read().decode("utf-8") or "{}")
            status = response.status
    except urllib.error.HTTPError as exc:
        reason = {401: "token rejected (401: revoked, unknown or user inactive)", 403: "forbidden (403)",
                  429: "rate limited (429)"}.get(exc.code, "HTTP %d" % exc.code)
        print("unhealthy: %s; token %s" % (reason, fingerprint(token)))
        return 1
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        print("unhealthy: cannot reach %s: %s" % (url, reason))
        return 1
    if status != 200:
        print("unhealthy: HTTP %d; token %s" % (status, fingerprint(token)))
        return 1
    print("healthy: user %s (%s)" % (body.get("id") if isinstance(body, dict) else "?", fingerprint(token)))
    return 0


def run_reload_hook(state_dir):
    """Revoke a token in the simulator once, when D/on-reload.json asks for it. Returns an error or None."""
    path = os.path.join(state_dir, "on-reload.json")
    try:
        with open(path, encoding="utf-8") as handle:
            hook = json.load(handle)
    except OSError:
        return None
    except ValueError:
        return "%s is not valid JSON" % path
    url = hook["url"].rstrip("/") + "/_sim/tokens/revoke"
    body = json.dumps({"fingerprint": hook["revoke_fingerprint"]}).encode()
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"X-Sim-Admin-Key": hook["admin_key"], "Content-Type": "application/json"})
    context = ssl.create_default_context(cafile=hook.get("ca_path")) if url.startswith("https:") else None
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as response:  # nosec B310
            response.read()
    except (urllib.error.URLError, OSError) as exc:
        return "reload hook could not revoke %s: %s" % (hook["revoke_fingerprint"], getattr(exc, "reason", exc))
    os.replace(path, path + ".done")
    print("reload hook: revoked %s in the simulator" % hook["revoke_fingerprint"])
    return None


def reload(args):
    os.makedirs(args.state_dir, exist_ok=True)
    error = run_reload_hook(args.state_dir)
    if error:
        print(error)
        return 1
    line = "%s %s pid=%d\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"), args.name, os.getpid())
    with open(os.path.join(args.state_dir, "reloads.log"), "a", encoding="utf-8") as handle:
        handle.write(line)
    print("reloaded %s" % args.name)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description="A fake Tiflux integration (tests only).")
    commands = parser.add_subparsers(dest="command")
    check = commands.add_parser("health", help="call GET /users/me with the token in the config")
    check.add_argument("--config", required=True)
    check.add_argument("--format", required=True, choices=sorted(READERS))
    check.add_argument("--key")
    check.add_argument("--section")
    check.add_argument("--api-url", required=True)
    check.add_argument("--ca-path")
    check.add_argument("--timeout", type=float, default=10)
    check.add_argument("--state-dir", help="where a test may put reject-tokens (see above)")
    again = commands.add_parser("reload", help="record a reload in STATE_DIR/reloads.log")
    again.add_argument("--state-dir", required=True)
    again.add_argument("--name", default="integration")
    args = parser.parse_args(argv)
    if args.command == "health":
        return health(args)
    if args.command == "reload":
        return reload(args)
    parser.print_usage(sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
