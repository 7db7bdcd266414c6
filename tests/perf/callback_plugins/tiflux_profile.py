# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Benchmark-only callback: per task wall time and per host outcome, written as JSON.

ansible-core 2.19 ships no profile_tasks (it lives in ansible.posix, not available offline);
this is the part of it the benchmark needs. Enable with
ANSIBLE_CALLBACK_PLUGINS=tests/perf/callback_plugins ANSIBLE_CALLBACKS_ENABLED=tiflux_profile
and set TIFLUX_PROFILE_OUT to the JSON file to write. Writes task names, actions, times and
counts only: never arguments or results.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: tiflux_profile
type: aggregate
short_description: per-task timing for the tokenops.tiflux benchmark
description: Writes per task wall time and per host outcome counts to the file named by TIFLUX_PROFILE_OUT.
requirements: [enable in configuration]
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "tiflux_profile"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.tasks = []
        self.current = None
        self.started = time.monotonic()
        self.hosts = {}
        self.plays = []  # play names, each once; a play with serial starts once per batch
        self.batches = 0
        self.play = 0
        self.host_started = {}

    def _close(self):
        if self.current is not None:
            self.current["seconds"] = round(time.monotonic() - self.current.pop("_t0"), 4)
            self.tasks.append(self.current)
            self.current = None

    def _start(self, task, kind):
        self._close()
        self.host_started = {}
        # host_seconds: the sum over hosts of each host's run of the task (a forked worker, from start to result)
        self.current = dict(name=task.get_name(), action=task.action, kind=kind, play=self.play, batch=self.batches,
                            _t0=time.monotonic(),
                            ok=0, changed=0, skipped=0, failed=0, unreachable=0, module_runs=0, host_seconds=0.0, host_max=0.0)

    def v2_playbook_on_play_start(self, play):
        self._close()
        self.batches += 1
        if play.get_name() not in self.plays:
            self.plays.append(play.get_name())
        self.play = self.plays.index(play.get_name()) + 1

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._start(task, "task")

    def v2_playbook_on_handler_task_start(self, task):
        self._start(task, "handler")

    def v2_runner_on_start(self, host, task):
        self.host_started[host.get_name()] = time.monotonic()

    def _count(self, result, what):
        if self.current is None:
            return
        name = result._host.get_name()
        self.current[what] += 1
        started = self.host_started.pop(name, None)
        if started is not None:
            took = time.monotonic() - started
            self.current["host_seconds"] = round(self.current["host_seconds"] + took, 4)
            self.current["host_max"] = round(max(self.current["host_max"], took), 4)
        host = self.hosts.setdefault(name, dict(ran=0, skipped=0))
        host["skipped" if what == "skipped" else "ran"] += 1
        if what == "ok" and result._result.get("changed"):
            self.current["changed"] += 1
        if what != "skipped":
            self.current["module_runs"] += 1

    def v2_runner_on_ok(self, result):
        self._count(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._count(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._count(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._count(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        self._close()
        out = os.environ.get("TIFLUX_PROFILE_OUT")
        if not out:
            return
        # the play recap: a host whose failure a rescue handled is not counted as failed
        recap = dict((host, stats.summarize(host)) for host in sorted(stats.processed))
        failed = sorted(host for host, s in recap.items() if s.get("failures") or s.get("unreachable"))
        with open(out, "w") as handle:
            json.dump(dict(total_seconds=round(time.monotonic() - self.started, 4), plays=len(self.plays), batches=self.batches, tasks=self.tasks,
                           hosts=self.hosts, failed_hosts=failed), handle, indent=1)
