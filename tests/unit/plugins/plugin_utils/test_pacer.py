# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import base64
import json
import multiprocessing
import time

import pytest

from ansible_collections.tokenops.tiflux.plugins.plugin_utils._pacer import WINDOW, PaceError, Pacer


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_budget_allows_a_burst_then_waits_for_the_window(tmp_path):
    clock = FakeClock()
    pacer = Pacer(str(tmp_path), sleep=clock.sleep, clock=clock)
    waits = [pacer.reserve(1, 3) for _call in range(3)]
    assert waits == [0.0, 0.0, 0.0]
    assert pacer.reserve(1, 3) == pytest.approx(WINDOW, abs=0.1)
    assert clock.now == pytest.approx(1000.0 + WINDOW, abs=0.1)


def test_no_window_ever_holds_more_than_the_budget(tmp_path):
    clock = FakeClock()
    pacer = Pacer(str(tmp_path), sleep=clock.sleep, clock=clock)
    stamps = []
    for _step in range(25):
        pacer.reserve(2, 7)
        stamps.append(clock.now)
        clock.now += 0.3
    for t in stamps:
        assert 2 * sum(1 for s in stamps if t - 60 < s <= t) <= 7 + 1


def test_unpaced_and_too_large_steps(tmp_path):
    pacer = Pacer(str(tmp_path))
    assert pacer.reserve(5, None) == 0.0
    with pytest.raises(PaceError, match="raise it"):
        pacer.reserve(3, 2)


def _reserve(base, queue):
    queue.put(Pacer(base).reserve(1, 4) > 0)


def test_forks_share_the_budget(tmp_path):
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    start = time.time()
    procs = [ctx.Process(target=_reserve, args=(str(tmp_path), queue)) for _proc in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(10)
    assert sorted(queue.get(timeout=5) for _proc in procs) == [False] * 4
    assert time.time() - start < 5
    # the fifth call in the same minute would wait: the ledger is shared
    clock = FakeClock()
    clock.now = time.time()
    assert Pacer(str(tmp_path), sleep=clock.sleep, clock=clock).reserve(1, 4) > 50


# -- the real limit and the reserve ------------------------------------------------------------------

def _jwt(req_limit):
    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return part({"alg": "HS256"}) + "." + part({"sub": "1", "req_limit": req_limit}) + ".sig"


def seen(pacer, clock, remaining, limit=120, status="valid", reset_in=30.0):
    reset = (clock.now + reset_in) // 1  # whole seconds, as Tiflux sends
    pacer.observe(dict(status=status, quota_limit=limit, quota_remaining=remaining,
                       quota_reset=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(reset))))
    return reset


def burst(pacer, clock, calls, **options):
    """How many single calls go through at once before the first wait."""
    done = 0
    while done < calls and pacer._take(1, options.get("per_minute"), options.get("quota_reserve"),
                                       options.get("token"), 3.0) == 0.0:
        done += 1
    return done


def test_the_budget_is_the_limit_minus_the_reserve(tmp_path):
    clock = FakeClock()
    pacer = Pacer(str(tmp_path), sleep=clock.sleep, clock=clock)
    assert burst(pacer, clock, 200, quota_reserve=20) == 100  # 120 (Tiflux's default limit) - 20
    for run, options, allowed in (("b", dict(per_minute=90), 60), ("c", dict(per_minute=30), 30),
                                  ("d", dict(quota_reserve=0, token=_jwt(40)), 40)):
        (tmp_path / run).mkdir()
        assert burst(Pacer(str(tmp_path / run), clock=clock), clock, 200, **options) == allowed, run


def test_the_limit_tiflux_sends_wins_over_the_claim(tmp_path):
    clock = FakeClock()
    pacer = Pacer(str(tmp_path), sleep=clock.sleep, clock=clock)
    seen(pacer, clock, remaining=300, limit=300)
    assert pacer.limits(None, None, _jwt(40), pacer._locked(lambda state: state.get("seen"))) == (300, 150, 150)
    assert pacer.limits(None, 10, None, None) == (120, 10, 110)


def test_remaining_below_the_reserve_waits_for_the_next_minute_plus_the_margin(tmp_path):
    clock = FakeClock()
    pacer = Pacer(str(tmp_path), sleep=clock.sleep, clock=clock)
    reset = seen(pacer, clock, remaining=65)  # live integrations already used 55 of 120 this minute
    assert burst(pacer, clock, 100, quota_reserve=60) == 5, "65 - 5 calls leaves the reserve of 60"
    start = clock.now
    waited = pacer.reserve(1, quota_reserve=60)
    assert clock.now >= reset + 3.0 and waited == pytest.approx(reset + 3.0 - start, abs=5.1)


def test_answers_of_a_rejected_token_do_not_speak_for_the_users_quota(tmp_path):
    clock = FakeClock()
    pacer = Pacer(str(tmp_path), sleep=clock.sleep, clock=clock)
    seen(pacer, clock, remaining=0, limit=10, status="invalid")  # the per-IP limit of requests without a valid token
    seen(pacer, clock, remaining=0, limit=10, status="unreachable")
    assert burst(pacer, clock, 100, quota_reserve=60) == 60


def test_a_429_waits_for_the_reset_but_keeps_the_known_limit(tmp_path):
    clock = FakeClock()
    pacer = Pacer(str(tmp_path), sleep=clock.sleep, clock=clock)
    seen(pacer, clock, remaining=200, limit=240, reset_in=1)
    clock.now += 2
    reset = seen(pacer, clock, remaining=0, limit=10, status="rate_limited", reset_in=20)
    assert pacer._take(1, None, None, None, 3.0) == pytest.approx(reset + 3.0 - clock.now, abs=0.01)
    clock.now = reset + 3.5
    assert burst(pacer, clock, 500, quota_reserve=40) == 200, "240 - 40: the 429 did not make the limit 10"


def test_the_lowest_remaining_of_a_minute_wins_whatever_the_order(tmp_path):
    clock = FakeClock()
    pacer = Pacer(str(tmp_path), sleep=clock.sleep, clock=clock)
    seen(pacer, clock, remaining=62)
    seen(pacer, clock, remaining=100)  # an answer from earlier in the minute, handed back late
    assert burst(pacer, clock, 10, quota_reserve=60) == 2


def test_a_reserve_that_leaves_nothing_is_a_clear_error(tmp_path):
    pacer = Pacer(str(tmp_path))
    with pytest.raises(PaceError, match="quota_reserve 120 leaves nothing of the 120 requests"):
        pacer.reserve(1, quota_reserve=120)
    with pytest.raises(PaceError, match="only 10 of the 120 per minute are left after quota_reserve 110"):
        pacer.reserve(11, quota_reserve=110)
    with pytest.raises(PaceError, match="quota_reserve must be a whole number"):
        pacer.reserve(1, quota_reserve="half")


def test_options_as_they_come_from_a_task_or_a_survey(tmp_path):
    clock = FakeClock()
    pacer = Pacer(str(tmp_path), sleep=clock.sleep, clock=clock)
    options = dict(api_calls_per_minute="2", quota_reserve="100", rate_limit_margin="1.5", token=_jwt(120))
    assert [pacer.reserve_for(1, options) for _call in range(2)] == [0.0, 0.0]
    assert pacer.reserve_for(1, options) > 0, "2 per minute from strings"
    assert pacer.reserve_for(1, dict(token=None)) == 0.0, "no pacing asked"


def test_an_older_ledger_is_read(tmp_path):
    clock = FakeClock()
    (tmp_path / "tokenops_tiflux_pace.json").write_text(json.dumps([clock.now] * 3))
    assert Pacer(str(tmp_path), sleep=clock.sleep, clock=clock).reserve(1, 3) > 0


def test_a_modules_calls_are_counted_only_when_pacing_applies(tmp_path):
    # Counting reads the module's documented defaults in every forked worker: a run without pacing skips it.
    clock = FakeClock()
    pacer = Pacer(str(tmp_path), sleep=clock.sleep, clock=clock)
    counted = []

    def count():
        counted.append(1)
        return 1

    assert pacer.reserve_for(count, dict(token=None)) == 0.0 and counted == []
    assert pacer.reserve_for(count, dict(api_calls_per_minute=60)) == 0.0 and counted == [1]
