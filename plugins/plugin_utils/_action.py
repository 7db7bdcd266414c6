# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Controller side of the collection's modules.

TifluxAction is the action plugin of every module that runs on hosts: it fills the connection options from the
tiflux_* variables (_vars.py) when neither the task nor module_defaults set them, reserves the module's API calls
with the run's Pacer, then runs the module on the host as usual. ControllerAction is the base of the actions that run
on the controller only (report, vault_promote).
"""

from __future__ import annotations

import ast
import base64
import binascii
import functools
import os
import re
import ssl

import yaml

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase

from ansible_collections.tokenops.tiflux.plugins.module_utils._connection import DEFAULT_PROBES
from ansible_collections.tokenops.tiflux.plugins.plugin_utils._pacer import PaceError, Pacer
from ansible_collections.tokenops.tiflux.plugins.plugin_utils._vars import resolve

# A full public CA bundle is about 220 KB; anything much larger is not a CA file.
MAX_CA_BYTES = 4 * 1024 * 1024
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END ([A-Z0-9 ]+)-----", re.S)
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CAFileError(ValueError):
    """A controller file named as the CA that is not PEM certificates (nothing of it is shipped)."""


def ca_certificates(path):
    """The certificates of the PEM file at ``path`` (on the controller), encoded anew as PEM.

    This is all that reaches the hosts: text around the blocks is dropped, and a file with any block
    that is not a certificate (a private key, a token pasted into the wrong file) or with none is
    refused. Each certificate must parse as X.509.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_CA_BYTES + 1)
    except OSError as exc:
        raise CAFileError("cannot be read (%s)" % (exc.strerror or exc))
    if len(data) > MAX_CA_BYTES:
        raise CAFileError("is larger than %d MiB" % (MAX_CA_BYTES >> 20))
    text = data.decode("ascii", "replace")
    blocks = _PEM_BLOCK.findall(text)
    if not blocks:
        raise CAFileError("holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    pem = []
    for number, (label, body, end) in enumerate(blocks, 1):
        if label != "CERTIFICATE" or end != label:
            raise CAFileError("holds a %s block (number %d), which is not a certificate" % (label, number))
        try:
            der = base64.b64decode("".join(body.split()), validate=True)
            context.load_verify_locations(cadata=der)
        except (binascii.Error, ValueError, ssl.SSLError):
            raise CAFileError("holds a certificate block (number %d) that is not an X.509 certificate" % number)
        pem.append(ssl.DER_cert_to_PEM_cert(der))
    return "".join(pem)


@functools.lru_cache(maxsize=None)
def documented_defaults(module_path):
    """{option: default} of a module, read from its DOCUMENTATION without running it.

    The documented options are the module's argument spec as ansible-doc shows it; sanity
    (validate-modules) fails when a documented default differs from the code's.
    """
    with open(module_path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), module_path)
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["DOCUMENTATION"]:
            doc = yaml.load(node.value.value, Loader=_SAFE_LOADER)  # nosec: SafeLoader
            return dict((name, spec.get("default")) for name, spec in (doc.get("options") or {}).items())
    return {}


class ControllerAction(ActionBase):
    """Base of the actions that run on the controller only (report, vault_promote): no connection, no module."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False
    ARGUMENT_SPEC = {}

    def act(self, args, secret_values, result):
        """The action's work, with its options checked and their secret values; returns result."""
        raise NotImplementedError

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        validation = ArgumentSpecValidator(self.ARGUMENT_SPEC).validate(dict(self._task.args))
        secret_values = set(validation._no_log_values)  # pylint: disable=protected-access
        if not validation.error_messages:
            return self.act(validation.validated_parameters, secret_values, result)
        # One line that names the option and holds no secret. ArgumentSpecValidator leaves the "Unsupported
        # parameters" prefix to AnsibleModule: say it here.
        msg = "; ".join(("unsupported option " if isinstance(error, UnsupportedError) else "") + " ".join(str(error).split())
                        for error in validation.errors)
        result.update(failed=True, msg=remove_values(msg, secret_values))
        return result


class TifluxAction(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = True

    def api_calls(self, args):
        """How many API calls the module will make with these args (override per module)."""
        return 0

    def option(self, args, name):
        """The value the module will see for ``name``: the task's, else the module's documented default."""
        if name in args:
            return args[name]
        context = self._shared_loader_obj.module_loader.find_plugin_with_context(
            self._task.resolved_action, collection_list=self._task.collections)
        defaults = documented_defaults(context.plugin_resolved_path)
        if name not in defaults:
            raise AnsibleActionFail("%s documents no option %s" % (self._task.resolved_action, name))
        return defaults[name]

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = dict(self._task.args)
        self._check_targets(args.get("targets"), task_vars)
        settings = resolve(task_vars, self._templar.template, given=args)
        args.update((option, setting.value) for option, setting in settings.items())
        try:
            waited = Pacer().reserve_for(lambda: self.api_calls(args), args)
        except PaceError as exc:
            raise AnsibleActionFail(str(exc))
        shipped = self._ship_ca_file(args, settings.get("ca_path"))
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

    def _check_targets(self, targets, task_vars):
        """One line naming the host and the variable for a targets list ansible-core would garble.

        A malformed element makes ansible-core skip no_log masking of the whole call, and a dict or a
        string in place of the list gets its argument spec dumped: refuse both here.
        """
        if targets is None or (isinstance(targets, list) and all(isinstance(item, dict) for item in targets)):
            return
        where = "%s: %s" % (task_vars.get("inventory_hostname", "?"), self._written_as("targets"))
        if not isinstance(targets, list):
            raise AnsibleActionFail("%s must be a list of targets (dicts with path, format and key), got a %s"
                                    % (where, _kind(targets)))
        index = next(i for i, item in enumerate(targets) if not isinstance(item, dict))
        raise AnsibleActionFail("%s[%d] must be a dict with path, format and key, got a %s"
                                % (where, index, _kind(targets[index])))

    def _written_as(self, option):
        """The variable a task option came from when the task says ``option: "{{ name }}"``, else the option."""
        ds = getattr(self._task, "_ds", None)
        written = ""
        if isinstance(ds, dict):
            written = next((value[option] for value in ds.values() if isinstance(value, dict) and option in value), "")
        match = re.match(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$", str(written).strip())
        return match.group(1) if match else option

    def _ship_ca_file(self, args, setting):
        """A ca_path set by a tiflux_ca_path variable names a file on the controller (an AWX credential's
        CA file lives in the job's private data dir): ship its certificates, and only them, next to the
        module on the host. A path that is no file on the controller is left for the host to read."""
        if setting is None or self._task.async_val or not isinstance(setting.value, str) or not os.path.isfile(setting.value):
            return False
        try:
            certificates = ca_certificates(setting.value)
        except CAFileError as exc:
            raise AnsibleActionFail("%s %s on the controller %s: point it at the PEM file of the CA that signs the"
                                    " API's certificate" % (setting.variable, setting.value, exc))
        if self._connection._shell.tmpdir is None:
            self._make_tmp_path()
        remote = self._connection._shell.join_path(self._connection._shell.tmpdir, "tiflux-ca.pem")
        self._transfer_data(remote, certificates)
        self._fixup_perms2((self._connection._shell.tmpdir, remote), execute=False)
        args["ca_path"] = remote
        return True

    @staticmethod
    def probe_count(args):
        probes = args.get("probes")
        return len(probes) if isinstance(probes, list) and probes else len(DEFAULT_PROBES)


def _kind(value):
    for kind, name in ((dict, "dict"), (str, "string"), (bool, "boolean"), ((int, float), "number")):
        if isinstance(value, kind):
            return name
    return type(value).__name__
