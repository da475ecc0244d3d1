#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: values_diff
short_description: Report a planned Helm release change, with the values' diff
version_added: 0.4.0
description:
  - Reports as changed when O(reasons) is not empty, and with C(--diff) shows O(before) and O(after).
    The hub role uses it to show what an install or upgrade would do, in check mode too, without the
    helm-diff plugin.
  - Give it values whose secrets are already hidden (the filter P(hubfleet.jupyterhub.hub_values_masked#filter)),
    because module arguments appear in verbose output and job events.
  - Contacts nothing.
author:
  - hubfleet maintainers (@hubfleet)
attributes:
  check_mode:
    support: full
    description: Reports only; the same in check mode.
  diff_mode:
    support: full
    description: The values before and after.
options:
  before:
    description: The release's values as installed, secrets hidden (empty when there is no release).
    type: dict
    default: {}
  after:
    description: The values wanted, secrets hidden.
    type: dict
    required: true
  reasons:
    description: Why the release must change (empty when it need not).
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Show what the release would change
  hubfleet.jupyterhub.values_diff:
    before: "{{ __installed.status.values | default({}) | hubfleet.jupyterhub.hub_values_masked }}"
    after: "{{ __values | hubfleet.jupyterhub.hub_values_masked }}"
    reasons: ["the values differ"]
"""

RETURN = r"""
reasons:
  description: O(reasons), as given.
  returned: always
  type: list
  elements: str
  sample: ["the values differ"]
"""

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec=dict(
            before=dict(type="dict", default={}),
            after=dict(type="dict", required=True),
            reasons=dict(type="list", elements="str", required=True),
        ),
        supports_check_mode=True,
    )
    reasons = module.params["reasons"]
    result = {"changed": bool(reasons), "reasons": reasons}
    if module._diff and reasons:
        # Dicts: ansible's callback shows them in its own format (YAML-like with the default one).
        result["diff"] = {"before": module.params["before"], "after": module.params["after"],
                          "before_header": "release values", "after_header": "composed values"}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
