# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Controller-side cache of token checks: one API call per distinct token per run.

Lookups and action plugins run in forked worker processes, so an in-memory cache would
be per host. The cache lives in ansible's per-run local temp dir (C.DEFAULT_LOCAL_TMP),
which the main process creates before forking and removes at exit. Entries are keyed by
an HMAC with a random per-run salt and hold only check results (fingerprints, statuses,
messages), never a token. A file lock per key makes concurrent workers wait for the one
that asks the API.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import hmac
import json
import os
import tempfile

from ansible import constants as C


class CheckCache:
    def __init__(self, base_dir=None):
        self.dir = os.path.join(base_dir or C.DEFAULT_LOCAL_TMP, "tokenops_tiflux_checks")

    def _salt(self):
        path = os.path.join(self.dir, "salt")
        try:
            with open(path, "rb") as handle:
                salt = handle.read()
            if len(salt) == 32:
                return salt
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise
        # First worker creates it; rename is atomic so readers never see half a salt.
        fd, tmp = tempfile.mkstemp(dir=self.dir)
        with os.fdopen(fd, "wb") as handle:
            handle.write(os.urandom(32))
        try:
            os.link(tmp, path)
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                raise
        finally:
            os.unlink(tmp)
        with open(path, "rb") as handle:
            return handle.read()

    def get_or_compute(self, secret_parts, compute, refresh=False):
        """Return the cached result for these parts (token + connection options) or compute it once.

        refresh=True computes anew and replaces the entry."""
        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        material = json.dumps(secret_parts, sort_keys=True, default=str).encode("utf-8")
        key = hmac.new(self._salt(), material, hashlib.sha256).hexdigest()
        path = os.path.join(self.dir, key + ".json")
        with open(path + ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                if not refresh:
                    try:
                        with open(path) as handle:
                            return json.load(handle)
                    except (OSError, ValueError):
                        pass
                result = compute()
                fd, tmp = tempfile.mkstemp(dir=self.dir)
                with os.fdopen(fd, "w") as handle:
                    json.dump(result, handle)
                os.rename(tmp, path)
                return result
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
