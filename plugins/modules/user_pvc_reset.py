#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: user_pvc_reset
short_description: Reset JupyterHub users' storage safely
version_added: 0.1.0
description:
  - Resets the home volume of one or more JupyterHub users of a hub, so that their next start
    gets a fresh volume (and the image's files are copied in again).
  - Finds each user's PVC as KubeSpawner made it, by its C(hub.jupyter.org/username) and
    C(hub.jupyter.org/servername) annotations. These decide; a PVC annotated (or labelled) for another
    user or server is never taken, even with O(force).
  - Without annotations (KubeSpawner before version 4, which used the legacy C(escape) slug scheme),
    a PVC with the escape-scheme name from O(pvc_name_template) and the user's
    C(hub.jupyter.org/username) label is the user's. Any other name match carries no proof of whose it
    is and needs O(force).
  - With O(recreate=true), a record of the claim (a ConfigMap C(hubfleet-reset-<pvc>)) is written
    before the claim is deleted and removed once it is made again, so a run stopped in between
    (a refused create, a timeout) is finished by the next run; the result's C(left) says what was
    left where.
  - If the user's server is running, the module refuses unless O(stop_server=true); it then stops it
    through the JupyterHub REST API when O(hub_api_url) and O(hub_api_token) are given (so the hub
    knows), otherwise (or when the hub runs no such server) deletes the pod, and waits until the
    pod is gone.
  - With O(backup=snapshot), a VolumeSnapshot is taken and must become C(readyToUse) before anything
    is deleted. The PVC is then deleted and the module waits until it is really gone (the
    C(kubernetes.io/pvc-protection) finalizer holds it while a pod uses it). O(recreate=true) creates
    it again, empty, with the same size, class, access modes, labels and annotations.
  - When homes are directories of one shared PVC (O(shared_pvc), NFS homes), that PVC is never
    deleted. A Job moves the user's directory aside to C(<dir>.reset-<timestamp>) instead, and the
    archive path is returned.
  - Every option and user is checked before anything is changed (see C(docs/bad_input.md) in the
    collection); a problem with any fails the call and nothing is changed.
  - A snapshot that fails is deleted (it is no backup) and the PVC kept; one that is not ready in
    time is kept and reported, and the PVC kept.
author:
  - hubfleet maintainers (@hubfleet)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
attributes:
  check_mode:
    support: full
    description: Reports the exact PVCs, pods, snapshots and jobs that would be touched; changes nothing.
  diff_mode:
    support: full
    description: Shows each user's PVC before and after.
options:
  namespace:
    description: The hub's namespace, where the users' PVCs and pods are.
    type: str
    required: true
  users:
    description: The JupyterHub user names (as the hub knows them, not slugged).
    type: list
    elements: str
    required: true
  server_name:
    description: The named server whose storage is reset; empty for the default server.
    type: str
    default: ""
  pvc_name_template:
    description: KubeSpawner's C(pvc_name_template), used when a PVC carries no annotations.
    type: str
    default: "claim-{user_server}"
  pod_name_template:
    description: KubeSpawner's C(pod_name_template), to find server pods without annotations.
    type: str
    default: "jupyter-{user_server}"
  stop_server:
    description: Stop a running server instead of refusing.
    type: bool
    default: false
  hub_api_url:
    description:
      - The hub's REST API, for example C(https://hub.example.org/hub/api). With O(hub_api_token), a
        running server is stopped through the hub rather than by deleting its pod.
    type: str
  hub_api_token:
    description: A JupyterHub API token allowed to stop servers (admin, or the C(admin:servers) scope).
    type: str
  hub_api_validate_certs:
    description: Verify the hub's TLS certificate.
    type: bool
    default: true
  backup:
    description: V(snapshot) takes a VolumeSnapshot of each PVC and waits until it is ready before deleting.
    type: str
    choices: [none, snapshot]
    default: none
  snapshot_class:
    description: The VolumeSnapshotClass; the cluster's default when omitted.
    type: str
  recreate:
    description: Create the PVC again, empty, after deleting it.
    type: bool
    default: false
  shared_pvc:
    description:
      - The name of a PVC shared by all users, whose directories are their homes (C(subPath)). This PVC
        is never deleted; each user's directory is moved aside by a Job instead.
    type: str
  home_subpath_template:
    description: The user's directory on O(shared_pvc), a KubeSpawner name template.
    type: str
    default: "{username}"
  job_image:
    description: The image of the Job that moves directories aside (needs C(/bin/sh) and C(mv)).
    type: str
    default: registry.access.redhat.com/ubi9/ubi-minimal:latest
  force:
    description:
      - Reset a PVC that lacks KubeSpawner's C(component=singleuser-storage) label, or that matches the
        user's name but carries no mark of whose it is. Never lifts the protection of O(shared_pvc), of
        a PVC that other users' pods mount, or of a PVC whose marks name another user.
    type: bool
    default: false
  max_users:
    description: Refuse calls for more users than this.
    type: int
    default: 10
  wait_timeout:
    description: How long to wait, in seconds, for each pod to go, each snapshot to be ready, each PVC to go and each Job to finish.
    type: int
    default: 300
  wait_sleep:
    description: Seconds between two checks while waiting.
    type: int
    default: 2
  request_timeout:
    description:
      - Seconds each API request (and the hub API call) may take. A server that stops answering fails
        the task naming the request, instead of hanging.
    type: int
    default: 30
notes:
  - There is no C(wait) switch, on purpose. Deleting a PVC before its pod is gone, or before its
    snapshot is ready, is what this module exists to prevent.
seealso:
  - plugin: hubfleet.jupyterhub.user_name
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Reset alice's home after a snapshot, stopping her server through the hub
  hubfleet.jupyterhub.user_pvc_reset:
    namespace: jhub
    users: [alice]
    stop_server: true
    hub_api_url: https://hub.example.org/hub/api
    hub_api_token: "{{ vault_hub_admin_token }}"
    backup: snapshot
    snapshot_class: csi-rbd-snapclass
    recreate: true

- name: Move bob's NFS home directory aside
  hubfleet.jupyterhub.user_pvc_reset:
    namespace: jhub
    users: [bob]
    shared_pvc: home-nfs
    home_subpath_template: "home/{username}"
"""

RETURN = r"""
users:
  description: One entry per user, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The user name.
      type: str
    pvc:
      description: The PVC reset, or the shared PVC holding the user's directory.
      type: str
      sample: claim-alice
    found_by:
      description:
        - How the PVC was identified, one of "annotations", "name and label (escape scheme)",
          "name only (safe scheme)" or "name only (escape scheme)" (with O(force)), "shared_pvc", or
          "reset record" (finishing a reset an earlier run left after deleting the claim).
      type: str
      sample: annotations
    pods:
      description: The user's server pods that were (or would be) stopped.
      type: list
      elements: str
    action:
      description: V(deleted), V(recreated) or V(archived) (moved aside); V(failed) or V(skipped) after a failure.
      type: str
    snapshot:
      description: The VolumeSnapshot taken, when O(backup=snapshot).
      type: str
      sample: claim-alice-reset-20261126120000
    archive:
      description: Where the user's directory was moved, relative to the shared PVC, when O(shared_pvc) is set.
      type: str
      sample: alice.reset-20261126120000
    job:
      description: The Job that moved the directory aside.
      type: str
    server_stopped:
      description: Whether a running server was stopped.
      type: bool
    left:
      description:
        - What a failure left behind and where (a reset record to finish from, a snapshot not yet
          ready). Empty when nothing was left.
      type: list
      elements: str
    error:
      description: Why this user failed.
      type: str
      returned: when action is failed
"""

import copy
import datetime

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import hub_api, naming, ownership, validation
from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import user_storage as storage
from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.client import TIMEOUT_ARG_SPEC, Cluster
from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.entry import execute
from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.errors import HubfleetError
from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.waiter import condition_true, wait_for
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC

# Template fields that name the user: a home directory template needs one, or users share a directory.
USER_FIELDS = frozenset(["username", "unescaped_username", "safe_username", "escaped_username", "user_server",
                         "safe_user_server", "escaped_user_server"])


def argument_spec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(
        namespace=dict(type="str", required=True),
        users=dict(type="list", elements="str", required=True),
        server_name=dict(type="str", default=""),
        pvc_name_template=dict(type="str", default="claim-{user_server}"),
        pod_name_template=dict(type="str", default="jupyter-{user_server}"),
        stop_server=dict(type="bool", default=False),
        hub_api_url=dict(type="str"),
        hub_api_token=dict(type="str", no_log=True),
        hub_api_validate_certs=dict(type="bool", default=True),
        backup=dict(type="str", choices=["none", "snapshot"], default="none"),
        snapshot_class=dict(type="str"),
        recreate=dict(type="bool", default=False),
        shared_pvc=dict(type="str"),
        home_subpath_template=dict(type="str", default="{username}"),
        job_image=dict(type="str", default="registry.access.redhat.com/ubi9/ubi-minimal:latest"),
        force=dict(type="bool", default=False),
        max_users=dict(type="int", default=10),
        wait_timeout=dict(type="int", default=300),
        wait_sleep=dict(type="int", default=2),
    )
    spec.update(TIMEOUT_ARG_SPEC)
    return spec


def _option_problems(params):
    problems = []
    problem = validation.dns_label_error(params["namespace"])
    if problem:
        problems.append("namespace: %r %s" % (params["namespace"], problem))
    for option in ("shared_pvc", "snapshot_class"):
        problem = params[option] is not None and validation.dns_subdomain_error(params[option])
        if problem:
            problems.append("%s: %r %s" % (option, params[option], problem))
    if params["hub_api_url"]:
        problem = validation.http_url_error(params["hub_api_url"])
        if problem:
            problems.append("hub_api_url: %s" % problem)
    if not params["job_image"].strip():
        problems.append("job_image: must name an image")
    for option in ("wait_timeout", "wait_sleep"):
        if params[option] < 1:
            problems.append("%s: must be at least 1 second, not %d" % (option, params[option]))
    if params["max_users"] < 1:
        problems.append("max_users: must be at least 1, not %d" % params["max_users"])
    if params["shared_pvc"] and (params["backup"] != "none" or params["recreate"]):
        problems.append("shared_pvc: the shared PVC is never deleted, so backup and recreate do not apply; "
                        "the directory is moved aside and kept")
    for option in ("pvc_name_template", "pod_name_template", "home_subpath_template"):
        problem = validation.template_error(params[option], naming.TEMPLATE_FIELDS)
        if problem:
            problems.append("%s: %s" % (option, problem))
    return problems


def _user_problems(params):
    users, problems = params["users"], []
    if not users:
        problems.append("users: name at least one user")
    if 1 <= params["max_users"] < len(users):
        problems.append("users: %d users exceed max_users=%d; reset fewer at a time or raise max_users"
                        % (len(users), params["max_users"]))
    if any(not user.strip() for user in users):
        problems.append("users: a user name is empty")
    duplicates = sorted(set(u for u in users if users.count(u) > 1))
    if duplicates:
        problems.append("users: listed more than once: %s" % ", ".join(duplicates))
    return problems


def _home_problems(params):
    """Each user's directory on the shared PVC must be their own, inside the volume."""
    template = params["home_subpath_template"]
    if not USER_FIELDS & validation.template_fields_used(template):
        return ["home_subpath_template: %r names no user field (such as {username}), so every user would get "
                "the same directory" % template]
    problems, owners = [], {}
    for user in params["users"]:
        home = naming.expand(template, user, params["server_name"], params["namespace"])
        problem = validation.subpath_error(home)
        if problem:
            problems.append("home_subpath_template: %r for user %r %s" % (home, user, problem))
        elif home in owners:
            problems.append("home_subpath_template: users %r and %r would both have %r" % (owners[home], user, home))
        owners.setdefault(home, user)
    return problems


def check_params(params):
    """Every option and user, before anything is read or written."""
    problems = _option_problems(params)
    problems.extend(_user_problems(params))
    if not problems and params["shared_pvc"]:
        problems.extend(_home_problems(params))
    if problems:
        raise HubfleetError("nothing was changed: " + "; ".join(problems), problems=problems)


def _shared_plan(params, user, pvcs, plan, stamp):
    home = naming.expand(params["home_subpath_template"], user, params["server_name"], params["namespace"])
    if not any(p["metadata"]["name"] == params["shared_pvc"] for p in pvcs):
        raise HubfleetError("user %r: shared_pvc %r does not exist in %s" % (user, params["shared_pvc"],
                                                                             params["namespace"]))
    job = "hubfleet-reset-%s-%s" % (naming.safe_slug(user, max_length=30), stamp)
    plan.update(pvc=params["shared_pvc"], found_by="shared_pvc", action="archived", home=home,
                archive="%s.reset-%s" % (home, stamp), job=job)
    return plan


def _resumed_plan(plan, record, pvcs, server):
    """Finish a reset that an earlier run left after writing its record (see Resetter.delete_claim)."""
    claim, reset_uid = storage.recorded(record)
    name, user = claim["metadata"]["name"], plan["name"]
    live = next((p for p in pvcs if p["metadata"]["name"] == name), None)
    # A record is only as good as its marks: it never hands over a volume that is someone else's.
    for what, obj in (("the claim it records", claim), ("PVC %s" % name, live)):
        elsewhere = obj is not None and storage.attributed_elsewhere(obj, user, server)
        if elsewhere:
            raise HubfleetError("user %r: reset record %s is not this user's: %s %s; remove the record if it is "
                                "stale" % (user, record["metadata"]["name"], what, elsewhere))
    plan.update(pvc=name, found_by="reset record", action="recreated", claim=claim,
                record=record["metadata"]["name"], resumed=True)
    if live is not None and live["metadata"].get("uid") != reset_uid:
        plan["claim_done"] = True  # the claim was already made again: only the record is left
    return plan


def plan_user(params, user, pvcs, pods, records, stamp):
    """What resetting one user takes; raises HubfleetError naming the user and the rule."""
    server = params["server_name"]
    own_pods = storage.server_pods(pods, user, server, params["pod_name_template"])
    if own_pods and not params["stop_server"]:
        raise HubfleetError("user %r: the server is running (pod %s); set stop_server: true to stop it first"
                            % (user, ", ".join(p["metadata"]["name"] for p in own_pods)))
    plan = dict(name=user, pods=[p["metadata"]["name"] for p in own_pods], snapshot=None, archive=None, job=None,
                record=None, left=[])
    if params["shared_pvc"]:
        return _shared_plan(params, user, pvcs, plan, stamp)
    record = records.get((user, server))
    if record is not None:
        return _resumed_plan(plan, record, pvcs, server)
    pvc, found, refusals = storage.find_claim(pvcs, user, server, params["pvc_name_template"])
    if pvc is None:
        names = sorted(set(storage.candidate_names(params["pvc_name_template"], user, server).values()))
        raise HubfleetError("user %r: no PVC found (none annotated for this user, none named %s%s)"
                            % (user, " or ".join(names), "".join("; %s" % r for r in refusals)))
    name = pvc["metadata"]["name"]
    if found.startswith("name only") and not params["force"]:
        raise HubfleetError("user %r: PVC %s has the name KubeSpawner gives this user (%s) but no mark of whose "
                            "it is (no hub.jupyter.org/username annotation or label); set force: true if it is "
                            "theirs" % (user, name, found[len("name only "):].strip("()")))
    others = storage.other_users_of(name, pods, own_pods)
    if others:
        raise HubfleetError("user %r: PVC %s is also mounted by %s; a shared volume is never deleted (see shared_pvc)"
                            % (user, name, ", ".join(others)))
    if not storage.is_singleuser_storage(pvc) and not params["force"]:
        raise HubfleetError("user %r: PVC %s lacks the label component=singleuser-storage, so it may not be a "
                            "user's home; set force: true if it is" % (user, name))
    plan.update(pvc=name, found_by=found, action="recreated" if params["recreate"] else "deleted", claim=pvc)
    if params["backup"] == "snapshot":
        plan["snapshot"] = "%s-reset-%s" % (name[:253 - 21], stamp)
    return plan


class Resetter:
    """Carries out one user's plan, waiting after each step as the plan requires."""

    def __init__(self, params, cluster):
        self.params, self.cluster = params, cluster
        self.namespace = params["namespace"]

    def _wait(self, check, what):
        return wait_for(check, what, self.params["wait_timeout"], self.params["wait_sleep"])

    def _where(self, kind, name):
        return "%s %s/%s" % (kind, self.namespace, name)

    def stop_server(self, plan):
        params = self.params
        stopped_by_hub = params["hub_api_url"] and hub_api.stop_server(
            params["hub_api_url"], params["hub_api_token"], plan["name"], params["server_name"],
            params["hub_api_validate_certs"], timeout=params["request_timeout"])
        # A pod the hub does not know as running (left over, or started outside it) is deleted here.
        if not stopped_by_hub:
            for pod in plan["pods"]:
                self.cluster.delete("v1", "Pod", pod, self.namespace)
        for pod in plan["pods"]:
            self._wait(lambda name=pod: self.cluster.get("v1", "Pod", name, self.namespace) is None,
                       "pod %s/%s to be gone" % (self.namespace, pod))
        plan["stopped"] = True

    def take_snapshot(self, plan):
        name = plan["snapshot"]
        self.cluster.create(storage.snapshot(plan["claim"], name, self.params["snapshot_class"], plan["name"],
                                             self.params["server_name"]))

        def ready():
            status = (self.cluster.get("snapshot.storage.k8s.io/v1", "VolumeSnapshot", name,
                                       self.namespace) or {}).get("status") or {}
            problem = (status.get("error") or {}).get("message")
            if problem:
                # A failed snapshot is no backup: remove ours rather than leave it for someone to trust.
                self.cluster.delete("snapshot.storage.k8s.io/v1", "VolumeSnapshot", name, self.namespace)
                raise HubfleetError("snapshot %s failed: %s; it was deleted and the PVC kept" % (name, problem),
                                    snapshot_deleted=True)
            return status.get("readyToUse") is True
        try:
            self._wait(ready, "snapshot %s/%s to be readyToUse" % (self.namespace, name))
        except HubfleetError as exc:
            if not exc.details.get("snapshot_deleted"):
                plan["left"].append("%s: not ready, kept; the PVC was not touched" % self._where("VolumeSnapshot", name))
            raise

    def delete_claim(self, plan):
        """Delete the claim and, with recreate, make it again. The record written first keeps what
        recreating takes, so that a run stopped after the delete is finished by the next run."""
        if self.params["recreate"] and not plan.get("resumed"):
            record = storage.reset_record(plan["claim"], plan["name"], self.params["server_name"])
            self.cluster.create(record)
            plan["record"] = record["metadata"]["name"]
        if plan["record"]:
            plan["left"].append("%s: what recreating PVC %s takes; a re-run finishes the reset"
                                % (self._where("ConfigMap", plan["record"]), plan["pvc"]))
        if not plan.get("claim_done"):
            self.cluster.delete("v1", "PersistentVolumeClaim", plan["pvc"], self.namespace)
            self._wait(lambda: self.cluster.get("v1", "PersistentVolumeClaim", plan["pvc"], self.namespace) is None,
                       "PVC %s/%s to be gone (a pod may still use it)" % (self.namespace, plan["pvc"]))
            if plan["record"]:
                self.cluster.create(storage.fresh_claim(plan["claim"]))
        if plan["record"]:
            self.cluster.delete("v1", "ConfigMap", plan["record"], self.namespace)
            plan["left"] = []

    def move_aside(self, plan):
        self.cluster.create(storage.archive_job(plan["job"], self.namespace, plan["pvc"], plan["home"],
                                                plan["archive"], plan["name"], self.params["job_image"]))

        def finished():
            job = self.cluster.get("batch/v1", "Job", plan["job"], self.namespace)
            if condition_true(job, "Failed"):
                raise HubfleetError("job %s could not move %s aside (see its pod's log)" % (plan["job"], plan["home"]))
            return condition_true(job, "Complete")
        self._wait(finished, "job %s/%s to complete" % (self.namespace, plan["job"]))

    def reset(self, plan):
        if plan["pods"]:
            self.stop_server(plan)
        if plan["job"]:
            self.move_aside(plan)
            return
        if plan["snapshot"]:
            self.take_snapshot(plan)
        self.delete_claim(plan)


def _report(plan):
    keys = ("name", "pvc", "found_by", "pods", "action", "snapshot", "archive", "job", "left", "error")
    shown = dict((k, plan[k]) for k in keys if k in plan)
    shown["server_stopped"] = plan.get("stopped", False)
    return shown


def _diff(plans, recreate):
    before, after = {}, {}
    for plan in plans:
        key = "%s/%s" % (plan["name"], plan["pvc"])
        if plan.get("resumed"):
            before[key] = {"record": plan["record"]}
            after[key] = {"spec": plan["claim"]["spec"], "status": "new, empty"}
        elif plan.get("claim"):
            before[key] = {"spec": plan["claim"].get("spec"), "status": plan["claim"].get("status")}
            if recreate:
                after[key] = {"spec": storage.fresh_claim(plan["claim"])["spec"], "status": "new, empty"}
        else:
            before[key], after[key] = {"directory": plan["home"]}, {"directory": plan["archive"]}
    return dict(before=before, after=after)


def _records(cluster, namespace):
    """Reset records left by interrupted runs, by (user, server)."""
    found = {}
    for record in cluster.list("v1", "ConfigMap", ownership.selector(None, storage.RESET_COMPONENT), namespace):
        annotations = record["metadata"].get("annotations") or {}
        found[(annotations.get(storage.USER_ANNOTATION), annotations.get(storage.SERVER_ANNOTATION, ""))] = record
    return found


def run(module):
    params = module.params
    check_params(params)
    cluster = Cluster(module)
    pvcs = cluster.list("v1", "PersistentVolumeClaim", namespace=params["namespace"])
    pods = cluster.list("v1", "Pod", namespace=params["namespace"])
    records = {} if params["shared_pvc"] else _records(cluster, params["namespace"])
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d%H%M%S")
    plans, problems = [], []
    for user in params["users"]:
        try:
            plans.append(plan_user(params, user, pvcs, pods, records, stamp))
        except HubfleetError as exc:
            problems.append(exc.msg)
    if problems:
        raise HubfleetError("nothing was changed: " + "; ".join(problems), problems=problems)

    outcome = dict(changed=bool(plans))
    if module._diff:
        outcome["diff"] = _diff(plans, params["recreate"])
    failure = None
    if not module.check_mode:
        resetter = Resetter(params, cluster)
        for plan in plans:
            try:
                resetter.reset(plan)
            except HubfleetError as exc:
                plan.update(action="failed", error=exc.msg)
                failure = plan
                break
        outcome["changed"] = cluster.writes > 0
    outcome["users"] = [_report(p) for p in plans]
    if failure:
        index = plans.index(failure)
        for report in outcome["users"][index + 1:]:
            report["action"] = "skipped"
        done = [p["name"] for p in plans[:index]]
        left = "; left behind: %s" % "; ".join(failure["left"]) if failure["left"] else ""
        raise HubfleetError("user %r failed: %s; done before it: %s%s" % (failure["name"], failure["error"],
                                                                          ", ".join(done) or "none", left), **outcome)
    return outcome


def main():
    execute(run, argument_spec(), required_together=[("hub_api_url", "hub_api_token")])


if __name__ == "__main__":
    main()
