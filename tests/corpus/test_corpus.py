# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Bad-input corpus: every case under cases/ must fail with one clear line and touch nothing.

A case is a directory holding `case.json`:

    {"module": "token_push" | "token_check" | "token_deploy",
     "args": {...},             # module arguments; "{file}", "{dir}", "{new}", "{old}" are replaced
     "expect": "regex",         # searched (case-insensitive) in the failure message
     "special": "dir" | "fifo" | "loop" | "badjson" | "second",   # optional, see _prepare
     "xfail": "why"}            # optional: a known defect; strict, so a fix shows up

and optionally `content`, the bytes of the config file at {file} before the run ("{old}" in it is
replaced by the OLD token), or `content.b64`, the same in base64 for binary data (NUL bytes, invalid
UTF-8). The module's main() runs in-process, as ansible would run it on a host
(like tests/unit/plugins/modules/conftest.py). Checked for every case: the module failed; the
message matches and is one line; neither token (nor a 12-character part of one) is anywhere in the
module's output; every file in the case's directory is byte-identical, same mode, and no
`*tiflux-tmp*` file appeared (a complete backup of a file that was written then restored may stay).
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
import os
import re
import stat
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
CASES = os.path.join(HERE, "cases")
sys.path.insert(0, os.path.join(REPO, "tests", "utils"))
from leak_scan import scan_text  # noqa: E402  pylint: disable=wrong-import-position,import-error

# distinctive tokens: 40 characters, nothing else in the corpus looks like them
NEW = "tfxNEWcorpus0a1b2c3d4e5f6a7b8c9d0e1f2a3b"
OLD = "tfxOLDcorpus9f8e7d6c5b4a3f2e1d0c9b8a7f6e"


def _collections(tmp_path_factory):
    base = tmp_path_factory.mktemp("collections")
    link = base / "ansible_collections" / "tokenops" / "tiflux"
    link.parent.mkdir(parents=True)
    link.symlink_to(REPO)
    return str(base)


@pytest.fixture(scope="session")
def modules(tmp_path_factory):
    """The collection's modules, imported from this work tree."""
    if "ansible_collections.tokenops.tiflux" not in sys.modules:
        sys.path.insert(0, _collections(tmp_path_factory))
    return dict((name, importlib.import_module("ansible_collections.tokenops.tiflux.plugins.modules.%s" % name))
                for name in ("token_push", "token_check", "token_deploy"))


def _substitute(value, mapping):
    if isinstance(value, str):
        for key, repl in mapping.items():
            value = value.replace(key, repl)
        return value
    if isinstance(value, list):
        return [_substitute(v, mapping) for v in value]
    if isinstance(value, dict):
        return dict((k, _substitute(v, mapping)) for k, v in value.items())
    return value


def _prepare(case_dir, case, work):
    """Lay out the case's directory; returns the {file} path."""
    path = os.path.join(work, "config")
    special = case.get("special")
    content = os.path.join(case_dir, "content")
    data = None
    if os.path.exists(content):
        with open(content, "rb") as handle:
            data = handle.read().replace(b"{old}", OLD.encode())
    elif os.path.exists(content + ".b64"):
        with open(content + ".b64", "rb") as handle:
            data = base64.b64decode(handle.read())
    if data is not None:
        with open(path, "wb") as handle:
            handle.write(data)
        os.chmod(path, 0o640)
    if special == "fifo":
        os.mkfifo(path, 0o600)
    elif special == "loop":
        os.symlink(os.path.join(work, "loop-b"), os.path.join(work, "loop-a"))
        os.symlink(os.path.join(work, "loop-a"), os.path.join(work, "loop-b"))
        path = os.path.join(work, "loop-a")
    elif special == "second":
        with open(os.path.join(work, "second.env"), "w") as handle:
            handle.write("TIFLUX_API_TOKEN=%s\n" % OLD)
    elif special == "badjson":
        with open(os.path.join(work, "bad.json"), "w") as handle:
            handle.write('{"tiflux": {"token": "%s",}}\n' % OLD)
    return path


def _state(work):
    """name -> (kind, sha256 or link target, mode) of everything in the case's directory."""
    out = {}
    for name in sorted(os.listdir(work)):
        p = os.path.join(work, name)
        st = os.lstat(p)
        if stat.S_ISLNK(st.st_mode):
            out[name] = ("link", os.readlink(p), None)
        elif stat.S_ISREG(st.st_mode):
            with open(p, "rb") as handle:
                out[name] = ("file", hashlib.sha256(handle.read()).hexdigest(), stat.S_IMODE(st.st_mode))
        else:
            out[name] = ("other", None, stat.S_IMODE(st.st_mode))
    return out


def _run(module, args, monkeypatch, capsys):
    from ansible.module_utils import basic
    payload = dict(args, _ansible_check_mode=False, _ansible_diff=False, _ansible_remote_tmp="/tmp",
                   _ansible_keep_remote_files=False)
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": payload}).encode())
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)
    with pytest.raises(SystemExit):
        module.main()
    captured = capsys.readouterr()
    return json.loads(captured.out), captured.out + captured.err


def _case_dirs():
    return sorted(d for d in os.listdir(CASES) if os.path.isfile(os.path.join(CASES, d, "case.json")))


def test_corpus_size():
    assert len(_case_dirs()) >= 50


@pytest.mark.parametrize("name", _case_dirs())
def test_bad_input(name, modules, tmp_path, monkeypatch, capsys, request):
    case_dir = os.path.join(CASES, name)
    with open(os.path.join(case_dir, "case.json")) as handle:
        case = json.load(handle)
    if case.get("xfail"):
        request.applymarker(pytest.mark.xfail(reason=case["xfail"], strict=True))
    work = str(tmp_path / "work")
    os.makedirs(work)
    path = _prepare(case_dir, case, work)
    args = _substitute(case["args"], {"{file}": path, "{dir}": work, "{new}": NEW, "{old}": OLD})
    before = _state(work)

    try:
        result, output = _run(modules[case["module"]], args, monkeypatch, capsys)
    except Exception as exc:  # pylint: disable=broad-except
        # ansible would show this as a MODULE FAILURE with a multi-line traceback
        pytest.fail("the module raised %s instead of failing with one line" % type(exc).__name__)

    msg = result.get("msg", "")
    assert result.get("failed") is True, "did not fail: %s" % output
    assert re.search(case["expect"], msg, re.IGNORECASE), "message %r does not match %r" % (msg, case["expect"])
    assert "\n" not in msg and "\r" not in msg, "message is not one line: %r" % msg
    leaks = dict((fp, n) for fp, n in scan_text(output, [NEW, OLD]).items() if n)
    assert not leaks, "token in the module output: %s" % leaks
    after = _state(work)
    # a complete backup of a file that was written and then restored is allowed (backup: true keeps it)
    for name in set(after) - set(before):
        match = re.match(r"^(.+)\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d\.[0-9a-f]{12}~$", name)
        if match and match.group(1) in before and after[name][1] == before[match.group(1)][1]:
            del after[name]
    assert after == before, "the case's files changed"
    assert not [n for n in os.listdir(work) if "tiflux-tmp" in n]
