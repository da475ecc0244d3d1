"""ResourceQuota for pods and claims: what each uses, the admission check of a create, and status.used.

As the API server's quota admission and the quota controller do, for quotas without scopes: the
object counts, compute requests and limits of pods that have not finished, claimed storage (also
per storage class) and extended resources (`requests.nvidia.com/gpu`). A quota on cpu or memory
requires every container of a new pod to set it.
"""
from . import errors, quantity

TERMINAL_PHASES = ("Succeeded", "Failed")
COMPUTE = ("cpu", "memory", "ephemeral-storage")
POD_RESOURCES = {"pods", "count/pods", *COMPUTE, *(f"requests.{name}" for name in COMPUTE),
                 *(f"limits.{name}" for name in COMPUTE)}
# Every container must set these when a quota covers them (a rule the API keeps for compatibility).
MUST_SPECIFY = {"cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"}
CLAIM_RESOURCES = ("persistentvolumeclaims", "requests.storage")
BY_STORAGE_CLASS = ".storageclass.storage.k8s.io/"


def _extended(name):
    """An extended resource a container may request, like nvidia.com/gpu."""
    return "/" in name and "kubernetes.io/" not in name and not name.startswith("requests.")


def tracks(plural, name):
    """Whether quota resource `name` counts objects of kind `plural`."""
    if plural == "pods":
        return name in POD_RESOURCES or (name.startswith("requests.") and _extended(name[len("requests."):]))
    if plural == "persistentvolumeclaims":
        return name == "count/persistentvolumeclaims" or name in CLAIM_RESOURCES or \
            any(name.endswith(BY_STORAGE_CLASS + resource) for resource in CLAIM_RESOURCES)
    return False


def _compute(requests, limits):
    """The quota resources that requests and limits (resource name to amount) amount to."""
    usage = {}
    for name in COMPUTE:
        if name in requests:
            usage[name] = usage[f"requests.{name}"] = requests[name]
        if name in limits:
            usage[f"limits.{name}"] = limits[name]
    usage.update({f"requests.{name}": amount for name, amount in requests.items() if _extended(name)})
    return usage


def _amounts(amounts):
    return {name: quantity.parse(amount) for name, amount in (amounts or {}).items()}


def _resources(container, field):
    return _amounts((container.get("resources") or {}).get(field))


def _pod_total(spec, field):
    """The sum over the containers; an init container runs alone, so it counts only when larger."""
    total = {}
    for container in spec.get("containers") or []:
        for name, amount in _resources(container, field).items():
            total[name] = total.get(name, quantity.ZERO) + amount
    for container in spec.get("initContainers") or []:
        for name, amount in _resources(container, field).items():
            if amount.amount > total.get(name, quantity.ZERO).amount:
                total[name] = amount
    return total


def pod_usage(pod):
    usage = {"count/pods": quantity.ONE}
    # Finished, or deleted (the emulator gives no grace period): only the object count remains.
    if (pod.get("status") or {}).get("phase") in TERMINAL_PHASES or pod["metadata"].get("deletionTimestamp"):
        return usage
    spec = pod.get("spec") or {}
    return {**usage, "pods": quantity.ONE, **_compute(_pod_total(spec, "requests"), _pod_total(spec, "limits"))}


def claim_usage(pvc):
    spec = pvc.get("spec") or {}
    usage = {"count/persistentvolumeclaims": quantity.ONE, "persistentvolumeclaims": quantity.ONE}
    storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
    if storage is not None:
        usage["requests.storage"] = quantity.parse(storage)
    if spec.get("storageClassName"):
        for name in CLAIM_RESOURCES:
            if name in usage:
                usage[spec["storageClassName"] + BY_STORAGE_CLASS + name] = usage[name]
    return usage


USAGE = {"pods": pod_usage, "persistentvolumeclaims": claim_usage}


def _scoped(quota):
    spec = quota.get("spec") or {}
    return bool(spec.get("scopes") or spec.get("scopeSelector"))


def _enforced(cluster, namespace):
    """The quotas of a namespace that the emulator keeps: those without scopes or a scope selector."""
    return [q for q in cluster.store.items(cluster.res("resourcequotas"), namespace) if not _scoped(q)]


def status(cluster, quota):
    """status.hard and status.used of a quota, counted from what its namespace holds."""
    hard = (quota.get("spec") or {}).get("hard") or {}
    used = dict.fromkeys(hard, quantity.ZERO)
    for plural, usage_of in ({} if _scoped(quota) else USAGE).items():
        names = [name for name in hard if tracks(plural, name)]
        if not names:
            continue
        for obj in cluster.store.items(cluster.res(plural), quota["metadata"]["namespace"]):
            usage = usage_of(obj)
            for name in names:
                used[name] = used[name] + usage.get(name, quantity.ZERO)
    return {"hard": {name: str(amount) for name, amount in _amounts(hard).items()},
            "used": {name: str(amount) for name, amount in used.items()}}


def _missing(pod, required):
    """'limits.memory for: a,b; requests.cpu for: b': what containers leave unset of what a quota requires."""
    missing = {}
    spec = pod.get("spec") or {}
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        covered = _compute(_resources(container, "requests"), _resources(container, "limits"))
        for name in required - set(covered):
            missing.setdefault(name, set()).add(container.get("name", ""))
    return "; ".join(f"{name} for: {','.join(sorted(containers))}" for name, containers in sorted(missing.items()))


def _listed(amounts, names):
    return ",".join(f"{name}={amounts[name]}" for name in sorted(names) if name in amounts)


def check(cluster, res, obj):
    """Refuse a create as quota admission does (403): a required resource left unset, or a quota exceeded."""
    if res.plural not in USAGE:
        return
    name = obj["metadata"]["name"]
    quotas = []
    for quota in _enforced(cluster, obj["metadata"]["namespace"]):
        hard = (quota.get("status") or {}).get("hard") or {}
        covered = {resource for resource in hard if tracks(res.plural, resource)}
        if not covered:
            continue
        missing = _missing(obj, covered & MUST_SPECIFY) if res.plural == "pods" else ""
        if missing:
            raise errors.forbidden_object(res, name, f"failed quota: {quota['metadata']['name']}: must specify "
                                                     f"{missing}")
        quotas.append(quota)
    usage = {resource: amount for resource, amount in USAGE[res.plural](obj).items() if amount.amount}
    for quota in quotas:
        hard, used = _amounts(quota["status"].get("hard")), _amounts(quota["status"].get("used"))
        requested = {resource: amount for resource, amount in usage.items() if resource in hard}
        exceeded = [resource for resource, amount in requested.items()
                    if (used.get(resource, quantity.ZERO) + amount).amount > hard[resource].amount]
        if exceeded:
            raise errors.forbidden_object(res, name, f"exceeded quota: {quota['metadata']['name']}, "
                                                     f"requested: {_listed(requested, exceeded)}, "
                                                     f"used: {_listed(used, exceeded)}, "
                                                     f"limited: {_listed(hard, exceeded)}")
