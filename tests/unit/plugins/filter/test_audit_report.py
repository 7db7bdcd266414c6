# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""audit_report: one check per distinct token, labels, host failures, expiry; the role's templates render its data
into reports that parse, each with one escaping policy."""

from __future__ import annotations

import json
import os
from html.parser import HTMLParser

import pytest

from ansible.errors import AnsibleFilterError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.tokenops.tiflux.plugins.filter.audit_report import audit_report
from ansible_collections.tokenops.tiflux.plugins.plugin_utils import _vars

TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "roles", "audit", "templates")


def render(name, report):
    """A template of the audit role, as ansible.builtin.template renders it."""
    with open(os.path.join(TEMPLATES, name), encoding="utf-8") as stream:
        source = stream.read()
    templar = Templar(loader=DataLoader(), variables=dict(audit_report=report))
    return templar.template(trust_as_template(source), escape_backslashes=False)


CUR, OLD, UNK, SPARE = ("sha256:%016x" % n for n in (1, 2, 3, 4))
KNOWN = {"zabbix-2026-03": CUR, "old": OLD, "spare": SPARE}


def target(path, state="present", fp=None, fmt="env", key="TIFLUX_API_TOKEN"):
    return dict(path=path, format=fmt, key=key, section=None, state=state, fingerprint=fp, message="%s: %s" % (path, state))


def fleet():
    return {
        "h01": {"audit_result": dict(status="ok", message="", targets=[target("/a.env", fp=CUR), target("/b.json", fp=UNK)])},
        "h02": {"audit_result": dict(status="ok", message="", targets=[target("/a.env", fp=OLD), target("/t.txt", "missing_file")])},
        "h03": {"audit_result": dict(status="ok", message="", targets=[target("/c.yml", fp=UNK)])},
        "h04": {"audit_result": dict(status="failed", message="h04 says no", targets=[])},
        "h05": {},
        "h06": {"audit_result": dict(status="no_targets", message="no tiflux_targets on this host", targets=[])},
    }


HOSTS = ["h01", "h02", "h03", "h04", "h05", "h06"]


def info(status, fp):
    return dict(status=status, valid=status == "valid", http_status={"valid": 200, "invalid": 401}.get(status),
                fingerprint=fp, user={"id": 1, "name": "Ana", "email": "ana@example.com"} if status == "valid" else None,
                message="token %s is %s" % (fp, status))


def test_plan_checks_each_distinct_token_once():
    plan = audit_report(fleet(), HOSTS, known=KNOWN)["plan"]
    assert sorted(plan["check_on_controller"]) == ["old", "zabbix-2026-03"], "spare is on no host: not checked"
    assert plan["check_on_host"] == {"h01": [dict(path="/b.json", format="env", key="TIFLUX_API_TOKEN", section=None, fingerprint=UNK)]}


def test_plan_without_host_checks():
    plan = audit_report(fleet(), HOSTS, known=KNOWN, check_unknown=False)["plan"]
    assert plan["check_on_host"] == {}


def test_names_sharing_a_token_are_checked_once_and_all_shown():
    report = audit_report(fleet(), HOSTS, known=dict(KNOWN, alias=CUR))
    assert report["plan"]["check_on_controller"].count("alias") + report["plan"]["check_on_controller"].count("zabbix-2026-03") == 1
    assert [t["label"] for t in report["tokens"] if t["fingerprint"] == CUR] == ["alias, zabbix-2026-03"]


def report_with_checks(**kwargs):
    hv = fleet()
    hv["h01"]["audit_unknown_run"] = {"results": [dict(info("valid", UNK), item=dict(path="/b.json", fingerprint=UNK))]}
    checks = {"zabbix-2026-03": info("valid", CUR), "old": info("invalid", OLD)}
    return audit_report(hv, HOSTS, known=KNOWN, checks=checks, generated="2026-03-01T00:00:00Z", api_url="https://x/api/v2", **kwargs)


def test_rows_labels_and_statuses():
    report = report_with_checks()
    rows = [(r["host"], r["path"], r["label"], r["status"]) for r in report["rows"]]
    assert rows == [
        ("h01", "/a.env", "zabbix-2026-03", "valid"), ("h01", "/b.json", "unknown", "valid"),
        ("h02", "/a.env", "old", "invalid"), ("h02", "/t.txt", None, "missing_file"),
        ("h03", "/c.yml", "unknown", "valid"),
        ("h04", None, None, "failed"), ("h05", None, None, "unreachable"), ("h06", None, None, "no_targets"),
    ]
    tokens = dict((t["fingerprint"], t) for t in report["tokens"])
    assert tokens[UNK]["checked_from"] == "h01" and tokens[UNK]["hosts"] == ["h01", "h03"] and tokens[UNK]["targets"] == 2
    assert tokens[CUR]["checked_from"] == "controller" and tokens[OLD]["status"] == "invalid"
    assert report["known_not_found"] == [dict(label="spare", fingerprint=SPARE)]
    assert sorted(p["status"] for p in report["problems"]) == ["failed", "invalid", "missing_file", "unreachable"]
    assert report["verdict"] == "ATTENTION: 4 of 8 row(s) need action"
    assert report["counts"] == dict(valid=3, invalid=1, missing_file=1, failed=1, unreachable=1, no_targets=1)


def test_unknown_without_host_checks():
    report = audit_report(fleet(), HOSTS, known=KNOWN, check_unknown=False,
                          checks={"zabbix-2026-03": info("valid", CUR), "old": info("invalid", OLD)})
    assert [r["status"] for r in report["rows"] if r["label"] == "unknown"] == ["unknown", "unknown"]


def test_a_failed_host_check_is_an_error_not_a_guess():
    hv = fleet()
    hv["h01"]["audit_unknown_run"] = {"results": [dict(failed=False, msg="/b.json does not exist", item=dict(fingerprint=UNK))]}
    report = audit_report(hv, HOSTS, known=KNOWN, checks={})
    [unk] = [t for t in report["tokens"] if t["fingerprint"] == UNK]
    assert unk["status"] == "error" and "does not exist" in unk["message"]
    assert [t["status"] for t in report["tokens"] if t["known"]] == ["unchecked", "unchecked"]


def test_all_good():
    hv = {"h01": {"audit_result": dict(status="ok", message="", targets=[target("/a.env", fp=CUR)])}}
    report = audit_report(hv, ["h01"], known=KNOWN, checks={"zabbix-2026-03": info("valid", CUR)})
    assert report["verdict"] == "OK: every target holds a token that works" and report["problems"] == []


def test_summary_lines_are_an_aligned_table():
    lines = report_with_checks()["lines"]
    assert lines[1].split() == ["HOST", "PATH", "FINGERPRINT", "LABEL", "STATUS"]
    assert lines[4].split() == ["h02", "/a.env", OLD, "old", "invalid"]
    assert lines[5].split() == ["h02", "/t.txt", "-", "-", "missing_file"]
    assert lines[4].index(OLD) == lines[1].index("FINGERPRINT")


class _Tables(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables, self.cell, self.row, self.stack = {}, None, None, []

    def handle_starttag(self, tag, attrs):
        assert not any(name in ("src", "href") for name, _v in attrs)
        if tag != "meta":
            self.stack.append(tag)
        if tag == "table":
            self.current = self.tables.setdefault(dict(attrs)["id"], [])
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        assert self.stack.pop() == tag
        if tag in ("td", "th"):
            self.row.append(self.cell)
            self.cell = None
        elif tag == "tr":
            self.current.append(self.row)

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def test_html_is_self_contained_and_escaped():
    hv = fleet()
    hv["h02"]["audit_result"]["targets"][1]["path"] = "/etc/<b>&x.env"
    report = audit_report(hv, HOSTS, known=KNOWN, checks={})
    report["html"] = render("audit.html.j2", report)
    parser = _Tables()
    parser.feed(report["html"])
    parser.close()
    assert parser.stack == []
    targets = parser.tables["targets"]
    assert targets[0] == ["host", "path", "fingerprint", "label", "status", "message"]
    assert len(targets) - 1 == len(report["rows"])
    assert targets[4][1] == "/etc/<b>&x.env" and "<b>" not in report["html"].split("<h2>Targets")[1].split("<script>")[0]
    assert "Content-Security-Policy" in report["html"] and "http://" not in report["html"] and "https://" not in report["html"]


def test_json_serialisable_and_markdown_escapes_pipes():
    hv = fleet()
    hv["h04"]["audit_result"]["message"] = "a | b"
    report = audit_report(hv, HOSTS, known=KNOWN)
    json.dumps(report)
    report["markdown"] = render("audit.md.j2", report)
    assert "a \\| b" in report["markdown"]


def test_hosts_must_be_a_list():
    with pytest.raises(AnsibleFilterError):
        audit_report(fleet(), "h01")


def test_host_level_problems_say_why():
    lines = audit_report(fleet(), HOSTS, known=KNOWN)["lines"]
    assert "  - h04: failed; token_info failed on the host, so its configs are unknown (h04 says no)" in lines
    assert any(line.startswith("  - h05: unreachable; ") for line in lines)


def test_nothing_to_audit():
    report = audit_report({"h01": {"audit_result": dict(status="no_targets", message="", targets=[])}}, ["h01"])
    assert report["verdict"].startswith("NOTHING TO AUDIT") and report["problems"] == []


def test_the_filter_returns_data_and_no_rendered_report():
    report = report_with_checks()
    assert "markdown" not in report and "html" not in report
    [unk] = [t for t in report["tokens"] if t["fingerprint"] == UNK]
    assert unk["user_label"] == "Ana <ana@example.com>" and unk["user"] == {"id": 1, "name": "Ana", "email": "ana@example.com"}


def expiring(status, fp, expires_at, days):
    return dict(info(status, fp), expires_at=expires_at, expires_in_days=days, issued_at="2024-03-01T00:00:00Z")


def test_tokens_say_when_they_expire_and_what_expires_first_comes_first():
    hv = fleet()
    hv["h01"]["audit_unknown_run"] = {"results": [dict(expiring("valid", UNK, "2026-03-11T00:00:00Z", 10), item=dict(fingerprint=UNK))]}
    checks = {"zabbix-2026-03": expiring("valid", CUR, "2027-09-01T12:00:00Z", 549), "old": expiring("invalid", OLD, "2026-02-27T00:00:00Z", -2)}
    report = audit_report(hv, HOSTS, known=KNOWN, checks=checks)
    assert [(t["fingerprint"], t["expires_in_days"]) for t in report["tokens"]] == [(OLD, -2), (UNK, 10), (CUR, 549)]
    assert [t["expires"] for t in report["tokens"]] == [
        "2026-02-27T00:00:00Z (expired)", "2026-03-11T00:00:00Z (in 10 days)", "2027-09-01T12:00:00Z (in 549 days)"]
    tokens_table = report["lines"][report["lines"].index("Tokens (each checked once, what expires first first):") + 1:]
    assert tokens_table[0].split()[:4] == ["FINGERPRINT", "LABEL", "STATUS", "EXPIRES"]
    assert tokens_table[1].split()[:4] == [OLD, "old", "invalid", "2026-02-27T00:00:00Z"]
    assert "| `%s` | unknown | valid | 2026-03-11T00:00:00Z (in 10 days) | h01 |" % UNK in render("audit.md.j2", report)
    parser = _Tables()
    parser.feed(render("audit.html.j2", report))
    assert parser.tables["tokens"][0][:4] == ["fingerprint", "label", "status", "expires"]
    assert [row[3] for row in parser.tables["tokens"][1:]] == [t["expires"] for t in report["tokens"]]


def test_tokens_without_a_date_come_last_in_the_order_found():
    report = report_with_checks()  # checks without expires_at: opaque tokens, or a client that does not say
    assert [t["expires"] for t in report["tokens"]] == ["-", "-", "-"]
    assert [t["fingerprint"] for t in report["tokens"]] == [CUR, UNK, OLD]


NASTY = "<img src=x onerror=alert(1)> *bold* _it_ [link](javascript:x) `code` | pipe \\ &amp;"


def test_markdown_escapes_every_value_it_quotes():
    hv = fleet()
    check = dict(info("valid", UNK), user=dict(id=7, name=NASTY, email="e@x"), item=dict(fingerprint=UNK))
    hv["h01"]["audit_unknown_run"] = {"results": [check]}
    hv["h02"]["audit_result"]["targets"][1]["path"] = "/etc/<b>`x`|y.env"
    markdown = render("audit.md.j2", audit_report(hv, HOSTS, known=KNOWN, checks={}))
    assert "<img" not in markdown and "<b>" not in markdown
    assert ("&lt;img src=x onerror=alert(1)&gt; *bold* _it_ \\[link\\](javascript:x) \\`code\\` \\| pipe \\\\ "
            "&amp;amp; &lt;e@x&gt;") in markdown
    assert "1. h02 /etc/&lt;b&gt;\\`x\\`\\|y.env: missing_file;" in markdown  # not a code span: it holds a backtick


def test_html_escapes_every_value_it_quotes():
    hv = fleet()
    check = dict(info("valid", UNK), user=dict(id=7, name=NASTY, email="e@x"), item=dict(fingerprint=UNK))
    hv["h01"]["audit_unknown_run"] = {"results": [check]}
    html = render("audit.html.j2", audit_report(hv, HOSTS, known=KNOWN, checks={}))
    parser = _Tables()
    parser.feed(html)
    assert "<img" not in html
    [unk] = [row for row in parser.tables["tokens"][1:] if row[0] == UNK]
    assert unk[5] == NASTY + " <e@x>"


def test_the_api_address_is_the_one_the_checks_used_unless_given():
    checks = {"zabbix-2026-03": dict(info("valid", CUR), api_url="https://tiflux.example.test/api/v2")}
    assert audit_report(fleet(), HOSTS, known=KNOWN, checks=checks)["api_url"] == "https://tiflux.example.test/api/v2"
    assert audit_report(fleet(), HOSTS, known=KNOWN, checks=checks, api_url="https://x/api/v2")["api_url"] == "https://x/api/v2"
    assert audit_report(fleet(), HOSTS, known=KNOWN)["api_url"] == ""


def test_the_1_0_connection_options_set_give_one_deprecation(monkeypatch):
    calls = []
    monkeypatch.setattr(_vars.display, "deprecated", lambda msg, **kw: calls.append(msg))
    unset = dict(audit_api_url="", audit_ca_path="", audit_validate_certs="", audit_allow_http="")
    audit_report(fleet(), HOSTS, known=KNOWN, deprecated_options=unset)
    assert calls == []
    audit_report(fleet(), HOSTS, known=KNOWN, deprecated_options=dict(unset, audit_ca_path="/ca.pem"))
    assert calls == ["audit_ca_path: set tiflux_ca_path instead (inventory or play variables, read by every module and"
                     " lookup of tokenops.tiflux)"]
