# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Benchmark of the rotate role against the hand-written playbook and one copy per host, under Tiflux's limits.

Not a test: prints figures and, with --write-doc, puts them into docs/performance.md between the
markers <!-- bench:start --> and <!-- bench:end --> (--doc-part full: its own part inside that block,
kept when `make bench` rewrites the rest).

N local-connection hosts (each with an env and a JSON target under a temp dir, back on the OLD token
before every run, outside the timing), forks 10 and the same serial for every variant (default
[1, "25%"], the rotate playbook's), against the simulator on loopback with Tiflux's documented limits:
120 requests per minute per user, 10 per minute per client IP for requests without a valid token
(--no-limits lifts both). Variants run interleaved (rotate, baseline, copy, rotate, ...):

  rotate      playbook tokenops.tiflux.rotate, role defaults, rotate_new_token and rotate_old_token given
  baseline    playbooks/baseline.yml: uri check, lineinfile env, lineinfile JSON, uri proof
  copy        playbooks/floor.yml: one ansible.builtin.copy per host
  rotate_one  the rotate playbook in one batch (rotate_serial ["100%"])
  rotate_alt  the rotate playbook with the collection taken from --alt-tree (a copy with a change to measure)
  rotate_one_alt  rotate_one with the collection taken from --alt-tree
  push, push_alt, lineinfile   token_push of one env file against lineinfile (--push-hosts; no API call)

A live integration of the same user (live.py: its own token, 60 calls a minute) runs from a few seconds
before each timed run until it ends; every timed run starts at the start of a clock minute, Tiflux's quota
window, so every variant meets the same quota (--no-align: at once, the windows cleared instead).
"The user's quota" is the simulator's count of requests with that user's tokens, minus the live
integration's own.

    .venv/bin/python tests/perf/bench.py --hosts 10,30,200 --runs 2,2,1 --write-doc docs/performance.md
"""

from __future__ import annotations

import argparse
import datetime
import glob
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fleet as F  # noqa: E402  pylint: disable=wrong-import-position
from live import LiveIntegration  # noqa: E402  pylint: disable=wrong-import-position

PLAYBOOKS = os.path.join(HERE, "playbooks")
CALLBACKS = os.path.join(HERE, "callback_plugins")
ROLE_PLAYBOOK = "tokenops.tiflux.rotate"
CONTROLLER_ACTIONS = {"set_fact", "assert", "debug", "fail", "validate_argument_spec", "meta", "include_tasks", "import_tasks",
                      "include_role", "import_role", "include_vars"}

# Tiflux's documented limits (tiflux-api-notes): per user, and per client IP for requests without a valid token.
USER_LIMIT, IP_LIMIT = 120, 10
NO_LIMIT = 100000
# The targets the rotation is held to at N = 30 and N = 200.
TARGET_NS = (30, 200)
TARGET_BASELINE, TARGET_COPY, TARGET_QUOTA = 0.30, 0.90, 4
LIVE_DEVICE = "Integração ao vivo"
# What ansible-playbook loads of this tree: a change elsewhere (tests, docs) does not change what is measured.
COLLECTION_PATHS = ("plugins", "roles", "playbooks", "meta", "galaxy.yml")

VARIANTS = {
    "rotate": dict(label="rotate: playbook tokenops.tiflux.rotate", playbook=ROLE_PLAYBOOK, role=True),
    "baseline": dict(label="baseline: uri + lineinfile x2 + uri", playbook=os.path.join(PLAYBOOKS, "baseline.yml")),
    "copy": dict(label="copy: one ansible.builtin.copy per host", playbook=os.path.join(PLAYBOOKS, "floor.yml"), files=1),
    "rotate_one": dict(label="rotate in one batch (rotate_serial 100%)", playbook=ROLE_PLAYBOOK, role=True,
                       vars=dict(rotate_serial=["100%"])),
    "rotate_alt": dict(label="rotate, ALT TREE", playbook=ROLE_PLAYBOOK, role=True, alt=True),
    "rotate_one_alt": dict(label="rotate in one batch, ALT TREE", playbook=ROLE_PLAYBOOK, role=True, alt=True,
                           vars=dict(rotate_serial=["100%"])),
    "push": dict(label="token_push of one env file", playbook=os.path.join(PLAYBOOKS, "push_one.yml"), files=1, offline=True),
    "push_alt": dict(label="token_push of one env file, ALT TREE", playbook=os.path.join(PLAYBOOKS, "push_one.yml"), files=1,
                     offline=True, alt=True),
    "lineinfile": dict(label="ansible.builtin.lineinfile of one env file", playbook=os.path.join(PLAYBOOKS, "lineinfile_one.yml"),
                       files=1, offline=True),
}


def uptime():
    try:
        with open("/proc/loadavg") as handle:
            return " ".join(handle.read().split()[:3])
    except OSError:
        return "?"


def _git(*args):
    proc = subprocess.run(["git", "-C", F.REPO] + list(args), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, check=False)
    return proc.stdout.strip() if proc.returncode == 0 else ""


def machine(forks):
    mem = "?"
    cpu = platform.processor() or "?"
    try:
        with open("/proc/meminfo") as handle:
            kb = int(re.search(r"MemTotal:\s+(\d+)", handle.read()).group(1))
        mem = "%.1f GiB" % (kb / 1048576.0)
        with open("/proc/cpuinfo") as handle:
            found = re.search(r"model name\s*:\s*(.+)", handle.read())
            cpu = found.group(1).strip() if found else cpu
    except (OSError, AttributeError):
        pass
    core = subprocess.run([os.path.join(F.BIN, "ansible"), "--version"], stdout=subprocess.PIPE, text=True, check=False).stdout.split("\n")[0]
    version = "?"
    with open(os.path.join(F.REPO, "galaxy.yml")) as handle:
        found = re.search(r"^version:\s*(\S+)", handle.read(), re.M)
        version = found.group(1) if found else version
    commit = _git("rev-parse", "--short", "HEAD") or "?"
    if _git("status", "--porcelain", "--untracked-files=no", "--", *COLLECTION_PATHS):
        commit += " with uncommitted changes to the collection"
    return dict(nproc=os.cpu_count(), cpu=cpu, ram=mem, python=platform.python_version(), ansible=core.strip(),
                kernel=platform.release(), forks=forks, collection="%s at %s" % (version, commit))


def next_minute(now, lead):
    """The next start of a clock minute at least `lead` seconds away (plus a little, so the window has turned)."""
    start = math.floor(now / 60.0) * 60.0 + 60.0 + 0.2
    return start if start - now >= lead else start + 60.0


class Bench:
    def __init__(self, root, args):
        self.root = root
        self.args = args
        self.limits = not args.no_limits
        self.sim = F.SimProcess(root, USER_LIMIT if self.limits else NO_LIMIT, IP_LIMIT if self.limits else 0)
        self.control = self.sim.control
        self.user, self.old, self.new = F.issue_pair(self.control)
        live = self.control.issue_token(self.user["id"], device=LIVE_DEVICE)
        self.live_token, self.live_id = live["token"], str(live["id"])
        self.fingerprints = dict(new=F.tiflux_sim.fingerprint(self.new), old=F.tiflux_sim.fingerprint(self.old))
        self.fleets = {}
        self.logs = os.path.join(root, "logs")
        os.makedirs(self.logs)

    def fleet(self, n):
        if n not in self.fleets:
            d = os.path.join(self.root, "n%d" % n)
            os.makedirs(d)
            self.fleets[n] = F.Fleet(d, n, self.old, self.new, self.sim.info["api_url"])
        return self.fleets[n]

    def _extra_vars(self, variant):
        extra = dict(rotate_new_token=self.new)
        if variant.get("role"):
            extra.update(rotate_old_token=self.old)
            if self.args.serial:
                extra.update(rotate_serial=self.args.serial)
        elif self.args.serial:
            extra.update(bench_serial=self.args.serial)
        extra.update(variant.get("vars", {}))
        return extra

    def _quiet_start(self, live):
        """Quota windows and counters cleared, the live integration running, then (unless --no-align) the start of a
        clock minute: what the previous run spent never reaches this one, not even the live integration's warm-up."""
        start = time.time() + self.args.warmup if self.args.no_align else next_minute(time.time(), self.args.warmup)
        time.sleep(max(0.0, start - self.args.warmup - time.time()))
        self.control.set_config(**self.control.config())  # a PUT clears every quota window
        self.control.reset_counters()
        if live:
            live.start()
        time.sleep(max(0.0, start - time.time()))

    def run(self, n, name, index=0):
        variant = VARIANTS[name]
        if variant.get("alt") and not self.args.alt_tree:
            raise SystemExit("bench: variant %s needs --alt-tree" % name)
        fl = self.fleet(n)
        varfile = F.write_secret_vars(fl.root, "vars-%s.json" % name, self._extra_vars(variant))
        profile = os.path.join(fl.root, "profile-%s.json" % name)
        env = F.ansible_env(fl.root, tree=self.args.alt_tree if variant.get("alt") else None, ANSIBLE_CALLBACK_PLUGINS=CALLBACKS,
                            ANSIBLE_CALLBACKS_ENABLED="tiflux_profile", TIFLUX_PROFILE_OUT=profile,
                            ANSIBLE_PIPELINING="1" if self.args.pipelining else "0")
        # outside the timing: every host back on the old token, no leftovers of the previous run
        fl.reset()
        for leftover in ("remote_tmp", "tiflux-reports"):
            shutil.rmtree(os.path.join(fl.root, leftover), ignore_errors=True)
        live = None
        if not variant.get("offline") and self.args.live_per_minute:
            live = LiveIntegration(self.sim.info["api_url"], self.live_token, self.args.live_per_minute)
        if variant.get("offline"):
            self.control.reset_counters()
        else:
            self._quiet_start(live)
        minute = time.strftime("%Y-%m-%dT%H:%M", time.gmtime())  # the simulator's key for the run's first minute
        try:
            rc, seconds, out = F.run_playbook(fl.root, variant["playbook"], fl.inventory, [varfile], ["-f", str(self.args.forks)], env=env,
                                              timeout=self.args.timeout)
        finally:
            live_seen = live.stop() if live else None
            os.unlink(varfile)
        counters = self.control.counters()
        leaked = [label for label, token in (("new", self.new), ("old", self.old), ("live", self.live_token)) if token in out]
        if leaked:
            sys.stderr.write("bench: the output of %s on %d hosts holds the %s token(s) (written to the log redacted)\n"
                             % (name, n, ", ".join(leaked)))
            for token in (self.new, self.old, self.live_token):
                out = out.replace(token, "<token>")
        with open(os.path.join(self.logs, "n%d-%s-%d.log" % (n, name, index)), "w") as handle:
            handle.write(out)
        try:
            with open(profile) as handle:
                prof = json.load(handle)
            os.unlink(profile)
        except (OSError, ValueError):
            prof = dict(tasks=[], hosts={}, failed_hosts=[], plays=0)
        return self._result(fl, variant, rc, seconds, counters, live_seen, prof, minute)

    def _result(self, fl, variant, rc, seconds, counters, live_seen, prof, minute):
        if variant.get("files") == 1:
            want = F.ENV_TEMPLATE.format(token=self.new).encode()
            not_new = [h for h in fl.hosts if F.read_bytes(fl.targets(h)[0]["path"]) != want]
        else:
            not_new = [h for h in fl.hosts if not fl.on_token(h, self.new)]
        failed = sorted(set(not_new) | set(prof.get("failed_hosts", [])))
        uid = str(self.user["id"])
        live_calls = counters["by_token"].get(self.live_id, 0)
        live_429 = live_seen["rate_limited"] if live_seen else 0
        per_minute = counters["per_minute"].get(uid, {})
        live_ok = (live_seen or {}).get("ok_per_minute", {})
        return dict(
            seconds=seconds, rc=rc, failed=len(failed), not_new=len(not_new), profile=prof,
            # requests with the user's tokens but the live integration's: what the run spent of the user's quota
            quota=counters["by_user"].get(uid, 0) - live_calls,
            new=counters["by_fingerprint"].get(self.fingerprints["new"], 0),
            old=counters["by_fingerprint"].get(self.fingerprints["old"], 0),
            tokenless=sum(counters["by_ip"].values()),
            run_429=counters["rejected_429"] - live_429, run_429_ip=counters["rejected_429_ip"],
            live=live_seen,
            run_per_minute=[per_minute[m] - live_ok.get(m, 0) for m in sorted(per_minute) if m >= minute])


def distinct(values, fmt="%d"):
    """'3' when every run agrees, else '3/5' (each value once, in order)."""
    return "/".join(fmt % v for v in sorted(set(values)))


def summarise(samples, n):
    walls = [s["seconds"] for s in samples]
    median = statistics.median(walls)
    live = [s["live"] for s in samples if s["live"]]
    return dict(median=median, min=min(walls), max=max(walls), runs=len(walls), per_host=median / n,
                quota=max(s["quota"] for s in samples), quota_text=distinct(s["quota"] for s in samples),
                new=distinct(s["new"] for s in samples), old=distinct(s["old"] for s in samples),
                tokenless=distinct(s["tokenless"] for s in samples),
                run_429=distinct(s["run_429"] for s in samples), run_429_ip=distinct(s["run_429_ip"] for s in samples),
                failed=max(s["failed"] for s in samples), failed_text=distinct(s["failed"] for s in samples),
                rc=distinct(s["rc"] for s in samples),
                live_ok=distinct(x["ok"] for x in live) if live else "",
                live_429=max((x["rate_limited"] for x in live), default=None), live_429_text=distinct(x["rate_limited"] for x in live),
                live_other=sum(x["other"] for x in live),
                per_minute=samples[-1]["run_per_minute"], profile=samples[-1]["profile"], last=samples[-1]["seconds"])


def ratio(results, n, name, ref):
    rows = results.get(n, {})
    if name not in rows or ref not in rows or not VARIANTS[name].get("role"):
        return None
    return rows[name]["median"] / rows[ref]["median"]


def table(results, ns, names):
    lines = ["| N | variant | wall (s), median | min-max (s) | runs | s per host | calls on the user's quota | of them new / old token "
             "| token-less calls (per-IP) | 429s to the run (user / IP) | hosts failed | live integration: 200s / 429s "
             "| / baseline | / copy |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for n in ns:
        for name, r in measured(results, n, names):
            rb, rc = ratio(results, n, name, "baseline"), ratio(results, n, name, "copy")
            failed = "**%s**%s" % (r["failed_text"], "" if r["rc"] == "0" else " (rc %s)" % r["rc"])
            live = "%s / **%s**%s" % (r["live_ok"], r["live_429_text"], " (+%d other answers or errors)" % r["live_other"] if r["live_other"] else "")
            lines.append("| %d | %s | **%.1f** | %.1f-%.1f | %d | %.3f | **%s** | %s / %s | %s | %s / %s | %s | %s | %s | %s |" % (
                n, VARIANTS[name]["label"], r["median"], r["min"], r["max"], r["runs"], r["per_host"], r["quota_text"], r["new"], r["old"],
                r["tokenless"], r["run_429"], r["run_429_ip"], failed, live,
                "**%.2f**" % rb if rb is not None else "", "**%.2f**" % rc if rc is not None else ""))
    return "\n".join(lines)


def verdict(ok):
    return "met" if ok else "**NOT met**"


def targets(results, ns, name):
    """The issue's targets at N = 30 and 200 for one rotate variant, each met or not, from this run."""
    here = [n for n in TARGET_NS if n in ns and name in results[n]]
    if not here:
        return [], []
    lines = ["| target | " + " | ".join("N = %d" % n for n in here) + " |", "|---|" + "---|" * len(here)]
    missed = []

    def row(label, key, cell):
        cells = []
        for n in here:
            text, ok = cell(n, results[n][name])
            cells.append("%s: %s" % (text, verdict(ok)) if ok is not None else text)
            if ok is False:
                missed.append((key, n))
        lines.append("| %s | %s |" % (label, " | ".join(cells)))

    def vs(ref, limit):
        def cell(n, _r):
            value = ratio(results, n, name, ref)
            return ("%.2f" % value, value <= limit) if value is not None else ("(no %s run)" % ref, None)
        return cell

    row("%s / baseline <= %.2f" % (name, TARGET_BASELINE), "baseline", vs("baseline", TARGET_BASELINE))
    row("%s / copy <= %.2f" % (name, TARGET_COPY), "copy", vs("copy", TARGET_COPY))
    row("calls on the user's quota <= %d" % TARGET_QUOTA, "quota", lambda n, r: (r["quota_text"], r["quota"] <= TARGET_QUOTA))
    row("failed hosts: 0", "failed", lambda n, r: (r["failed_text"], r["failed"] == 0))
    row("429s for the live integration: 0", "live", lambda n, r: (r["live_429_text"] or "(no live integration)",
                                                                  r["live_429"] == 0 if r["live_429"] is not None else None))
    return lines, missed


def _top_tasks(r, count=3):
    top = aggregate(r["profile"])[:count]
    return ", ".join("`%s` %.1f s (%d %%)" % (short(t["name"]), t["seconds"], 100 * t["seconds"] / r["last"]) for t in top)


def in_the_way(results, missed, budget, name):
    """One line per missed target, from this run's own figures."""
    lines = []
    for key in ("quota", "wall", "failed", "live"):
        ns = sorted(set(n for k, n in missed if k == key or (key == "wall" and k in ("baseline", "copy"))))
        if not ns:
            continue
        n = max(ns)
        r = results[n][name]
        if key == "quota":
            lines.append(
                "- **Calls on the user's quota** (N = %d: %s): of the run's requests, %s carried the new token and %s the old "
                "one (simulator counters by token)%s. The controller checks each token once; the other requests with "
                "the new token are the hosts proving it with the token, one per host." % (
                    n, r["quota_text"], r["new"], r["old"],
                    ", %s of them refused with a 429 and retried" % r["run_429"] if r["run_429"] != "0" else ""))
        elif key == "wall":
            minutes = ", ".join(str(m) for m in r["per_minute"]) or "none"
            bound = ""
            if r["quota"] > budget:
                bound = (" The pacer lets a run spend at most %d a minute (the limit minus the half it keeps for the "
                         "integrations): %d calls cannot take less than %d min, whatever the controller." % (
                             budget, r["quota"], math.ceil((r["quota"] - budget) / float(budget))))
            failed = results[n].get("baseline", {}).get("failed")
            ratios = ", ".join("%s / %s" % (name, ref) for ref in ("baseline", "copy") if any(k == ref for k, _n in missed))
            lines.append(
                "- **%s** (N = %s): the run's calls on the user's quota per clock minute at N = %d: %s.%s "
                "Slowest tasks of that run: %s (profile below).%s" % (
                    ratios, ", ".join(str(x) for x in ns), n, minutes, bound, _top_tasks(r),
                    " The baseline failed %d of the %d hosts, which then did no more work." % (failed, n) if failed else ""))
        elif key == "failed":
            lines.append("- **Failed hosts** (N = %d: %s, playbook rc %s): see the run's log (bench.py --keep)." % (n, r["failed_text"], r["rc"]))
        else:
            lines.append("- **429s for the live integration** (N = %d: %s): the run's own requests got %s × 429 on the user's "
                         "quota." % (n, r["live_429_text"], r["run_429"]))
    return lines


def short(name):
    return re.sub(r"^tokenops\.tiflux\.rotate : ", "", name).replace("|", "/")[:90]


def aggregate(prof):
    """The profile's tasks summed over batches (a play with serial runs its tasks once per batch), slowest first."""
    rows = {}
    for t in prof["tasks"]:
        key = (t.get("play", 0), t["name"], t["action"])
        row = rows.setdefault(key, dict(play=key[0], name=t["name"], action=t["action"], seconds=0.0, batches=0, ran=0, skipped=0,
                                        host_seconds=0.0))
        row["seconds"] += t["seconds"]
        row["batches"] += 1
        row["ran"] += t["ok"] + t["failed"] + t["unreachable"]
        row["skipped"] += t["skipped"]
        row["host_seconds"] += t.get("host_seconds", 0.0)
    return sorted(rows.values(), key=lambda r: -r["seconds"])


def measured(results, n, names):
    """(name, summary) of each variant measured at N, in the order asked."""
    return [(name, results[n][name]) for name in names if name in results.get(n, {})]


def breakdown(results, n, names):
    """Per task, slowest first, for the last run of each variant at N: where the time goes."""
    lines = ["| variant | play | task | action | wall (s) | share of the run | batches | ran / skipped | host-side s per run |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, r in measured(results, n, names):
        wall = r["last"]
        rows = aggregate(r["profile"])
        small = [t for t in rows if t["seconds"] < 0.01 * wall]
        for t in rows:
            if t in small:
                continue
            lines.append("| %s | %d | %s | %s | %.2f | %d %% | %d | %d / %d | %s |" % (
                name, t["play"], short(t["name"]), t["action"].replace("ansible.builtin.", ""), t["seconds"],
                round(100 * t["seconds"] / wall), t["batches"], t["ran"], t["skipped"],
                "%.2f" % (t["host_seconds"] / t["ran"]) if t["ran"] else ""))
        if small:
            seconds = sum(t["seconds"] for t in small)
            lines.append("| %s | | %d other tasks, under 1 %% each | | %.2f | %d %% | | %d / %d | |" % (
                name, len(small), seconds, round(100 * seconds / wall), sum(t["ran"] for t in small), sum(t["skipped"] for t in small)))
        outside = wall - sum(t["seconds"] for t in rows)
        lines.append("| %s | | outside any task: start-up, inventory, the start of each batch | | %.2f | %d %% | | | |" % (
            name, outside, round(100 * outside / wall)))
    return "\n".join(lines)


def shape(results, n, names):
    """What runs per host: plays, tasks, module runs."""
    lines = ["| variant | plays | batches | tasks run (all batches) | host module runs per host | tasks ran / skipped per host |",
             "|---|---|---|---|---|---|"]
    for name, r in measured(results, n, names):
        prof = r["profile"]
        hosts = prof["hosts"] or {"-": dict(ran=0, skipped=0)}
        runs = sum(t["module_runs"] for t in prof["tasks"] if t["action"].replace("ansible.builtin.", "") not in CONTROLLER_ACTIONS)
        lines.append("| %s | %d | %d | %d | %.2f | %.1f / %.1f |" % (
            name, prof.get("plays", 0), prof.get("batches", 0), len(prof["tasks"]), runs / float(n),
            statistics.mean(h["ran"] for h in hosts.values()), statistics.mean(h["skipped"] for h in hosts.values())))
    return "\n".join(lines)


def payloads(bench):
    """AnsiballZ payload sizes and the cost of one module process, from one kept run per module."""
    d = os.path.join(bench.root, "payload")
    os.makedirs(d)
    one = F.Fleet(d, 1, bench.old, bench.new, bench.sim.info["api_url"])
    out = {}
    for name, playbook in (("token_deploy", ROLE_PLAYBOOK), ("token_push", os.path.join(PLAYBOOKS, "push_one.yml")),
                           ("lineinfile", os.path.join(PLAYBOOKS, "lineinfile_one.yml")),
                           ("copy", os.path.join(PLAYBOOKS, "floor.yml")), ("uri", os.path.join(PLAYBOOKS, "baseline.yml"))):
        one.reset()
        remote = os.path.join(d, "remote_tmp")
        shutil.rmtree(remote, ignore_errors=True)
        varfile = F.write_secret_vars(d, "vars.json", dict(rotate_new_token=bench.new, rotate_serial=["100%"]))
        env = F.ansible_env(d, ANSIBLE_KEEP_REMOTE_FILES="1")
        rc, _s, _text = F.run_playbook(d, playbook, one.inventory, [varfile], env=env)
        os.unlink(varfile)
        files = glob.glob(os.path.join(remote, "*", "AnsiballZ_%s.py" % name))
        if rc != 0 or not files:
            out[name] = dict(error="rc=%s, %d payload(s)" % (rc, len(files)))
            shutil.rmtree(remote, ignore_errors=True)
            continue
        path = files[0]
        times = []
        for _attempt in range(5):
            one.reset()
            started = time.monotonic()
            subprocess.run([sys.executable, path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            times.append(time.monotonic() - started)
        out[name] = dict(bytes=os.path.getsize(path), run=statistics.median(times))
        # the kept payload holds the module arguments (the token, by ansible's design): remove it now
        shutil.rmtree(remote, ignore_errors=True)
    for label, code in (("python -c pass", "pass"), ("python -c 'import ansible.module_utils.basic'", "import ansible.module_utils.basic")):
        times = []
        for _attempt in range(5):
            started = time.monotonic()
            subprocess.run([sys.executable, "-c", code], check=False)
            times.append(time.monotonic() - started)
        out[label] = dict(run=statistics.median(times))
    return out


MARKERS = {"main": ("<!-- bench:start -->", "<!-- bench:end -->"), "full": ("<!-- bench:full:start -->", "<!-- bench:full:end -->")}


def write_doc(path, text, part="main"):
    """Replace this part's block; the full part lives inside the main block and survives its rewrites."""
    (start, end), (fstart, fend) = MARKERS["main"], MARKERS["full"]
    doc = "# Performance\n"
    if os.path.exists(path):
        with open(path) as handle:
            doc = handle.read()
    if start not in doc or end not in doc:
        doc = doc.rstrip("\n") + "\n\n%s\n%s\n" % (start, end)
    head, rest = doc.split(start, 1)
    inner, tail = rest.split(end, 1)
    full = inner[inner.index(fstart):inner.index(fend) + len(fend)] if fstart in inner and fend in inner else ""
    if part == "full":
        full = "%s\n%s\n%s" % (fstart, text.strip(), fend)
        main = (inner.replace(inner[inner.index(fstart):inner.index(fend) + len(fend)], "") if fstart in inner and fend in inner
                else inner).strip()
    else:
        main = text.strip()
    block = "\n\n".join(x for x in (main, full) if x)
    with open(path, "w") as handle:
        handle.write("%s%s\n%s\n%s%s" % (head, start, block, end, tail))


def runs_per_n(text, ns, parser):
    try:
        runs = [int(x) for x in text.split(",") if x]
    except ValueError:
        parser.error("--runs: a number, or one per --hosts value")
    if len(runs) == 1:
        runs = runs * len(ns)
    if len(runs) != len(ns) or any(r < 1 for r in runs):
        parser.error("--runs: a number >= 1, or one per --hosts value")
    return dict(zip(ns, runs))


def parse_serial(text):
    """'1,25%' -> [1, '25%']; '' -> None (each playbook's default)."""
    return [int(x) if x.isdigit() else x for x in text.split(",") if x] or None


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", default="10,30,200", help="comma-separated fleet sizes (default 10,30,200; up to 2000)")
    parser.add_argument("--runs", default="2,2,1", help="interleaved runs per variant: one number, or one per fleet size (default 2,2,1)")
    parser.add_argument("--forks", type=int, default=10)
    parser.add_argument("--variants", default="rotate,baseline,copy", help="any of %s" % ", ".join(v for v in VARIANTS if not VARIANTS[v].get("offline")))
    parser.add_argument("--serial", type=parse_serial, default=None,
                        help="batches for every variant, e.g. '1,25%%' or '100%%' (default: each playbook's own, [1, \"25%%\"] in all three)")
    parser.add_argument("--no-limits", action="store_true", help="lift the simulator's per-user and per-IP limits")
    parser.add_argument("--live-per-minute", type=int, default=60, help="the live integration's calls a minute (0: none)")
    parser.add_argument("--no-align", action="store_true", help="start each run at once (quota windows cleared) instead of at a clock minute")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds the live integration runs before the timed run")
    parser.add_argument("--timeout", type=int, default=7200, help="seconds one ansible-playbook run may take")
    parser.add_argument("--push-hosts", type=int, default=20, help="token_push against lineinfile on this many hosts (0 to skip)")
    parser.add_argument("--push-runs", type=int, default=5)
    parser.add_argument("--push-variants", default="push,lineinfile", help="add push_alt with --alt-tree")
    parser.add_argument("--no-payloads", action="store_true", help="skip the AnsiballZ size / process cost measurement")
    parser.add_argument("--write-doc", help="put the results into this Markdown file between the bench markers")
    parser.add_argument("--doc-part", choices=sorted(MARKERS), default="main", help="which block of --write-doc (full: the N = 1000 part)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (playbook logs under logs/)")
    parser.add_argument("--alt-tree", help="a copy of the collection (e.g. with a proposed change) for the *_alt variants")
    parser.add_argument("--pipelining", action="store_true", help="ANSIBLE_PIPELINING=1 for every run (default off, ansible's default)")
    return parser


def measure(bench, args, ns, runs, names):
    results, push = {}, {}
    for n in ns:
        bench.fleet(n)
        samples = dict((name, []) for name in names)
        for i in range(runs[n]):
            for name in names:
                slot = time.monotonic()
                s = bench.run(n, name, i)
                samples[name].append(s)
                live = s["live"] or {}
                print("N=%-4d run %d/%d %-10s %8.2f s (%.0f s with the wait)  quota=%d new/old=%d/%d tokenless=%d failed=%d rc=%d "
                      "live 200/429=%s/%s  load %s" % (
                          n, i + 1, runs[n], name, s["seconds"], time.monotonic() - slot, s["quota"], s["new"], s["old"], s["tokenless"],
                          s["failed"], s["rc"], live.get("ok", "-"), live.get("rate_limited", "-"), uptime()), flush=True)
        results[n] = dict((name, summarise(samples[name], n)) for name in names)
    if args.push_hosts:
        bench.fleet(args.push_hosts)
        names = [v for v in args.push_variants.split(",") if v]
        samples = dict((name, []) for name in names)
        for i in range(args.push_runs):
            for name in names:
                s = bench.run(args.push_hosts, name, i)
                samples[name].append(s)
                print("push N=%d run %d/%d %-10s %6.2f s  failed=%d  load %s" % (
                    args.push_hosts, i + 1, args.push_runs, name, s["seconds"], s["failed"], uptime()), flush=True)
        push = dict((name, summarise(samples[name], args.push_hosts)) for name in names)
    return results, push


def report(args, command, started, load_before, ns, runs, names, results, push, pay):
    m = machine(args.forks)
    limits = ("Tiflux's documented limits: %d requests per minute per user (the clock minute), %d per minute per client IP "
              "for requests without a valid token" % (USER_LIMIT, IP_LIMIT)) if not args.no_limits else "no limits (`--no-limits`)"
    live = ("a live integration of the same user (its own token) calls `GET /users/me` %d times a minute from %.0f s before "
            "each timed run until it ends" % (args.live_per_minute, args.warmup)) if args.live_per_minute else "no live integration"
    serial = json.dumps(args.serial) if args.serial else "each playbook's default, `[1, \"25%\"]` in all three"
    minutes = (datetime.datetime.now(datetime.timezone.utc) - started).total_seconds() / 60
    lines = [
        "Run %s, `%s` (%s), %.0f min in all." % (
            started.strftime("%Y-%m-%d %H:%M UTC"), command, "make" if os.environ.get("MAKELEVEL") else "by hand", minutes),
        "",
        "Machine: %s CPUs (%s), %s RAM, Linux %s, Python %s, %s, collection %s. Load average before: %s, after: %s "
        "(the machine is shared: compare ratios, not absolute seconds)." % (
            m["nproc"], m["cpu"], m["ram"], m["kernel"], m["python"], m["ansible"], m["collection"], load_before, uptime()),
        "",
        "Every variant: the same N local-connection hosts (an env and a JSON target each, back on the old token before each run), "
        "forks=%d, serial %s, %s; simulator on loopback with %s; %s; each run starts %s. Runs per variant: %s." % (
            m["forks"], serial, "ANSIBLE_PIPELINING=1" if args.pipelining else "no pipelining (ansible's default)", limits, live,
            "at once" if args.no_align else "at the start of a clock minute", ", ".join("%d at N = %d" % (runs[n], n) for n in ns)),
        "",
        table(results, ns, names) if ns else "(no fleet sizes given)",
    ]
    lines += targets_section(results, ns, names)
    big = max(ns) if ns else None
    if big:
        lines += ["", "What runs, N = %d (last run of each variant):" % big, "", shape(results, big, names),
                  "", "Where the time goes, N = %d, last run of each variant, per task, slowest first (wall: from the task's start "
                  "to the next one's, so a task's share includes its wait for the slowest host; host-side: one host's run of the task, "
                  "from its worker's start to its result, pacing included):" % big, "", breakdown(results, big, names)]
    if push and "push" in push and "lineinfile" in push:
        ref = push["lineinfile"]["median"]
        lines += ["", "token_push of one env file against ansible.builtin.lineinfile on %d hosts (no API call), whole-play wall time, "
                  "median of %d interleaved runs:" % (args.push_hosts, args.push_runs), "",
                  "| play | median (s) | min-max (s) | / lineinfile |", "|---|---|---|---|"]
        for name, row in push.items():
            lines.append("| %s | **%.2f** | %.2f-%.2f | %.2f |" % (VARIANTS[name]["label"], row["median"], row["min"], row["max"], row["median"] / ref))
    if pay:
        lines += ["", "Module payloads (AnsiballZ, kept with ANSIBLE_KEEP_REMOTE_FILES=1) and the wall time of one module process "
                  "run directly on the host (median of 5; token_deploy's includes its proof):", "",
                  "| payload | size (bytes) | one run (s) |", "|---|---|---|"]
        for name, r in pay.items():
            lines.append("| %s | %s | %s |" % (name, r.get("bytes", r.get("error", "")), "%.3f" % r["run"] if "run" in r else ""))
    return "\n".join(lines)


def targets_section(results, ns, names):
    out = []
    budget = USER_LIMIT - USER_LIMIT // 2
    for name in (v for v in names if VARIANTS[v].get("role")):
        rows, missed = targets(results, ns, name)
        if not rows:
            continue
        out += ["", "Against the targets (%s):" % VARIANTS[name]["label"], ""] + rows
        if missed:
            out += ["", "What stands in the way (%s), from this run:" % name, ""] + in_the_way(results, missed, budget, name)
    return out


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    ns = [int(n) for n in args.hosts.split(",") if n]
    names = [v for v in args.variants.split(",") if v]
    unknown = [v for v in names if v not in VARIANTS or VARIANTS[v].get("offline")]
    if unknown:
        parser.error("unknown variant(s): %s" % ", ".join(unknown))
    if any(n < 1 or n > 2000 for n in ns) or not (ns or args.push_hosts):
        parser.error("1 <= N <= 2000")
    runs = runs_per_n(args.runs, ns, parser) if ns else {}

    root = F.make_root("tiflux-bench-")
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = uptime()
    command = "tests/perf/bench.py " + " ".join(sys.argv[1:] if argv is None else argv)
    bench = Bench(root, args)
    try:
        results, push = measure(bench, args, ns, runs, names)
        pay = {} if args.no_payloads else payloads(bench)
    finally:
        bench.sim.stop()
        if args.keep:
            print("kept %s (playbook logs in %s)" % (root, bench.logs))
        else:
            shutil.rmtree(root, ignore_errors=True)

    text = report(args, command, started, load_before, ns, runs, names, results, push, pay)
    print()
    print(text)
    if args.write_doc:
        write_doc(args.write_doc, text, args.doc_part)
        print("\nwritten to %s" % args.write_doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
