# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Options naming a token inside an integration config on the host; the engine is
    # plugins/module_utils/_push.py (target_argument_spec) and _formats/.
    DOCUMENTATION = r"""
options:
  path:
    description:
      - The integration config file on the target host.
      - A symlink is followed; its target file is read and edited, and the link stays. M(tokenops.tiflux.token_push)
        and M(tokenops.tiflux.token_deploy) refuse a link, directory or file that another user could have planted,
        unless told to trust it (C(follow)); the collection's C(docs/security.md) says what and why.
    type: path
  format:
    description:
      - How the file is written; never guessed. See the collection's C(docs/formats.md) for the exact rules.
      - V(env) for C(.env) files and systemd C(EnvironmentFile)s (C(KEY=value), C(export KEY=value)).
      - V(ini) for INI files. V(json) and V(yaml) for structured configs. V(raw) for a file that holds only the token.
      - V(yaml) needs only the Python standard library on the host; paths it cannot edit safely (flow style,
        anchors, block scalars, sequences) fail instead of rewriting the file.
    type: str
    choices: [env, ini, json, yaml, raw]
  key:
    description:
      - Where the token is in the file. Not used with O(format=raw).
      - V(env) the variable name, for example V(TIFLUX_API_TOKEN). When the variable appears more than once,
        the last assignment is the one shells, systemd and dotenv parsers use, and the one read and edited.
      - V(ini) V(section.option) (split at the last dot), or the option name with O(section).
      - V(json) and V(yaml) a dotted path such as V(tiflux.token), or a list of keys for keys that contain dots,
        for example V(['integrations', 'api.tiflux.com', 'token']).
    type: raw
  section:
    description:
      - With O(format=ini), the section that holds O(key).
    type: str
"""
