# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The old-token sweep of token_deploy and token_info; the engine and its spec are
    # plugins/module_utils/_sweep.py (SWEEP_SPEC, run).
    DOCUMENTATION = r"""
options:
  old_tokens:
    description:
      - Tokens that should no longer be anywhere on the host (the token being rotated out). When given, the host's
        O(sweep_paths) are searched for copies of them outside the targets, and each file found is named in
        RV(old_token_elsewhere) by its path only.
      - Regular files of at most 1 MiB are read, text only, never through a symbolic link; this collection's backups
        and temp files are skipped (they hold the old token by design). Tokens shorter than 16 characters are not
        searched for (placeholders).
    type: list
    elements: raw
    default: []
  sweep_paths:
    description:
      - Where to search for O(old_tokens). The directories of the targets are searched first, then these, breadth
        first, so a budget that runs out leaves the deepest directories unread.
      - Dependency trees, VCS data, caches and toolchains (C(node_modules), C(.git), C(jdk*)...) and other file systems
        are skipped unless listed themselves; C(/proc), C(/sys) and C(/dev) never.
    type: list
    elements: path
    default: [/etc, /opt, /srv, /usr/local/etc]
  sweep_seconds:
    description:
      - Time budget of the search on each host. When it runs out the search stops, and C(sweep.cut_short) in the result says where;
        the result then speaks only for what was read. V(0) turns the search off.
    type: int
    default: 10
"""
