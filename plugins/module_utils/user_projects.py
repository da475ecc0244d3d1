# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-user projects: validate the users, describe the objects each needs, compare with the cluster.

Pure functions over dicts; the module (plugins/modules/user_project.py) lists and writes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import limits, naming, ownership, rbac, validation

COMPONENT = "user-project"
USER_LABEL = "hub.jupyter.org/username"
USER_ANNOTATION = "hub.jupyter.org/username"
DISPLAY_NAME = "openshift.io/display-name"
REQUESTER = "openshift.io/requester"
DESCRIPTION = "openshift.io/description"
# A ProjectRequest cannot set labels: our projects made that way carry this description, and the
# API server sets their requester to the identity that asked, which no one else can forge.
PROJECT_MARKER = "JupyterHub user project, managed by hubfleet for hub %s"
# The keys of the `labels` option applied to a namespace, so that a key dropped from it is removed.
EXTRA_LABELS = "hubfleet.io/extra-labels"

QUOTA = "hubfleet-user-quota"
LIMITS = "hubfleet-user-limits"
# The user's binding is named after its role: a RoleBinding's roleRef cannot change, and a new
# role's binding is created before the old one goes, so the user is never without access.
ACCESS = "hubfleet-user-access-%s"
SPAWNER = "hubfleet-hub-spawner"
ROLES = ("admin", "edit", "view")
USER_KEYS = frozenset(["name", "groups", "quota", "limits", "role", "labels"])
RBAC = "rbac.authorization.k8s.io"
# (apiVersion, kind) of the namespaced objects this module manages, in the order it writes them.
NAMESPACED = [("v1", "ResourceQuota"), ("v1", "LimitRange"), (RBAC + "/v1", "RoleBinding"), (RBAC + "/v1", "Role")]


def selector(hub):
    """Our objects in users' projects: whatever else carries them may be removed when not wanted."""
    return ownership.selector(hub, COMPONENT)


def _user_entry(raw, index):
    if isinstance(raw, str):
        return {"name": raw}, []
    if not isinstance(raw, dict):
        return None, ["users[%d]: must be a user name or a mapping with a name, not %r" % (index, raw)]
    errors = ["users[%d]: unknown key %r (allowed: %s)" % (index, key, ", ".join(sorted(USER_KEYS)))
              for key in raw if key not in USER_KEYS]
    if not isinstance(raw.get("name"), str):
        errors.append("users[%d]: needs a name" % index)
    return dict(raw), errors


RESERVED_LABELS = frozenset([ownership.MANAGED_BY, ownership.COMPONENT, ownership.HUB, USER_LABEL])


def _reserved_label_errors(labels, where):
    """Our ownership marks cannot be set (or overwritten) through `labels`."""
    return ["%s: %r is reserved for hubfleet's ownership marks" % (where, key) for key in labels or {}
            if key in RESERVED_LABELS or str(key).startswith("hubfleet.io/")]


def option_errors(params):
    """Problems with the module-level options that are not per user."""
    errors = []
    problem = validation.label_value_error(params["hub_name"]) if params["hub_name"] else "must not be empty"
    if problem:
        errors.append("hub_name: %r %s (it is the value of the label %s)"
                      % (params["hub_name"], problem, ownership.HUB))
    if params["hub_namespace"]:
        problem = validation.dns_label_error(params["hub_namespace"])
        if problem:
            errors.append("hub_namespace: %r %s" % (params["hub_namespace"], problem))
    account = params.get("hub_service_account") or {}
    for field, rule in (("name", validation.dns_subdomain_error), ("namespace", validation.dns_label_error)):
        problem = field in account and rule(account[field])
        if problem:
            errors.append("hub_service_account.%s: %r %s" % (field, account[field], problem))
    problem = validation.template_error(params["name_template"], naming.TEMPLATE_FIELDS)
    if problem:
        errors.append("name_template: %s" % problem)
    return errors


def users_from_params(params):
    """Validate every option and user; return the normalised users, or raise ValueError listing every problem."""
    errors = option_errors(params)
    if errors:
        raise ValueError(errors)
    users, by_name, by_namespace = [], {}, {}
    for index, raw in enumerate(params["users"] or []):
        entry, problems = _user_entry(raw, index)
        errors.extend(problems)
        if problems:
            continue
        name = entry["name"]
        label = "user %r" % name
        if not name.strip():
            errors.append("users[%d]: the name is empty" % index)
            continue
        if name in by_name:
            errors.append("%s: listed twice (users[%d] and users[%d])" % (label, by_name[name], index))
            continue
        by_name[name] = index
        namespace = naming.expand(params["name_template"], name, "", params["hub_namespace"] or "",
                                  params["slug_scheme"])
        problem = validation.dns_label_error(namespace)
        if problem:
            template = params["name_template"]
            errors.append("%s: namespace %r from name_template %r %s" % (label, namespace, template, problem))
        elif namespace in by_namespace:
            errors.append("%s: namespace %r is also the namespace of user %r (the names collide after slugging)"
                          % (label, namespace, by_namespace[namespace]))
        by_namespace.setdefault(namespace, name)
        user = {
            "name": name, "namespace": namespace,
            "groups": entry.get("groups") or [],
            "quota": params["quota"] if entry.get("quota") is None else entry["quota"],
            "limits": params["limits"] if entry.get("limits") is None else entry["limits"],
            "role": entry.get("role") or params["role"],
            "labels": dict(params["labels"] or {}, **(entry.get("labels") or {})),
        }
        errors.extend(_user_errors(user, label))
        users.append(user)
    if errors:
        raise ValueError(errors)
    return users


def _user_errors(user, label):
    errors = []
    if user["role"] not in ROLES:
        errors.append("%s: role %r is not one of %s" % (label, user["role"], ", ".join(ROLES)))
    if not isinstance(user["groups"], list) or not all(isinstance(g, str) and g for g in user["groups"]):
        errors.append("%s: groups must be a list of group names" % label)
    errors.extend(validation.quota_errors(user["quota"] or {}, "%s: quota" % label))
    errors.extend(limits.container_limit_errors(user["limits"] or {}, "%s: limits" % label))
    errors.extend(validation.label_errors(user["labels"], "%s: labels" % label))
    errors.extend(_reserved_label_errors(user["labels"], "%s: labels" % label))
    return errors


# --- desired objects ----------------------------------------------------------------------------
def _metadata(user, hub, name=None, extra_labels=None):
    labels = ownership.labels(hub, COMPONENT)
    labels[USER_LABEL] = naming.label_slug(user["name"])
    labels.update(extra_labels or {})
    meta = {"name": name or user["namespace"], "labels": labels, "annotations": {USER_ANNOTATION: user["name"]}}
    if name:
        meta["namespace"] = user["namespace"]
    return meta


def namespace_object(user, hub, openshift):
    meta = _metadata(user, hub, extra_labels=user["labels"])
    meta["annotations"][EXTRA_LABELS] = ",".join(sorted(user["labels"]))
    if openshift:
        meta["annotations"][DISPLAY_NAME] = user["name"]
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}


def project_request(user, hub):
    return {"apiVersion": "project.openshift.io/v1", "kind": "ProjectRequest",
            "metadata": {"name": user["namespace"]}, "displayName": user["name"], "description": PROJECT_MARKER % hub}


def namespaced_objects(user, hub, spawner_account):
    """The objects a user's project should hold, keyed by (kind, name), in the order they are written."""
    wanted = {}
    if user["quota"]:
        wanted[("ResourceQuota", QUOTA)] = {"apiVersion": "v1", "kind": "ResourceQuota",
                                            "metadata": _metadata(user, hub, QUOTA),
                                            "spec": {"hard": limits.quantities(user["quota"])}}
    if user["limits"]:
        wanted[("LimitRange", LIMITS)] = {"apiVersion": "v1", "kind": "LimitRange",
                                          "metadata": _metadata(user, hub, LIMITS),
                                          "spec": {"limits": [limits.container_limit(user["limits"])]}}
    subjects = [{"apiGroup": RBAC, "kind": "User", "name": user["name"]}]
    subjects.extend({"apiGroup": RBAC, "kind": "Group", "name": group} for group in user["groups"])
    access = ACCESS % user["role"]
    wanted[("RoleBinding", access)] = {"apiVersion": RBAC + "/v1", "kind": "RoleBinding",
                                       "metadata": _metadata(user, hub, access),
                                       "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": user["role"]},
                                       "subjects": subjects}
    if spawner_account:
        wanted[("Role", SPAWNER)] = {"apiVersion": RBAC + "/v1", "kind": "Role",
                                     "metadata": _metadata(user, hub, SPAWNER), "rules": rbac.spawner_rules()}
        wanted[("RoleBinding", SPAWNER)] = {
            "apiVersion": RBAC + "/v1", "kind": "RoleBinding", "metadata": _metadata(user, hub, SPAWNER),
            "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": SPAWNER},
            "subjects": [{"kind": "ServiceAccount", "name": spawner_account["name"],
                          "namespace": spawner_account["namespace"]}]}
    return wanted


# --- ownership ----------------------------------------------------------------------------------
def _marks(namespace):
    meta = namespace.get("metadata") or {}
    return meta.get("labels") or {}, meta.get("annotations") or {}


def labelled(namespace, hub):
    """Whether a namespace carries our labels for `hub` (it was created as a Namespace, not requested)."""
    return ownership.owned(namespace, hub, COMPONENT)


def requested_for(namespace, hub):
    """Whether a project says it was requested for `hub`: a claim anyone may make; see requested_by."""
    return _marks(namespace)[1].get(DESCRIPTION) == PROJECT_MARKER % hub


def requested_by(namespace):
    """Who requested a project: the API server sets this from the requesting identity."""
    return _marks(namespace)[1].get(REQUESTER)


def labelled_owner(namespace):
    return _marks(namespace)[1].get(USER_ANNOTATION)


def whose(namespace, hub, me):
    """Whom a namespace this module may not use belongs to, in words for an error message."""
    labels, annotations = _marks(namespace)
    if labelled(namespace, hub):
        return "user %r of hub %r" % (annotations.get(USER_ANNOTATION), hub)
    if labels.get(ownership.MANAGED_BY) == ownership.MANAGER and labels.get(ownership.HUB):
        return "hub %r (label %s)" % (labels[ownership.HUB], ownership.HUB)
    if requested_for(namespace, hub):
        return "%r, who requested it (this module runs as %r)" % (requested_by(namespace), me)
    return "someone else: it carries no hubfleet marks for hub %r" % hub


# --- comparison ---------------------------------------------------------------------------------
def _dropped_labels(desired, live):
    """Labels applied earlier through the `labels` option that are no longer wanted."""
    labels, annotations = _marks(live)
    applied = (annotations.get(EXTRA_LABELS) or "").split(",")
    return [key for key in applied if key in labels and key not in desired["metadata"]["labels"]]


def _metadata_differs(desired, live):
    if _dropped_labels(desired, live):
        return True
    for field in ("labels", "annotations"):
        have = (live.get("metadata") or {}).get(field) or {}
        if any(have.get(key) != value for key, value in desired["metadata"].get(field, {}).items()):
            return True
    return False


def _same_limits(desired, live):
    if len(desired) != len(live):
        return False
    for want, have in zip(desired, live):
        if want.get("type") != have.get("type"):
            return False
        for field in limits.LIMIT_KEYS.values():
            if not validation.same_quantities(want.get(field), have.get(field)):
                return False
    return True


def content_differs(desired, live):
    """Whether the fields we own differ; quantities are compared by amount."""
    kind = desired["kind"]
    if kind == "ResourceQuota":
        return not validation.same_quantities(desired["spec"]["hard"], (live.get("spec") or {}).get("hard"))
    if kind == "LimitRange":
        return not _same_limits(desired["spec"]["limits"], (live.get("spec") or {}).get("limits") or [])
    if kind == "RoleBinding":
        return desired["roleRef"] != live.get("roleRef") or desired["subjects"] != (live.get("subjects") or [])
    if kind == "Role":
        return desired["rules"] != (live.get("rules") or [])
    return False


def differs(desired, live):
    return _metadata_differs(desired, live) or content_differs(desired, live)


def updated(desired, live):
    """The live object with our labels, annotations and content: the body of a replace."""
    body = copy.deepcopy(live)
    meta = body.setdefault("metadata", {})
    for field in ("labels", "annotations"):
        meta[field] = dict(meta.get(field) or {}, **desired["metadata"].get(field, {}))
    for key in _dropped_labels(desired, live):
        del meta["labels"][key]
    for field, value in desired.items():
        if field not in ("apiVersion", "kind", "metadata"):
            body[field] = copy.deepcopy(value)
    return body


def summary(obj):
    """What the diff shows of an object: our labels and its content."""
    shown = dict((k, v) for k, v in obj.items() if k not in ("apiVersion", "metadata", "status"))
    meta = obj.get("metadata") or {}
    shown["labels"] = dict((k, v) for k, v in (meta.get("labels") or {}).items())
    return shown
