"""Storage: claims bind to provisioned volumes, protection finalizers hold volumes in use, snapshots get ready."""
import copy

from .common import now

PVC_PROTECTION = "kubernetes.io/pvc-protection"
PV_PROTECTION = "kubernetes.io/pv-protection"


def default_storage_class(cluster):
    for sc in cluster.store.items(cluster.res("storageclasses", "storage.k8s.io")):
        if (sc["metadata"].get("annotations") or {}).get("storageclass.kubernetes.io/is-default-class") == "true":
            return sc
    return None


def reconcile_pvc(cluster, res, pvc):
    body = copy.deepcopy(pvc)
    finalizers = body["metadata"].setdefault("finalizers", [])
    if PVC_PROTECTION not in finalizers:
        finalizers.append(PVC_PROTECTION)
    if body.get("status", {}).get("phase") == "Bound":
        cluster.system_put(res, body)
        return
    pv_res = cluster.res("persistentvolumes")
    spec = body["spec"]
    if spec.get("volumeName"):
        pv = cluster.store.get(pv_res, None, spec["volumeName"])
    else:
        pv = _provision(cluster, body)
    if pv is None:
        body["status"] = {"phase": "Pending"}
        cluster.system_put(res, body)
        return
    pv = copy.deepcopy(pv)
    pv["spec"]["claimRef"] = {"kind": "PersistentVolumeClaim", "namespace": body["metadata"]["namespace"],
                              "name": body["metadata"]["name"], "uid": body["metadata"]["uid"],
                              "apiVersion": "v1"}
    pv["status"] = {"phase": "Bound"}
    cluster.system_put(pv_res, pv)
    spec["volumeName"] = pv["metadata"]["name"]
    body["metadata"].setdefault("annotations", {}).update({"pv.kubernetes.io/bind-completed": "yes"})
    body["status"] = {"phase": "Bound", "accessModes": pv["spec"].get("accessModes", []),
                      "capacity": dict(pv["spec"].get("capacity", {}))}
    cluster.system_put(res, body)


def _provision(cluster, pvc):
    class_name = pvc["spec"].get("storageClassName")
    sc_res = cluster.res("storageclasses", "storage.k8s.io")
    storage_class = default_storage_class(cluster) if class_name is None else \
        cluster.store.get(sc_res, None, class_name) if class_name else None
    if storage_class is None:
        return None
    pvc["spec"]["storageClassName"] = storage_class["metadata"]["name"]
    pv = {"metadata": {"name": f"pvc-{pvc['metadata']['uid']}", "finalizers": [PV_PROTECTION],
                       "annotations": {"pv.kubernetes.io/provisioned-by": storage_class["provisioner"]}},
          "spec": {"capacity": {"storage": pvc["spec"].get("resources", {}).get("requests", {}).get("storage",
                                                                                                    "1Gi")},
                   "accessModes": pvc["spec"].get("accessModes", ["ReadWriteOnce"]),
                   "persistentVolumeReclaimPolicy": storage_class.get("reclaimPolicy", "Delete"),
                   "storageClassName": storage_class["metadata"]["name"],
                   "csi": {"driver": storage_class["provisioner"], "volumeHandle": pvc["metadata"]["uid"]}},
          "status": {"phase": "Available"}}
    return cluster.system_put(cluster.res("persistentvolumes"), pv)


def reconcile_pv(cluster, res, pv):
    body = copy.deepcopy(pv)
    finalizers = body["metadata"].setdefault("finalizers", [])
    if PV_PROTECTION not in finalizers:
        finalizers.append(PV_PROTECTION)
    body.setdefault("status", {}).setdefault("phase", "Available")
    cluster.system_put(res, body)
    claim = body["spec"].get("claimRef")
    if claim and body["status"]["phase"] == "Available":
        pvc_res = cluster.res("persistentvolumeclaims")
        pvc = cluster.store.get(pvc_res, claim.get("namespace"), claim.get("name"))
        if pvc and pvc.get("status", {}).get("phase") != "Bound":
            pending = copy.deepcopy(pvc)
            pending["spec"]["volumeName"] = body["metadata"]["name"]
            reconcile_pvc(cluster, pvc_res, cluster.system_put(pvc_res, pending))


def reconcile_volumesnapshot(cluster, res, snapshot):
    if snapshot.get("status"):
        return
    meta, spec = snapshot["metadata"], snapshot["spec"]
    claim_name = spec.get("source", {}).get("persistentVolumeClaimName")
    pvc = cluster.store.get(cluster.res("persistentvolumeclaims"), meta["namespace"], claim_name or "")
    class_name = spec.get("volumeSnapshotClassName")
    class_res = cluster.res("volumesnapshotclasses", "snapshot.storage.k8s.io")
    if pvc is None or (class_name and cluster.store.get(class_res, None, class_name) is None):
        what = f'persistentvolumeclaim "{claim_name}"' if pvc is None else f'volumesnapshotclass "{class_name}"'
        cluster.set_status(res, snapshot, {"readyToUse": False,
                                           "error": {"message": f"failed to get input source: {what} not found",
                                                     "time": now()}})
        return
    content_name = f"snapcontent-{meta['uid']}"
    cluster.system_put(cluster.res("volumesnapshotcontents", "snapshot.storage.k8s.io"), {
        "metadata": {"name": content_name},
        "spec": {"volumeSnapshotRef": {"name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"]},
                 "source": {"volumeHandle": pvc["spec"].get("volumeName", "")}, "driver": "emulator.hubfleet.io",
                 "deletionPolicy": "Delete", "volumeSnapshotClassName": class_name or "standard-snapshot"},
        "status": {"readyToUse": True}})
    cluster.set_status(res, snapshot, {
        "boundVolumeSnapshotContentName": content_name, "creationTime": now(), "readyToUse": True,
        "restoreSize": pvc.get("status", {}).get("capacity", {}).get("storage", "0")})


def _claims_in_use(cluster, namespace):
    claims = set()
    for pod in cluster.store.items(cluster.res("pods"), namespace):
        if pod.get("status", {}).get("phase") in ("Succeeded", "Failed"):
            continue
        for volume in pod.get("spec", {}).get("volumes", []):
            claim = volume.get("persistentVolumeClaim", {}).get("claimName")
            if claim:
                claims.add(claim)
    return claims


def release_protected_claims(cluster, namespace):
    pvc_res = cluster.res("persistentvolumeclaims")
    in_use = _claims_in_use(cluster, namespace)
    for pvc in cluster.store.items(pvc_res, namespace):
        if pvc["metadata"].get("deletionTimestamp") and pvc["metadata"]["name"] not in in_use:
            drop_finalizer(cluster, pvc_res, pvc, PVC_PROTECTION)


def drop_finalizer(cluster, res, obj, finalizer):
    finalizers = obj["metadata"].get("finalizers", [])
    if finalizer not in finalizers:
        return
    body = copy.deepcopy(obj)
    body["metadata"]["finalizers"] = [f for f in finalizers if f != finalizer]
    if body["metadata"]["finalizers"]:
        cluster.store.put(res, body, "MODIFIED")
    else:
        cluster._remove(res, body)  # pylint: disable=protected-access


def release_volume(cluster, pvc):
    pv_res = cluster.res("persistentvolumes")
    pv = cluster.store.get(pv_res, None, pvc["spec"].get("volumeName") or "")
    if pv is None:
        return
    body = copy.deepcopy(pv)
    body["status"] = {"phase": "Released"}
    cluster.system_put(pv_res, body)
    if body["metadata"].get("deletionTimestamp"):
        # Deleted while bound: pv-protection held it until now.
        drop_finalizer(cluster, pv_res, body, PV_PROTECTION)
    elif pv["spec"].get("persistentVolumeReclaimPolicy") == "Delete":
        cluster.delete(pv_res, None, pv["metadata"]["name"])
