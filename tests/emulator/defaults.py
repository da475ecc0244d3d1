"""The server-side defaults that clients read back (rollout strategies, job limits, ...).

helm's readiness checks dereference some of them (a Job's backoffLimit), kubectl's rollout
status reads the update strategies.
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
