# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Finding a user's storage and server pods the way KubeSpawner names and labels them.

Pure functions over the PVCs and pods of the hub's namespace (listed once by the module).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import naming

USER_ANNOTATION = "hub.jupyter.org/username"
SERVER_ANNOTATION = "hub.jupyter.org/servername"
STORAGE_COMPONENT = "singleuser-storage"
# Annotations the volume binding controllers set; a recreated claim must not carry them.
BINDING_ANNOTATION_PREFIXES = ("pv.kubernetes.io/", "volume.beta.kubernetes.io/", "volume.kubernetes.io/")


def _meta(obj):
    return obj.get("metadata") or {}


def owned_by_user(obj, user, server_name):
    """KubeSpawner annotates PVCs and pods with the raw user and server names."""
    annotations = _meta(obj).get("annotations") or {}
    return annotations.get(USER_ANNOTATION) == user and annotations.get(SERVER_ANNOTATION, "") == server_name


def candidate_names(template, user, server_name, hub_namespace=""):
    """The names KubeSpawner gives under the new and the legacy slug scheme (both may be in use)."""
    names = []
    for scheme in naming.SCHEMES:
        name = naming.expand(template, user, server_name, hub_namespace, scheme)
        if name not in names:
            names.append(name)
    return names


def find_claim(pvcs, user, server_name, template):
    """The user's PVC: by KubeSpawner's annotations first, else by name; (pvc, how found) or (None, names)."""
    for pvc in pvcs:
        if owned_by_user(pvc, user, server_name):
            return pvc, "annotations"
    names = candidate_names(template, user, server_name)
    by_name = dict((_meta(pvc).get("name"), pvc) for pvc in pvcs)
    for scheme, name in zip(naming.SCHEMES, names):
        if name in by_name:
            return by_name[name], "name (%s scheme)" % scheme
    return None, names


def is_singleuser_storage(pvc):
    return (_meta(pvc).get("labels") or {}).get("component") == STORAGE_COMPONENT


def claims_of(pod):
    return set(v["persistentVolumeClaim"]["claimName"] for v in (pod.get("spec") or {}).get("volumes") or []
               if (v.get("persistentVolumeClaim") or {}).get("claimName"))


def server_pods(pods, user, server_name, template):
    """The user's server pods: by annotations or by either slug scheme's pod name."""
    names = candidate_names(template, user, server_name)
    return [pod for pod in pods if owned_by_user(pod, user, server_name) or _meta(pod).get("name") in names]


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


def snapshot(pvc, name, snapshot_class):
    meta = _meta(pvc)
    body = {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
            "metadata": {"name": name, "namespace": meta["namespace"],
                         "labels": {"app.kubernetes.io/managed-by": "hubfleet",
                                    "app.kubernetes.io/component": "user-storage-reset"},
                         "annotations": dict((k, v) for k, v in (meta.get("annotations") or {}).items()
                                             if k in (USER_ANNOTATION, SERVER_ANNOTATION))},
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
    labels = {"app.kubernetes.io/managed-by": "hubfleet", "app.kubernetes.io/component": "user-storage-reset"}
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
