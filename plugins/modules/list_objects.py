#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: list_objects
short_description: List several kinds of objects in one task
version_added: 0.5.0
description:
  - Lists each of O(kinds) with one request, in O(namespace) for a namespaced kind and across the cluster for a
    cluster-scoped one, filtered by O(label_selectors).
  - One task instead of a loop of C(kubernetes.core.k8s_info), which starts a module per kind (about a second
    each); C(playbooks/teardown.yml) lists twenty kinds twice.
  - A kind the cluster does not serve (a Route on vanilla Kubernetes) is reported with RV(kinds[].served=false)
    and no objects, as C(kubernetes.core.k8s_info) reports C(api_found=false).
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
  kinds:
    description: The kinds to list.
    type: list
    elements: dict
    required: true
    suboptions:
      api_version:
        description: The kind's group and version (V(v1), V(route.openshift.io/v1)).
        type: str
        required: true
      kind:
        description: The kind (V(ConfigMap)).
        type: str
        required: true
  namespace:
    description: Where namespaced kinds are listed; without it, across every namespace.
    type: str
  label_selectors:
    description: Label selectors every object must match (V(app.kubernetes.io/managed-by=hubfleet)).
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Find the objects hubfleet made for the hub demo
  hubfleet.jupyterhub.list_objects:
    namespace: jupyterhub-demo
    label_selectors: [app.kubernetes.io/managed-by=hubfleet, hubfleet.io/hub=demo]
    kinds:
      - {api_version: v1, kind: ConfigMap}
      - {api_version: route.openshift.io/v1, kind: Route}
      - {api_version: v1, kind: PersistentVolume}
  register: __found

- name: Show their names
  ansible.builtin.debug:
    msg: "{{ __found.kinds | map(attribute='resources') | flatten | map(attribute='metadata.name') }}"
"""

RETURN = r"""
kinds:
  description: Per kind asked, in order, what was found.
  returned: success
  type: list
  elements: dict
  contains:
    api_version:
      description: As asked.
      type: str
    kind:
      description: As asked.
      type: str
    served:
      description: Whether the cluster serves the kind.
      type: bool
    namespaced:
      description: Whether the kind is namespaced (false when not served).
      type: bool
    resources:
      description: The objects, as the API returns them, each with C(apiVersion) and C(kind).
      type: list
      elements: dict
  sample: [{"api_version": "v1", "kind": "ConfigMap", "served": true, "namespaced": true, "resources": []}]
"""

import copy

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.client import TIMEOUT_ARG_SPEC, Cluster
from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.entry import execute
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC

try:
    from kubernetes.dynamic.exceptions import ResourceNotFoundError
except ImportError:  # kubernetes.core's client check reports the missing library
    ResourceNotFoundError = LookupError


def run(module):
    params = module.params
    cluster = Cluster(module)
    selector = ",".join(params["label_selectors"]) or None
    found = []
    for asked in params["kinds"]:
        entry = dict(api_version=asked["api_version"], kind=asked["kind"], served=False, namespaced=False,
                     resources=[])
        try:
            resource = cluster.resource(asked["api_version"], asked["kind"])
        except ResourceNotFoundError:
            found.append(entry)
            continue
        namespace = params["namespace"] if resource.namespaced else None
        entry.update(served=True, namespaced=bool(resource.namespaced),
                     resources=cluster.list(asked["api_version"], asked["kind"], selector, namespace))
        found.append(entry)
    return dict(changed=False, kinds=found)


def main():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(TIMEOUT_ARG_SPEC)
    spec.update(
        kinds=dict(type="list", elements="dict", required=True, options=dict(
            api_version=dict(type="str", required=True),
            kind=dict(type="str", required=True),
        )),
        namespace=dict(type="str"),
        label_selectors=dict(type="list", elements="str", default=[]),
    )
    execute(run, spec)


if __name__ == "__main__":
    main()
