#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: access_review
short_description: Which of the permissions a run needs the caller lacks
version_added: 0.3.0
description:
  - Asks the API server whether the identity this module runs as may do each of O(permissions), and returns
    those it may not.
  - Fast path. For the namespaced permissions it first sends one C(SelfSubjectRulesReview) for O(namespace)
    and counts as allowed each resource and verb that the returned C(status.resourceRules) allow, matched as
    RBAC matches rules (V(*) for any verb, API group or resource, V(pods/log) and V(*/log) for subresources; a
    rule limited by C(resourceNames) proves nothing, since the permissions name no object).
  - Everything else is asked with one C(SelfSubjectAccessReview) per resource and verb, as the answer that
    counts. That is every cluster-scoped permission (a namespace's rules do not say whether they come from a
    ClusterRoleBinding, so they cannot prove a cluster-scoped one); every namespaced permission the rules do not
    allow, since Kubernetes documents a rules review as possibly incomplete and not to be used for
    authorization decisions, so a denial is always confirmed; and every permission when the rules review answers
    C(incomplete), fails, or is not served or refused (404, 403).
  - A missing permission is therefore always one an access review refused, as before the fast path.
  - The preflight role uses it so that a run fails before its first write, listing every missing
    permission, instead of half-way through with the first one.
  - An access review writes nothing (the server answers it and stores nothing), so this module
    never changes the cluster.
author:
  - hubfleet maintainers (@hubfleet)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - hubfleet.jupyterhub.request_timeout
attributes:
  check_mode:
    support: full
    description: Reads only; the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing, so there is nothing to show.
options:
  namespace:
    description:
      - The namespace the permissions are asked for. Cluster-scoped resources (O(permissions[].cluster_scoped))
        are asked for at the cluster scope.
    type: str
    required: true
  permissions:
    description: What the run needs.
    type: list
    elements: dict
    required: true
    suboptions:
      group:
        description: The API group, V("") for the core group.
        type: str
        default: ""
      resource:
        description: The resource, plural (V(rolebindings)).
        type: str
        required: true
      verbs:
        description: The verbs needed (V(get), V(list), V(create), V(patch), V(delete) ...).
        type: list
        elements: str
        required: true
      cluster_scoped:
        description: Whether the resource is cluster-scoped (PersistentVolumes).
        type: bool
        default: false
"""

EXAMPLES = r"""
- name: Check that we may manage the hub's quota
  hubfleet.jupyterhub.access_review:
    namespace: jupyterhub
    permissions:
      - resource: resourcequotas
        verbs: [get, create, patch, delete]
  register: __access

- name: Fail listing what is missing
  ansible.builtin.assert:
    that: __access.missing == []
    fail_msg: "missing permissions: {{ __access.missing | join(', ') }}"
"""

RETURN = r"""
missing:
  description: Each permission refused, as C(verb resource.group in namespace) (or C(at the cluster scope)).
  returned: success
  type: list
  elements: str
  sample: ["create persistentvolumes at the cluster scope"]
checked:
  description: How many resource and verb pairs were asked about.
  returned: success
  type: int
reviews:
  description: How many reviews of each kind were sent.
  returned: success
  type: dict
  contains:
    rules:
      description: C(SelfSubjectRulesReview) requests (0 or 1).
      type: int
    access:
      description: C(SelfSubjectAccessReview) requests.
      type: int
  sample: {"rules": 1, "access": 8}
"""

import copy

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.client import TIMEOUT_ARG_SPEC, Cluster, rules_allow
from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.entry import execute
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC


def describe(verb, permission, namespace):
    resource = permission["resource"] + ("." + permission["group"] if permission["group"] else "")
    where = "at the cluster scope" if permission["cluster_scoped"] else "in namespace %s" % namespace
    return "%s %s %s" % (verb, resource, where)


def run(module):
    params = module.params
    cluster = Cluster(module)
    asked = [(permission, verb) for permission in params["permissions"] for verb in permission["verbs"]]
    reviews = dict(rules=0, access=0)
    rules = None
    if any(not permission["cluster_scoped"] for permission, verb in asked):
        reviews["rules"] += 1
        rules = cluster.rules_review(params["namespace"])
    missing = []
    for permission, verb in asked:
        if rules is not None and not permission["cluster_scoped"] and \
                rules_allow(rules, verb, permission["resource"], permission["group"]):
            continue
        reviews["access"] += 1
        namespace = None if permission["cluster_scoped"] else params["namespace"]
        if not cluster.allowed(verb, permission["resource"], permission["group"], namespace):
            missing.append(describe(verb, permission, params["namespace"]))
    return dict(changed=False, missing=missing, checked=len(asked), reviews=reviews)


def main():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(TIMEOUT_ARG_SPEC)
    spec.update(
        namespace=dict(type="str", required=True),
        permissions=dict(type="list", elements="dict", required=True, options=dict(
            group=dict(type="str", default=""),
            resource=dict(type="str", required=True),
            verbs=dict(type="list", elements="str", required=True),
            cluster_scoped=dict(type="bool", default=False),
        )),
    )
    execute(run, spec)


if __name__ == "__main__":
    main()
