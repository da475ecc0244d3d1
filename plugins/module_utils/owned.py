# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The objects a role owns for a hub: checked, compared with the cluster, and described.

Pure functions over dicts; the module owned_objects lists, applies and deletes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import ownership, validation

# Written by the API server, never by us: left out when an answer is compared with the live object.
SERVER_FIELDS = ("resourceVersion", "managedFields", "generation", "uid", "creationTimestamp")


def definition_errors(index, definition, hub, component):
    """Problems of one object to apply, each naming it."""
    where = "objects[%d]" % index
    if not isinstance(definition, dict):
        return ["%s: must be a Kubernetes object (a mapping), not %r" % (where, definition)]
    errors = ["%s: %s is required" % (where, field) for field in ("apiVersion", "kind")
              if not isinstance(definition.get(field), str) or not definition.get(field)]
    meta = definition.get("metadata")
    if not isinstance(meta, dict):
        return errors + ["%s: metadata with a name is required" % where]
    problem = validation.dns_subdomain_error(meta.get("name"))
    if problem:
        errors.append("%s: metadata.name %r %s" % (where, meta.get("name"), problem))
    if meta.get("namespace") is not None:
        problem = validation.dns_label_error(meta["namespace"])
        if problem:
            errors.append("%s: metadata.namespace %r %s" % (where, meta["namespace"], problem))
    errors.extend(validation.label_errors(meta.get("labels") or {}, "%s: metadata.labels" % where))
    for key, value in (meta.get("labels") or {}).items():
        if ownership.labels(hub, component).get(key, value) != value:
            errors.append("%s: metadata.labels %s=%s contradicts the ownership label %s=%s"
                          % (where, key, value, key, ownership.labels(hub, component)[key]))
    return errors


def with_ownership(definition, hub, component):
    """The object with our ownership labels added."""
    marked = copy.deepcopy(definition)
    meta = marked.setdefault("metadata", {})
    meta["labels"] = dict(meta.get("labels") or {}, **ownership.labels(hub, component))
    return marked


def keep_live_quantities(desired, live):
    """`desired` where every quantity that means the live object's amount is spelled as the live object
    spells it: the API server may store '1024Mi' as '1Gi', and an apply must not see a change there."""
    if isinstance(desired, dict) and isinstance(live, dict):
        return dict((key, keep_live_quantities(value, live.get(key))) for key, value in desired.items())
    if isinstance(desired, list) and isinstance(live, list) and len(desired) == len(live):
        return [keep_live_quantities(want, have) for want, have in zip(desired, live)]
    if isinstance(desired, (str, int, float)) and not isinstance(desired, bool) and isinstance(live, str) \
            and str(desired) != live and _same_amount(desired, live):
        return live
    return desired


def _same_amount(first, second):
    try:
        return validation.quantity(first) == validation.quantity(second)
    except ValueError:
        return False


def with_live_claim(desired, live):
    """A volume's claimRef as the binder completed it (uid, resourceVersion ...), when it names our claim.

    claimRef is an atomic map for server-side apply: applying just namespace and name would take away
    the binder's fields and unbind the volume."""
    want = (desired.get("spec") or {}).get("claimRef")
    have = ((live or {}).get("spec") or {}).get("claimRef")
    if desired.get("kind") != "PersistentVolume" or not want or not have:
        return desired
    if all(have.get(key) == value for key, value in want.items()):
        desired = copy.deepcopy(desired)
        desired["spec"]["claimRef"] = copy.deepcopy(have)
    return desired


def to_apply(definition, live):
    """What to send for `definition` given the live object: equal quantities and a bound claim kept."""
    desired = copy.deepcopy(definition)
    if live is not None and "spec" in desired:
        desired["spec"] = keep_live_quantities(desired["spec"], live.get("spec"))
    return with_live_claim(desired, live)


def comparable(obj):
    """An object without what only the server writes, to tell whether an apply changed anything."""
    if obj is None:
        return None
    plain = copy.deepcopy(obj)
    meta = plain.get("metadata") or {}
    for field in SERVER_FIELDS:
        meta.pop(field, None)
    return plain


def ref(definition):
    meta = definition["metadata"]
    where = "%s/%s" % (meta["namespace"], meta["name"]) if meta.get("namespace") else meta["name"]
    return "%s %s" % (definition["kind"], where)
