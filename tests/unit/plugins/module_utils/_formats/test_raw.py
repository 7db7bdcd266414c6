# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Example-based tests of the raw editor (module_utils/_formats/_raw.py)."""

from __future__ import annotations

from ansible_collections.tokenops.tiflux.plugins.module_utils import _formats as F
from ansible_collections.tokenops.tiflux.tests.unit.plugins.module_utils._formats.helpers import OLD, TOKEN, check_edit, expect, raw


def test_raw():
    for text in (OLD, OLD + "\n", "  %s \r\n\n" % OLD, "\n" + OLD):
        loc = raw.find(text, ())
        assert loc.value == OLD and text[loc.start:loc.end] == OLD
        assert check_edit(raw, text, None) == text.replace(OLD, TOKEN)
    assert raw.find("\n\n" + OLD, None).line == 3
    assert raw.set("", None, TOKEN) == TOKEN  # no trailing newline for a new file
    assert raw.set("\n", None, TOKEN) == TOKEN + "\n"
    assert raw.remove(OLD + "\n", None) == ""
    expect(F.KeyNotFound, "the file is empty; no token is set", raw.find, " \n", None)
    expect(F.MalformedConfig, "the file holds more than one line or word; a raw token file must contain "
                              "only the token", raw.find, "%s\n%s\n" % (OLD, OLD), None)
    expect(F.MalformedConfig, "the file holds more than one line or word; a raw token file must contain "
                              "only the token", raw.set, "TOKEN=%s\n" % OLD.replace("-", " "), None, TOKEN)
    expect(F.UnsafeEdit, "the token contains whitespace, which readers of a raw token file strip or "
                         "split on; it cannot be written safely", raw.check_value, "a\u00a0b")
    expect(F.ConfigError, "format raw takes no key (the whole file is the token); remove the key",
           raw.find, OLD, ("x",))
