"""Updates and deletion: fields the API keeps, and what controllers finish when objects terminate or go."""
import copy

from .. import errors
from .namespaces import finalize_namespace, recount_quotas
from .openshift import admit_routes
from .storage import PV_PROTECTION, drop_finalizer, release_protected_claims, release_volume
from .tokens import delete_tokens

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
    recount_quotas(cluster, res, obj)  # a pod being deleted no longer counts
    if res.plural == "namespaces":
        name = obj["metadata"]["name"]
        body = copy.deepcopy(obj)
        body["status"] = {"phase": "Terminating"}
        cluster.system_put(res, body)
        for (group, plural, _namespace, obj_name), _obj in cluster.store.in_namespace(name):
            if cluster.store.get(cluster.res(plural, group), name, obj_name) is not None:
                cluster.delete(cluster.res(plural, group), name, obj_name)
        finalize_namespace(cluster, name)
    elif res.plural == "persistentvolumeclaims":
        release_protected_claims(cluster, obj["metadata"]["namespace"])
    elif res.plural == "persistentvolumes" and obj.get("status", {}).get("phase") != "Bound":
        drop_finalizer(cluster, res, obj, PV_PROTECTION)


def removed(cluster, res, obj):
    namespace = obj["metadata"].get("namespace")
    recount_quotas(cluster, res, obj)
    if res.plural == "pods":
        release_protected_claims(cluster, namespace)
    elif res.plural == "persistentvolumeclaims":
        release_volume(cluster, obj)
    elif res.plural == "serviceaccounts":
        delete_tokens(cluster, obj)
    elif res.plural == "routes":
        admit_routes(cluster, res, obj["spec"].get("host"))  # the router re-evaluates the host's other claims
    if namespace:
        ns = cluster.store.get(cluster.res("namespaces"), None, namespace)
        if ns and ns["metadata"].get("deletionTimestamp"):
            finalize_namespace(cluster, namespace)
