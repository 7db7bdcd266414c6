# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

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
