# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Search a host's directories for copies of old token values (the sweep of a rotation).

Private to the collection; runs on target hosts inside a module run (stdlib only, Python 3.8+).

What is read:
  - regular files of at most ``max_file_bytes`` (1 MiB) whose first 8 KiB hold no NUL byte (text);
  - found by walking each listed directory breadth-first (every directory at depth 1 of every listed path before
    any at depth 2, ...), so a budget that runs out leaves the deepest directories unread; inside a directory,
    config-like files (CONFIG_SUFFIXES, CONFIG_NAMES, CONFIG_PREFIXES) first, then the others, smallest first;
  - a listed path that is itself a regular file is read as well.

What is not read (counted in the result's ``skipped``):
  - symbolic links, to files or directories, anywhere below a listed path (a listed path itself is resolved once:
    the person named it). A directory is opened with O_NOFOLLOW and must be the one listed (same device and
    inode); its files are opened relative to it (dir_fd) with O_NOFOLLOW and O_NONBLOCK, and what was opened must
    be a regular file on the same device, else it is counted as ``changed`` (a link, FIFO or mount swapped in
    since the listing). A regular file saved over the listed one meanwhile is read as it is now;
  - directories named in SKIP_DIR_NAMES or starting with SKIP_DIR_PREFIXES (dependency trees, VCS data, caches,
    language toolchains, C headers, snapshots), unless listed themselves (``pruned``);
  - directories on another file system than the listed path they were found under (mount points of other disks,
    network shares, tmpfs, btrfs subvolumes), unless listed themselves; /proc, /sys and /dev never, even if listed;
  - files whose names end in SKIP_SUFFIXES (compiled code, packages, archives, images, fonts, databases, sources of
    compiled languages such as .h, .c, .go, .java) and files with a NUL byte in their first 8 KiB (``binary``: so a
    token inside a SQLite database or a UTF-16 file is not found). Scripts (.sh, .py, .php, .js, .rb) are read;
  - backups and temp files this collection and ansible's ``backup: true`` make (OWN_FILE_PATTERNS): they hold the
    old token by design and no integration reads them. Other copies (``file~``, ``file.bak``, ``file.orig``) are
    searched: someone made them and something may read them;
  - the ``exclude`` paths (the targets: the given path and its real path), files and directories alike;
  - FIFOs, sockets and devices.

What is searched for: each secret of at least ``_token.MASK_MIN_LENGTH`` characters (shorter ones are placeholders
such as ``changeme`` and would give false hits; counted in ``skipped_short``), as its UTF-8 bytes, which is how
env, YAML, JSON, INI, TOML, shell and systemd files store it, quoted or not. Two more spellings are searched when
they differ from the raw value: JSON string escaping (``\\"``, ``\\\\``, and ``\\/`` as PHP writes it) and URL
percent-encoding (a token in a URL query). Base64, hex or encrypted copies (ansible-vault, sops) are not found.
A file or directory whose *name* holds a whole secret is a hit too (``found_in: name``); one holding only a part of
a secret is not a copy of it, but its name is hidden in the output like any other (below).

Bounds: the time budget (``budget_seconds``, checked before every directory and file), a total of
``max_total_bytes`` read, and at most MAX_QUEUED_DIRS directories waiting to be listed. Any of them cuts the sweep
short: ``complete`` is false and ``cut_short`` says which bound and where. Unreadable files and directories
(permissions, I/O errors) are counted in ``unreadable`` and do not stop the sweep or make it incomplete (a caller
that claims "nothing found" states that count too); files that vanish or change while the sweep runs are counted in
``skipped``. With no secret to search for (none given, or all short) nothing is read and the sweep is complete.

Output names tokens only by fingerprint (of the value searched, surrounding whitespace removed; the keys of
``secrets`` are not trusted for that). Every path in the result (hits, ``paths``, ``not_searched``, ``cut_short``)
is shown with any path component that holds a secret, or NAME_RUN consecutive characters of one, replaced by
``<hidden: sha256:...>``; bytes that are not UTF-8 are shown as ``\\xNN``. At most MAX_HITS hits are returned
(``hits_total`` counts them all). Nothing read from a file, and no exception text, is ever returned.
"""

from __future__ import annotations

import collections
import errno
import os
import re
import stat
import time

from ansible_collections.tokenops.tiflux.plugins.module_utils._io import TEMP_MARK
from ansible_collections.tokenops.tiflux.plugins.module_utils._push import SWEEP_PATHS, SWEEP_SECONDS
from ansible_collections.tokenops.tiflux.plugins.module_utils._token import MASK_MIN_LENGTH, fingerprint

DEFAULT_PATHS = SWEEP_PATHS
DEFAULT_BUDGET_SECONDS = float(SWEEP_SECONDS)
MAX_FILE_BYTES = 1024 * 1024
MAX_TOTAL_BYTES = 256 * 1024 * 1024
MAX_QUEUED_DIRS = 100000
MAX_HITS = 100
BINARY_CHECK_BYTES = 8192
# A path component sharing this many consecutive characters with a secret is hidden whole.
NAME_RUN = 12

# Basenames of the files this collection leaves next to a target, of this run or an earlier one. Regular
# expressions (re.search); keep in step with _io (and the write transaction's journal).
OWN_FILE_PATTERNS = (
    # backups of 1.0: AnsibleModule.backup_local names them NAME.PID.YYYY-MM-DD@HH:MM:SS~ (as ansible's backup: true)
    r"\.[0-9]+\.[0-9]{4}-[0-9]{2}-[0-9]{2}@[0-9]{2}:[0-9]{2}:[0-9]{2}~\Z",
    # backups of the write transaction: NAME.YYYY-MM-DD@HH:MM:SS.<12 hex>~
    r"\.[0-9]{4}-[0-9]{2}-[0-9]{2}@[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9a-f]{12}~\Z",
    # temp files, left behind when a run is killed: .NAME.RANDOM + TEMP_MARK; the journal: .NAME.tiflux-journal
    re.escape(TEMP_MARK) + r"\Z",
    r"\.tiflux-journal\Z",
)

_OWN = re.compile("|".join("(?:%s)" % p for p in OWN_FILE_PATTERNS))

NEVER_SEARCHED = ("/proc", "/sys", "/dev")

SKIP_DIR_NAMES = frozenset((
    ".git", ".hg", ".svn", ".bzr",
    "node_modules", "bower_components", ".npm", ".yarn", ".pnpm-store",
    "site-packages", "dist-packages", "__pycache__", ".tox", ".nox", ".mypy_cache", ".pytest_cache",
    ".cache", ".m2", ".gradle", ".ivy2", ".cargo", ".rustup", "rustlib", "toolchains", "go-build",
    "vendor", "jvm", "include",
    ".snapshot", ".snapshots", ".zfs", "lost+found",
))
SKIP_DIR_PREFIXES = ("jdk", "jre", "openjdk", "graalvm", "java-", "go1.", "python2.", "python3.")

SKIP_SUFFIXES = (
    # compiled code, packages, archives, disk images, media, fonts, databases, data sets
    ".so", ".a", ".o", ".ko", ".dll", ".dylib", ".exe", ".bin", ".dat", ".class", ".jar", ".war", ".ear", ".jmod",
    ".pyc", ".pyo", ".whl", ".egg", ".rlib", ".wasm", ".node",
    ".zip", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".lz4", ".7z", ".rar", ".tar", ".deb", ".rpm", ".apk", ".iso",
    ".img", ".qcow2", ".vmdk",
    ".png", ".jpg", ".jpeg", ".gif", ".ico", ".webp", ".bmp", ".tif", ".tiff", ".pdf", ".mp3", ".mp4", ".ogg",
    ".woff", ".woff2", ".ttf", ".otf", ".eot",
    ".db", ".sqlite", ".sqlite3", ".mdb", ".npy", ".pt", ".onnx", ".parquet", ".pkl", ".h5", ".mo", ".gmo",
    # sources of compiled languages: toolchains and libraries hold thousands, a running integration reads none
    ".h", ".hh", ".hpp", ".hxx", ".c", ".cc", ".cpp", ".cxx", ".rs", ".go", ".java", ".kt", ".scala", ".pyi",
)
CONFIG_SUFFIXES = (
    ".env", ".conf", ".cfg", ".cnf", ".ini", ".json", ".yaml", ".yml", ".toml", ".properties", ".txt", ".sh",
    ".service", ".timer", ".xml", ".php", ".secret", ".secrets", ".token", ".credentials",
)
CONFIG_NAMES = frozenset(("crontab", "environment", "credentials", "settings.py", "local_settings.py", ".netrc"))
CONFIG_PREFIXES = (".env", "env.", "docker-compose", "compose.", "credenciais", "credentials", "secrets")

_OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_OPEN_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
_GONE = (errno.ENOENT, errno.ENOTDIR, errno.ELOOP)
_URL_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


class _Stop(Exception):
    """A bound of the sweep was reached."""


def with_target_dirs(paths, targets):
    """The directories a host sweeps: the targets' own directories first (searched first), then ``paths``."""
    seen, ordered = set(), []
    for path in [os.path.dirname(os.path.abspath(t)) for t in targets] + list(paths):
        if path not in seen:
            seen.add(path)
            ordered.append(path)
    return ordered


def spellings(value):
    """The byte strings a file may hold for a secret: raw, JSON-escaped (also with \\/), URL percent-encoded."""
    json_escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    found = [value, json_escaped, json_escaped.replace("/", "\\/"),
             "".join(c if c in _URL_SAFE else "%%%02X" % b for c in value for b in c.encode("utf-8", "surrogateescape"))]
    unique = []
    for spelling in found:
        data = spelling.encode("utf-8", "surrogateescape")
        if data not in unique:
            unique.append(data)
    return unique


def own_file(name):
    """Whether a file name is one of OWN_FILE_PATTERNS (a backup or temp file of ours)."""
    return _OWN.search(name) is not None


def rank(name):
    """0 for a config-like file name (read first in its directory), 1 for any other."""
    lower = name.lower()
    if lower in CONFIG_NAMES or lower.endswith(CONFIG_SUFFIXES) or lower.startswith(CONFIG_PREFIXES):
        return 0
    return 1


def sweep(paths, secrets, exclude=(), budget_seconds=DEFAULT_BUDGET_SECONDS, max_file_bytes=MAX_FILE_BYTES,
          max_total_bytes=MAX_TOTAL_BYTES, clock=time.monotonic):
    """Search ``paths`` for the values of ``secrets`` (fingerprint -> token; a list of tokens works too).

    Returns dict(hits=[dict(path, fingerprint, found_in)], files, bytes, seconds, complete, cut_short, paths,
    not_searched=[dict(path, reason)], skipped_short, unreadable, skipped={reason: count}). Never raises for
    anything found on disk.
    """
    return _Sweep(secrets, exclude, budget_seconds, max_file_bytes, max_total_bytes, clock).run(paths)


class _Sweep:

    def __init__(self, secrets, exclude, budget_seconds, max_file_bytes, max_total_bytes, clock):
        values = secrets.values() if isinstance(secrets, dict) else secrets
        self.secrets = {}  # value -> fingerprint
        self.skipped_short = 0
        for value in values:
            if isinstance(value, bytes):
                value = value.decode("utf-8", "surrogateescape")
            value = (value or "").strip()
            if len(value) < MASK_MIN_LENGTH:
                self.skipped_short += 1
            elif value not in self.secrets:
                self.secrets[value] = fingerprint(value)
        self.needles = [(data, fp) for value, fp in self.secrets.items() for data in spellings(value)]
        self.runs = [(set(value[i:i + NAME_RUN] for i in range(len(value) - NAME_RUN + 1)), fp)
                     for value, fp in self.secrets.items()]
        self.exclude = set()
        for path in exclude:
            self.exclude.add(os.path.abspath(path))
            self.exclude.add(os.path.realpath(path))
        self.budget = budget_seconds
        self.max_file_bytes = max_file_bytes
        self.max_total_bytes = max_total_bytes
        self.clock = clock
        self.hits = []
        self.files = self.bytes = self.unreadable = 0
        self.skipped = dict((k, 0) for k in (
            "symlink", "suffix", "binary", "large", "own", "excluded", "pruned", "other_fs", "special", "changed"))
        self.queue = collections.deque()  # (path, index in roots, st_dev, st_ino) of the directories to list
        self.visited = set()  # (st_dev, st_ino) of the listed paths and the directories queued
        self.roots = []
        self.deadline = None

    # -- output --------------------------------------------------------------------------------------------------

    def shown(self, path):
        """The path as outputs show it: components holding a secret (or NAME_RUN characters of one) hidden."""
        parts = path.split("/")
        for i, part in enumerate(parts):
            if len(part) < NAME_RUN:
                continue
            windows = set(part[j:j + NAME_RUN] for j in range(len(part) - NAME_RUN + 1))
            for run_set, fp in self.runs:
                if windows & run_set:
                    parts[i] = "<hidden: %s>" % fp
                    break
        return "/".join(parts).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")

    def hit(self, path, fp, found_in):
        self.hits.append(dict(path=self.shown(path), fingerprint=fp, found_in=found_in))

    # -- walk ----------------------------------------------------------------------------------------------------

    def run(self, paths):
        start = self.clock()
        self.deadline = start + self.budget
        not_searched, root_files = [], []
        for path in paths:
            reason = self.add_root(path, root_files)
            if reason:
                not_searched.append(dict(path=self.shown(str(path)), reason=reason))
        cut_short = None
        if self.secrets:
            try:
                for path, st, idx in root_files:
                    self.check(idx)
                    self.read(None, path, st.st_dev, st.st_ino)
                while self.queue:
                    path, idx, dev, ino = item = self.queue.popleft()
                    self.check(idx, item)
                    self.list_dir(path, idx, dev, ino)
            except _Stop as exc:
                cut_short = str(exc)
        self.hits.sort(key=lambda h: (h["path"], h["fingerprint"]))
        return dict(
            hits=self.hits[:MAX_HITS], hits_total=len(self.hits), files=self.files, bytes=self.bytes,
            seconds=round(self.clock() - start, 3), complete=cut_short is None, cut_short=cut_short,
            paths=[self.shown(r) for r in self.roots],
            not_searched=not_searched, skipped_short=self.skipped_short, unreadable=self.unreadable,
            skipped=self.skipped)

    def add_root(self, path, root_files):
        """Queue a listed path; return why it is not searched, or None."""
        if not isinstance(path, str) or not os.path.isabs(path):
            return "not an absolute path"
        real = os.path.realpath(path)
        if any(real == p or real.startswith(p + "/") for p in NEVER_SEARCHED):
            return "pseudo file system (%s are never searched)" % ", ".join(NEVER_SEARCHED)
        if real in self.exclude:
            return "a target of this run"
        try:
            st = os.stat(real, follow_symlinks=False)
        except OSError as exc:
            if exc.errno in _GONE:
                return "does not exist"
            self.unreadable += 1
            return "cannot be read (%s)" % (os.strerror(exc.errno) if exc.errno else "error")
        if (st.st_dev, st.st_ino) in self.visited:
            return None  # listed twice, or under two names
        if stat.S_ISDIR(st.st_mode):
            self.queue.append((real, len(self.roots), st.st_dev, st.st_ino))
        elif stat.S_ISREG(st.st_mode):
            root_files.append((real, st, len(self.roots)))
        else:
            return "not a directory or regular file"
        self.visited.add((st.st_dev, st.st_ino))
        self.roots.append(real)
        return None

    def check(self, idx, current=None):
        """Stop when a bound is reached; the message names the listed path the sweep was in."""
        if self.clock() > self.deadline:
            bound = "time budget of %g s" % self.budget
        elif self.bytes >= self.max_total_bytes:
            limit = self.max_total_bytes
            bound = "read limit of %s" % ("%d MiB" % (limit >> 20) if limit and not limit % (1 << 20) else "%d bytes" % limit)
        elif len(self.queue) > MAX_QUEUED_DIRS:
            bound = "limit of %d directories waiting to be searched" % MAX_QUEUED_DIRS
        else:
            return
        left = list(self.queue) + ([current] if current else [])
        message = "%s used up after %d files under %s" % (bound, self.files, self.shown(self.roots[idx]))
        if left:
            under = []
            for item in left:
                if self.roots[item[1]] not in under:
                    under.append(self.roots[item[1]])
            message += "; %d directories not searched, under %s" % (len(left), ", ".join(self.shown(r) for r in under))
        raise _Stop(message)

    def list_dir(self, path, idx, dev, ino):
        try:
            dfd = os.open(path, _OPEN_DIR)
        except OSError as exc:
            self.count_error(exc)
            return
        try:
            st = os.fstat(dfd)
            if (st.st_dev, st.st_ino) != (dev, ino):
                self.skipped["changed"] += 1  # replaced (by a link or another directory) since it was listed
                return
            files = []
            with os.scandir(dfd) as entries:
                for count, entry in enumerate(entries, 1):
                    if not count % 1024:
                        self.check(idx)  # a huge directory
                    self.entry(entry, path, idx, dev, files)
            files.sort()
            for _rank, _size, name in files:
                self.check(idx)
                # Opened in the directory listed (dir_fd), so no link on the way: a regular file now at that name
                # (an editor's atomic save since the listing) is read as it is now, whatever its inode.
                self.read(dfd, self.join(path, name), dev, None, name)
        except _Stop:
            raise
        except OSError as exc:
            self.count_error(exc)
        finally:
            os.close(dfd)

    @staticmethod
    def join(parent, name):
        return parent + "/" + name if parent != "/" else "/" + name

    def entry(self, entry, parent, idx, dev, files):
        name = entry.name
        full = self.join(parent, name)
        if full in self.exclude:
            self.skipped["excluded"] += 1
            return
        if len(name) >= MASK_MIN_LENGTH:
            for value, fp in self.secrets.items():
                if value in name:
                    self.hit(full, fp, "name")
        try:
            if entry.is_symlink():
                self.skipped["symlink"] += 1
            elif entry.is_dir(follow_symlinks=False):
                if name in SKIP_DIR_NAMES or name.lower().startswith(SKIP_DIR_PREFIXES) or full in NEVER_SEARCHED:
                    self.skipped["pruned"] += 1
                    return
                st = entry.stat(follow_symlinks=False)
                if (st.st_dev, st.st_ino) in self.visited:
                    return  # a listed path of its own, or seen through a bind mount
                if st.st_dev != dev:
                    self.skipped["other_fs"] += 1
                    return
                self.visited.add((st.st_dev, st.st_ino))
                self.queue.append((full, idx, st.st_dev, st.st_ino))
            elif entry.is_file(follow_symlinks=False):
                lower = name.lower()
                if lower.endswith(SKIP_SUFFIXES):
                    self.skipped["suffix"] += 1
                elif own_file(name):
                    self.skipped["own"] += 1
                elif (dev, entry.inode()) in self.visited:
                    return  # a listed path of its own
                else:
                    st = entry.stat(follow_symlinks=False)
                    if st.st_size > self.max_file_bytes:
                        self.skipped["large"] += 1
                    else:
                        files.append((rank(name), st.st_size, name))
            else:
                self.skipped["special"] += 1
        except OSError as exc:
            self.count_error(exc)

    def read(self, dfd, path, dev, ino, name=None):
        try:
            fd = os.open(name if dfd is not None else path, _OPEN_FILE, dir_fd=dfd)
        except OSError as exc:
            self.count_error(exc)
            return
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_dev != dev or (ino is not None and st.st_ino != ino):
                self.skipped["changed"] += 1
                return
            if st.st_size > self.max_file_bytes:
                self.skipped["large"] += 1
                return
            data = os.read(fd, BINARY_CHECK_BYTES)
            if b"\0" in data:
                self.bytes += len(data)
                self.skipped["binary"] += 1
                return
            chunks = [data]
            total = len(data)
            while data and total <= self.max_file_bytes:
                data = os.read(fd, self.max_file_bytes + 1 - total)
                chunks.append(data)
                total += len(data)
            self.bytes += total
            if total > self.max_file_bytes:
                self.skipped["large"] += 1  # grew since it was listed
                return
            data = b"".join(chunks)
            self.files += 1
            found = set()
            for needle, fp in self.needles:
                if fp not in found and needle in data:
                    found.add(fp)
                    self.hit(path, fp, "content")
        except OSError as exc:
            self.count_error(exc)
        finally:
            os.close(fd)

    def count_error(self, exc):
        if exc.errno in _GONE:
            self.skipped["changed"] += 1  # vanished, or replaced by a link since it was listed
        else:
            self.unreadable += 1
