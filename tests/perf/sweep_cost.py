# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Cost of the old-token sweep on one host (plugins/module_utils/_sweep.py). Not a test: prints figures.

Three measurements, on this machine:

  paths      sweep() of _sweep.DEFAULT_PATHS as they are here (/etc, /opt, /srv, /usr/local/etc), with the
             default 10 s budget and without a budget (to see the whole cost), warm cache (median of --runs)
             and, with --cold, once after dropping the page cache (root only; other users of the machine
             lose their cache too, so do it rarely)
  synthetic  the same on a generated tree: --config-files small config files spread over app directories,
             plus toolchain-like trees (node_modules, site-packages, .git objects, a JDK, all pruned by name)
             and one toolchain the rules do not recognise (--unknown-files text files), one old token
             planted deep in an app directory
  import     importing the module from a zip, as AnsiballZ runs it (no .pyc, so it is compiled on every
             module run), after _io and _token (which token_deploy imports anyway): `python -X importtime`
             and the CPU and wall time around the import statement, median and min of max(--runs, 15)

    .venv/bin/python tests/perf/sweep_cost.py                  # warm only
    .venv/bin/python tests/perf/sweep_cost.py --cold           # plus one cold run of each tree (root)
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
UTILS = os.path.join(REPO, "plugins", "module_utils")
OLD = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiIsImlhdCI6MTcwMDAwMDAwMH0.b2xkLXNpZ25hdHVyZS0xMjM0"
PREFIX = "ansible_collections.tokenops.tiflux.plugins.module_utils"


def importable():
    """A symlink farm so that this work tree imports as tokenops.tiflux (no installed copy)."""
    farm = tempfile.mkdtemp(prefix="tiflux-sweep-cost-")
    os.makedirs(os.path.join(farm, "ansible_collections", "tokenops"))
    os.symlink(REPO, os.path.join(farm, "ansible_collections", "tokenops", "tiflux"))
    sys.path.insert(0, farm)
    return farm


def drop_caches():
    subprocess.check_call(["sync"])
    with open("/proc/sys/vm/drop_caches", "w") as handle:
        handle.write("3\n")


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)


def synthetic_tree(root, config_files, unknown_files):
    """Apps with config files, toolchain-like trees, one stray copy of the old token."""
    filler = b"# generated\noption = some value that is not a token\n"
    apps = max(1, config_files // 10)
    names = ["app.env", "config.json", "settings.yml", "service.conf", "crontab", "README.txt", "logging.ini",
             "docker-compose.yml", "run.sh", "notes.md"]
    for a in range(apps):
        base = os.path.join(root, "srv", "app%04d" % a, "etc" if a % 2 else "")
        for i, name in enumerate(names[:min(10, config_files - a * 10)]):
            write(os.path.join(base, name), filler * (1 + (a * 7 + i) % 40))
    write(os.path.join(root, "srv", "app%04d" % (apps - 1), "deploy", "old", ".env"),
          ("TIFLUX_API_TOKEN=%s\n" % OLD).encode())
    opt = os.path.join(root, "opt")
    for i in range(4000):
        write(os.path.join(opt, "web", "node_modules", "pkg%03d" % (i // 20), "lib", "f%d.js" % i), b"module.exports = 1;\n" * 20)
    for i in range(3000):
        write(os.path.join(opt, "venv", "lib", "python3.11", "site-packages", "m%03d" % (i // 30), "f%d.py" % i), b"x = 1\n" * 50)
    for i in range(2000):
        write(os.path.join(opt, "repo", ".git", "objects", "%02x" % (i % 256), "o%d" % i), os.urandom(512))
    for i in range(300):
        write(os.path.join(opt, "jdk-17.0.2", "lib", "lib%d.so" % i), os.urandom(4096))
    for i in range(unknown_files):  # sources, headers and docs of a toolchain the rules do not know by name
        ext = (".py", ".h", ".txt", ".html")[i % 4]
        write(os.path.join(opt, "toolchain-x", "lib", "d%03d" % (i // 100), "f%d%s" % (i, ext)), b"X = 1\n" * 60)
    return [os.path.join(root, d) for d in ("srv", "opt")]


def timed(paths, budget, runs, secrets):
    from ansible_collections.tokenops.tiflux.plugins.module_utils import _sweep  # pylint: disable=import-outside-toplevel
    rows = []
    for _run in range(runs):
        cpu = time.process_time()
        result = _sweep.sweep(paths, secrets, budget_seconds=budget)
        result["cpu"] = time.process_time() - cpu
        rows.append(result)
    rows.sort(key=lambda r: r["seconds"])
    median = rows[len(rows) // 2]
    median["min"], median["max"] = rows[0]["seconds"], rows[-1]["seconds"]
    return median


def show(label, result, cache):
    skipped = ", ".join("%s %d" % (k, v) for k, v in sorted(result["skipped"].items()) if v)
    print("| %s | %s | %s | %.3f | %s | %d | %.1f | %s | %d | %s | %s |" % (
        label, cache, result.get("budget"), result["seconds"],
        "%.3f-%.3f" % (result["min"], result["max"]) if "min" in result else "",
        result["files"], result["bytes"] / 1048576.0, "yes" if result["complete"] else "no: " + result["cut_short"],
        len(result["hits"]), skipped, "%.3f" % result["cpu"]))


def header():
    print("| tree | cache | budget (s) | seconds (median) | min-max | files read | MiB read | complete | hits | skipped | CPU s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")


def sweep_rows(label, paths, runs, cold, secrets):
    for budget in (10.0, 600.0):
        if cold and budget == 10.0:
            drop_caches()
            result = timed(paths, budget, 1, secrets)
            result.pop("min")
            result["budget"] = "%g" % budget
            show(label, result, "cold")
        timed(paths, budget, 1, secrets)  # warm the cache
        result = timed(paths, budget, runs, secrets)
        result["budget"] = "%g" % budget
        show(label, result, "warm")


def zipped_module_utils(directory):
    """The collection's module_utils in a zip, as AnsiballZ packs them (source only, no .pyc)."""
    path = os.path.join(directory, "payload.zip")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for package in ("ansible_collections", "ansible_collections/tokenops", "ansible_collections/tokenops/tiflux",
                        "ansible_collections/tokenops/tiflux/plugins",
                        "ansible_collections/tokenops/tiflux/plugins/module_utils"):
            archive.writestr(package + "/__init__.py", "")
        for name in ("_sweep.py", "_io.py", "_token.py"):
            archive.write(os.path.join(UTILS, name), "ansible_collections/tokenops/tiflux/plugins/module_utils/" + name)
    return path


_IMPORT_PROBE = """
import time
c0, w0 = time.process_time(), time.perf_counter()
import {p}._io, {p}._token
c1, w1 = time.process_time(), time.perf_counter()
import {p}._sweep
c2, w2 = time.process_time(), time.perf_counter()
print("%f %f %f %f" % (c1 - c0, w1 - w0, c2 - c1, w2 - w1))
""".format(p=PREFIX)


def import_times(python, payload, runs):
    """Per run: -X importtime of _sweep (cumulative, us) and CPU/wall seconds of _io+_token, then of _sweep."""
    rows = []
    env = dict(os.environ, PYTHONPATH=payload, PYTHONDONTWRITEBYTECODE="1")
    for _run in range(runs):
        done = subprocess.run([python, "-X", "importtime", "-c", _IMPORT_PROBE], env=env, check=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        importtime = None
        for line in done.stderr.splitlines():
            m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|\s+(\S+)\s*$", line)
            if m and m.group(3) == PREFIX + "._sweep":
                importtime = int(m.group(2))
        rows.append([importtime / 1000.0] + [float(x) * 1000 for x in done.stdout.split()])
    return [(statistics.median(col), min(col)) for col in zip(*rows)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="warm runs per row (median)")
    parser.add_argument("--cold", action="store_true", help="also one run after dropping the page cache (root)")
    parser.add_argument("--config-files", type=int, default=10000)
    parser.add_argument("--unknown-files", type=int, default=20000)
    parser.add_argument("--skip", default="", help="comma-separated: paths,synthetic,import")
    args = parser.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    farm = importable()
    from ansible_collections.tokenops.tiflux.plugins.module_utils import _sweep  # pylint: disable=import-outside-toplevel
    from ansible_collections.tokenops.tiflux.plugins.module_utils._token import fingerprint  # pylint: disable=import-outside-toplevel
    secrets = {fingerprint(OLD): OLD, fingerprint(OLD[::-1]): OLD[::-1]}
    print("Run %s UTC, `tests/perf/sweep_cost.py %s`" % (time.strftime("%Y-%m-%d %H:%M", time.gmtime()), " ".join(argv or sys.argv[1:])))
    print("Machine: %d CPUs, Linux %s, Python %s; load average %s; two secrets searched"
          % (os.cpu_count(), platform.release(), platform.python_version(), " ".join("%.2f" % x for x in os.getloadavg())))
    print()
    if not {"paths", "synthetic"} <= skip:
        header()
    try:
        if "paths" not in skip:
            sweep_rows("this machine: %s" % ", ".join(_sweep.DEFAULT_PATHS), list(_sweep.DEFAULT_PATHS), args.runs, args.cold, secrets)
        if "synthetic" not in skip:
            root = tempfile.mkdtemp(prefix="tiflux-sweep-tree-", dir="/var/tmp")
            try:
                start = time.perf_counter()
                paths = synthetic_tree(root, args.config_files, args.unknown_files)
                count = sum(len(files) for _d, _s, files in os.walk(root))
                print("<!-- synthetic tree: %d files made in %.1f s -->" % (count, time.perf_counter() - start))
                sweep_rows("synthetic: %d config files + toolchains (%d files)" % (args.config_files, count), paths,
                           args.runs, args.cold, secrets)
            finally:
                shutil.rmtree(root)
        if "import" not in skip:
            work = tempfile.mkdtemp(prefix="tiflux-sweep-zip-")
            runs = max(args.runs, 15)
            try:
                figures = import_times(sys.executable, zipped_module_utils(work), runs)
            finally:
                shutil.rmtree(work)
            print()
            print("Imports from a zip without .pyc (compiled on each run, as AnsiballZ does), %d runs, ms, median (min):" % runs)
            print()
            print("| what | -X importtime of _sweep | CPU | wall |")
            print("|---|---|---|---|")
            (imp, imp_min), (io_cpu, io_cpu_min), (io_wall, io_wall_min), (cpu, cpu_min), (wall, wall_min) = figures
            print("| _io + _token (token_deploy imports them already) |  | %.1f (%.1f) | %.1f (%.1f) |" % (io_cpu, io_cpu_min, io_wall, io_wall_min))
            print("| then _sweep | %.1f (%.1f) | %.1f (%.1f) | %.1f (%.1f) |" % (imp, imp_min, cpu, cpu_min, wall, wall_min))
    finally:
        shutil.rmtree(farm)
    return 0


if __name__ == "__main__":
    sys.exit(main())
