# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Controller-side pacing of Tiflux API calls across forks and hosts.

Tiflux counts requests per user per clock minute (RateLimit-Limit, 120 documented), shared
with the live integrations of that user. Every plugin that is about to make API calls
reserves them here first, and hands every check result back (observe) so the pacer sees
the quota headers of Tiflux's answers. A reservation waits until both hold:

- the run's own calls in the last minute (plus a margin for the time a module takes to
  start on its host) stay within the budget: the limit minus ``quota_reserve`` (default
  half the limit), and at most ``api_calls_per_minute`` when that is set. Any clock minute
  is inside such a sliding window, so it never sees more than the budget;
- within the minute of the latest answer, what that answer said remains, minus the calls
  reserved since, stays at or above ``quota_reserve``: when live integrations use more
  than expected, the run waits for the next minute (RateLimit-Reset plus the clock-skew
  margin) instead of pushing them into 429s.

The limit is the latest RateLimit-Limit seen, else the token's req_limit claim, else 120.
The ledger lives in ansible's per-run temp dir, shared by forked workers, gone after the run.
"""

from __future__ import annotations

import calendar
import fcntl
import json
import os
import time

from ansible import constants as C

from ansible_collections.tokenops.tiflux.plugins.module_utils._connection import DEFAULT_RATE_LIMIT_MARGIN
from ansible_collections.tokenops.tiflux.plugins.module_utils._token import request_limit

# 60 s plus the spread between reserving a call and the module making it on its host.
WINDOW = 62.0
# Tiflux's documented limit, when neither an answer nor the token's claims say otherwise.
DEFAULT_LIMIT = 120
# Calls reserved this long before an answer was handed back may not be counted in it yet.
IN_FLIGHT = 5.0
# Answers whose quota headers are the token's user's (a 401 carries the per-IP limit of requests without a valid token).
_USER_QUOTA_STATUSES = ("valid", "forbidden")


class PaceError(ValueError):
    pass


def _epoch(iso):
    try:
        return float(calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ")))
    except (TypeError, ValueError):
        return None


def _number(value, name):
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise PaceError("%s must be a whole number, got %r" % (name, value)) from None


class Pacer:
    def __init__(self, base_dir=None, sleep=time.sleep, clock=time.time):
        self.path = os.path.join(base_dir or C.DEFAULT_LOCAL_TMP, "tokenops_tiflux_pace.json")
        self._sleep = sleep
        self._clock = clock

    # -- the ledger ------------------------------------------------------------------------------

    def _locked(self, change):
        """Run change(state) -> value under the ledger's lock; state is saved when change marks it dirty."""
        with open(self.path + ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                try:
                    with open(self.path) as handle:
                        state = json.load(handle)
                except (OSError, ValueError):
                    state = {}
                if isinstance(state, list):  # the ledger of an older version: reservation times only
                    state = {"stamps": state}
                value = change(state)
                if state.pop("dirty", False):
                    with open(self.path + ".tmp", "w") as handle:
                        json.dump(state, handle)
                    os.rename(self.path + ".tmp", self.path)
                return value
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def limits(self, per_minute=None, quota_reserve=None, token=None, seen=None):
        """(limit, reserve, budget) for a reservation; PaceError when nothing is left to spend."""
        limit = (seen or {}).get("limit") or (request_limit(token) if token else None) or DEFAULT_LIMIT
        reserve = limit // 2 if quota_reserve is None else max(0, quota_reserve)
        if reserve >= limit:
            raise PaceError("quota_reserve %d leaves nothing of the %d requests per minute of the token's user: lower it "
                            "(rotate_quota_reserve for the rotate role)" % (reserve, limit))
        budget = limit - reserve
        return limit, reserve, min(budget, per_minute) if per_minute else budget

    def _take(self, calls, per_minute, quota_reserve, token, margin):
        """Reserve now if the budget allows; else return how long to wait."""

        def change(state):
            now = self._clock()
            stamps = sorted(t for t in state.get("stamps", []) if t > now - WINDOW)
            seen = state.get("seen")
            limit, reserve, budget = self.limits(per_minute, quota_reserve, token, seen)
            if calls > budget:
                if per_minute and budget == per_minute:
                    raise PaceError("one step needs %d API calls but api_calls_per_minute is %d: raise it or use fewer probes"
                                    % (calls, per_minute))
                raise PaceError("one step needs %d API calls but only %d of the %d per minute are left after quota_reserve %d: "
                                "lower quota_reserve or use fewer probes" % (calls, budget, limit, reserve))
            waits = []
            excess = len(stamps) + calls - budget
            if excess > 0:
                waits.append(stamps[excess - 1] + WINDOW - now)
            if seen and now < seen["reset"] + margin:
                ours = sum(1 for t in stamps if t > seen["at"] - IN_FLIGHT)
                if seen["remaining"] - ours - calls < reserve:
                    waits.append(seen["reset"] + margin - now)
            if waits:
                return max(0.05, *waits)
            state.update(stamps=stamps + [now] * calls, dirty=True)
            return 0.0

        return self._locked(change)

    # -- the interface ---------------------------------------------------------------------------

    def reserve(self, calls, per_minute=None, quota_reserve=None, token=None, margin=DEFAULT_RATE_LIMIT_MARGIN):
        """Block until ``calls`` API calls (a number, or a function that counts them) fit; returns the seconds waited.

        Pacing applies when per_minute or quota_reserve is set (the rotate and audit roles set them); token, when
        given, only lends its req_limit claim until an answer tells the real limit.
        """
        # From -e or an AWX survey, numbers can arrive as strings.
        per_minute = _number(per_minute, "api_calls_per_minute")
        quota_reserve = _number(quota_reserve, "quota_reserve")
        if not per_minute and quota_reserve is None:
            return 0.0
        if callable(calls):
            # Counting a module's calls may read its documented defaults: in a forked worker, per host.
            calls = calls()
        if calls <= 0:
            return 0.0
        try:
            margin = DEFAULT_RATE_LIMIT_MARGIN if margin in (None, "") else max(0.0, float(margin))
        except (TypeError, ValueError):
            raise PaceError("rate_limit_margin must be a number of seconds, got %r" % (margin,)) from None
        waited = 0.0
        while True:
            wait = self._take(calls, per_minute, quota_reserve, token, margin)
            if not wait:
                return waited
            wait = min(wait, 5.0)
            self._sleep(wait)
            waited += wait

    def reserve_for(self, calls, options):
        """reserve() with a task's or lookup's options (api_calls_per_minute, quota_reserve, rate_limit_margin, token)."""
        token = options.get("token")
        return self.reserve(calls, options.get("api_calls_per_minute"), options.get("quota_reserve"),
                            token if isinstance(token, str) else None, options.get("rate_limit_margin"))

    def observe(self, result):
        """Learn from a check result's quota_limit / quota_remaining / quota_reset (any dict; others are ignored)."""
        if not isinstance(result, dict):
            return
        status, remaining, reset = result.get("status"), result.get("quota_remaining"), _epoch(result.get("quota_reset"))
        if status not in _USER_QUOTA_STATUSES + ("rate_limited",) or not isinstance(remaining, int) or reset is None:
            return
        limit = result.get("quota_limit") if status in _USER_QUOTA_STATUSES else None

        def change(state):
            seen = state.get("seen")
            newer = seen is None or reset > seen["reset"] + 0.5
            # Within one minute the remaining quota only goes down: keep the lowest, whatever order answers come in.
            lower = not newer and abs(reset - seen["reset"]) <= 0.5 and remaining < seen["remaining"]
            if newer or lower:
                # A 429 may be the per-IP limit's: it tells when to wait, not the user's limit.
                known = limit if isinstance(limit, int) and limit > 0 else (seen or {}).get("limit")
                state.update(seen=dict(limit=known, remaining=remaining, reset=reset, at=self._clock()), dirty=True)

        self._locked(change)
