# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Test-only stdout callback: every task result as JSON, verbatim (what ansible.posix.json prints).

ansible-core 2.19 has no ansible.builtin.json callback and ansible.posix is not available offline;
the leak scan needs the results as a JSON callback would show them, so this one dumps each result
dict (results of loop items included) without abridging anything.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: tiflux_json
type: stdout
short_description: every task result as JSON, for the leak scan
description: Prints one JSON document with every play, task and host result, unabridged.
"""

import json

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "tiflux_json"

    def __init__(self):
        super().__init__()
        self.results = []
        self.task = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.task = task.get_name()

    def _add(self, status, result):
        self.results.append(dict(task=self.task, host=result._host.get_name(), status=status, result=result._result))

    def v2_runner_on_ok(self, result):
        self._add("ok", result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._add("failed", result)

    def v2_runner_on_skipped(self, result):
        self._add("skipped", result)

    def v2_runner_on_unreachable(self, result):
        self._add("unreachable", result)

    def v2_runner_item_on_ok(self, result):
        self._add("item_ok", result)

    def v2_runner_item_on_failed(self, result):
        self._add("item_failed", result)

    def v2_on_file_diff(self, result):
        self._add("diff", result)

    def v2_playbook_on_stats(self, stats):
        hosts = sorted(stats.processed.keys())
        summary = dict((h, stats.summarize(h)) for h in hosts)
        self._display.display(json.dumps(dict(results=self.results, stats=summary), indent=1, default=str, sort_keys=True))
