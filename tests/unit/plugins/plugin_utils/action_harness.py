# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""An action plugin of the collection with everything but the module run: what it would send is recorded."""

from __future__ import annotations

from unittest import mock

from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import action_loader
from ansible.template import Templar


def make_action(name, args, task_vars, check_mode=False, written=None, answer=None):
    fqcn = "tokenops.tiflux." + name
    task = mock.MagicMock()
    task.args = dict(args)
    task.action = fqcn
    task.resolved_action = fqcn
    task.collections = []
    task.async_val = 0
    task.check_mode = check_mode
    task.diff = False
    task._ds = {"name": "a task", fqcn: dict(args, **(written or {}))}
    connection = mock.MagicMock()
    connection._shell.tmpdir = None
    connection._shell.join_path = lambda *parts: "/".join(parts)
    task_vars = dict(task_vars, inventory_hostname="web1")
    templar = Templar(loader=DataLoader(), variables=task_vars)
    action = action_loader.get(fqcn, task=task, connection=connection, play_context=mock.MagicMock(), loader=DataLoader(),
                               templar=templar, shared_loader_obj=None)
    from ansible.plugins import loader as plugin_loader
    action._shared_loader_obj = plugin_loader
    sent = dict(transferred=[], removed=[])

    def execute_module(module_name, module_args, task_vars):
        sent["module_args"] = module_args
        return dict(answer or {"changed": False})

    def make_tmp_path(*_args):
        connection._shell.tmpdir = "/remote/tmp"
        return "/remote/tmp"

    action._execute_module = execute_module
    action._make_tmp_path = make_tmp_path
    action._transfer_data = lambda remote, data: sent["transferred"].append((remote, data)) or remote
    action._fixup_perms2 = lambda *a, **k: None
    action._remove_tmp_path = lambda path, *a, **k: sent["removed"].append(path)
    action.task_vars = task_vars
    return action, sent
