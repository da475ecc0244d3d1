"""Namespaces: active with their default objects, quota status, and gone once empty."""
import copy

from .. import quota
from .common import ROOT_CA


def reconcile_namespace(cluster, res, ns):
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
        "data": {"ca.crt": ROOT_CA}})


def reconcile_quota(cluster, res, obj):
    cluster.set_status(res, obj, quota.status(cluster, obj))


def recount_quotas(cluster, res, obj):
    """Keep status.used of the namespace's quotas current after a pod or claim was written or removed."""
    if res.plural in quota.USAGE:
        quota_res = cluster.res("resourcequotas")
        for item in cluster.store.items(quota_res, obj["metadata"]["namespace"]):
            reconcile_quota(cluster, quota_res, item)


def finalize_namespace(cluster, name):
    ns_res = cluster.res("namespaces")
    ns = cluster.store.get(ns_res, None, name)
    if ns is not None and not cluster.store.in_namespace(name):
        cluster.store.remove(ns_res, ns)
