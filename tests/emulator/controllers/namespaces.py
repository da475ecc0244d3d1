"""Namespaces: active with their default objects, quota status, and gone once empty."""
import copy


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
        "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\nemulator\n-----END CERTIFICATE-----\n"}})


def reconcile_quota(cluster, res, quota):
    hard = dict(quota.get("spec", {}).get("hard", {}))
    used = {key: quota.get("status", {}).get("used", {}).get(key, "0") for key in hard}
    cluster.set_status(res, quota, {"hard": hard, "used": used})


def finalize_namespace(cluster, name):
    ns_res = cluster.res("namespaces")
    ns = cluster.store.get(ns_res, None, name)
    if ns is not None and not cluster.store.in_namespace(name):
        cluster.store.remove(ns_res, ns)
