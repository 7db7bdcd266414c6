# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""CPU of one module process, this tree against another copy of the collection (not a test: prints figures).

A whole play's wall time moves by tens of percent on a shared machine; one module process, run directly from its
AnsiballZ payload (kept with ANSIBLE_KEEP_REMOTE_FILES=1), is what a change to module_utils changes, and its CPU
(user + sys from os.wait4) is steady to a few percent. Each round resets the host's files to the old token, so every
run is a real change, then runs every payload once, in random order:

  push        token_push of one env file (tests/perf/playbooks/push_one.yml), this tree
  push_alt    the same, --alt-tree
  lineinfile  ansible.builtin.lineinfile of the same file (tests/perf/playbooks/lineinfile_one.yml)
  deploy      token_deploy of the host's 2 targets, backups on, verify off (tests/perf/playbooks/deploy_one.yml)
  deploy_alt  the same, --alt-tree
  push_alt2, deploy_alt2   the same with --alt-tree2 (a third tree, e.g. the tree before a change and main)

--imports N takes each payload's zip and imports the module from it (after ansible.module_utils.basic, as
AnsiballZ does) in N new processes: the CPU of compiling the module and the module_utils it imports at its top.

    .venv/bin/python tests/perf/module_cpu.py --alt-tree /tmp/tiflux-before --rounds 60 --imports 30
"""

from __future__ import annotations

import argparse
import base64
import glob
import os
import random
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
VARIANTS = {
    "push": ("token_push", "push_one.yml", False),
    "push_alt": ("token_push", "push_one.yml", True),
    "lineinfile": ("lineinfile", "lineinfile_one.yml", False),
    "deploy": ("token_deploy", "deploy_one.yml", False),
    "deploy_alt": ("token_deploy", "deploy_one.yml", True),
    "push_alt2": ("token_push", "push_one.yml", 2),
    "deploy_alt2": ("token_deploy", "deploy_one.yml", 2),
}


def keep_payload(root, fleet, variant, tree, varfile):
    """Run the variant's playbook once with ANSIBLE_KEEP_REMOTE_FILES=1 and copy its AnsiballZ payload out."""
    module, playbook, _alt = VARIANTS[variant]
    remote = os.path.join(root, "remote_tmp")  # kept until the end: lineinfile writes its temp file there
    before = set(glob.glob(os.path.join(remote, "*", "AnsiballZ_%s.py" % module)))
    fleet.reset()
    env = F.ansible_env(root, tree=tree, ANSIBLE_KEEP_REMOTE_FILES="1")
    rc, _seconds, text = F.run_playbook(root, os.path.join(PLAYBOOKS, playbook), fleet.inventory, [varfile], env=env)
    found = sorted(set(glob.glob(os.path.join(remote, "*", "AnsiballZ_%s.py" % module))) - before)
    if rc != 0 or len(found) != 1:
        raise SystemExit("module_cpu: %s: rc=%s, %d payload(s)\n%s" % (variant, rc, len(found), text[-2000:]))
    path = found[0]
    return path


def cpu_run(payload, fleet):
    fleet.reset()
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, payload], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = proc.stdout.read()
    proc.stdout.close()
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if status != 0 or b'"changed": true' not in out:
        raise SystemExit("module_cpu: %s did not change the file: %s" % (os.path.basename(payload), out[-300:]))
    return usage.ru_utime + usage.ru_stime, wall


IMPORT_CPU = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
import ansible.module_utils.basic
started = time.process_time()
__import__(sys.argv[2])
print(time.process_time() - started)
"""


def zip_of(payload, root, variant):
    """The module's zip (what AnsiballZ imports from) out of a kept payload."""
    with open(payload) as handle:
        data = re.search(r"zip_data='([^']*)'", handle.read()).group(1)
    path = os.path.join(root, "%s.zip" % variant)
    with open(path, "wb") as handle:
        handle.write(base64.b64decode(data))
    return path


def import_cpu(zipped, module):
    """CPU seconds of importing the module (and what it imports at the top) from its zip, after basic, in a new process."""
    out = subprocess.run([sys.executable, "-c", IMPORT_CPU, zipped, module], stdout=subprocess.PIPE, check=True, text=True)
    return float(out.stdout)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--alt-tree", required=True, help="the other copy of the collection (e.g. git archive main)")
    parser.add_argument("--alt-tree2", help="a third copy of the collection, for the *_alt2 variants")
    parser.add_argument("--variants", default="push,push_alt,lineinfile,deploy,deploy_alt")
    parser.add_argument("--imports", type=int, default=0, metavar="N",
                        help="also the CPU of importing each collection module from its zip, in N new processes each")
    args = parser.parse_args(argv)
    variants = [v for v in args.variants.split(",") if v]
    root = F.make_root("tiflux-modcpu-")
    sim = F.SimProcess(root)
    try:
        _user, old, new = F.issue_pair(sim.control)
        fleet = F.Fleet(root, 1, old, new, sim.info["api_url"])
        varfile = F.write_secret_vars(root, "vars.json", dict(rotate_new_token=new))
        trees = {False: None, True: args.alt_tree, 2: args.alt_tree2}
        payloads = dict((v, keep_payload(root, fleet, v, trees[VARIANTS[v][2]], varfile)) for v in variants)
        load = " ".join(open("/proc/loadavg").read().split()[:3])
        cpu, wall = dict((v, []) for v in variants), dict((v, []) for v in variants)
        for _round in range(args.rounds):
            for variant in random.sample(variants, len(variants)):
                c, w = cpu_run(payloads[variant], fleet)
                cpu[variant].append(c)
                wall[variant].append(w)
        imports = dict((v, []) for v in variants if args.imports)
        zips = dict((v, zip_of(payloads[v], root, v)) for v in imports)
        for _run in range(args.imports):
            for variant in random.sample(list(imports), len(imports)):
                name = VARIANTS[variant][0]
                module = "ansible.modules." + name if name == "lineinfile" else "ansible_collections.tokenops.tiflux.plugins.modules." + name
                imports[variant].append(import_cpu(zips[variant], module))
        load_after = " ".join(open("/proc/loadavg").read().split()[:3])
    finally:
        sim.stop()
        shutil.rmtree(root, ignore_errors=True)
    median = statistics.median
    print("one module process per run, %d rounds in random order; load average %s at the start, %s at the end"
          % (args.rounds, load, load_after))
    for variant in variants if args.rounds else ():
        print("%-11s CPU median %6.1f ms (min %6.1f)  wall median %6.1f ms  payload %s"
              % (variant, 1000 * median(cpu[variant]), 1000 * min(cpu[variant]), 1000 * median(wall[variant]),
                 VARIANTS[variant][0]))
    for a, b in (("push", "lineinfile"), ("push_alt", "lineinfile"), ("push_alt2", "lineinfile"), ("push", "push_alt"),
                 ("push", "push_alt2"), ("deploy", "deploy_alt"), ("deploy", "deploy_alt2")):
        if a in cpu and b in cpu and args.rounds:
            paired = median(x / y for x, y in zip(cpu[a], cpu[b]))
            print("%s / %s: CPU median %.3f (min %.3f, median of the rounds' own ratios %.3f)"
                  % (a, b, median(cpu[a]) / median(cpu[b]), min(cpu[a]) / min(cpu[b]), paired))
    for variant, values in imports.items():
        print("%-11s import of the module after basic, from its zip: CPU median %5.1f ms (min %5.1f), %d processes"
              % (variant, 1000 * median(values), 1000 * min(values), len(values)))


if __name__ == "__main__":
    main()
