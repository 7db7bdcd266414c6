# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A rotation over hosts whose .env is not UTF-8 (Tiflux's own client ships a Latin-1 .env.example): it passes, and
only the token bytes change."""

from __future__ import annotations

import os

# A .env as Tiflux's client documents it, saved in Latin-1 ("obrigatório", "Código"), and one in Windows-1252
# with a byte that is no character in Latin-1's printable range.
LATIN1 = "# Token da API v2 (obrigatório)\n# Código do cliente\nTIFLUX_API_TOKEN={token}\nTIFLUX_URL=https://api.tiflux.com/api/v2\n"
CP1252 = "# \u201cintegração\u201d \u2013 não edite\nTIFLUX_API_TOKEN={token}\n"


def test_a_rotation_over_latin_1_and_cp1252_env_files_changes_only_the_token_bytes(rotation):
    fleet = rotation.make_fleet(n=2, json_target=False)
    files = {}
    for host, (template, encoding) in zip(fleet.hosts, ((LATIN1, "latin-1"), (CP1252, "cp1252"))):
        path = fleet.targets(host)[0]["path"]
        with open(path, "wb") as handle:
            handle.write(template.format(token=rotation.old).encode(encoding))
        files[path] = (template, encoding)
    run = rotation.run()
    assert run["rc"] == 0, run["out"][-3000:]
    assert "VERDICT: safe to revoke" in run["out"], run["out"][-3000:]
    for path, (template, encoding) in files.items():
        with open(path, "rb") as handle:
            assert handle.read() == template.format(token=rotation.new).encode(encoding), path
        assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert rotation.old not in run["out"] and rotation.new not in run["out"]
