# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The input of the filters behind the roles (audit_report, rotation_plan, rotation_summary).
    DOCUMENTATION = r"""
options:
  _input:
    description: C(hostvars), the variables and facts of every host of the play.
    type: dict
    required: true
"""
