# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the hub's KubeSpawner may do in a namespace it spawns in: one set of rules for the hub's own
namespace (the service_account role, through the lookup spawner_rules) and for users' projects
(user_project). They are the rules of the chart's own hub Role (templates/hub/rbac.yaml, the same in
3.3.8 and 4.4.0); tests compare them with that file and with the calls KubeSpawner's code makes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

_SPAWNER_RULES = [
    {"apiGroups": [""], "resources": ["pods", "persistentvolumeclaims", "secrets", "services"],
     "verbs": ["get", "watch", "list", "create", "delete"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["get", "watch", "list"]},
]


def spawner_rules():
    """A fresh copy of the rules (callers may put them into objects they change)."""
    return copy.deepcopy(_SPAWNER_RULES)
