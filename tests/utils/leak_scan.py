# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Leak scan: no token may appear in any output, in whole or in part.

Used by pytest (``assert_no_leaks``) and by integration targets' runme.sh (CLI):

    python tests/utils/leak_scan.py --secrets-file SECRETS [--names-only DIR ...] PATH [PATH ...]

SECRETS holds one token per line. Each PATH (file or directory, scanned recursively,
file names included) is searched for every token, and for the first and last 12
characters of its own part (a truncated token is still a leak): the whole token, or a
JWT's signature (its header and payload prefix are shared with other tokens). --names-only DIRs (where the configs that
legitimately hold tokens live) are checked for file names only: backups, temp files. Prints one line per finding naming the
token by fingerprint only, and a summary; exits 1 when anything was found.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys

PART = 12


def fingerprint(token):
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()[:16]


def needles(token):
    """The byte strings whose presence means the token leaked."""
    token = token.strip()
    found = {token.encode()}
    # A JWT (Tiflux's tokens are) starts with a header every token shares and a payload a user's tokens share:
    # the part that is this token's own is its signature.
    own = token.rsplit(".", 1)[1] if token.count(".") == 2 and token.startswith("eyJ") else token
    if len(own) >= 2 * PART:
        found.update((own[:PART].encode(), own[-PART:].encode()))
    return found


def _files(paths):
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                for name in dirs + files:
                    yield os.path.join(root, name), name
        else:
            yield path, os.path.basename(path)


def scan(paths, tokens, names_only=()):
    """Return a list of (path, fingerprint, where) for every occurrence found."""
    tokens = [t.strip() for t in tokens if t and t.strip()]
    findings = []
    for path, name in _files(list(paths) + list(names_only)):
        for token in tokens:
            for needle in needles(token):
                if needle.decode() in name:
                    findings.append((path, fingerprint(token), "file name"))
        inside_names_only = any(os.path.abspath(path).startswith(os.path.abspath(d) + os.sep) for d in names_only)
        if os.path.isfile(path) and not os.path.islink(path) and not inside_names_only:
            with open(path, "rb") as handle:
                data = handle.read()
            for token in tokens:
                count = sum(data.count(n) for n in needles(token))
                if count:
                    findings.append((path, fingerprint(token), "%d occurrence(s)" % count))
    return findings


def scan_text(text, tokens):
    """Occurrences of each token (whole or partial) in a string: {fingerprint: count}."""
    data = text.encode() if isinstance(text, str) else text
    return dict((fingerprint(t), sum(data.count(n) for n in needles(t))) for t in tokens if t)


def assert_no_leaks(text_or_paths, tokens):
    """pytest helper: fail naming fingerprints (never tokens) when anything leaked."""
    if isinstance(text_or_paths, (str, bytes)):
        counts = dict((fp, n) for fp, n in scan_text(text_or_paths, tokens).items() if n)
        assert not counts, "token leaked: %s" % counts
    else:
        findings = scan(list(text_or_paths), tokens)
        assert not findings, "token leaked: %s" % ["%s: %s %s" % f for f in findings]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--secrets-file", required=True)
    parser.add_argument("--names-only", action="append", default=[])
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args(argv)
    with open(args.secrets_file) as handle:
        tokens = [line.strip() for line in handle if line.strip()]
    if not tokens:
        print("leak scan: no tokens in %s, nothing to look for" % args.secrets_file)
        return 2
    findings = scan(args.paths, tokens, args.names_only)
    for path, fp, where in findings:
        print("LEAK: token %s in %s (%s)" % (fp, path, where))
    scanned = sum(1 for _entry in _files(args.paths + args.names_only))
    print("leak scan: %d token(s), %d path(s), %d finding(s)" % (len(tokens), scanned, len(findings)))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
