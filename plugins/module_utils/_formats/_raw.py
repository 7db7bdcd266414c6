# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The raw editor (see the package docstring for the rules every editor keeps)."""

from __future__ import annotations

from ansible_collections.tokenops.tiflux.plugins.module_utils._formats import (
    Editor, KeyNotFound, Located, MalformedConfig, UnsafeEdit, _bom_len, _check_common, _check_opaque,
    _check_text, _line_of,
)


class RawEditor(Editor):
    """The whole file is the token (surrounding whitespace ignored)."""

    name = "raw"

    def _span(self, text):
        bom = _bom_len(text)
        body = text[bom:]
        token = body.strip()
        if not token:
            return None
        start = bom + (len(body) - len(body.lstrip()))
        if any(c.isspace() for c in token):
            raise MalformedConfig(
                "the file holds more than one line or word; a raw token file must contain only "
                "the token")
        return start, start + len(token)

    def find(self, text, path):
        _check_text(text)
        self._path(path)
        span = self._span(text)
        if span is None:
            raise KeyNotFound("the file is empty; no token is set")
        start, end = span
        return Located(text[start:end], start, end, _line_of(text, start))

    def set(self, text, path, value):
        _check_text(text)
        self._path(path)
        self.check_value(value)
        _check_opaque(text, (value,))
        span = self._span(text)
        if span is None:
            bom = _bom_len(text)
            return text[:bom] + value + text[bom:]
        start, end = span
        return text[:start] + value + text[end:]

    def remove(self, text, path):
        _check_text(text)
        self._path(path)
        return ""

    def check_value(self, value):
        _check_common(self.name, value)
        if any(c.isspace() for c in value):
            raise UnsafeEdit(
                "the token contains whitespace, which readers of a raw token file strip or "
                "split on; it cannot be written safely")
