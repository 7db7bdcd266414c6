# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""tokenops.tiflux.vault_promote: put the new token in the vars file the play read it from (controller only).

Uses the vault secrets the play already loaded (the loader's), so no second password prompt, and
never a token in the result: values are named by fingerprint.
"""

from __future__ import annotations

from ansible.module_utils.common.parameters import remove_values

from ansible_collections.tokenops.tiflux.plugins.plugin_utils._action import ControllerAction
from ansible_collections.tokenops.tiflux.plugins.plugin_utils._vault import ARGUMENT_SPEC, PromoteError, Promotion
from ansible_collections.tokenops.tiflux.plugins.plugin_utils._vault_file import LockedFile, VaultFileError


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def act(self, args, secret_values, result):
        path = args["path"]
        result.update(changed=False, path=path)
        try:
            with LockedFile(path) as vars_file:
                result["path"] = vars_file.real_path
                promotion = Promotion(vars_file.data, self._vault_secrets(), var=args["var"], token=args["token"],
                                      old_token=args["old_token"], state=args["state"], where=path)
                data = promotion.run()
                changed = data != vars_file.data
                if changed and not self._task.check_mode:
                    vars_file.replace(data)
        except (PromoteError, VaultFileError) as exc:
            result.update(failed=True, msg=str(exc))
            return remove_values(result, secret_values)
        result.update(changed=changed, fingerprint=promotion.fingerprint, previous_fingerprint=promotion.previous_fingerprint,
                      msg=promotion.message(path, check_mode=self._task.check_mode))
        if self._task.diff and changed:
            result["diff"] = promotion.diff(path)
        # Last line of defence: whatever was built above, it must not carry a token.
        return remove_values(result, secret_values)

    def _vault_secrets(self):
        """The secrets of --ask-vault-pass / --vault-password-file / --vault-id, as the play loaded them."""
        vault = getattr(self._loader, "_vault", None)
        return list(getattr(vault, "secrets", None) or [])
