"""Small controllers, so that waits behave as on a cluster.

They run synchronously after each write: workloads become ready, PVCs bind, Jobs and Builds
complete, Routes are admitted (or not, when another route holds their host), ServiceAccount token
Secrets get their token, namespaces and protected PVCs terminate when they may. The annotation
`emulator.hubfleet.io/outcome: Failed` on a Job or BuildConfig makes it fail, as does an outcome
armed at the control endpoint for a Job.
"""
import dataclasses

from .. import errors, scc
from ..errors import ApiError
from .authorization import access_review
from .common import LOG, NODE
from .lifecycle import check_immutable, removed, terminating
from .namespaces import recount_quotas, reconcile_namespace, reconcile_quota
from .openshift import (current_user, instantiate, project_request, project_view, reconcile_buildconfig,
                        reconcile_imagestream, reconcile_route)
from .storage import default_storage_class, reconcile_pv, reconcile_pvc, reconcile_volumesnapshot
from .tokens import reconcile_secret
from .workloads import (CREATED_POD_STATUS, reconcile_daemonset, reconcile_deployment, reconcile_job,  # noqa: F401
                        reconcile_pod, reconcile_replicaset,
                        reconcile_service, reconcile_statefulset, scale_view)

RECONCILERS = {
    "namespaces": reconcile_namespace, "deployments": reconcile_deployment,
    "replicasets": reconcile_replicaset, "statefulsets": reconcile_statefulset,
    "daemonsets": reconcile_daemonset, "jobs": reconcile_job, "pods": reconcile_pod,
    "persistentvolumeclaims": reconcile_pvc, "persistentvolumes": reconcile_pv,
    "services": reconcile_service, "routes": reconcile_route, "imagestreams": reconcile_imagestream,
    "buildconfigs": reconcile_buildconfig, "volumesnapshots": reconcile_volumesnapshot,
    "resourcequotas": reconcile_quota, "secrets": reconcile_secret,
}
CREATE_HANDLERS = {"projectrequests": project_request, "selfsubjectaccessreviews": access_review}


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


def reconcile(cluster, res, obj):
    handler = RECONCILERS.get(res.plural)
    if handler and not obj["metadata"].get("deletionTimestamp"):
        handler(cluster, res, obj)
        if res.plural == "namespaces" and cluster.openshift:
            scc.allocate(cluster, cluster.store.get(res, None, obj["metadata"]["name"]))
    recount_quotas(cluster, res, obj)


def log_text(res, obj, tail_lines=None):
    """A pod's log (its log annotation) or a build's; `tailLines` keeps the last lines, as PodLogOptions does."""
    if res.plural == "builds":
        strategy = obj["spec"].get("strategy", {}).get("type", "Source")
        lines = [f"Build {obj['metadata']['name']} ({strategy} strategy)", "Pushing image ...",
                 "Push successful" if obj.get("status", {}).get("phase") == "Complete" else "error: build error"]
        text = "\n".join(lines) + "\n"
    else:
        text = (obj["metadata"].get("annotations") or {}).get(LOG, "")
    if tail_lines is None:
        return text
    try:
        count = int(tail_lines)
    except ValueError:
        raise ApiError(400, f"couldn't parse tailLines: {tail_lines!r} is not an integer") from None
    if count < 0:
        options = dataclasses.replace(res, kind=res.kind + "LogOptions")  # PodLogOptions, BuildLogOptions
        raise errors.invalid(options, obj["metadata"]["name"],
                             [("tailLines", f"Invalid value: {count}: must be greater than or equal to 0")])
    return "".join(text.splitlines(keepends=True)[-count:]) if count else ""


def reject_unknown_subresource(res, subresource):
    if subresource and subresource not in res.subresources:
        raise ApiError(404, f"the server could not find the requested resource ({res.plural}/{subresource})")
