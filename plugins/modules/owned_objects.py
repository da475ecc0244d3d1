#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: owned_objects
short_description: Apply the objects a role owns for a hub, and only those
version_added: 0.3.0
description:
  - The one way the collection's roles write Kubernetes objects, in one call per role.
  - Every object is looked up first. One that exists without the collection's ownership labels for
    O(hub) and O(component) is never adopted, changed or deleted; the call fails naming every such
    object, and nothing is written.
  - Wanted objects are applied with server-side apply (field manager C(hubfleet), taking over fields
    another manager set), so fields others add are kept and fields we stop setting are removed. An
    object whose apply would change nothing is not written. Quantities in C(spec) that mean the live
    amount keep the live spelling (V(1024Mi) against V(1Gi) is no change), and a PersistentVolume's
    C(claimRef) keeps what the binder added.
  - Objects with O(objects[].wanted=false) are deleted when they exist (and are ours), after the
    wanted ones are applied (so a new RoleBinding exists before the old one goes), in the reverse
    of the order given (so a claim goes before its volume, a binding before its account).
  - The ownership labels are added to every object.
author:
  - hubfleet maintainers (@hubfleet)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - hubfleet.jupyterhub.request_timeout
attributes:
  check_mode:
    support: full
    description:
      - Every apply is sent as a server-side dry run and compared with the live object; objects in a
        namespace that does not exist yet are reported as to be created.
  diff_mode:
    support: full
    description: Each changed object before and after.
options:
  hub:
    description: The hub's name (the C(hubfleet.io/hub) label).
    type: str
    required: true
  component:
    description: What the objects are part of (the C(app.kubernetes.io/component) label), for example V(quotas).
    type: str
    required: true
  objects:
    description: The objects, in the order they are applied.
    type: list
    elements: dict
    required: true
    suboptions:
      definition:
        description: The object, with C(apiVersion), C(kind), C(metadata.name) and, when namespaced, C(metadata.namespace).
        type: dict
        required: true
      wanted:
        description: V(false) deletes the object when it exists and is ours.
        type: bool
        default: true
"""

EXAMPLES = r"""
- name: A ConfigMap owned by the hub research
  hubfleet.jupyterhub.owned_objects:
    hub: research
    component: settings
    objects:
      - definition:
          apiVersion: v1
          kind: ConfigMap
          metadata: {name: research-settings, namespace: jupyterhub-research}
          data: {greeting: hello}

- name: Remove it again
  hubfleet.jupyterhub.owned_objects:
    hub: research
    component: settings
    objects:
      - wanted: false
        definition: {apiVersion: v1, kind: ConfigMap, metadata: {name: research-settings, namespace: jupyterhub-research}}
"""

RETURN = r"""
objects:
  description: What happened to each object, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    ref:
      description: C(Kind namespace/name).
      type: str
    action:
      description: V(created), V(updated), V(unchanged), V(deleted), V(absent) (not wanted, not there), or in check mode V(would create) and so on.
      type: str
    object:
      description:
        - The object as the cluster holds it after the call (as the dry run answered, in check mode); null when
          deleted or absent.
        - The values of a Secret's C(data) are never shown.
      type: dict
"""

import copy

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import owned, ownership
from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.client import TIMEOUT_ARG_SPEC, Cluster
from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.entry import execute
from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.errors import HubfleetError
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC

FIELD_MANAGER = "hubfleet"


def printable(obj):
    """What the module shows of an object: a Secret's keys without their values (a token, a key)."""
    if not obj or obj.get("kind") != "Secret":
        return obj
    shown = copy.deepcopy(obj)
    for field in ("data", "stringData"):
        if shown.get(field):
            shown[field] = dict.fromkeys(shown[field], "VALUE_HIDDEN")
    return shown


class Applier:
    def __init__(self, module, cluster):
        self.module = module
        self.cluster = cluster
        self.check = module.check_mode
        self.namespaces = {}

    def namespace_exists(self, name):
        if name not in self.namespaces:
            self.namespaces[name] = self.cluster.get("v1", "Namespace", name) is not None
        return self.namespaces[name]

    def apply(self, definition, live):
        body = owned.to_apply(definition, live)
        meta = body["metadata"]
        if live is None and meta.get("namespace") and not self.namespace_exists(meta["namespace"]):
            if self.check:
                return "would create (its namespace is new)", None
            raise HubfleetError("cannot create %s: namespace %s does not exist" % (owned.ref(body), meta["namespace"]))
        resource = self.cluster.resource(body["apiVersion"], body["kind"])
        kwargs = dict(body=body, name=meta["name"], namespace=meta.get("namespace"),
                      force_conflicts=True, field_manager=FIELD_MANAGER)
        what = "apply %s" % owned.ref(body)
        if live is not None or self.check:
            preview = self.cluster.call(what, resource.server_side_apply, dry_run="All", **kwargs).to_dict()
            if live is not None and owned.comparable(preview) == owned.comparable(live):
                return "unchanged", live
            if self.check:
                return ("would update" if live is not None else "would create"), preview
        applied = self.cluster.call(what, resource.server_side_apply, **kwargs).to_dict()
        self.cluster.writes += 1
        return ("updated" if live is not None else "created"), applied

    def delete(self, definition, live):
        if live is None:
            return "absent", None
        if self.check:
            return "would delete", None
        meta = definition["metadata"]
        self.cluster.delete(definition["apiVersion"], definition["kind"], meta["name"], meta.get("namespace"))
        return "deleted", None


def run(module):
    params = module.params
    hub, component = params["hub"], params["component"]
    problems = []
    for index, item in enumerate(params["objects"]):
        problems.extend(owned.definition_errors(index, item["definition"], hub, component))
    if problems:
        raise HubfleetError("nothing was changed: " + "; ".join(problems), problems=problems)
    items = [(owned.with_ownership(item["definition"], hub, component), item["wanted"]) for item in params["objects"]]

    cluster = Cluster(module)
    lives = []
    for definition, _wanted in items:
        meta = definition["metadata"]
        lives.append(cluster.get(definition["apiVersion"], definition["kind"], meta["name"], meta.get("namespace")))
    foreign = [owned.ref(definition) for (definition, _wanted), live in zip(items, lives)
               if live is not None and not ownership.owned(live, hub, component)]
    if foreign:
        raise HubfleetError("%s: not managed by hubfleet as %s of hub %s (labels %s), so left alone and nothing "
                            "written; delete or rename it, or give it those labels if it is the hub's"
                            % (", ".join(foreign), component, hub, ownership.selector(hub, component)),
                            foreign=foreign)

    applier = Applier(module, cluster)
    reports = [None] * len(items)
    # Applies first, in order; deletes after, so that what replaces an object exists before it goes,
    # in reverse order, so that what depends on an object goes before it.
    for index in [i for i, (_d, wanted) in enumerate(items) if wanted] + \
            [i for i, (_d, wanted) in reversed(list(enumerate(items))) if not wanted]:
        definition, wanted = items[index]
        action, after = (applier.apply if wanted else applier.delete)(definition, lives[index])
        reports[index] = dict(ref=owned.ref(definition), action=action, object=printable(after))
    changed = any(report["action"] not in ("unchanged", "absent") for report in reports)
    result = dict(changed=changed if module.check_mode else cluster.writes > 0, objects=reports)
    if module._diff:
        result["diff"] = [dict(before_header=r["ref"], after_header=r["ref"], before=printable(owned.comparable(live)) or {},
                               after=owned.comparable(r["object"]) or {})
                          for r, live in zip(reports, lives) if r["action"] not in ("unchanged", "absent")]
    return result


def main():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(TIMEOUT_ARG_SPEC)
    spec.update(
        hub=dict(type="str", required=True),
        component=dict(type="str", required=True),
        objects=dict(type="list", elements="dict", required=True, options=dict(
            definition=dict(type="dict", required=True),
            wanted=dict(type="bool", default=True),
        )),
    )
    execute(run, spec)


if __name__ == "__main__":
    main()
