"""Small controllers, so that waits behave as on a cluster.

They run synchronously after each write: workloads become ready, PVCs bind, Jobs and Builds
complete, Routes are admitted, namespaces and protected PVCs terminate when they may. The
annotation `emulator.hubfleet.io/outcome: Failed` on a Job or BuildConfig makes it fail.
"""
import copy
import hashlib
import json
import secrets

from . import errors, validation
from .errors import ApiError

OUTCOME = "emulator.hubfleet.io/outcome"
LOG = "emulator.hubfleet.io/log"
NODE = "emulator-node"
APPS_DOMAIN = "apps.emulator.local"
REGISTRY = "image-registry.openshift-image-registry.svc:5000"
PVC_PROTECTION = "kubernetes.io/pvc-protection"
PV_PROTECTION = "kubernetes.io/pv-protection"
HASH_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def _now():
    from .cluster import now
    return now()


def template_hash(template):
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    return "".join(HASH_ALPHABET[b % len(HASH_ALPHABET)] for b in digest[:10])


def owner_ref(owner):
    return {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}


def owned_by(obj, owner):
    return any(r.get("uid") == owner["metadata"]["uid"] for r in obj["metadata"].get("ownerReferences", []))


def conditions(existing, wanted):
    """Conditions as (type, status, reason); keep timestamps of those that did not change."""
    old = {c["type"]: c for c in existing or []}
    result = []
    for kind, status, reason in wanted:
        previous = old.get(kind)
        if previous and previous["status"] == status and previous.get("reason") == reason:
            result.append(previous)
        else:
            stamp = _now()
            result.append({"type": kind, "status": status, "reason": reason, "lastTransitionTime": stamp,
                           "lastUpdateTime": stamp, "message": ""})
    return result


def _without_zeros(status):
    return {k: v for k, v in status.items() if v not in (0, None)}


# --- bootstrap --------------------------------------------------------------------------------
def bootstrap(cluster):
    for name in ("default", "kube-system", "kube-public"):
        _system_create(cluster, "namespaces", {"metadata": {"name": name}})
    _system_create(cluster, "nodes", {"metadata": {"name": NODE, "labels": {"kubernetes.io/hostname": NODE}},
                                      "status": {"conditions": [{"type": "Ready", "status": "True"}],
                                                 "capacity": {"cpu": "2", "memory": "24Gi", "pods": "110"}}})
    _system_create(cluster, "storageclasses", {
        "metadata": {"name": "standard", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
        "provisioner": "emulator.hubfleet.io", "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"},
        "storage.k8s.io")
    _system_create(cluster, "volumesnapshotclasses", {
        "metadata": {"name": "standard-snapshot"}, "driver": "emulator.hubfleet.io", "deletionPolicy": "Delete"},
        "snapshot.storage.k8s.io")
    for role in ("admin", "edit", "view"):
        _system_create(cluster, "clusterroles", {
            "metadata": {"name": role},
            "rules": [{"apiGroups": ["*"], "resources": ["*"],
                       "verbs": ["get", "list", "watch"] + ([] if role == "view" else ["*"])}]},
            "rbac.authorization.k8s.io")


def _system_create(cluster, plural, obj, group=""):
    res = cluster.res(plural, group)
    return cluster.create(res, obj["metadata"].get("namespace"), obj, keep_status=True)


# --- reconcile dispatch -----------------------------------------------------------------------
def reconcile(cluster, res, obj):
    handler = RECONCILERS.get(res.plural)
    if handler and not obj["metadata"].get("deletionTimestamp"):
        handler(cluster, res, obj)


def _stored(cluster, res, obj):
    return cluster.store.get(res, obj["metadata"].get("namespace"), obj["metadata"]["name"])


def _reconcile_namespace(cluster, res, ns):
    if ns.get("status", {}).get("phase"):
        return
    name = ns["metadata"]["name"]
    body = copy.deepcopy(ns)
    body["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
    body.setdefault("spec", {})["finalizers"] = ["kubernetes"]
    body["status"] = {"phase": "Active"}
    cluster.system_put(res, body)
    cluster.system_put(cluster.res("serviceaccounts"), {"metadata": {"name": "default", "namespace": name}})
    cluster.system_put(cluster.res("configmaps"), {
        "metadata": {"name": "kube-root-ca.crt", "namespace": name},
        "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\nemulator\n-----END CERTIFICATE-----\n"}})


def _ensure_pods(cluster, owner, template, names, extra_labels=None):
    pods = cluster.res("pods")
    namespace = owner["metadata"]["namespace"]
    current = [p for p in cluster.store.items(pods, namespace) if owned_by(p, owner)]
    for pod in current:
        if pod["metadata"]["name"] not in names:
            cluster.delete(pods, namespace, pod["metadata"]["name"])
    existing = {p["metadata"]["name"] for p in current}
    for name in names:
        if name in existing:
            continue
        meta = copy.deepcopy(template.get("metadata", {}))
        meta.update(name=name, namespace=namespace, ownerReferences=[owner_ref(owner)])
        meta.setdefault("labels", {}).update(extra_labels or {})
        spec = copy.deepcopy(template.get("spec", {}))
        spec.setdefault("nodeName", NODE)
        cluster.create(pods, namespace, {"metadata": meta, "spec": spec})


def _random_names(prefix, count, existing):
    names = sorted(existing)[:count]
    while len(names) < count:
        names.append(f"{prefix}-{''.join(secrets.choice(HASH_ALPHABET) for _index in range(5))}")
    return names


def _reconcile_deployment(cluster, res, dep):
    spec, namespace = dep["spec"], dep["metadata"]["namespace"]
    replicas = spec.get("replicas", 1)
    template_digest = template_hash(spec.get("template", {}))
    rs_res = cluster.res("replicasets", "apps")
    new_name = f"{dep['metadata']['name']}-{template_digest}"
    for rs in cluster.store.items(rs_res, namespace):
        if owned_by(rs, dep) and rs["metadata"]["name"] != new_name and rs["spec"].get("replicas"):
            old = copy.deepcopy(rs)
            old["spec"]["replicas"] = 0
            _reconcile_replicaset(cluster, rs_res, cluster.system_put(rs_res, old))
    template = copy.deepcopy(spec.get("template", {}))
    template.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = template_digest
    selector = copy.deepcopy(spec.get("selector", {}))
    selector.setdefault("matchLabels", {})["pod-template-hash"] = template_digest
    live = cluster.store.get(rs_res, namespace, new_name)
    rs = copy.deepcopy(live) if live else {"metadata": {
        "name": new_name, "namespace": namespace, "ownerReferences": [owner_ref(dep)],
        "labels": {**template["metadata"]["labels"]},
        "annotations": {"deployment.kubernetes.io/revision": "1"}}}
    rs["spec"] = {"replicas": replicas, "selector": selector, "template": template}
    rs = cluster.system_put(rs_res, rs)
    _reconcile_replicaset(cluster, rs_res, rs)
    dep = _stored(cluster, res, dep)
    status = _without_zeros({"observedGeneration": dep["metadata"].get("generation", 1), "replicas": replicas,
                             "updatedReplicas": replicas, "readyReplicas": replicas,
                             "availableReplicas": replicas})
    status["conditions"] = conditions(dep.get("status", {}).get("conditions"), [
        ("Available", "True", "MinimumReplicasAvailable"), ("Progressing", "True", "NewReplicaSetAvailable")])
    cluster.set_status(res, dep, status)


def _reconcile_replicaset(cluster, res, rs):
    replicas = rs["spec"].get("replicas", 1)
    pods = [p["metadata"]["name"] for p in cluster.store.items(cluster.res("pods"), rs["metadata"]["namespace"])
            if owned_by(p, rs)]
    _ensure_pods(cluster, rs, rs["spec"].get("template", {}),
                 _random_names(rs["metadata"]["name"], replicas, pods))
    rs = _stored(cluster, res, rs)
    cluster.set_status(res, rs, {
        "replicas": replicas, **_without_zeros({
            "readyReplicas": replicas, "availableReplicas": replicas, "fullyLabeledReplicas": replicas}),
        "observedGeneration": rs["metadata"].get("generation", 1)})


def _reconcile_statefulset(cluster, res, sts):
    spec, meta = sts["spec"], sts["metadata"]
    replicas, name = spec.get("replicas", 1), meta["name"]
    revision = f"{name}-{template_hash(spec.get('template', {}))}"
    names = [f"{name}-{i}" for i in range(replicas)]
    for claim in spec.get("volumeClaimTemplates", []):
        for pod_name in names:
            pvc_name = f"{claim['metadata']['name']}-{pod_name}"
            if cluster.store.get(cluster.res("persistentvolumeclaims"), meta["namespace"], pvc_name) is None:
                body = copy.deepcopy(claim)
                body["metadata"].update(name=pvc_name, namespace=meta["namespace"])
                cluster.create(cluster.res("persistentvolumeclaims"), meta["namespace"], body)
    _ensure_pods(cluster, sts, spec.get("template", {}), names, {"controller-revision-hash": revision})
    sts = _stored(cluster, res, sts)
    cluster.set_status(res, sts, {
        "observedGeneration": meta.get("generation", 1), "replicas": replicas, "currentRevision": revision,
        "updateRevision": revision, "collisionCount": 0, **_without_zeros({
            "readyReplicas": replicas, "currentReplicas": replicas, "updatedReplicas": replicas,
            "availableReplicas": replicas})})


def _reconcile_daemonset(cluster, res, ds):
    _ensure_pods(cluster, ds, ds["spec"].get("template", {}), [f"{ds['metadata']['name']}-{NODE}"])
    ds = _stored(cluster, res, ds)
    cluster.set_status(res, ds, {
        "observedGeneration": ds["metadata"].get("generation", 1), "desiredNumberScheduled": 1,
        "currentNumberScheduled": 1, "numberReady": 1, "updatedNumberScheduled": 1, "numberAvailable": 1,
        "numberMisscheduled": 0})


def _failed(obj):
    return (obj["metadata"].get("annotations") or {}).get(OUTCOME) == "Failed"


def _reconcile_job(cluster, res, job):
    if job.get("status", {}).get("startTime"):
        return
    meta = job["metadata"]
    failed = _failed(job)
    labels = {"job-name": meta["name"], "batch.kubernetes.io/job-name": meta["name"],
              "controller-uid": meta["uid"], "batch.kubernetes.io/controller-uid": meta["uid"]}
    template = copy.deepcopy(job["spec"].get("template", {}))
    template.setdefault("metadata", {}).setdefault("annotations", {})[LOG] = \
        (meta.get("annotations") or {}).get(LOG, "")
    _ensure_pods(cluster, job, template, _random_names(meta["name"], 1, []), labels)
    for pod in cluster.store.items(cluster.res("pods"), meta["namespace"]):
        if owned_by(pod, job):
            done = copy.deepcopy(pod)
            done["status"] = {**pod.get("status", {}), "phase": "Failed" if failed else "Succeeded"}
            _reconcile_pod_phase(cluster, done)
    stamp = _now()
    status = {"startTime": stamp, "ready": 0, "terminating": 0}
    if failed:
        status.update(failed=job["spec"].get("backoffLimit", 6) + 1, conditions=conditions([], [
            ("FailureTarget", "True", "BackoffLimitExceeded"), ("Failed", "True", "BackoffLimitExceeded")]))
    else:
        status.update(succeeded=job["spec"].get("completions", 1), completionTime=stamp,
                      conditions=conditions([], [("SuccessCriteriaMet", "True", "CompletionsReached"),
                                                 ("Complete", "True", "CompletionsReached")]))
    cluster.set_status(res, _stored(cluster, res, job), status)


def _reconcile_pod(cluster, res, pod):
    if pod.get("status", {}).get("phase"):
        return
    stamp = _now()
    ready = [("Initialized", "True", ""), ("Ready", "True", ""), ("ContainersReady", "True", ""),
             ("PodScheduled", "True", "")]
    body = copy.deepcopy(pod)
    body["spec"].setdefault("nodeName", NODE)
    index = int(pod["metadata"]["uid"][:4], 16)
    body["status"] = {
        "phase": "Running", "hostIP": "127.0.0.1", "podIP": f"10.128.{index // 256}.{index % 256}",
        "startTime": stamp, "qosClass": "BestEffort", "conditions": conditions([], ready),
        "containerStatuses": [{"name": c["name"], "image": c.get("image", ""), "imageID": "", "ready": True,
                               "started": True, "restartCount": 0, "state": {"running": {"startedAt": stamp}}}
                              for c in pod["spec"].get("containers", [])]}
    cluster.system_put(res, body)


def _reconcile_pod_phase(cluster, pod):
    """A pod that finished no longer holds its PVCs."""
    cluster.system_put(cluster.res("pods"), pod)
    _release_protected_claims(cluster, pod["metadata"]["namespace"])


def _default_storage_class(cluster):
    for sc in cluster.store.items(cluster.res("storageclasses", "storage.k8s.io")):
        if (sc["metadata"].get("annotations") or {}).get("storageclass.kubernetes.io/is-default-class") == "true":
            return sc
    return None


def _reconcile_pvc(cluster, res, pvc):
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
    storage_class = _default_storage_class(cluster) if class_name is None else \
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


def _reconcile_pv(cluster, res, pv):
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
            _reconcile_pvc(cluster, pvc_res, cluster.system_put(pvc_res, pending))


def _reconcile_service(cluster, res, svc):
    body = copy.deepcopy(svc)
    spec = body.setdefault("spec", {})
    kind = spec.setdefault("type", "ClusterIP")
    if kind != "ExternalName" and not spec.get("clusterIP"):
        index = int(svc["metadata"]["uid"][:4], 16)
        spec["clusterIP"] = f"10.96.{index // 256}.{index % 256}"
        spec["clusterIPs"] = [spec["clusterIP"]]
    if kind in ("NodePort", "LoadBalancer"):
        for number, port in enumerate(spec.get("ports", [])):
            port.setdefault("nodePort", 30000 + (int(svc["metadata"]["uid"][:3], 16) + number) % 2767)
    if kind == "LoadBalancer":
        body["status"] = {"loadBalancer": {"ingress": [{"ip": "127.0.0.1"}]}}
    cluster.system_put(res, body)


def _reconcile_route(cluster, res, route):
    body = copy.deepcopy(route)
    meta = body["metadata"]
    host = body.setdefault("spec", {}).setdefault("host", f"{meta['name']}-{meta['namespace']}.{APPS_DOMAIN}")
    ingress = (body.get("status") or {}).get("ingress") or [{}]
    if ingress[0].get("host") != host:
        body["status"] = {"ingress": [{
            "host": host, "routerName": "default", "wildcardPolicy": "None",
            "routerCanonicalHostname": f"router-default.{APPS_DOMAIN}",
            "conditions": [{"type": "Admitted", "status": "True", "lastTransitionTime": _now()}]}]}
    cluster.system_put(res, body)


def _reconcile_imagestream(cluster, res, stream):
    body = copy.deepcopy(stream)
    meta = body["metadata"]
    status = body.setdefault("status", {})
    status["dockerImageRepository"] = f"{REGISTRY}/{meta['namespace']}/{meta['name']}"
    cluster.system_put(res, body)


def _reconcile_buildconfig(cluster, res, config):
    if "lastVersion" in config.get("status", {}):
        return
    config = cluster.set_status(res, config, {"lastVersion": 0})
    triggers = config["spec"].get("triggers", [])
    if any(t.get("type") == "ConfigChange" for t in triggers):
        instantiate(cluster, config["metadata"]["namespace"], config["metadata"]["name"], {})


def _reconcile_volumesnapshot(cluster, res, snapshot):
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
                                                     "time": _now()}})
        return
    content_name = f"snapcontent-{meta['uid']}"
    cluster.system_put(cluster.res("volumesnapshotcontents", "snapshot.storage.k8s.io"), {
        "metadata": {"name": content_name},
        "spec": {"volumeSnapshotRef": {"name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"]},
                 "source": {"volumeHandle": pvc["spec"].get("volumeName", "")}, "driver": "emulator.hubfleet.io",
                 "deletionPolicy": "Delete", "volumeSnapshotClassName": class_name or "standard-snapshot"},
        "status": {"readyToUse": True}})
    cluster.set_status(res, snapshot, {
        "boundVolumeSnapshotContentName": content_name, "creationTime": _now(), "readyToUse": True,
        "restoreSize": pvc.get("status", {}).get("capacity", {}).get("storage", "0")})


def _reconcile_quota(cluster, res, quota):
    hard = dict(quota.get("spec", {}).get("hard", {}))
    used = {key: quota.get("status", {}).get("used", {}).get(key, "0") for key in hard}
    cluster.set_status(res, quota, {"hard": hard, "used": used})


RECONCILERS = {
    "namespaces": _reconcile_namespace, "deployments": _reconcile_deployment,
    "replicasets": _reconcile_replicaset, "statefulsets": _reconcile_statefulset,
    "daemonsets": _reconcile_daemonset, "jobs": _reconcile_job, "pods": _reconcile_pod,
    "persistentvolumeclaims": _reconcile_pvc, "persistentvolumes": _reconcile_pv,
    "services": _reconcile_service, "routes": _reconcile_route, "imagestreams": _reconcile_imagestream,
    "buildconfigs": _reconcile_buildconfig, "volumesnapshots": _reconcile_volumesnapshot,
    "resourcequotas": _reconcile_quota,
}


# --- OpenShift builds -------------------------------------------------------------------------
def instantiate(cluster, namespace, name, request):
    """POST buildconfigs/<name>/instantiate: start a Build, which runs to Complete (or Failed)."""
    bc_res, build_res = cluster.res("buildconfigs", "build.openshift.io"), cluster.res("builds", "build.openshift.io")
    config = cluster.store.get(bc_res, namespace, name)
    if config is None:
        raise errors.not_found(bc_res, name)
    number = config.get("status", {}).get("lastVersion", 0) + 1
    config = cluster.set_status(bc_res, config, {"lastVersion": number})
    spec = {k: copy.deepcopy(v) for k, v in config["spec"].items()
            if k not in ("triggers", "runPolicy", "successfulBuildsHistoryLimit", "failedBuildsHistoryLimit")}
    spec["triggeredBy"] = request.get("triggeredBy") or [{"message": "Manually triggered"}]
    failed = _failed(config)
    digest = "sha256:" + hashlib.sha256(f"{namespace}/{name}/{number}".encode()).hexdigest()
    target = spec.get("output", {}).get("to", {})
    stream, _colon, tag = target.get("name", "").partition(":")
    reference = f"{REGISTRY}/{namespace}/{stream}:{tag or 'latest'}" if stream else ""
    stamp = _now()
    status = {"phase": "Failed" if failed else "Complete", "startTimestamp": stamp, "completionTimestamp": stamp,
              "duration": 1000000000, "outputDockerImageReference": reference,
              "config": {"kind": "BuildConfig", "namespace": namespace, "name": name}}
    if failed:
        status.update(reason="GenericBuildFailed", message="Generic Build failure - check logs for details.")
    else:
        status["output"] = {"to": {"imageDigest": digest}}
    build = {"metadata": {
        "name": f"{name}-{number}", "namespace": namespace, "ownerReferences": [owner_ref(config)],
        "labels": {"buildconfig": name, "openshift.io/build-config.name": name,
                   "openshift.io/build.start-policy": config["spec"].get("runPolicy", "Serial")},
        "annotations": {"openshift.io/build-config.name": name, "openshift.io/build.number": str(number)}},
        "spec": spec}
    created = cluster.create(build_res, namespace, build)
    created = cluster.set_status(build_res, _stored(cluster, build_res, created), status)
    if not failed and target.get("kind") == "ImageStreamTag" and stream:
        _tag_image(cluster, namespace, stream, tag or "latest", digest)
    return copy.deepcopy(created)


def _tag_image(cluster, namespace, stream, tag, digest):
    is_res = cluster.res("imagestreams", "image.openshift.io")
    current = cluster.store.get(is_res, namespace, stream)
    if current is None:
        return
    body = copy.deepcopy(current)
    reference = f"{REGISTRY}/{namespace}/{stream}@{digest}"
    tags = [t for t in body.setdefault("status", {}).get("tags", []) if t["tag"] != tag]
    tags.append({"tag": tag, "items": [{"created": _now(), "dockerImageReference": reference, "image": digest,
                                        "generation": 1}]})
    body["status"]["tags"] = tags
    cluster.system_put(is_res, body)
    cluster.system_put(cluster.res("imagestreamtags", "image.openshift.io"), {
        "metadata": {"name": f"{stream}:{tag}", "namespace": namespace},
        "tag": {"name": tag}, "image": {"metadata": {"name": digest}, "dockerImageReference": reference}})


def log_text(res, obj):
    if res.plural == "builds":
        strategy = obj["spec"].get("strategy", {}).get("type", "Source")
        lines = [f"Build {obj['metadata']['name']} ({strategy} strategy)", "Pushing image ...",
                 "Push successful" if obj.get("status", {}).get("phase") == "Complete" else "error: build error"]
        return "\n".join(lines) + "\n"
    return (obj["metadata"].get("annotations") or {}).get(LOG, "")


# --- create handlers for virtual kinds ----------------------------------------------------------
def project_view(ns):
    view = copy.deepcopy(ns)
    view["apiVersion"], view["kind"] = "project.openshift.io/v1", "Project"
    return view


def scale_view(obj):
    """The autoscaling/v1 Scale of a Deployment, StatefulSet or ReplicaSet."""
    meta = obj["metadata"]
    labels = (obj["spec"].get("selector") or {}).get("matchLabels") or {}
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")},
            "spec": {"replicas": obj["spec"].get("replicas", 0)},
            "status": {"replicas": (obj.get("status") or {}).get("replicas", 0),
                       "selector": ",".join(f"{k}={v}" for k, v in sorted(labels.items()))}}


def _project_request(cluster, body, user, dry_run):
    name = (body.get("metadata") or {}).get("name", "")
    ns_res = cluster.res("namespaces")
    validation.validate(ns_res, {"metadata": {"name": name}})
    if cluster.store.get(ns_res, None, name) is not None:
        raise errors.already_exists(cluster.res("projects", "project.openshift.io"), name)
    annotations = {"openshift.io/requester": user, "openshift.io/display-name": body.get("displayName", ""),
                   "openshift.io/description": body.get("description", "")}
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "annotations": annotations}}
    if dry_run:
        return project_view(namespace)
    created = cluster.create(ns_res, None, namespace)
    cluster.create(cluster.res("rolebindings", "rbac.authorization.k8s.io"), name, {
        "metadata": {"name": "admin", "namespace": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]})
    return project_view(created)


def _access_review(cluster, body, user, dry_run):
    del dry_run
    attrs = (body.get("spec") or {}).get("resourceAttributes") or {}
    try:
        res = next(r for r in cluster.catalogue.resources
                   if r.plural == attrs.get("resource") and r.group == attrs.get("group", ""))
    except StopIteration:
        allowed = user == "system:admin"
    else:
        allowed = cluster.allowed(user, attrs.get("verb", "get"), res, attrs.get("namespace") or None)
    review = copy.deepcopy(body)
    review.update(apiVersion="authorization.k8s.io/v1", kind="SelfSubjectAccessReview",
                  status={"allowed": allowed})
    review.setdefault("metadata", {})
    return review


CREATE_HANDLERS = {"projectrequests": _project_request, "selfsubjectaccessreviews": _access_review}


# --- updates, deletion and termination ----------------------------------------------------------
IMMUTABLE_SELECTORS = {"deployments", "statefulsets", "daemonsets", "replicasets"}


def check_immutable(res, live, body):
    """Reject changes the real API forbids, and keep values the server allocated."""
    name = live["metadata"]["name"]
    if res.plural == "persistentvolumeclaims" and live.get("spec"):
        before = {k: v for k, v in live["spec"].items() if k not in ("resources", "volumeName")}
        after = {k: v for k, v in body.get("spec", {}).items() if k not in ("resources", "volumeName")}
        after.setdefault("storageClassName", before.get("storageClassName"))
        after.setdefault("volumeMode", before.get("volumeMode"))
        if before != {k: v for k, v in after.items() if v is not None or k in before}:
            raise errors.invalid(res, name, [("spec", "Forbidden: spec is immutable after creation except "
                                                      "resources.requests and volumeAttributesClassName for "
                                                      "bound claims")])
        body["spec"].setdefault("volumeName", live["spec"].get("volumeName"))
    if res.plural in IMMUTABLE_SELECTORS and live.get("spec", {}).get("selector") != \
            body.get("spec", {}).get("selector"):
        raise errors.invalid(res, name, [("spec.selector", "Invalid value: field is immutable")])
    if res.plural == "services":
        for key in ("clusterIP", "clusterIPs"):
            if key in live.get("spec", {}):
                body.setdefault("spec", {}).setdefault(key, live["spec"][key])


def terminating(cluster, res, obj):
    """An object got a deletionTimestamp; finish what the real controllers would."""
    if res.plural == "namespaces":
        name = obj["metadata"]["name"]
        body = copy.deepcopy(obj)
        body["status"] = {"phase": "Terminating"}
        cluster.system_put(res, body)
        for (group, plural, _namespace, obj_name), _obj in cluster.store.in_namespace(name):
            if cluster.store.get(cluster.res(plural, group), name, obj_name) is not None:
                cluster.delete(cluster.res(plural, group), name, obj_name)
        _finalize_namespace(cluster, name)
    elif res.plural == "persistentvolumeclaims":
        _release_protected_claims(cluster, obj["metadata"]["namespace"])
    elif res.plural == "persistentvolumes" and obj.get("status", {}).get("phase") != "Bound":
        _drop_finalizer(cluster, res, obj, PV_PROTECTION)


def removed(cluster, res, obj):
    namespace = obj["metadata"].get("namespace")
    if res.plural == "pods":
        _release_protected_claims(cluster, namespace)
    elif res.plural == "persistentvolumeclaims":
        _release_volume(cluster, obj)
    if namespace:
        ns = cluster.store.get(cluster.res("namespaces"), None, namespace)
        if ns and ns["metadata"].get("deletionTimestamp"):
            _finalize_namespace(cluster, namespace)


def _finalize_namespace(cluster, name):
    ns_res = cluster.res("namespaces")
    ns = cluster.store.get(ns_res, None, name)
    if ns is not None and not cluster.store.in_namespace(name):
        cluster.store.remove(ns_res, ns)


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


def _release_protected_claims(cluster, namespace):
    pvc_res = cluster.res("persistentvolumeclaims")
    in_use = _claims_in_use(cluster, namespace)
    for pvc in cluster.store.items(pvc_res, namespace):
        if pvc["metadata"].get("deletionTimestamp") and pvc["metadata"]["name"] not in in_use:
            _drop_finalizer(cluster, pvc_res, pvc, PVC_PROTECTION)


def _drop_finalizer(cluster, res, obj, finalizer):
    finalizers = obj["metadata"].get("finalizers", [])
    if finalizer not in finalizers:
        return
    body = copy.deepcopy(obj)
    body["metadata"]["finalizers"] = [f for f in finalizers if f != finalizer]
    if body["metadata"]["finalizers"]:
        cluster.store.put(res, body, "MODIFIED")
    else:
        cluster._remove(res, body)  # pylint: disable=protected-access


def _release_volume(cluster, pvc):
    pv_res = cluster.res("persistentvolumes")
    pv = cluster.store.get(pv_res, None, pvc["spec"].get("volumeName") or "")
    if pv is None:
        return
    body = copy.deepcopy(pv)
    body["status"] = {"phase": "Released"}
    cluster.system_put(pv_res, body)
    if body["metadata"].get("deletionTimestamp"):
        # Deleted while bound: pv-protection held it until now.
        _drop_finalizer(cluster, pv_res, body, PV_PROTECTION)
    elif pv["spec"].get("persistentVolumeReclaimPolicy") == "Delete":
        cluster.delete(pv_res, None, pv["metadata"]["name"])


def reject_unknown_subresource(res, subresource):
    if subresource and subresource not in res.subresources:
        raise ApiError(404, f"the server could not find the requested resource ({res.plural}/{subresource})")
