"""The server-side defaults that clients read back (rollout strategies, job limits, ...).

helm's readiness checks dereference some of them (a Job's backoffLimit), kubectl's rollout
status reads the update strategies. A container's limits stand for its missing requests, and
LimitRange defaults fill in what a new pod's containers leave unset (the LimitRanger admission
plugin), both before quota admission counts the pod.
"""
import copy

SPEC_DEFAULTS = {
    "deployments": {"replicas": 1, "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
                    "strategy": {"type": "RollingUpdate",
                                 "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}},
    "statefulsets": {"replicas": 1, "podManagementPolicy": "OrderedReady", "revisionHistoryLimit": 10,
                     "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}},
    "daemonsets": {"revisionHistoryLimit": 10,
                   "updateStrategy": {"type": "RollingUpdate",
                                      "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}},
    "replicasets": {"replicas": 1},
    "jobs": {"backoffLimit": 6, "completions": 1, "parallelism": 1, "completionMode": "NonIndexed",
             "suspend": False},
    "cronjobs": {"concurrencyPolicy": "Allow", "suspend": False, "successfulJobsHistoryLimit": 3,
                 "failedJobsHistoryLimit": 1},
}


def apply(res, obj):
    """Fill in the defaults of `obj`'s spec in place, as the server does on every write."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    for key, value in SPEC_DEFAULTS.get(res.plural, {}).items():
        spec.setdefault(key, copy.deepcopy(value))
    if res.plural == "limitranges":
        for item in spec.get("limits") or []:
            _default_container_limits(item)
    if res.plural == "pods":
        for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
            resources = container.get("resources") if isinstance(container, dict) else None
            if isinstance(resources, dict) and isinstance(resources.get("limits"), dict) and resources["limits"]:
                resources["requests"] = {**resources["limits"], **(resources.get("requests") or {})}


def apply_limit_ranges(pod, limit_ranges):
    """Give a new pod's containers the default limits and requests of the namespace's LimitRanges, and say so
    in the `kubernetes.io/limit-ranger` annotation."""
    spec = pod.get("spec") or {}
    for limit_range in limit_ranges:
        defaults = {"limits": {}, "requests": {}}
        for item in (limit_range.get("spec") or {}).get("limits") or []:
            if item.get("type") == "Container":
                defaults["limits"].update(item.get("default") or {})
                defaults["requests"].update(item.get("defaultRequest") or {})
        notes = []
        for kind, key in (("container", "containers"), ("init container", "initContainers")):
            for container in [c for c in spec.get(key) or [] if isinstance(c, dict)]:
                for field, word in (("requests", "request"), ("limits", "limit")):
                    present = (container.get("resources") or {}).get(field) or {}
                    added = sorted(set(defaults[field]) - set(present))
                    if added:
                        amounts = {**present, **{resource: defaults[field][resource] for resource in added}}
                        container["resources"] = {**(container.get("resources") or {}), field: amounts}
                        notes.append(f"{', '.join(added)} {word} for {kind} {container.get('name', '')}")
        if notes:
            pod["metadata"].setdefault("annotations", {})["kubernetes.io/limit-ranger"] = \
                "LimitRanger plugin set: " + "; ".join(notes)


def _default_container_limits(item):
    """A container limit's default comes from max, its defaultRequest from default, then min."""
    if not isinstance(item, dict) or item.get("type") != "Container":
        return
    default = item.setdefault("default", {})
    request = item.setdefault("defaultRequest", {})
    for source, target in ((item.get("max"), default), (default, request), (item.get("min"), request)):
        for resource, amount in (source or {}).items():
            target.setdefault(resource, amount)
    for field in ("default", "defaultRequest"):
        if not item[field]:
            del item[field]  # an empty map is omitted, as in the server's JSON
