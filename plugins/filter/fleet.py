# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory's argument spec (plugin_utils/fleet_spec.py): a cluster host's variables checked against it, and
a role's options for validate_argument_spec."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.hubfleet.jupyterhub.plugins.plugin_utils import fleet_spec


def cluster_errors(variables, where):
    # Plain data: ansible hands filters lazily templated containers.
    return fleet_spec.cluster_errors(json.loads(json.dumps(variables)), where)


def role_argument_spec(role):
    return fleet_spec.role_options(role)


class FilterModule:
    def filters(self):
        return {"cluster_errors": cluster_errors, "role_argument_spec": role_argument_spec}
