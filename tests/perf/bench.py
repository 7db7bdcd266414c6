# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Benchmark of the rotate role against the obvious playbook and the floor (run by `make bench`).

Not a test: prints a table and, with --write-doc, puts it into docs/performance.md between the
markers <!-- bench:start --> and <!-- bench:end -->.

On N local-connection hosts (each with its own env + JSON target under a temp dir) against the
simulator on loopback (tiflux_sim.py serve --port 0 --quota-per-minute 100000), interleaved
(a, b, c, a, b, c, ...), every run starting from the OLD token (files reset outside the timing) with
the simulator's counters reset:

  a_one   playbook tokenops.tiflux.rotate, rotate_serial ["100%"] (one batch), rotate_old_token given
  a_noold the same without rotate_old_token
  a_canary the same with the default canary serial [1, "25%"]
  b       tests/perf/playbooks/baseline.yml: uri check, lineinfile env, lineinfile JSON, uri verify
  c       tests/perf/playbooks/floor.yml: one ansible.builtin.copy per host

rotate_api_calls_per_minute is 100000 in every role run, so the pacer never waits.
Issue 3 (--push-hosts, --push-runs): token_push of one env file vs ansible.builtin.lineinfile.

    .venv/bin/python tests/perf/bench.py --hosts 10,50 --runs 3 --forks 10 --write-doc docs/performance.md
"""

from __future__ import annotations

import argparse
import datetime
import glob
import json
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

PLAYBOOKS = os.path.join(HERE, "playbooks")
CALLBACKS = os.path.join(HERE, "callback_plugins")
CONTROLLER_ACTIONS = {"set_fact", "assert", "debug", "fail", "validate_argument_spec", "meta", "include_tasks",
                      "ansible.builtin.set_fact", "ansible.builtin.assert", "ansible.builtin.debug",
                      "ansible.builtin.fail", "ansible.builtin.validate_argument_spec", "ansible.builtin.meta"}

VARIANTS = {
    "a_one": dict(label="a: rotate role, one batch (serial 100%), old token given", playbook="tokenops.tiflux.rotate",
                  vars=dict(rotate_serial=["100%"]), old=True),
    "a_noold": dict(label="a: rotate role, one batch, no rotate_old_token", playbook="tokenops.tiflux.rotate",
                    vars=dict(rotate_serial=["100%"]), old=False),
    "a_canary": dict(label="a: rotate role, default canary serial [1, 25%], old token given", playbook="tokenops.tiflux.rotate",
                     vars={}, old=True),
    "b": dict(label="b: baseline (uri + lineinfile x2 + uri)", playbook=os.path.join(PLAYBOOKS, "baseline.yml"), vars={}, old=False),
    "c": dict(label="c: floor (one copy per host)", playbook=os.path.join(PLAYBOOKS, "floor.yml"), vars={}, old=False),
    "push": dict(label="token_push of one env file", playbook=os.path.join(PLAYBOOKS, "push_one.yml"), vars={}, old=False),
    "lineinfile": dict(label="ansible.builtin.lineinfile of one env file", playbook=os.path.join(PLAYBOOKS, "lineinfile_one.yml"),
                       vars={}, old=False),
    # the same with the collection taken from --alt-tree (a copy with a proposed fix applied)
    "a_one_alt": dict(label="a: rotate role, one batch, old token given, ALT TREE", playbook="tokenops.tiflux.rotate",
                      vars=dict(rotate_serial=["100%"]), old=True, alt=True),
    "push_alt": dict(label="token_push of one env file, ALT TREE", playbook=os.path.join(PLAYBOOKS, "push_one.yml"), vars={}, old=False,
                     alt=True),
}


def uptime():
    try:
        with open("/proc/loadavg") as handle:
            return " ".join(handle.read().split()[:3])
    except OSError:
        return "?"


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
    return dict(nproc=os.cpu_count(), cpu=cpu, ram=mem, python=platform.python_version(), ansible=core.strip(),
                kernel=platform.release(), forks=forks)


class Bench:
    def __init__(self, root, forks, verbose=False, alt_tree=None, pipelining=False):
        self.alt_tree = alt_tree
        self.pipelining = pipelining
        self.root = root
        self.forks = forks
        self.verbose = verbose
        self.sim = F.SimProcess(root)
        self.user, self.old, self.new = F.issue_pair(self.sim.control)
        self.fleets = {}

    def fleet(self, n):
        if n not in self.fleets:
            d = os.path.join(self.root, "n%d" % n)
            os.makedirs(d)
            self.fleets[n] = F.Fleet(d, n, self.old, self.new, self.sim.info["api_url"])
        return self.fleets[n]

    def run(self, n, name):
        variant = VARIANTS[name]
        fl = self.fleet(n)
        extra = dict(rotate_new_token=self.new, rotate_api_calls_per_minute=100000)
        extra.update(variant["vars"])
        if variant["old"]:
            extra["rotate_old_token"] = self.old
        varfile = F.write_secret_vars(fl.root, "vars-%s.json" % name, extra)
        profile = os.path.join(fl.root, "profile-%s.json" % name)
        if variant.get("alt") and not self.alt_tree:
            raise SystemExit("bench: variant %s needs --alt-tree" % name)
        env = F.ansible_env(fl.root, tree=self.alt_tree if variant.get("alt") else None, ANSIBLE_CALLBACK_PLUGINS=CALLBACKS,
                            ANSIBLE_CALLBACKS_ENABLED="tiflux_profile", TIFLUX_PROFILE_OUT=profile,
                            ANSIBLE_PIPELINING="1" if self.pipelining else "0")
        # outside the timing: every host back on the old token, counters at 0
        fl.reset()
        shutil.rmtree(os.path.join(fl.root, "remote_tmp"), ignore_errors=True)
        self.sim.control.reset_counters()
        rc, seconds, out = F.run_playbook(fl.root, variant["playbook"], fl.inventory, [varfile], ["-f", str(self.forks)], env=env)
        counters = self.sim.control.counters()
        os.unlink(varfile)
        if rc != 0:
            sys.stderr.write(out[-4000:])
            raise SystemExit("bench: %s on %d hosts failed (rc=%d)" % (name, n, rc))
        if name in ("c", "push", "lineinfile", "push_alt"):
            bad = [h for h in fl.hosts if F.ENV_TEMPLATE.format(token=self.new).encode() != open(fl.targets(h)[0]["path"], "rb").read()]
        else:
            bad = [h for h in fl.hosts if not fl.on_token(h, self.new)]
        if bad:
            raise SystemExit("bench: %s on %d hosts left %d host(s) not on the new token: %s" % (name, n, len(bad), bad[:5]))
        with open(profile) as handle:
            prof = json.load(handle)
        os.unlink(profile)
        return dict(seconds=seconds, api=counters["total"], profile=prof)


def summarise(samples, n):
    """Per variant: median wall, tasks per host, module runs per host, API calls."""
    prof = samples[-1]["profile"]
    hosts = prof["hosts"]
    others = [h for h in hosts if h != min(hosts)] or list(hosts)
    ran = statistics.mean(hosts[h]["ran"] for h in others)
    skipped = statistics.mean(hosts[h]["skipped"] for h in others)
    module_runs = sum(t["module_runs"] for t in prof["tasks"] if t["action"] not in CONTROLLER_ACTIONS) / float(n)
    walls = [s["seconds"] for s in samples]
    apis = sorted(set(s["api"] for s in samples))
    return dict(median=statistics.median(walls), min=min(walls), max=max(walls), runs=len(walls),
                tasks=len(prof["tasks"]), ran=ran, skipped=skipped, module_runs=module_runs,
                api="/".join(str(a) for a in apis))


def table(results, ns, names, ref_a=("a_one", "a_noold", "a_canary")):
    lines = ["| N | variant | median wall (s) | min-max (s) | runs | tasks in play | ran/skipped per host | host module runs per host | API calls | /b | /c |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for n in ns:
        rows = results[n]
        for name in names:
            if name not in rows:
                continue
            r = rows[name]
            rb = "%.2f" % (r["median"] / rows["b"]["median"]) if "b" in rows and name in ref_a else ""
            rc = "%.2f" % (r["median"] / rows["c"]["median"]) if "c" in rows and name in ref_a else ""
            lines.append("| %d | %s | **%.2f** | %.2f-%.2f | %d | %d | %.0f/%.0f | %.0f | %s | %s | %s |" % (
                n, VARIANTS[name]["label"], r["median"], r["min"], r["max"], r["runs"], r["tasks"], r["ran"], r["skipped"],
                r["module_runs"], r["api"], rb, rc))
    return "\n".join(lines)


def breakdown(prof, n):
    """The role's tasks, slowest first: where the time goes."""
    lines = ["| task | action | s | ran | skipped |", "|---|---|---|---|---|"]
    for t in sorted(prof["tasks"], key=lambda t: -t["seconds"]):
        name = t["name"].replace("tokenops.tiflux.rotate : ", "").replace("|", "/")[:80]
        action = t["action"].replace("ansible.builtin.", "")
        lines.append("| %s | %s | %.2f | %d | %d |" % (name, action, t["seconds"], t["ok"] + t["failed"], t["skipped"]))
    return "\n".join(lines)


def payloads(bench):
    """AnsiballZ payload sizes and the cost of one module process, from one kept run per module."""
    d = os.path.join(bench.root, "payload")
    os.makedirs(d)
    one = F.Fleet(d, 1, bench.old, bench.new, bench.sim.info["api_url"])
    out = {}
    for name, playbook in (("token_deploy", "tokenops.tiflux.rotate"), ("token_push", os.path.join(PLAYBOOKS, "push_one.yml")),
                           ("lineinfile", os.path.join(PLAYBOOKS, "lineinfile_one.yml")),
                           ("copy", os.path.join(PLAYBOOKS, "floor.yml")), ("uri", os.path.join(PLAYBOOKS, "baseline.yml"))):
        one.reset()
        remote = os.path.join(d, "remote_tmp")
        shutil.rmtree(remote, ignore_errors=True)
        varfile = F.write_secret_vars(d, "vars.json", dict(rotate_new_token=bench.new, rotate_api_calls_per_minute=100000,
                                                           rotate_serial=["100%"]))
        env = F.ansible_env(d, ANSIBLE_KEEP_REMOTE_FILES="1")
        rc, _s, text = F.run_playbook(d, playbook, one.inventory, [varfile], env=env)
        os.unlink(varfile)
        files = glob.glob(os.path.join(remote, "*", "AnsiballZ_%s.py" % name))
        if rc != 0 or not files:
            out[name] = dict(error="rc=%s, %d payload(s)" % (rc, len(files)))
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


def write_doc(path, text):
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    block = "%s\n%s\n%s" % (start, text.strip(), end)
    if os.path.exists(path):
        with open(path) as handle:
            doc = handle.read()
    else:
        doc = "# Performance\n\n%s\n" % block
    if start in doc and end in doc:
        doc = doc[:doc.index(start)] + block + doc[doc.index(end) + len(end):]
    else:
        doc = doc.rstrip("\n") + "\n\n" + block + "\n"
    with open(path, "w") as handle:
        handle.write(doc)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", default="10,50", help="comma-separated fleet sizes (default 10,50; 200 is allowed)")
    parser.add_argument("--runs", type=int, default=3, help="interleaved runs per variant (median of them; default 3)")
    parser.add_argument("--forks", type=int, default=10)
    parser.add_argument("--variants", default="a_one,a_noold,a_canary,b,c")
    parser.add_argument("--push-hosts", type=int, default=20, help="issue 3 fleet size (0 to skip)")
    parser.add_argument("--push-runs", type=int, default=5)
    parser.add_argument("--no-payloads", action="store_true", help="skip the AnsiballZ size / process cost measurement")
    parser.add_argument("--write-doc", help="put the results into this Markdown file between bench markers")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    parser.add_argument("--alt-tree", help="a copy of the collection (e.g. with a proposed fix) for the *_alt variants")
    parser.add_argument("--push-variants", default="push,lineinfile", help="issue 3 variants (add push_alt with --alt-tree)")
    parser.add_argument("--pipelining", action="store_true", help="ANSIBLE_PIPELINING=1 for every run (default off, ansible's default)")
    args = parser.parse_args(argv)
    ns = [int(n) for n in args.hosts.split(",") if n]
    names = [v for v in args.variants.split(",") if v]
    if args.runs < 1 or any(n < 1 or n > 500 for n in ns) or not (ns or args.push_hosts):
        parser.error("runs >= 1 and 1 <= N <= 500")

    root = F.make_root("tiflux-bench-")
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = uptime()
    command = "tests/perf/bench.py " + " ".join(sys.argv[1:] if argv is None else argv)
    bench = Bench(root, args.forks, alt_tree=args.alt_tree, pipelining=args.pipelining)
    results = {}
    samples = {}
    push = {}
    try:
        for n in ns:
            bench.fleet(n)
            samples[n] = dict((name, []) for name in names)
            for i in range(args.runs):
                for name in names:
                    s = bench.run(n, name)
                    samples[n][name].append(s)
                    print("N=%-4d run %d/%d %-9s %7.2f s  api=%d  load %s" % (n, i + 1, args.runs, name, s["seconds"], s["api"], uptime()),
                          flush=True)
            results[n] = dict((name, summarise(samples[n][name], n)) for name in names)
        if args.push_hosts:
            bench.fleet(args.push_hosts)
            push_names = [v for v in args.push_variants.split(",") if v]
            samples["push"] = dict((name, []) for name in push_names)
            for i in range(args.push_runs):
                for name in push_names:
                    s = bench.run(args.push_hosts, name)
                    samples["push"][name].append(s)
                    print("issue3 N=%d run %d/%d %-10s %6.2f s  load %s" % (args.push_hosts, i + 1, args.push_runs, name, s["seconds"], uptime()),
                          flush=True)
            push = dict((name, summarise(samples["push"][name], args.push_hosts)) for name in push_names)
        pay = {} if args.no_payloads else payloads(bench)
    finally:
        bench.sim.stop()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)

    m = machine(args.forks)
    lines = [
        "Run %s, `%s` (%s)." % (started.strftime("%Y-%m-%d %H:%M UTC"), command, "make bench" if os.environ.get("MAKELEVEL") else "by hand"),
        "",
        "Machine: %s CPUs (%s), %s RAM, Linux %s, Python %s, %s; forks=%d for every playbook; local connection; %s; "
        "simulator on loopback (`--quota-per-minute 100000`); role runs with `rotate_api_calls_per_minute: 100000` (no pacing). "
        "Load average before: %s, after: %s (the machine is shared: compare ratios, not absolute seconds)." % (
            m["nproc"], m["cpu"], m["ram"], m["kernel"], m["python"], m["ansible"], m["forks"],
            "ANSIBLE_PIPELINING=1" if args.pipelining else "no pipelining (ansible's default)", load_before, uptime()),
        "",
        table(results, ns, names) if ns else "(no fleet sizes given: issue 3 only)",
    ]
    if push and "push" in push and "lineinfile" in push:
        ratio = push["push"]["median"] / push["lineinfile"]["median"]
        lines += ["", "Issue 3, one env file on %d hosts, whole-play wall time, median of %d interleaved runs:" % (args.push_hosts, args.push_runs), "",
                  "| play | median (s) | min-max (s) | / lineinfile |", "|---|---|---|---|"]
        for name in push:
            row = push[name]
            lines.append("| %s | **%.2f** | %.2f-%.2f | %.2f |" % (VARIANTS[name]["label"], row["median"], row["min"], row["max"],
                                                                   row["median"] / push["lineinfile"]["median"]))
        lines += ["", "token_push / lineinfile = **%.2f** (target <= 1.10: %s)" % (ratio, "met" if ratio <= 1.10 else "NOT met")]
    big = max(ns) if ns else None
    for name in ("a_one",):
        if name in names and big:
            lines += ["", "Where the role's time goes (N=%d, last run of %s, per task, slowest first):" % (big, name), "",
                      breakdown(samples[big][name][-1]["profile"], big)]
    if pay:
        lines += ["", "Module payloads (AnsiballZ, kept with ANSIBLE_KEEP_REMOTE_FILES=1) and the wall time of one module process "
                  "run directly on the host (median of 5; token_deploy's includes its one API call):", "",
                  "| payload | size (bytes) | one run (s) |", "|---|---|---|"]
        for name, r in pay.items():
            if "error" in r:
                lines.append("| %s | %s | |" % (name, r["error"]))
            else:
                lines.append("| %s | %s | %.3f |" % (name, r.get("bytes", ""), r["run"]))
    text = "\n".join(lines)
    print()
    print(text)
    if args.write_doc:
        write_doc(args.write_doc, text)
        print("\nwritten to %s" % args.write_doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
