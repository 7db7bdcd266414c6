# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse audit.html with html.parser; print its tables (id -> header and rows of cell text) as JSON.

Fails on unbalanced tags and on any attribute that would load something from elsewhere.
"""

import json
import sys
from html.parser import HTMLParser

VOID = {"meta", "br", "hr", "img", "input", "link"}


class Report(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.tables, self.table, self.row, self.cell = [], {}, None, None, None
        self.scripts = self.styles = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href", "srcset", "action"):
            if name in attrs:
                raise SystemExit("external reference: <%s %s=%r>" % (tag, name, attrs[name]))
        if tag == "link":
            raise SystemExit("external stylesheet or resource: <link>")
        if tag not in VOID:
            self.stack.append(tag)
        if tag == "table":
            self.table = self.tables.setdefault(attrs.get("id"), {"header": [], "rows": []})
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = ""
        self.scripts += tag == "script"
        self.styles += tag == "style"

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack.pop() != tag:
            raise SystemExit("unbalanced </%s> at line %d" % (tag, self.getpos()[0]))
        if tag in ("td", "th"):
            self.row.append(self.cell.strip())
            self.cell = None
        elif tag == "tr":
            (self.table["header"] if not self.table["header"] else self.table["rows"]).append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


parser = Report()
with open(sys.argv[1], encoding="utf-8") as handle:
    parser.feed(handle.read())
parser.close()
if parser.stack:
    raise SystemExit("unclosed tags: %s" % parser.stack)
for table in parser.tables.values():
    table["header"] = table["header"][0] if table["header"] else []
print(json.dumps({"tables": parser.tables, "scripts": parser.scripts, "styles": parser.styles}))
