# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Controller-side pacing of Tiflux API calls across forks and hosts.

Tiflux counts requests per user per clock minute, shared with the live integrations of
that user. Every plugin that is about to make API calls reserves them here first; a
reservation waits until fewer than ``per_minute`` calls were reserved in the last
minute (plus a margin for the time a module takes to start on its host). Any clock
minute is inside such a sliding window, so it never sees more than the budget. The
ledger lives in ansible's per-run temp dir, shared by forked workers, gone after the run.
"""

from __future__ import annotations

import fcntl
import json
import os
import time

from ansible import constants as C

# 60 s plus the spread between reserving a call and the module making it on its host.
WINDOW = 62.0


class PaceError(ValueError):
    pass


class Pacer:
    def __init__(self, base_dir=None, sleep=time.sleep, clock=time.time):
        self.path = os.path.join(base_dir or C.DEFAULT_LOCAL_TMP, "tokenops_tiflux_pace.json")
        self._sleep = sleep
        self._clock = clock

    def _take(self, calls, per_minute):
        """Reserve now if the budget allows; else return how long to wait."""
        with open(self.path + ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                try:
                    with open(self.path) as handle:
                        stamps = json.load(handle)
                except (OSError, ValueError):
                    stamps = []
                now = self._clock()
                stamps = sorted(t for t in stamps if t > now - WINDOW)
                excess = len(stamps) + calls - per_minute
                if excess <= 0:
                    with open(self.path + ".tmp", "w") as handle:
                        json.dump(stamps + [now] * calls, handle)
                    os.rename(self.path + ".tmp", self.path)
                    return 0.0
                return max(0.05, stamps[excess - 1] + WINDOW - now)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def reserve(self, calls, per_minute):
        """Block until ``calls`` API calls fit the budget; returns the seconds waited."""
        if not per_minute or calls <= 0:
            return 0.0
        if calls > per_minute:
            raise PaceError("one step needs %d API calls but api_calls_per_minute is %d: raise it or use fewer probes" % (calls, per_minute))
        waited = 0.0
        while True:
            wait = self._take(calls, per_minute)
            if not wait:
                return waited
            wait = min(wait, 5.0)
            self._sleep(wait)
            waited += wait
