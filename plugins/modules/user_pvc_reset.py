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
    C(hub.jupyter.org/servername) annotations, falling back to the names O(pvc_name_template) gives
    under both slug schemes (the new C(safe) one and the legacy C(escape) one of PVCs made before a
    KubeSpawner upgrade).
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
  - Every user is checked before anything is changed; a problem with any user fails the call and
    nothing is changed.
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
      - Reset a PVC that lacks KubeSpawner's C(component=singleuser-storage) label. Never lifts the
        protection of O(shared_pvc) or of a PVC that other users' pods mount.
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
      description: How the PVC was found (V(annotations), V(name (safe scheme)), V(name (escape scheme)), V(shared_pvc)).
      type: str
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
    error:
      description: Why this user failed.
      type: str
      returned: when action is failed
"""

import copy
import datetime

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import hub_api, naming
from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import user_storage as storage
from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.client import Cluster
from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.entry import execute
from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.errors import HubfleetError
from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.waiter import condition_true, wait_for
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC


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
    return spec


def check_params(params):
    users = params["users"]
    problems = []
    if not users:
        problems.append("users: name at least one user")
    if len(users) > params["max_users"]:
        problems.append("users: %d users exceed max_users=%d; reset fewer at a time or raise max_users"
                        % (len(users), params["max_users"]))
    duplicates = sorted(set(u for u in users if users.count(u) > 1))
    if duplicates:
        problems.append("users: listed more than once: %s" % ", ".join(duplicates))
    if bool(params["hub_api_url"]) != bool(params["hub_api_token"]):
        problems.append("hub_api_url and hub_api_token go together")
    if params["shared_pvc"] and (params["backup"] != "none" or params["recreate"]):
        problems.append("shared_pvc: the shared PVC is never deleted, so backup and recreate do not apply; "
                        "the directory is moved aside and kept")
    if problems:
        raise HubfleetError("nothing was changed: " + "; ".join(problems), problems=problems)


def plan_user(params, user, pvcs, pods, stamp):
    """What resetting one user takes; raises HubfleetError naming the user and the rule."""
    server = params["server_name"]
    own_pods = storage.server_pods(pods, user, server, params["pod_name_template"])
    if own_pods and not params["stop_server"]:
        raise HubfleetError("user %r: the server is running (pod %s); set stop_server: true to stop it first"
                            % (user, ", ".join(p["metadata"]["name"] for p in own_pods)))
    plan = dict(name=user, pods=[p["metadata"]["name"] for p in own_pods], snapshot=None, archive=None, job=None)
    if params["shared_pvc"]:
        home = naming.expand(params["home_subpath_template"], user, server, params["namespace"])
        if not any(p["metadata"]["name"] == params["shared_pvc"] for p in pvcs):
            raise HubfleetError("user %r: shared_pvc %r does not exist in %s" % (user, params["shared_pvc"],
                                                                                 params["namespace"]))
        job = "hubfleet-reset-%s-%s" % (naming.safe_slug(user, max_length=30), stamp)
        plan.update(pvc=params["shared_pvc"], found_by="shared_pvc", action="archived", home=home,
                    archive="%s.reset-%s" % (home, stamp), job=job)
        return plan
    pvc, found = storage.find_claim(pvcs, user, server, params["pvc_name_template"])
    if pvc is None:
        raise HubfleetError("user %r: no PVC found (no PVC annotated for this user, none named %s)"
                            % (user, " or ".join(found)))
    name = pvc["metadata"]["name"]
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

    def stop_server(self, plan):
        params = self.params
        stopped_by_hub = params["hub_api_url"] and hub_api.stop_server(
            params["hub_api_url"], params["hub_api_token"], plan["name"], params["server_name"],
            params["hub_api_validate_certs"])
        # A pod the hub does not know as running (left over, or started outside it) is deleted here.
        if not stopped_by_hub:
            for pod in plan["pods"]:
                self.cluster.delete("v1", "Pod", pod, self.namespace)
        for pod in plan["pods"]:
            self._wait(lambda name=pod: self.cluster.get("v1", "Pod", name, self.namespace) is None,
                       "pod %s/%s to be gone" % (self.namespace, pod))

    def take_snapshot(self, plan):
        self.cluster.create(storage.snapshot(plan["claim"], plan["snapshot"], self.params["snapshot_class"]))

        def ready():
            status = (self.cluster.get("snapshot.storage.k8s.io/v1", "VolumeSnapshot", plan["snapshot"],
                                       self.namespace) or {}).get("status") or {}
            problem = (status.get("error") or {}).get("message")
            if problem:
                raise HubfleetError("snapshot %s failed: %s; the PVC was kept" % (plan["snapshot"], problem))
            return status.get("readyToUse") is True
        self._wait(ready, "snapshot %s/%s to be readyToUse" % (self.namespace, plan["snapshot"]))

    def delete_claim(self, plan):
        self.cluster.delete("v1", "PersistentVolumeClaim", plan["pvc"], self.namespace)
        self._wait(lambda: self.cluster.get("v1", "PersistentVolumeClaim", plan["pvc"], self.namespace) is None,
                   "PVC %s/%s to be gone (a pod may still use it)" % (self.namespace, plan["pvc"]))
        if self.params["recreate"]:
            self.cluster.create(storage.fresh_claim(plan["claim"]))

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
            plan["stopped"] = True
        if plan["job"]:
            self.move_aside(plan)
            return
        if plan["snapshot"]:
            self.take_snapshot(plan)
        self.delete_claim(plan)


def _report(plan):
    keys = ("name", "pvc", "found_by", "pods", "action", "snapshot", "archive", "job", "error")
    shown = dict((k, plan[k]) for k in keys if k in plan)
    shown["server_stopped"] = plan.get("stopped", False)
    return shown


def _diff(plans, recreate):
    before, after = {}, {}
    for plan in plans:
        key = "%s/%s" % (plan["name"], plan["pvc"])
        if plan.get("claim"):
            before[key] = {"spec": plan["claim"].get("spec"), "status": plan["claim"].get("status")}
            if recreate:
                after[key] = {"spec": storage.fresh_claim(plan["claim"])["spec"], "status": "new, empty"}
        else:
            before[key], after[key] = {"directory": plan["home"]}, {"directory": plan["archive"]}
    return dict(before=before, after=after)


def run(module):
    params = module.params
    check_params(params)
    cluster = Cluster(module)
    pvcs = cluster.list("v1", "PersistentVolumeClaim", namespace=params["namespace"])
    pods = cluster.list("v1", "Pod", namespace=params["namespace"])
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d%H%M%S")
    plans, problems = [], []
    for user in params["users"]:
        try:
            plans.append(plan_user(params, user, pvcs, pods, stamp))
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
    outcome["users"] = [_report(p) for p in plans]
    if failure:
        index = plans.index(failure)
        for report in outcome["users"][index + 1:]:
            report["action"] = "skipped"
        done = [p["name"] for p in plans[:index]]
        raise HubfleetError("user %r failed: %s; done before it: %s" % (failure["name"], failure["error"],
                                                                        ", ".join(done) or "none"), **outcome)
    return outcome


def main():
    execute(run, argument_spec(), required_together=[("hub_api_url", "hub_api_token")])


if __name__ == "__main__":
    main()
