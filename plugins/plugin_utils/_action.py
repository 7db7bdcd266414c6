# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Controller side of the collection's modules: connection variables and API pacing.

Every module of the collection has an action plugin built on this class. It fills the
connection options from the ansible_tiflux_* variables when neither the task nor
module_defaults set them, reserves the module's API calls with the run's Pacer, then runs
the module on the host as usual.
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase

from ansible_collections.tokenops.tiflux.plugins.module_utils._connection import CONNECTION_OPTIONS, DEFAULT_PROBES, PACING_OPTIONS
from ansible_collections.tokenops.tiflux.plugins.plugin_utils._pacer import PaceError, Pacer


class TifluxAction(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = True

    def api_calls(self, args):
        """How many API calls the module will make with these args (override per module)."""
        return 0

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = dict(self._task.args)
        targets = args.get("targets")
        if isinstance(targets, list):
            # A malformed element makes ansible-core skip no_log masking of the whole call: refuse it here.
            for index, target in enumerate(targets):
                if not isinstance(target, dict):
                    raise AnsibleActionFail("targets[%d] must be a dict with path, format and key, got %s: check tiflux_targets"
                                            % (index, type(target).__name__))
        for name in CONNECTION_OPTIONS + PACING_OPTIONS:
            var = "ansible_tiflux_" + name
            if name not in args and task_vars.get(var) not in (None, ""):
                args[name] = self._templar.template(task_vars[var])
        try:
            waited = Pacer().reserve_for(self.api_calls(args), args)
        except PaceError as exc:
            raise AnsibleActionFail(str(exc))
        shipped = self._ship_ca_file(args)
        try:
            result.update(self._execute_module(module_name=self._task.resolved_action, module_args=args, task_vars=task_vars))
        finally:
            if shipped:
                self._remove_tmp_path(self._connection._shell.tmpdir)
        Pacer().observe(result)  # the quota headers of the module's answers pace the next reservations
        token = args.get("token")
        if isinstance(token, str) and token.strip():
            # Last line of defence: whatever the module returned, it must not carry the token.
            result = remove_values(result, {token, token.strip()})
        if waited >= 0.5:
            result["paced_seconds"] = round(waited, 1)
        return result

    def _ship_ca_file(self, args):
        """A ca_path that came from ansible_tiflux_ca_path names a file on the controller (an AWX credential's
        CA file lives in the job's private data dir): copy it next to the module on the host."""
        ca_path = args.get("ca_path")
        if "ca_path" in self._task.args or not ca_path or not os.path.isfile(ca_path) or self._task.async_val:
            return False
        if self._connection._shell.tmpdir is None:
            self._make_tmp_path()
        remote = self._connection._shell.join_path(self._connection._shell.tmpdir, "tiflux-ca.pem")
        self._transfer_file(ca_path, remote)
        self._fixup_perms2((self._connection._shell.tmpdir, remote), execute=False)
        args["ca_path"] = remote
        return True

    @staticmethod
    def probe_count(args):
        probes = args.get("probes")
        return len(probes) if isinstance(probes, list) and probes else len(DEFAULT_PROBES)
