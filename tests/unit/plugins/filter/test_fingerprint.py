# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""fingerprint: the name of a token every plugin shows, the same for the vaulted value with its newline."""

from __future__ import annotations

import hashlib

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.tokenops.tiflux.plugins.filter.fingerprint import FilterModule

fingerprint = FilterModule().filters()["fingerprint"]
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOjQyfQ.c2lnbmF0dXJl"


def test_sha256_prefix_of_the_token_as_vault_files_hold_it():
    expected = "sha256:" + hashlib.sha256(TOKEN.encode()).hexdigest()[:16]
    assert fingerprint(TOKEN) == expected
    assert fingerprint(TOKEN + "\n") == fingerprint("  %s\r\n" % TOKEN) == expected
    assert fingerprint(TOKEN + "x") != expected


@pytest.mark.parametrize("bad", ["", " \n", TOKEN[:20] + " " + TOKEN[20:], TOKEN + "\u00e9", None, 42, [TOKEN]])
def test_what_cannot_be_a_token_is_a_one_line_error_without_it(bad):
    with pytest.raises(AnsibleFilterError) as info:
        fingerprint(bad)
    message = str(info.value)
    assert "\n" not in message and TOKEN[:12] not in message and TOKEN[-12:] not in message
