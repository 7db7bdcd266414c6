# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The write transaction of token_push and token_deploy: one code path per step and per failure.

    add       resolve each target's path (refusing what another user controls) and group targets by file
    prepare   make missing directories, lock the files' directories, sweep stale temp files, read every file,
              apply all of a file's edits in memory (two keys of one file are one change)
    commit    per changed file: backup -> temp file -> validate -> attributes on the temp file -> check that
              nobody changed the file since it was read -> journal -> rename
    (caller)  verify: read back, reload, health, API proof
    rollback  per written file, last first: check that nobody changed it since -> journal -> restore -> drop
              its backup (_undo.py)
    close     release the locks

Backups, directory creation and validate (_file_steps.py), the way back (_undo.py) and the journal (_journal.py)
are imported only by the runs that take them: a module run compiles every module it imports from the AnsiballZ zip.

Every failure is a FileError (or PushError for bad content) whose message names the file and says whether it
is unchanged; nothing here exits the module.
"""

from __future__ import annotations

import errno
import os

from ansible_collections.tokenops.tiflux.plugins.module_utils import _io
from ansible_collections.tokenops.tiflux.plugins.module_utils._formats import encode, printable
from ansible_collections.tokenops.tiflux.plugins.module_utils._push import PushError, hide, text_of
from ansible_collections.tokenops.tiflux.plugins.module_utils._token import fingerprint, redact

OUTPUT_QUOTE = 200  # characters of a command's output quoted in a message


class FileChange:
    """One file and the edits of every target in it."""

    def __init__(self, path, real_path, exists, create, create_dirs, dir_mode, file_args, journal, on_target):
        self.path = path
        self.real_path = real_path
        self.existed = exists  # as resolve() saw it; the read under the lock decides
        self.create = create
        self.create_dirs = create_dirs
        self.dir_mode = _io.DIR_MODE if dir_mode is None else dir_mode
        self.file_args = file_args
        self.journal = journal
        self.on_target = on_target  # token_deploy: options are set on the target
        self.edits = []
        self.snapshot = None
        self.text = self.new_text = ""
        self.new_data = None
        self.error = None
        self.backup_file = None
        self.made_dirs = []
        self.written = None  # (data, stat) this run renamed into place
        self.attrs_changed = False
        self.pending = set()  # fingerprints whose reload/health an interrupted run left pending
        self.asked = None  # the owner/group/mode options as given, to compare with another target of this file

    @property
    def changed(self):
        return self.snapshot is not None and self.new_data != self.snapshot.data

    @property
    def created(self):
        return self.changed and not self.snapshot.exists

    @property
    def writes_token(self):
        return any(edit.state == "present" for edit in self.edits)

    @property
    def secrets(self):
        return set().union(*(edit.secrets for edit in self.edits))

    def _missing(self, what):
        if self.on_target:
            return "%s does not exist: set create: true on the target to create it" % self.path
        if what == "dir":
            return "the directory of %s does not exist: create it first or set create_dirs: true" % self.path
        return "%s does not exist: set create: true to create it" % self.path

    def check_directory(self):
        if self.writes_token and not self.existed and not os.path.isdir(os.path.dirname(self.real_path)):
            if not self.create_dirs:
                raise _io.FileError(self._missing("dir"))
            return True
        return False

    def read(self, follow):
        self.snapshot = _io.read(self.path, self.real_path, follow)
        if not self.snapshot.exists and self.writes_token and not self.create:
            raise _io.FileError(self._missing("file"))
        if self.journal:
            from ansible_collections.tokenops.tiflux.plugins.module_utils import _journal  # pylint: disable=import-outside-toplevel

            self.pending = _journal.pending(self.real_path)

    def compute(self):
        """Apply every edit in memory; a bad edit gets its own error (PushError), the others are still computed."""
        self.text = text = text_of(self.snapshot, self.edits[0].fmt)
        for edit in self.edits:
            try:
                text = edit.apply(self.text, text)
            except PushError as exc:
                edit.error = "%s: %s" % (self.path, exc)
        self.new_text = text
        if self.snapshot.exists or self.writes_token:
            self.new_data = encode(text)
        else:
            self.new_data = None  # state=absent on a missing file: nothing to do

    def diff(self, secrets):
        before = hide(self.text, self.edits, secrets, original=True) if self.snapshot.exists else ""
        return dict(before=printable(before), after=printable(hide(self.new_text, self.edits, secrets)),
                    before_header=self.path, after_header=self.path)

    def apply_attributes(self, module):
        """owner/group/mode of a file whose content does not change (in check mode: only whether they differ)."""
        if self.snapshot.exists and self.file_args:
            self.attrs_changed = _io.set_attributes(module, self.file_args, False)
        return self.attrs_changed

    def journal_mark(self, fingerprints):
        if self.journal:
            from ansible_collections.tokenops.tiflux.plugins.module_utils import _journal  # pylint: disable=import-outside-toplevel

            _journal.mark(self.path, self.real_path, fingerprints)

    def replace(self, module, data, st, context, file_args=None, validate=None, secrets=()):
        """temp -> validate -> attributes on the temp file -> rename; returns the stat of what was renamed in."""
        directory = os.path.dirname(self.real_path)
        try:
            tmp, _st = _io.write_private(directory, _io.temp_name(self.real_path), data)
        except OSError as exc:
            raise _io.FileError("cannot write %s: %s; the file is unchanged" % (self.path, _io.describe_os_error(exc)))
        try:
            if validate:
                from ansible_collections.tokenops.tiflux.plugins.module_utils import _file_steps  # pylint: disable=import-outside-toplevel

                rc, output = _file_steps.run_validate(module, validate, tmp)
                if rc != 0:
                    detail = redact(output, secrets, limit=OUTPUT_QUOTE)
                    raise _io.FileError("validate command failed for %s (rc=%s%s); the file is unchanged"
                                        % (self.path, rc, ": " + detail if detail else ""))
            try:
                _io.copy_attributes(module, tmp, st, context, self.real_path)
            except OSError as exc:
                raise _io.FileError("%s: cannot give the new file the owner and mode of the old one: %s; the file is "
                                    "unchanged" % (self.path, _io.describe_os_error(exc)))
            if file_args:
                try:
                    _io.set_attributes(module, dict(file_args, path=tmp, attributes=None), True)
                except _io.FileError as exc:
                    raise _io.FileError("%s; the file is unchanged" % str(exc).replace(tmp, self.path))
            written = os.lstat(tmp)
            return tmp, written
        except BaseException:
            _io.unlink(tmp)
            raise

    def commit(self, module, backup=False, validate=None, secrets=()):
        """Write the new content (steps in the module docstring). On failure the file is as it was."""
        if not self.changed:
            self.apply_attributes(module)
            return
        snap = self.snapshot
        if backup and snap.exists:
            from ansible_collections.tokenops.tiflux.plugins.module_utils import _file_steps  # pylint: disable=import-outside-toplevel

            self.backup_file = _file_steps.backup(snap)
        try:
            tmp, written = self.replace(module, self.new_data, snap.stat, snap.context, self.file_args, validate, secrets)
            try:
                if not _io.is_unchanged(self.path, self.real_path, snap.data, snap.stat):
                    raise _io.FileError("%s was changed by someone else while this run was editing it; their version "
                                        "was kept and nothing was written: run again" % self.path)
                self.journal_mark(fingerprint(edit.token) for edit in self.edits if edit.token)
                _io.rename(self.path, tmp, self.real_path)
            except BaseException:
                _io.unlink(tmp)
                raise
            self.written = (self.new_data, written)
            if self.file_args and self.file_args.get("attributes"):
                _io.set_attributes(module, dict(self.file_args, mode=None, owner=None, group=None,
                                                secontext=[None] * len(self.file_args["secontext"])), True)
        except _io.FileError:
            if self.written is None:
                self.discard_backup()  # the file is as it was: a copy of it is one more file holding the old token
                self.remove_made_dirs()
            raise

    def restore(self, module):
        """Put the file back as it was read (bytes, owner, mode, context), unless someone changed it since."""
        from ansible_collections.tokenops.tiflux.plugins.module_utils import _undo  # pylint: disable=import-outside-toplevel

        _undo.restore(self, module)

    def remove_made_dirs(self):
        """Remove again the directories this run made for the file (those still empty)."""
        if self.made_dirs:
            from ansible_collections.tokenops.tiflux.plugins.module_utils import _file_steps  # pylint: disable=import-outside-toplevel

            _file_steps.remove_dirs(self.made_dirs)

    def discard_backup(self):
        if self.backup_file:
            _io.unlink(self.backup_file)
            self.backup_file = None


class Transaction:
    """Every file a module run changes on one host (token_push: one; token_deploy: each target's file)."""

    def __init__(self, module, backup=False, validate=None):
        self.module = module
        self.backup = backup
        self.validate = validate
        self.files = []
        self._follow = {}  # real path -> follow (a file is trusted only if every target of it says so)
        self._locks = []
        self._written = []
        self.failed = None  # the file whose commit failed

    def add(self, path, edit, follow=False, create=True, create_dirs=False, dir_mode=None, file_args=None, journal=False,
            on_target=False):
        """Resolve path and add one target's edit to its file; raises FileError for a path it must not follow."""
        real_path, exists = _io.resolve(path, follow)
        for change in self.files:
            if change.real_path == real_path:
                if edit.fmt != change.edits[0].fmt:
                    raise _io.FileError("%s: the targets of one file name different formats (%s, %s): give them one"
                                        % (path, change.edits[0].fmt, edit.fmt))
                if file_args != change.asked:
                    raise _io.FileError("%s: the targets of one file set different owner, group or mode: set them alike"
                                        % path)
                change.create = change.create and create
                change.journal = change.journal or journal
                self._follow[real_path] = self._follow[real_path] and follow
                break
        else:
            asked = file_args
            if file_args is not None:
                file_args = self.module.load_file_common_arguments(file_args, path=real_path)
            change = FileChange(path, real_path, exists, create, create_dirs, dir_mode, file_args, journal, on_target)
            change.asked = asked
            self.files.append(change)
            self._follow[real_path] = follow
        change.edits.append(edit)
        return change

    @property
    def secrets(self):
        return set().union(*(change.secrets for change in self.files))

    def prepare(self, write=True):
        """Lock (when write), read and compute every file. Returns the problems (one line each, file named);
        nothing is written when there are any."""
        problems = []
        needs_dirs = []
        for change in self.files:
            try:
                if change.check_directory():
                    needs_dirs.append(change)
            except _io.FileError as exc:
                change.error = str(exc)
                problems.append(change.error)
        if problems:
            return problems
        try:
            if write:
                if needs_dirs:
                    from ansible_collections.tokenops.tiflux.plugins.module_utils import _file_steps  # pylint: disable=import-outside-toplevel

                    for change in needs_dirs:
                        change.made_dirs = _file_steps.make_dirs(change.path, os.path.dirname(change.real_path),
                                                                 change.dir_mode)
                self._lock()
        except _io.FileError as exc:
            return [str(exc)]
        for change in self.files:
            try:
                change.read(self._follow[change.real_path])
                if write and all(lock.held for lock in self._locks):
                    _io.remove_stale_temps(change.real_path)
                if self.module.selinux_enabled() and change.snapshot.exists:
                    change.snapshot.context = self.module.selinux_context(change.real_path)
                change.compute()
            except (_io.FileError, PushError) as exc:
                change.error = str(exc)
                problems.append(change.error)
                continue
            problems.extend(edit.error for edit in change.edits if edit.error)
        if problems:
            for change in self.files:
                change.remove_made_dirs()
        return problems

    def _lock(self):
        directories = {}
        for change in self.files:
            directory = os.path.dirname(change.real_path)
            try:
                st = os.stat(directory)
            except OSError as exc:
                if exc.errno == errno.ENOENT:
                    continue  # state=absent on a file whose directory is gone: nothing to write there
                raise _io.FileError("cannot lock the directory of %s: %s" % (change.path, _io.describe_os_error(exc)))
            directories[(st.st_dev, st.st_ino)] = (directory, change.path)
        for key in sorted(directories):  # one global order: two runs never wait on each other crosswise
            directory, path = directories[key]
            self._locks.append(_io.DirLock(directory).acquire(path))

    def commit(self):
        """Write every changed file, in order. Raises FileError naming the file that failed; that file is as it was,
        the ones before it are written (the caller rolls them back with rollback())."""
        secrets = self.secrets
        for change in self.files:
            try:
                change.commit(self.module, self.backup, self.validate, secrets)
            except _io.FileError:
                self.failed = change
                raise
            finally:
                if change.written is not None or change.attrs_changed:
                    self._written.append(change)

    def rollback(self):
        """Restore every written file, last first. Returns (restored files, problems)."""
        restored, problems = [], []
        for change in reversed(self._written):
            try:
                change.restore(self.module)
                restored.append(change)
            except _io.FileError as exc:
                problems.append(str(exc))
        self._written = [change for change in self._written if change not in restored]
        return restored, problems

    def settle(self, changes):
        """Their reload and health commands passed: clear the journal of these files."""
        journaled = [change for change in changes if change.journal]
        if journaled:
            from ansible_collections.tokenops.tiflux.plugins.module_utils import _journal  # pylint: disable=import-outside-toplevel

            for change in journaled:
                _journal.clear(change.real_path)

    def close(self):
        for lock in self._locks:
            lock.release()
        self._locks = []
