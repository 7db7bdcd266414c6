# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import multiprocessing
import os

from ansible_collections.tokenops.tiflux.plugins.module_utils._api import Client
from ansible_collections.tokenops.tiflux.plugins.module_utils._token import fingerprint
from ansible_collections.tokenops.tiflux.plugins.plugin_utils._check_cache import CheckCache


def _worker(base, api_url, token, queue):
    client = Client(api_url, allow_http=True)
    result = CheckCache(base).get_or_compute([token, api_url], lambda: client.check(token))
    queue.put(result["status"])


def test_forked_workers_share_one_check(sim, account, tmp_path):
    _user, token = account
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    workers = [ctx.Process(target=_worker, args=(str(tmp_path), sim.info["api_url"], token, queue)) for _worker_index in range(10)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    assert sorted(queue.get(timeout=5) for _worker in workers) == ["valid"] * 10
    assert sim.control.counters()["by_fingerprint"][fingerprint(token)] == 1


def test_cache_stores_no_token(sim, account, tmp_path):
    _user, token = account
    client = Client(sim.info["api_url"], allow_http=True)
    CheckCache(str(tmp_path)).get_or_compute([token, sim.info["api_url"]], lambda: client.check(token))
    for root, _dirs, files in os.walk(str(tmp_path)):
        for name in files:
            assert token.encode() not in open(os.path.join(root, name), "rb").read()
            assert token not in name
    assert oct(os.stat(str(tmp_path / "tokenops_tiflux_checks")).st_mode & 0o777) == "0o700"


def test_different_options_are_different_entries(tmp_path):
    cache = CheckCache(str(tmp_path))
    calls = []
    for url in ("https://a/api/v2", "https://b/api/v2", "https://a/api/v2"):
        cache.get_or_compute(["tok", url], lambda: calls.append(url) or {"status": "valid"})
    assert calls == ["https://a/api/v2", "https://b/api/v2"]
