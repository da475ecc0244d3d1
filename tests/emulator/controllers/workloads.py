"""Workloads: pods run, Deployments, ReplicaSets, StatefulSets and DaemonSets get ready, Jobs finish, Services get addresses."""
import copy
import secrets

from ..errors import ApiError
from .common import (HASH_ALPHABET, LOG, NODE, OUTCOME, conditions, now, owned_by, owner_ref, stored, template_hash,
                     without_zeros)
from .namespaces import recount_quotas
from .storage import release_protected_claims


def _ensure_pods(cluster, owner, template, names, extra_labels=None):
    """Create the missing pods in order. A pod the API refuses (403, an exceeded quota) stops the creating, as
    in the real controllers; its message is returned for the owner's status."""
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
        refused = _refused(cluster, pods, namespace, {"metadata": meta, "spec": spec})
        if refused:
            return refused
    return None


def _refused(cluster, res, namespace, body):
    """Create as a controller: the message if the API forbids it (quota), else None."""
    try:
        cluster.create(res, namespace, body)
    except ApiError as exc:
        if exc.code != 403:
            raise
        return exc.message
    return None


def _owned_pods(cluster, owner):
    return [p for p in cluster.store.items(cluster.res("pods"), owner["metadata"]["namespace"]) if owned_by(p, owner)]


def _random_names(prefix, count, existing):
    names = sorted(existing)[:count]
    while len(names) < count:
        names.append(f"{prefix}-{''.join(secrets.choice(HASH_ALPHABET) for _index in range(5))}")
    return names


def reconcile_deployment(cluster, res, dep):
    spec, namespace = dep["spec"], dep["metadata"]["namespace"]
    replicas = spec.get("replicas", 1)
    template_digest = template_hash(spec.get("template", {}))
    rs_res = cluster.res("replicasets", "apps")
    new_name = f"{dep['metadata']['name']}-{template_digest}"
    for rs in cluster.store.items(rs_res, namespace):
        if owned_by(rs, dep) and rs["metadata"]["name"] != new_name and rs["spec"].get("replicas"):
            old = copy.deepcopy(rs)
            old["spec"]["replicas"] = 0
            reconcile_replicaset(cluster, rs_res, cluster.system_put(rs_res, old))
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
    reconcile_replicaset(cluster, rs_res, rs)
    rs_status = stored(cluster, rs_res, rs).get("status", {})
    ready = rs_status.get("readyReplicas", 0)
    dep = stored(cluster, res, dep)
    status = without_zeros({"observedGeneration": dep["metadata"].get("generation", 1), "replicas": ready,
                            "updatedReplicas": ready, "readyReplicas": ready, "availableReplicas": ready,
                            "unavailableReplicas": replicas - ready})
    wanted = [("Available", "True", "MinimumReplicasAvailable"), ("Progressing", "True", "NewReplicaSetAvailable")]
    if ready < replicas:
        wanted = [("Available", "False", "MinimumReplicasUnavailable"), ("Progressing", "True", "ReplicaSetUpdated")]
    failure = [dict(c) for c in rs_status.get("conditions", []) if c["type"] == "ReplicaFailure"]
    status["conditions"] = conditions(dep.get("status", {}).get("conditions"), wanted) + failure
    cluster.set_status(res, dep, status)


def reconcile_replicaset(cluster, res, rs):
    replicas = rs["spec"].get("replicas", 1)
    pods = [p["metadata"]["name"] for p in cluster.store.items(cluster.res("pods"), rs["metadata"]["namespace"])
            if owned_by(p, rs)]
    refused = _ensure_pods(cluster, rs, rs["spec"].get("template", {}),
                           _random_names(rs["metadata"]["name"], replicas, pods))
    rs = stored(cluster, res, rs)
    ready = len(_owned_pods(cluster, rs))
    status = {"replicas": ready, **without_zeros({
        "readyReplicas": ready, "availableReplicas": ready, "fullyLabeledReplicas": ready}),
        "observedGeneration": rs["metadata"].get("generation", 1)}
    if refused:
        status["conditions"] = _failed_create(rs, refused)
    cluster.set_status(res, rs, status)


def _failed_create(owner, message):
    """The ReplicaFailure condition the ReplicaSet controller sets when the API refuses a pod."""
    failure = conditions(owner.get("status", {}).get("conditions"), [("ReplicaFailure", "True", "FailedCreate")])
    return [dict(failure[0], message=message)]


def reconcile_statefulset(cluster, res, sts):
    spec, meta = sts["spec"], sts["metadata"]
    replicas, name = spec.get("replicas", 1), meta["name"]
    revision = f"{name}-{template_hash(spec.get('template', {}))}"
    names, refused = [], None
    pvc_res = cluster.res("persistentvolumeclaims")
    # Pod by pod, in order, its claims first; a refused claim leaves the pod and those after it out.
    for pod_name in [f"{name}-{i}" for i in range(replicas)]:
        for claim in spec.get("volumeClaimTemplates", []):
            pvc_name = f"{claim['metadata']['name']}-{pod_name}"
            if not refused and cluster.store.get(pvc_res, meta["namespace"], pvc_name) is None:
                body = copy.deepcopy(claim)
                body["metadata"].update(name=pvc_name, namespace=meta["namespace"])
                refused = _refused(cluster, pvc_res, meta["namespace"], body)
        if refused:
            break
        names.append(pod_name)
    _ensure_pods(cluster, sts, spec.get("template", {}), names, {"controller-revision-hash": revision})
    sts = stored(cluster, res, sts)
    ready = len(_owned_pods(cluster, sts))
    cluster.set_status(res, sts, {
        "observedGeneration": meta.get("generation", 1), "replicas": ready, "currentRevision": revision,
        "updateRevision": revision, "collisionCount": 0, **without_zeros({
            "readyReplicas": ready, "currentReplicas": ready, "updatedReplicas": ready,
            "availableReplicas": ready})})


def reconcile_daemonset(cluster, res, ds):
    _ensure_pods(cluster, ds, ds["spec"].get("template", {}), [f"{ds['metadata']['name']}-{NODE}"])
    ds = stored(cluster, res, ds)
    ready = len(_owned_pods(cluster, ds))
    cluster.set_status(res, ds, {
        "observedGeneration": ds["metadata"].get("generation", 1), "desiredNumberScheduled": 1,
        "currentNumberScheduled": ready, "numberReady": ready, "updatedNumberScheduled": ready,
        "numberAvailable": ready, "numberMisscheduled": 0, **without_zeros({"numberUnavailable": 1 - ready})})


def reconcile_job(cluster, res, job):
    if job.get("status", {}).get("startTime"):
        return
    meta = job["metadata"]
    armed = _armed_outcome(cluster, meta)
    annotations = {**({OUTCOME: armed["outcome"], LOG: armed.get("log", "")} if armed else {}),
                   **(meta.get("annotations") or {})}
    failed = annotations.get(OUTCOME) == "Failed"
    labels = {"job-name": meta["name"], "batch.kubernetes.io/job-name": meta["name"],
              "controller-uid": meta["uid"], "batch.kubernetes.io/controller-uid": meta["uid"]}
    template = copy.deepcopy(job["spec"].get("template", {}))
    template.setdefault("metadata", {}).setdefault("annotations", {})[LOG] = annotations.get(LOG, "")
    if _ensure_pods(cluster, job, template, _random_names(meta["name"], 1, []), labels):
        return  # refused: no pod and no status yet; writing the Job again tries again
    if armed:
        armed["count"] = armed.get("count", 1) - 1
        if armed["count"] <= 0:
            cluster.job_outcomes.remove(armed)
    for pod in _owned_pods(cluster, job):
        done = copy.deepcopy(pod)
        done["status"] = {**pod.get("status", {}), "phase": "Failed" if failed else "Succeeded"}
        _reconcile_pod_phase(cluster, done)
    stamp = now()
    status = {"startTime": stamp, "ready": 0, "terminating": 0}
    if failed:
        status.update(failed=job["spec"].get("backoffLimit", 6) + 1, conditions=conditions([], [
            ("FailureTarget", "True", "BackoffLimitExceeded"), ("Failed", "True", "BackoffLimitExceeded")]))
    else:
        status.update(succeeded=job["spec"].get("completions", 1), completionTime=stamp,
                      conditions=conditions([], [("SuccessCriteriaMet", "True", "CompletionsReached"),
                                                 ("Complete", "True", "CompletionsReached")]))
    cluster.set_status(res, stored(cluster, res, job), status)


def _armed_outcome(cluster, meta):
    """The first outcome armed at the control endpoint (POST /_emulator/job-outcomes) for this Job, or None. It stands
    in for the outcome and log annotations; the Job's own annotations win. The Job that starts uses it up."""
    return next((armed for armed in cluster.job_outcomes if armed.get("namespace") in (None, meta["namespace"])
                 and meta["name"].startswith(armed.get("name_prefix") or "")), None)


# The status the API server gives a pod it creates (what the emulator's QoS class always is); the pod
# then runs. A seeded pod with any other phase keeps it.
CREATED_POD_STATUS = {"phase": "Pending", "qosClass": "BestEffort"}


def reconcile_pod(cluster, res, pod):
    if pod.get("status", {}).get("phase") and pod["status"] != CREATED_POD_STATUS:
        return
    stamp = now()
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
    """A pod that finished no longer holds its PVCs, nor counts in quotas but for `count/pods`."""
    cluster.system_put(cluster.res("pods"), pod)
    recount_quotas(cluster, cluster.res("pods"), pod)
    release_protected_claims(cluster, pod["metadata"]["namespace"])


def reconcile_service(cluster, res, svc):
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


def scale_view(obj):
    """The autoscaling/v1 Scale of a Deployment, StatefulSet or ReplicaSet."""
    meta = obj["metadata"]
    labels = (obj["spec"].get("selector") or {}).get("matchLabels") or {}
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")},
            "spec": {"replicas": obj["spec"].get("replicas", 0)},
            "status": {"replicas": (obj.get("status") or {}).get("replicas", 0),
                       "selector": ",".join(f"{k}={v}" for k, v in sorted(labels.items()))}}
