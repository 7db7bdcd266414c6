#!/usr/bin/python
# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This is a virtual module: the action plugin of the same name does all the work, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
module: report
short_description: Write a report of the collection's roles on the controller
version_added: 1.1.0
author:
  - tokenops maintainers (@tokenops)
description:
  - Writes O(content) to O(dest) on the controller, for the reports of the rotate and audit roles (rendered with
    C(lookup('ansible.builtin.template', ...))). No module runs, so a report costs milliseconds where
    M(ansible.builtin.template) runs two module processes per file.
  - Written like the collection's other files. The content goes to a temp file created 0600 in the same directory,
    gets O(mode), and is renamed over O(dest). A symlink, or a O(dest) another user controls in a directory others
    can write (such as C(/tmp)), is refused and nothing is written.
  - Changes nothing when O(dest) already holds O(content) with O(mode).
options:
  dest:
    description:
      - The file on the controller. Its directory must exist. A relative path is relative to the directory
        ansible-playbook runs from.
    type: path
    required: true
  content:
    description:
      - The text of the report, written as UTF-8.
    type: str
    required: true
  mode:
    description:
      - The file's permissions, an octal string.
    type: str
    default: "0640"
extends_documentation_fragment:
  - tokenops.tiflux.attributes
  - tokenops.tiflux.attributes.controller
attributes:
  check_mode:
    support: full
    details: Says whether the file would change; writes nothing.
  diff_mode:
    support: none
seealso:
  - module: ansible.builtin.template
"""

EXAMPLES = r"""
- name: Write the Markdown report of a rotation
  tokenops.tiflux.report:
    dest: tiflux-reports/rotate-deploy.md
    content: "{{ lookup('ansible.builtin.template', 'rotate-report.md.j2') }}"
  run_once: true
"""

RETURN = r"""
dest:
  description: The real path of the file (symlinks of its directories resolved).
  returned: always
  type: str
  sample: /srv/ansible/tiflux-reports/rotate-deploy.md
"""
