# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's ownership labels for playbooks and roles (see module_utils/ownership.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import ownership, validation


def ownership_labels(hub, component):
    for name, value in (("hub", hub), ("component", component)):
        problem = validation.label_value_error(value) if value else "must not be empty"
        if problem:
            raise AnsibleFilterError("ownership_labels: the %s %r %s" % (name, value, problem))
    return ownership.labels(hub, component)


class FilterModule:
    def filters(self):
        return {"ownership_labels": ownership_labels}
