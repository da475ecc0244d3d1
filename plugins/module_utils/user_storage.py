# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Finding a user's storage and server pods the way KubeSpawner names and labels them.

Pure functions over the PVCs and pods of the hub's namespace (listed once by the module).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import naming, ownership

USER_ANNOTATION = "hub.jupyter.org/username"
USER_LABEL = "hub.jupyter.org/username"
SERVER_ANNOTATION = "hub.jupyter.org/servername"
STORAGE_COMPONENT = "singleuser-storage"
# What this module makes while resetting: snapshots, reset records, move-aside Jobs.
RESET_COMPONENT = "user-storage-reset"
# Annotations the volume binding controllers set; a recreated claim must not carry them.
BINDING_ANNOTATION_PREFIXES = ("pv.kubernetes.io/", "volume.beta.kubernetes.io/", "volume.kubernetes.io/")


def _meta(obj):
    return obj.get("metadata") or {}


def owned_by_user(obj, user, server_name):
    """KubeSpawner annotates PVCs and pods with the raw user and server names."""
    annotations = _meta(obj).get("annotations") or {}
    return annotations.get(USER_ANNOTATION) == user and annotations.get(SERVER_ANNOTATION, "") == server_name


def candidate_names(template, user, server_name, hub_namespace=""):
    """{scheme: name}: the names KubeSpawner gives under the new and the legacy slug scheme (both may be in use)."""
    return dict((scheme, naming.expand(template, user, server_name, hub_namespace, scheme)) for scheme in naming.SCHEMES)


def attributed_elsewhere(obj, user, server_name):
    """Why KubeSpawner's marks say an object is not this user's server's, or None when they do not say so."""
    meta = _meta(obj)
    annotations, labels = meta.get("annotations") or {}, meta.get("labels") or {}
    if USER_ANNOTATION in annotations:
        if annotations[USER_ANNOTATION] != user:
            return "is annotated for user %r" % annotations[USER_ANNOTATION]
        if annotations.get(SERVER_ANNOTATION, "") != server_name:
            return "is annotated for server %r of that user" % annotations.get(SERVER_ANNOTATION, "")
    label = labels.get(USER_LABEL)
    # KubeSpawner 7 labels with the safe label slug, earlier versions with the escaped name.
    if label is not None and label not in (naming.label_slug(user), naming.escape_slug(user)):
        return "is labelled for user %r" % label
    return None


def find_claim(pvcs, user, server_name, template):
    """The user's PVC and how it was identified: (pvc, found_by, refusals).

    KubeSpawner's annotations decide first. Without them (KubeSpawner before 4, which used the
    escape scheme), the escape-scheme name with the user's label is proof enough: that name is the
    user's alone. Any other name match is `name only` (the caller asks for `force`). A PVC whose
    marks name another user or server is never taken; `refusals` says which were passed over."""
    for pvc in pvcs:
        if owned_by_user(pvc, user, server_name):
            return pvc, "annotations", []
    by_name = dict((_meta(pvc).get("name"), pvc) for pvc in pvcs)
    refusals = []
    names = candidate_names(template, user, server_name)
    for scheme, name in (("escape", names["escape"]), ("safe", names["safe"])):
        pvc = by_name.get(name)
        if pvc is None:
            continue
        elsewhere = attributed_elsewhere(pvc, user, server_name)
        if elsewhere:
            refusals.append("PVC %s %s" % (name, elsewhere))
        elif scheme == "escape" and USER_LABEL in (_meta(pvc).get("labels") or {}):
            return pvc, "name and label (escape scheme)", refusals
        else:
            return pvc, "name only (%s scheme)" % scheme, refusals
    return None, None, refusals


def is_singleuser_storage(pvc):
    return (_meta(pvc).get("labels") or {}).get("component") == STORAGE_COMPONENT


def claims_of(pod):
    return set(v["persistentVolumeClaim"]["claimName"] for v in (pod.get("spec") or {}).get("volumes") or []
               if (v.get("persistentVolumeClaim") or {}).get("claimName"))


def server_pods(pods, user, server_name, template):
    """The user's server pods: by annotations or by either slug scheme's pod name."""
    names = candidate_names(template, user, server_name).values()
    return [pod for pod in pods if owned_by_user(pod, user, server_name) or
            (_meta(pod).get("name") in names and not attributed_elsewhere(pod, user, server_name))]


def other_users_of(claim_name, pods, own_pods):
    """Pods that mount the claim but are not this user's server: the claim is shared."""
    own = set(_meta(pod).get("name") for pod in own_pods)
    return sorted(_meta(pod).get("name") for pod in pods
                  if claim_name in claims_of(pod) and _meta(pod).get("name") not in own
                  and ((pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")))


def fresh_claim(pvc):
    """A new, empty claim like `pvc`: same size, class, access modes, labels and annotations."""
    meta, spec = _meta(pvc), pvc.get("spec") or {}
    annotations = dict((k, v) for k, v in (meta.get("annotations") or {}).items()
                       if not k.startswith(BINDING_ANNOTATION_PREFIXES))
    new_spec = dict((k, copy.deepcopy(spec[k])) for k in ("accessModes", "storageClassName", "volumeMode",
                                                          "selector") if spec.get(k) is not None)
    new_spec["resources"] = {"requests": dict((spec.get("resources") or {}).get("requests") or {})}
    new_meta = {"name": meta["name"], "namespace": meta["namespace"], "labels": dict(meta.get("labels") or {}),
                "annotations": annotations}
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": new_meta, "spec": new_spec}


def _reset_metadata(name, namespace, user, server_name):
    annotations = {USER_ANNOTATION: user}
    if server_name:
        annotations[SERVER_ANNOTATION] = server_name
    return {"name": name, "namespace": namespace, "labels": ownership.labels(None, RESET_COMPONENT),
            "annotations": annotations}


def record_name(claim_name):
    return ("hubfleet-reset-%s" % claim_name)[:253]


def reset_record(pvc, user, server_name):
    """A ConfigMap that keeps what recreating the claim takes, written before the claim is deleted,
    so that a run interrupted after the delete is completed by the next one."""
    meta = _meta(pvc)
    body = {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": _reset_metadata(record_name(meta["name"]), meta["namespace"], user, server_name),
            "data": {"claim": json.dumps(fresh_claim(pvc), sort_keys=True), "uid": meta.get("uid") or ""}}
    return body


def recorded(record):
    """(the claim to recreate, the uid of the claim that was reset) from a reset record."""
    data = record.get("data") or {}
    return json.loads(data["claim"]), data.get("uid")


def snapshot(pvc, name, snapshot_class, user, server_name):
    meta = _meta(pvc)
    body = {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
            "metadata": _reset_metadata(name, meta["namespace"], user, server_name),
            "spec": {"source": {"persistentVolumeClaimName": meta["name"]}}}
    if snapshot_class:
        body["spec"]["volumeSnapshotClassName"] = snapshot_class
    return body


# Restricted pod security: the Job runs as the share's owner would allow, without privileges.
_RESTRICTED = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": True,
               "seccompProfile": {"type": "RuntimeDefault"}}
# Moves the directory aside; exits 3 when there is nothing to move, so a typo does not pass.
_MOVE_ASIDE = 'cd /share && if [ ! -e "$HOME_DIR" ]; then echo "no such directory: $HOME_DIR" >&2; exit 3; fi; ' \
              'mv -- "$HOME_DIR" "$ARCHIVE_DIR" && echo "$ARCHIVE_DIR"'


def archive_job(name, namespace, claim, home_dir, archive_dir, user, image):
    """A Job that moves a user's directory on a shared claim aside, keeping every file."""
    labels = ownership.labels(None, RESET_COMPONENT)
    container = {"name": "move-aside", "image": image, "command": ["/bin/sh", "-c", _MOVE_ASIDE],
                 "env": [{"name": "HOME_DIR", "value": home_dir}, {"name": "ARCHIVE_DIR", "value": archive_dir}],
                 "volumeMounts": [{"name": "share", "mountPath": "/share"}],
                 "securityContext": _RESTRICTED,
                 "resources": {"requests": {"cpu": "10m", "memory": "16Mi"},
                               "limits": {"cpu": "100m", "memory": "64Mi"}}}
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "namespace": namespace, "labels": labels,
                         "annotations": {USER_ANNOTATION: user}},
            "spec": {"backoffLimit": 0, "ttlSecondsAfterFinished": 86400,
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"restartPolicy": "Never", "containers": [container],
                                           "volumes": [{"name": "share",
                                                        "persistentVolumeClaim": {"claimName": claim}}]}}}}
