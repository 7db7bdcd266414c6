# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Turn a document's fenced blocks into the one script tests/docs runs, following the block convention:

- ```` ```sh ```` blocks run with bash, in order, as one script (``set -euo pipefail``): the working
  directory and exported variables carry over from one block to the next;
- ```` ```yaml title=PATH ```` (also ``ini``, ``text``, ``json``, ``env``) blocks are written to PATH, relative to
  the working directory of the script at that point (directories created), before the next block runs;
- a block whose info string holds ``real-tiflux`` needs the real Tiflux or Galaxy and is not run;
- every other block (``console``, ``yaml`` without a title, ...) is an illustration and is not run.

A document may say that it continues another one with an HTML comment on a line of its own,
``<!-- tests/docs: after quickstart.md -->``: that document's script runs first, in the same shell.
Nothing else is added.
"""

from __future__ import annotations

import os
import re
import shlex

FILE_LANGUAGES = ("yaml", "yml", "ini", "text", "json", "env")
_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`\n]*)$")
_AFTER = re.compile(r"^<!-- tests/docs: after (?P<doc>[\w.-]+\.md) -->$", re.M)


class Block:
    def __init__(self, info, text, line):
        self.info = info.strip()
        words = self.info.split()
        self.language = words[0].lower() if words else ""
        self.attributes = dict(word.split("=", 1) for word in words[1:] if "=" in word)
        self.flags = set(word for word in words[1:] if "=" not in word)
        self.text = text
        self.line = line

    @property
    def real_tiflux(self):
        return "real-tiflux" in self.flags

    @property
    def title(self):
        return self.attributes.get("title")

    def runs(self):
        """What the block does when the document is run: 'sh', 'file' or None."""
        if self.real_tiflux:
            return None
        if self.language in ("sh", "bash", "shell"):
            return "sh"
        if self.title and self.language in FILE_LANGUAGES:
            return "file"
        return None


def blocks(text):
    """Every fenced block of a Markdown text, in order."""
    found, lines, index = [], text.splitlines(), 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        fence, start, body = opening.group("fence"), index, []
        index += 1
        while index < len(lines) and not re.match(r"^ {0,3}%s%s*\s*$" % (re.escape(fence), re.escape(fence[0])), lines[index]):
            body.append(lines[index][len(opening.group("indent")):] if lines[index].startswith(opening.group("indent")) else lines[index])
            index += 1
        found.append(Block(opening.group("info"), "\n".join(body) + "\n" if body else "", start + 1))
        index += 1
    return found


def _heredoc_end(text):
    end = "TIFLUX_DOCS_EOF"
    while end in text:
        end += "_"
    return end


def script(path):
    """(script, blocks run) for the document at path, with the documents it continues first."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    parts, run = [], []
    for match in _AFTER.finditer(text):
        before, before_run = script(os.path.join(os.path.dirname(path), match.group("doc")))
        parts.append(before)
        run += before_run
    name = os.path.basename(path)
    for block in blocks(text):
        kind = block.runs()
        if kind == "sh":
            parts.append("# %s:%d\n%s" % (name, block.line, block.text))
        elif kind == "file":
            end = _heredoc_end(block.text)
            target = shlex.quote(block.title)
            parts.append("# %s:%d (file %s)\nmkdir -p \"$(dirname %s)\"\ncat > %s <<'%s'\n%s%s\n"
                         % (name, block.line, block.title, target, target, end, block.text, end))
        else:
            continue
        run.append(block)
    return "\n".join(parts), run
