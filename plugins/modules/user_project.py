#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: user_project
short_description: Pre-create per-user projects (namespaces) with quota, limits and access, in bulk
version_added: 0.1.0
description:
  - Creates one project (namespace) per JupyterHub user, with a ResourceQuota, a LimitRange, a
    RoleBinding that gives the user (and optionally groups) a cluster role there and, optionally, a
    namespaced Role and RoleBinding that let the hub's service account spawn pods and PVCs there.
  - One call handles all users. It validates every user first, lists each kind once, compares, and
    writes only what differs. A bad user fails the whole call, naming the user and the rule, and
    nothing is written.
  - On OpenShift, a project is requested through a ProjectRequest when the caller may not create
    namespaces (asked with a SelfSubjectAccessReview), else created as a Namespace with the
    C(openshift.io/display-name) and C(openshift.io/requester) annotations.
  - Every object carries the label C(app.kubernetes.io/managed-by=hubfleet), the label
    C(hubfleet.io/hub) with O(hub_name), and the raw user name in the annotation
    C(hub.jupyter.org/username). Namespaces made through a ProjectRequest cannot carry labels; such a
    project is ours only when its description names O(hub_name) B(and) its C(openshift.io/requester),
    which the API server sets from the requesting identity, is the identity this module runs as
    (asked with C(GET users/~), as C(oc whoami) does). A project someone else requested is never adopted.
  - The user's RoleBinding is named after its role (C(hubfleet-user-access-<role>)). A role change
    creates the new binding before it removes the old one, so the user is never without access.
  - Throttling (429) and server errors (5xx) are retried with backoff. A create retried after a server
    error that finds the object already there (409) counts as done when the object carries our marks;
    the first attempt was committed after all. On any other failure the module stops, reports which
    users were completed, and a re-run converges. Every request is bounded by O(request_timeout).
author:
  - hubfleet maintainers (@hubfleet)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - hubfleet.jupyterhub.request_timeout
attributes:
  check_mode:
    support: full
    description: Nothing is written; the result says what would change.
  diff_mode:
    support: full
    description: Shows, per user, the managed objects before and after.
options:
  users:
    description:
      - The users, each a name or a mapping with the keys C(name) (required), C(groups) (list of
        group names bound beside the user), C(quota), C(limits), C(role) and C(labels), which
        override the module-level options of the same name for that user.
    type: list
    elements: raw
    required: true
  name_template:
    description:
      - The namespace name. Fields are those of KubeSpawner's templates, among them
        C({username}) (the user name slugged with O(slug_scheme)) and C({hubnamespace}).
      - Use C({hubnamespace}-{username}) for KubeSpawner's C(enable_user_namespaces) layout. It is also
        the template to choose when two hubs share a cluster, where the default gives a user of each
        hub the same namespace (the second hub's call then fails for that user, naming the owner).
    type: str
    default: "{username}-workspace"
  hub_namespace:
    description: The hub's namespace, the value of C({hubnamespace}) (C(default) becomes C(user), as in KubeSpawner).
    type: str
    default: ""
  hub_name:
    description:
      - The hub these projects belong to, stored in the label C(hubfleet.io/hub). Pruning and
        recognising managed projects only consider this hub's.
    type: str
    default: jupyterhub
  slug_scheme:
    description: How user names become DNS-safe, as KubeSpawner's C(slug_scheme).
    type: str
    choices: [safe, escape]
    default: safe
  quota:
    description:
      - 'The ResourceQuota C(spec.hard) of each project, for example C({"requests.cpu": "2", "requests.memory": "4Gi"}).'
      - Empty means no ResourceQuota (a managed one is removed).
    type: dict
    default: {}
  limits:
    description:
      - The container LimitRange of each project. Empty means no LimitRange (a managed one is removed).
      - As the API server does, a missing C(default) is taken from C(max), and a missing
        C(default_request) from C(default), then from C(min).
    type: dict
    default: {}
    suboptions:
      default:
        description: 'Default limits, for example C({"cpu": "1", "memory": "2Gi"}).'
        type: dict
      default_request:
        description: Default requests.
        type: dict
      max:
        description: Maximum per container.
        type: dict
      min:
        description: Minimum per container.
        type: dict
  role:
    description: The cluster role the user gets in their project.
    type: str
    choices: [admin, edit, view]
    default: admin
  labels:
    description:
      - Extra labels for every project namespace (and per user, the user's C(labels)).
      - The ownership labels (C(app.kubernetes.io/managed-by), C(app.kubernetes.io/component),
        C(hubfleet.io/hub), C(hub.jupyter.org/username) and any C(hubfleet.io/) key) are refused.
      - A label removed from this option is removed from the namespaces (the annotation
        C(hubfleet.io/extra-labels) records which labels came from here).
      - A project made through a ProjectRequest cannot carry labels; they are not applied there.
    type: dict
    default: {}
  hub_service_account:
    description:
      - When set, a Role and RoleBinding in each project let this service account manage pods,
        PVCs, services and secrets there, and read events, which is what KubeSpawner needs to
        spawn into user namespaces without a cluster-wide role.
    type: dict
    suboptions:
      name:
        description: The service account's name.
        type: str
        required: true
      namespace:
        description: The service account's namespace (the hub's).
        type: str
        required: true
  project_mode:
    description:
      - How a missing project is created. V(auto) uses a ProjectRequest on OpenShift when the
        caller may not create namespaces, else a Namespace.
    type: str
    choices: [auto, namespace, project_request]
    default: auto
  state:
    description: V(absent) removes the managed projects of the listed users, with everything in them.
    type: str
    choices: [present, absent]
    default: present
  prune:
    description:
      - Also remove managed projects of this hub whose users are not listed. Removing a project
        deletes the user's data in it, so this needs O(prune_confirm=true) as well.
    type: bool
    default: false
  prune_confirm:
    description: Confirms O(prune).
    type: bool
    default: false
  prune_all:
    description:
      - Allows O(prune) with an empty O(users) list, which removes every project of this hub. Without
        it such a call is refused, so that an inventory that lost its user list removes nothing.
    type: bool
    default: false
  max_removals:
    description:
      - The most projects one call may remove (through O(state=absent) and O(prune) together). A call
        that would remove more is refused before any write, naming how many and which.
    type: int
    default: 5
notes:
  - A namespace that already exists without our marks is never adopted; the call fails for it,
    naming whom it belongs to (another user or hub, the identity that requested it, or no one of ours).
  - Every option and user is validated before the first write, as strictly as the API server would
    (quota resource names and non-negative amounts, LimitRange min <= default request <= default <=
    max, label keys and values, DNS names); see C(docs/bad_input.md) in the collection.
  - Namespaced objects are listed across the cluster with the label selector; where that is
    forbidden, they are listed in each managed namespace.
seealso:
  - plugin: hubfleet.jupyterhub.user_slug
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Pre-create a workspace project for each user of the hub
  hubfleet.jupyterhub.user_project:
    hub_name: jhub
    hub_namespace: jhub
    users:
      - alice
      - name: Bob.Smith@example.org
        groups: [physics]
        quota: {requests.cpu: "4", requests.memory: 8Gi}
    quota: {requests.cpu: "2", requests.memory: 4Gi, persistentvolumeclaims: "5"}
    limits:
      default: {cpu: "1", memory: 2Gi}
      default_request: {cpu: 100m, memory: 512Mi}
    hub_service_account: {name: hub, namespace: jhub}

- name: Remove the projects of users who left (their data goes with them), at most 3 per run
  hubfleet.jupyterhub.user_project:
    hub_name: jhub
    hub_namespace: jhub
    users: "{{ current_users }}"
    # Omitted options take their defaults: repeat quota, limits and hub_service_account here,
    # or the remaining users' projects lose them.
    quota: {requests.cpu: "2", requests.memory: 4Gi, persistentvolumeclaims: "5"}
    limits:
      default: {cpu: "1", memory: 2Gi}
      default_request: {cpu: 100m, memory: 512Mi}
    hub_service_account: {name: hub, namespace: jhub}
    prune: true
    prune_confirm: true
    max_removals: 3
"""

RETURN = r"""
users:
  description: One entry per user listed or pruned, in the order handled.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The user name as given.
      type: str
      sample: Bob.Smith@example.org
    namespace:
      description: The user's project.
      type: str
      sample: bob-smith-example-org---1a2b3c4d-workspace
    status:
      description:
        - V(created) (the project was made), V(updated), V(unchanged), V(removed), V(failed), or
          V(skipped) (not reached because an earlier user failed).
      type: str
      sample: created
    changes:
      description:
        - The writes made (or, in check mode, that would be made), as C(verb Kind/name); all of
          them are planned before the first is made. Empty for skipped users.
      type: list
      elements: str
      sample: ["create Namespace/alice-workspace", "create ResourceQuota/hubfleet-user-quota",
               "create RoleBinding/hubfleet-user-access-admin"]
    error:
      description: Why this user failed.
      type: str
      returned: when status is failed
summary:
  description: How many users ended in each status.
  returned: always
  type: dict
  sample: {created: 2, updated: 1, unchanged: 197, removed: 0, failed: 0, skipped: 0}
would_remove:
  description: The projects a refused call would have removed, when it is refused for O(max_removals).
  returned: on that failure
  type: list
  elements: str
project_mode:
  description: How missing projects were (or would be) created, V(namespace) or V(project_request); null when none was missing.
  returned: always
  type: str
  sample: namespace
"""

import copy

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import user_projects as plan
from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.client import TIMEOUT_ARG_SPEC, Cluster
from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.entry import execute
from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.errors import HubfleetError
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC

STATUSES = ("created", "updated", "unchanged", "removed", "failed", "skipped")


def argument_spec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(
        users=dict(type="list", elements="raw", required=True),
        name_template=dict(type="str", default="{username}-workspace"),
        hub_namespace=dict(type="str", default=""),
        hub_name=dict(type="str", default="jupyterhub"),
        slug_scheme=dict(type="str", choices=["safe", "escape"], default="safe"),
        quota=dict(type="dict", default={}),
        limits=dict(type="dict", default={}, options=dict(
            default=dict(type="dict"), default_request=dict(type="dict"), max=dict(type="dict"),
            min=dict(type="dict"))),
        role=dict(type="str", choices=list(plan.ROLES), default="admin"),
        labels=dict(type="dict", default={}),
        hub_service_account=dict(type="dict", options=dict(
            name=dict(type="str", required=True), namespace=dict(type="str", required=True))),
        project_mode=dict(type="str", choices=["auto", "namespace", "project_request"], default="auto"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        prune=dict(type="bool", default=False),
        prune_confirm=dict(type="bool", default=False),
        prune_all=dict(type="bool", default=False),
        max_removals=dict(type="int", default=5),
    )
    spec.update(TIMEOUT_ARG_SPEC)
    return spec


def validated_users(params):
    problems = []
    if params["prune"] and not params["prune_confirm"]:
        problems.append("prune removes projects and the user data in them: set prune_confirm: true as well")
    if params["prune"] and not params["users"] and not params["prune_all"]:
        problems.append("prune with an empty users list removes every project of hub %r: set prune_all: true "
                        "if that is what you want" % params["hub_name"])
    if params["max_removals"] < 0:
        problems.append("max_removals: must be 0 or more, not %d" % params["max_removals"])
    try:
        users = plan.users_from_params(dict(params, limits=_set_only(params["limits"])))
    except ValueError as exc:
        problems.extend(exc.args[0])
    if problems:
        raise HubfleetError("invalid input, nothing was written: " + "; ".join(problems), problems=problems)
    return users


def _set_only(mapping):
    return dict((key, value) for key, value in (mapping or {}).items() if value)


class Planner:
    """Reads the cluster once per kind and decides, per user, which writes are needed."""

    def __init__(self, module, cluster, users):
        self.module, self.cluster, self.users = module, cluster, users
        params = module.params
        self.hub = params["hub_name"]
        self.openshift = cluster.serves("project.openshift.io/v1")
        if params["project_mode"] == "project_request" and not self.openshift:
            raise HubfleetError("project_mode=project_request needs OpenShift: this cluster serves no ProjectRequest")
        self.mode = None
        listed = cluster.list("project.openshift.io/v1", "Project") if self.openshift else \
            cluster.list("v1", "Namespace")
        self.namespaces = dict((ns["metadata"]["name"], ns) for ns in listed)
        self.listed = dict((user["namespace"], user["name"]) for user in users)
        self.managed = dict((name, owner) for name, owner in
                            ((name, self._owner(ns)) for name, ns in self.namespaces.items()) if owner)
        self._check_ownership()
        self.live = {}
        for api_version, kind in plan.NAMESPACED:
            for obj in cluster.list_or_per_namespace(api_version, kind, plan.selector(self.hub), sorted(self.managed)):
                meta = obj["metadata"]
                self.live[(meta["namespace"], kind, meta["name"])] = obj

    def _owner(self, namespace):
        """The user this module made a namespace for, for this hub; None if it did not make it.

        A requested project is ours only if our own identity requested it: anyone may copy its
        description. Its owner is the listed user it is named for (the display name, which the
        project's admins may edit, only names it in reports)."""
        if plan.labelled(namespace, self.hub):
            return plan.labelled_owner(namespace)
        if self._requested_by_us(namespace):
            name = namespace["metadata"]["name"]
            return self.listed.get(name) or (namespace["metadata"].get("annotations") or {}).get(plan.DISPLAY_NAME) \
                or name
        return None

    def _requested_by_us(self, namespace):
        return self.openshift and plan.requested_for(namespace, self.hub) and \
            plan.requested_by(namespace) == self.cluster.openshift_user()

    def _check_ownership(self):
        problems = []
        for user in self.users:
            namespace = user["namespace"]
            if namespace in self.namespaces and self.managed.get(namespace) != user["name"]:
                found = self.namespaces[namespace]
                me = self.cluster.openshift_user() if self.openshift and plan.requested_for(found, self.hub) else None
                problems.append("user %r: namespace %r already exists and belongs to %s" % (
                    user["name"], namespace, plan.whose(found, self.hub, me)))
        if problems:
            raise HubfleetError("nothing was written: " + "; ".join(problems), problems=problems)

    def project_mode(self):
        """Decided once, and only when a project must be created: it costs an access review."""
        if self.mode is None:
            wanted = self.module.params["project_mode"]
            if wanted == "auto":
                may_create = not self.openshift or self.cluster.allowed("create", "namespaces")
                wanted = "namespace" if may_create else "project_request"
            self.mode = wanted
        return self.mode

    def writes_for(self, user):
        """The (verb, object) writes that bring one user's project to the wanted state: creates and
        updates first, removals last, so that a new role's binding exists before the old one goes."""
        namespace = user["namespace"]
        writes = []
        if namespace not in self.namespaces:
            if self.project_mode() == "project_request":
                writes.append(("create", plan.project_request(user, self.hub)))
            else:
                writes.append(("create", plan.namespace_object(user, self.hub, self.openshift)))
        elif plan.labelled(self.namespaces[namespace], self.hub):
            wanted = plan.namespace_object(user, self.hub, self.openshift)
            live = dict(self.namespaces[namespace], apiVersion="v1", kind="Namespace")
            if plan.differs(wanted, live):
                writes.append(("replace", plan.updated(wanted, live)))
        wanted = plan.namespaced_objects(user, self.hub, self.module.params["hub_service_account"])
        for (kind, name), desired in wanted.items():
            live = self.live.get((namespace, kind, name))
            if live is None:
                writes.append(("create", desired))
            elif plan.differs(desired, live):
                writes.append(("replace", plan.updated(desired, live)))
        writes.extend(("delete", live) for (where, kind, name), live in sorted(self.live.items())
                      if where == namespace and (kind, name) not in wanted)
        return writes

    def removal(self, namespace):
        """Deleting a project deletes everything in it. On OpenShift through the Project, which
        its admin may delete even without the right to delete namespaces."""
        if namespace not in self.namespaces:
            return []
        api_version, kind = ("project.openshift.io/v1", "Project") if self.openshift else ("v1", "Namespace")
        return [("delete", {"apiVersion": api_version, "kind": kind, "metadata": {"name": namespace}})]

    def pruned(self):
        listed = set(user["name"] for user in self.users)
        return [dict(name=owner, namespace=namespace) for namespace, owner in sorted(self.managed.items())
                if owner not in listed and namespace not in self.listed]

    def committed(self, obj):
        """After a retried create answered 409: the object we wanted, if our first attempt made it."""
        if obj["kind"] != "ProjectRequest":
            return None  # the client's default check (our labels and annotations) applies
        name = obj["metadata"]["name"]

        def check():
            project = self.cluster.get("project.openshift.io/v1", "Project", name)
            return project if project and self._requested_by_us(project) else None
        return check


def _describe(verb, obj):
    return "%s %s/%s" % (verb, obj["kind"], obj["metadata"]["name"])


def _write(planner, verb, obj):
    cluster = planner.cluster
    if verb == "create":
        cluster.create(obj, committed=planner.committed(obj))
    elif verb == "replace":
        cluster.replace(obj)
    else:
        cluster.delete(obj["apiVersion"], obj["kind"], obj["metadata"]["name"], obj["metadata"].get("namespace"))


def _status(writes, removing):
    if not writes:
        return "unchanged"
    if removing:
        return "removed"
    first_verb, first = writes[0]
    return "created" if first_verb == "create" and first["kind"] in ("Namespace", "ProjectRequest") else "updated"


def _diff(planner, user, writes):
    before, after = {}, {}
    for verb, obj in writes:
        key = "%s/%s" % (obj["kind"], obj["metadata"]["name"])
        live = planner.live.get((user["namespace"], obj["kind"], obj["metadata"]["name"]))
        if obj["kind"] in ("Namespace", "ProjectRequest", "Project"):
            live = planner.namespaces.get(user["namespace"])
        if live is not None:
            before[key] = plan.summary(live)
        if verb != "delete":
            after[key] = plan.summary(obj)
    return before, after


def _check_removals(plans, limit):
    removing = [user["namespace"] for user, writes, remove in plans if remove and writes]
    if len(removing) > limit:
        raise HubfleetError("this call would remove %d projects (%s), more than max_removals=%d; nothing was "
                            "written. Raise max_removals if that is intended."
                            % (len(removing), ", ".join(removing), limit), would_remove=removing)


def run(module):
    params = module.params
    users = validated_users(params)
    cluster = Cluster(module)
    planner = Planner(module, cluster, users)
    removing = params["state"] == "absent"
    todo = [(user, removing) for user in users]
    if params["prune"] and not removing:
        todo.extend((user, True) for user in planner.pruned())

    # Every user's writes are planned before the first one is made.
    plans = [(user, planner.removal(user["namespace"]) if remove else planner.writes_for(user), remove)
             for user, remove in todo]
    _check_removals(plans, params["max_removals"])
    results = [dict(name=user["name"], namespace=user["namespace"], changes=[_describe(v, o) for v, o in writes],
                    status=_status(writes, remove)) for user, writes, remove in plans]
    outcome = dict(users=results, project_mode=planner.mode)
    if module._diff:
        outcome["diff"] = {"before": {}, "after": {}}
        for user, writes, _remove in plans:
            if writes:
                namespace = user["namespace"]
                outcome["diff"]["before"][namespace], outcome["diff"]["after"][namespace] = \
                    _diff(planner, user, writes)
    failed = None
    if module.check_mode:
        outcome["changed"] = any(r["changes"] for r in results)
    else:
        failed = _apply(planner, plans, results)
        outcome["changed"] = cluster.writes > 0
    outcome["summary"] = dict((status, sum(1 for r in results if r["status"] == status)) for status in STATUSES)
    if failed:
        done = [r["name"] for r in results if r["status"] not in ("failed", "skipped")]
        raise HubfleetError("user %r failed: %s; completed before it: %s; a re-run continues from there"
                            % (failed["name"], failed["error"], ", ".join(done) or "none"), **outcome)
    return outcome


def _apply(planner, plans, results):
    """Make the planned writes user by user; stop at the first failure. Returns the failed result."""
    for index, (_user, writes, _remove) in enumerate(plans):
        try:
            for verb, obj in writes:
                _write(planner, verb, obj)
        except HubfleetError as exc:
            results[index].update(status="failed", error=exc.msg)
            for later in results[index + 1:]:
                later.update(status="skipped", changes=[])
            return results[index]
    return None


def main():
    execute(run, argument_spec())


if __name__ == "__main__":
    main()
