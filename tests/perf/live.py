# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A live integration of the rotating user, for the benchmark: its own token, a fixed rate.

It stands for the user's production integrations, which share the user's quota with the
rotation: a thread that calls GET {api_url}/users/me with its own token on a fixed schedule
(60 a minute by default: one call every second, late calls made at once so the rate holds on
a loaded machine) and counts what it gets back. It never prints or stores the token.
"""

from __future__ import annotations

import collections
import threading
import time
import urllib.error
import urllib.request

RATE_LIMITED = 429


class LiveIntegration(threading.Thread):
    def __init__(self, api_url, token, per_minute=60, path="/users/me", timeout=10.0):
        super().__init__(name="live-integration", daemon=True)
        self.url = api_url.rstrip("/") + path
        self._token = token
        self.period = 60.0 / per_minute
        self.timeout = timeout
        self._stop_event = threading.Event()
        self.by_status = collections.Counter()  # HTTP status -> count; "error" for transport failures
        self.ok_per_minute = collections.Counter()  # UTC "YYYY-MM-DDTHH:MM" -> 200s, the simulator's per-minute key
        self.started = self.stopped = None

    def _call(self):
        request = urllib.request.Request(self.url, headers={"Authorization": "Bearer " + self._token, "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # nosec: loopback simulator only
                response.read()
                return response.status
        except urllib.error.HTTPError as exc:
            exc.read()
            return exc.code
        except OSError:
            return "error"

    def run(self):
        self.started = time.monotonic()
        due = self.started
        while not self._stop_event.is_set():
            status = self._call()
            self.by_status[status] += 1
            if status == 200:
                self.ok_per_minute[time.strftime("%Y-%m-%dT%H:%M", time.gmtime())] += 1
            due += self.period
            self._stop_event.wait(max(0.0, due - time.monotonic()))
        self.stopped = time.monotonic()

    def stop(self):
        """Stop after the call in flight; returns the counts."""
        self._stop_event.set()
        self.join(self.timeout + 5)
        return self.summary()

    def summary(self):
        calls = sum(self.by_status.values())
        seconds = (self.stopped or time.monotonic()) - (self.started or time.monotonic())
        return dict(calls=calls, ok=self.by_status[200], rate_limited=self.by_status[RATE_LIMITED],
                    other=calls - self.by_status[200] - self.by_status[RATE_LIMITED],
                    per_minute=round(calls * 60.0 / seconds, 1) if seconds > 0 else None,
                    ok_per_minute=dict(self.ok_per_minute))
