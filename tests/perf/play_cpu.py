# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""CPU time of whole plays, this tree against another copy of the collection (not a test: prints figures).

On a shared machine the wall time of a play moves by tens of percent from one run to the next; the CPU it spends
(user + sys of ansible-playbook and every process it ran, from os.wait4) moves much less, and on an idle CPU-bound
machine the wall time follows it. Plays, in random order on N local hosts against the simulator:

  push        tests/perf/playbooks/push_one.yml (token_push of one env file) with this tree
  push_alt    the same with --alt-tree
  lineinfile  tests/perf/playbooks/lineinfile_one.yml
  role        tokenops.tiflux.rotate, one batch, 2 targets per host (token_deploy with its API proof), this tree
  role_alt    the same with --alt-tree
  push_alt2, role_alt2   the same with --alt-tree2 (a third tree, e.g. the tree before a change and main)
  push_bare   push without the collection's action plugin: this tree's token_push.py run as a playbook-adjacent
              library module (ansible's normal action), to tell the controller side from the host side

    .venv/bin/python tests/perf/play_cpu.py --hosts 20 --runs 9 --alt-tree /tmp/tiflux-before --plays push,push_alt,lineinfile
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fleet as F  # noqa: E402  pylint: disable=wrong-import-position

PLAYS = {
    "push": (os.path.join(HERE, "playbooks", "push_one.yml"), False),
    "push_alt": (os.path.join(HERE, "playbooks", "push_one.yml"), True),
    "lineinfile": (os.path.join(HERE, "playbooks", "lineinfile_one.yml"), False),
    "role": ("tokenops.tiflux.rotate", False),
    "role_alt": ("tokenops.tiflux.rotate", True),
    "push_alt2": (os.path.join(HERE, "playbooks", "push_one.yml"), 2),
    "role_alt2": ("tokenops.tiflux.rotate", 2),
    "push_bare": ("push_bare.yml", False),
}
BARE_PLAY = """- name: Push one env file with token_push, without its action plugin
  hosts: fleet
  gather_facts: false
  tasks:
    - name: Push the token into the env file
      push_bare:
        path: "{{ host_dir }}/tiflux.env"
        format: env
        key: TIFLUX_API_TOKEN
        token: "{{ rotate_new_token }}"
"""


def write_bare_play(root):
    """push_bare.yml and library/push_bare.py (a copy of token_push.py) under root; returns the playbook."""
    os.makedirs(os.path.join(root, "library"))
    shutil.copy(os.path.join(F.REPO, "plugins", "modules", "token_push.py"), os.path.join(root, "library", "push_bare.py"))
    path = os.path.join(root, "push_bare.yml")
    with open(path, "w") as handle:
        handle.write(BARE_PLAY)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--forks", type=int, default=10)
    parser.add_argument("--alt-tree", required=True, help="the other copy of the collection (e.g. git archive main)")
    parser.add_argument("--alt-tree2", help="a third copy of the collection, for the *_alt2 plays")
    parser.add_argument("--plays", default="push,push_alt,lineinfile,role,role_alt")
    args = parser.parse_args(argv)
    plays = [p for p in args.plays.split(",") if p]
    root = F.make_root("tiflux-playcpu-")
    sim = F.SimProcess(root)
    try:
        _user, old, new = F.issue_pair(sim.control)
        fleet = F.Fleet(root, args.hosts, old, new, sim.info["api_url"])
        report = os.path.join(root, "report")
        os.makedirs(report)
        varfile = F.write_secret_vars(root, "vars.json", dict(
            rotate_new_token=new, rotate_old_token=old, rotate_report_dir=report, rotate_serial=["100%"],
            rotate_api_calls_per_minute=100000))
        playbooks = dict((p, write_bare_play(root) if p == "push_bare" else PLAYS[p][0]) for p in plays)
        cpu, wall = dict((p, []) for p in plays), dict((p, []) for p in plays)
        load = open("/proc/loadavg").read().split()[:3]
        for run in range(args.runs):
            for play in random.sample(plays, len(plays)):
                fleet.reset()
                playbook, alt = playbooks[play], PLAYS[play][1]
                tree = {False: None, True: args.alt_tree, 2: args.alt_tree2}[alt]
                env = F.ansible_env(root, tree=tree, ANSIBLE_FORKS=str(args.forks))
                started = time.perf_counter()
                proc = subprocess.Popen([F.ANSIBLE_PLAYBOOK, "-i", fleet.inventory, playbook, "-e", "@" + varfile], env=env,
                                        cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                _pid, status, usage = os.wait4(proc.pid, 0)
                if status != 0:
                    raise SystemExit("play_cpu: %s failed (status %d)" % (play, status))
                wall[play].append(time.perf_counter() - started)
                cpu[play].append(usage.ru_utime + usage.ru_stime)
            print("run %d/%d done, load %s" % (run + 1, args.runs, " ".join(open("/proc/loadavg").read().split()[:3])), flush=True)
        load_after = open("/proc/loadavg").read().split()[:3]
    finally:
        sim.stop()
        shutil.rmtree(root, ignore_errors=True)
    median = statistics.median
    print("%d hosts, %d runs each, forks %d, load %s at the start, %s at the end"
          % (args.hosts, args.runs, args.forks, " ".join(load), " ".join(load_after)))
    for play in plays:
        print("%-10s CPU median %6.2f s (min %6.2f)  wall median %6.2f s" % (play, median(cpu[play]), min(cpu[play]), median(wall[play])))
    for a, b in (("push", "lineinfile"), ("push_alt", "lineinfile"), ("push_alt2", "lineinfile"), ("push_bare", "lineinfile"),
                 ("push", "push_alt"), ("push", "push_alt2"), ("push", "push_bare"), ("role", "role_alt"), ("role", "role_alt2")):
        if a in cpu and b in cpu:
            paired = median(x / y for x, y in zip(cpu[a], cpu[b]))
            print("%s / %s: CPU %.3f (median of the runs' own ratios %.3f), wall %.3f"
                  % (a, b, median(cpu[a]) / median(cpu[b]), paired, median(wall[a]) / median(wall[b])))


if __name__ == "__main__":
    main()
