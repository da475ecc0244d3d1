# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: spawner_rules
version_added: 0.3.0
short_description: The RBAC rules the hub's KubeSpawner needs in a namespace it spawns in
description:
  - Returns the rules of a least-privilege Role for the hub's service account. It may get, list, watch,
    create and delete pods, persistent volume claims, secrets and services, and read events.
  - They are the rules of the Zero-to-JupyterHub chart's own hub Role (the same in chart 3.3.8 and
    4.4.0), and what KubeSpawner's code calls. The module M(hubfleet.jupyterhub.user_project) puts the
    same rules into users' projects.
  - Use it with C(query), or with C(wantlist=true), to get the list of rules.
"""

EXAMPLES = r"""
- name: The hub's Role
  kubernetes.core.k8s:
    definition:
      apiVersion: rbac.authorization.k8s.io/v1
      kind: Role
      metadata: {name: jupyterhub-hub, namespace: jupyterhub}
      rules: "{{ query('hubfleet.jupyterhub.spawner_rules') }}"
"""

RETURN = r"""
_raw:
  description: The Role rules, each with apiGroups, resources and verbs.
  type: list
  elements: dict
"""

from ansible.plugins.lookup import LookupBase

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import rbac


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        return rbac.spawner_rules()
