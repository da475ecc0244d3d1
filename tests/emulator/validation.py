"""The subset of API server validation that callers of a real cluster run into."""
import re

from . import quantity
from .errors import ApiError, invalid

TOKEN_TYPE = "kubernetes.io/service-account-token"
ACCOUNT_NAME = "kubernetes.io/service-account.name"

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
QUANTITY_MESSAGE = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"

LABEL_NAMED = {"namespaces", "services"}
PATH_SEGMENT_NAMED = {"roles", "rolebindings", "clusterroles", "clusterrolebindings"}
# Maps of resource name to quantity, by the field that holds them.
QUANTITY_MAPS = {"hard", "requests", "limits", "capacity", "default", "defaultRequest", "max", "min",
                 "maxLimitRequestRatio"}
# Fields without which the server refuses an object (and our controllers could not work).
WORKLOAD = ("spec.selector", "spec.template")
REQUIRED = {
    "pods": ("spec.containers",), "deployments": WORKLOAD, "statefulsets": WORKLOAD, "daemonsets": WORKLOAD,
    "replicasets": WORKLOAD, "jobs": ("spec.template",), "cronjobs": ("spec.schedule", "spec.jobTemplate"),
    "persistentvolumeclaims": ("spec.accessModes", "spec.resources.requests.storage"),
    "persistentvolumes": ("spec.capacity", "spec.accessModes"), "routes": ("spec.to",),
    "buildconfigs": ("spec.strategy",), "volumesnapshots": ("spec.source",),
}
LABEL_MESSAGE = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
                 "and must start and end with an alphanumeric character")


def check_name(res, name):
    if res.plural in PATH_SEGMENT_NAMED:
        if name in (".", "..") or "/" in name or "%" in name:
            return [("metadata.name", f'Invalid value: "{name}": may not contain \'/\' or \'%\'')]
        return []
    if res.plural in LABEL_NAMED:
        if len(name) > 63 or not DNS1123_LABEL.match(name):
            return [("metadata.name", f'Invalid value: "{name}": a lowercase RFC 1123 label must consist of '
                                      "lower case alphanumeric characters or '-', and must start and end with an "
                                      "alphanumeric character")]
        return []
    if len(name) > 253 or not DNS1123_SUBDOMAIN.match(name):
        return [("metadata.name", f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of '
                                  "lower case alphanumeric characters, '-' or '.', and must start and end with an "
                                  "alphanumeric character")]
    return []


def check_required(res, obj):
    causes = []
    for path in REQUIRED.get(res.plural, ()):
        value = obj
        for key in path.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        if not value:
            causes.append((path, "Required value"))
    return causes


def check_labels(labels):
    causes = []
    for key, value in (labels or {}).items():
        prefix, _slash, name = key.rpartition("/")
        if not name or len(name) > 63 or not LABEL_NAME.match(name) or \
                (prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix))):
            causes.append(("metadata.labels",
                           f'Invalid value: "{key}": name part must consist of alphanumeric characters, '
                           "'-', '_' or '.'"))
        if not isinstance(value, str) or len(value) > 63 or not LABEL_VALUE.match(value):
            causes.append(("metadata.labels", f'Invalid value: "{value}": {LABEL_MESSAGE}'))
    return causes


def _is_quantity(amount):
    if isinstance(amount, bool) or not isinstance(amount, (str, int, float)):
        return False
    try:
        quantity.parse(amount)
    except ValueError:
        return False
    return True


def check_quantities(res, obj):
    """Raise 400 like the server's decoder does for a malformed quantity anywhere in the spec."""
    stack = [obj]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            if key in QUANTITY_MAPS and isinstance(value, dict):
                for amount in value.values():
                    if not _is_quantity(amount):
                        raise ApiError(400, f'{res.kind} in version "{res.version}" cannot be handled as a '
                                            f"{res.kind}: {QUANTITY_MESSAGE}")
            else:
                stack.append(value)


def validate(res, obj):
    meta = obj.get("metadata") or {}
    name = meta.get("name", "")
    check_quantities(res, obj.get("spec"))
    causes = check_name(res, name) + check_labels(meta.get("labels")) + check_required(res, obj)
    for key, value in (meta.get("annotations") or {}).items():
        if not isinstance(value, str):
            causes.append(("metadata.annotations", f'Invalid value: "{key}": annotation values must be strings'))
    # A ServiceAccount token Secret names its account; the token controller fills in the rest.
    if res.plural == "secrets" and obj.get("type") == TOKEN_TYPE and \
            not (meta.get("annotations") or {}).get(ACCOUNT_NAME):
        causes.append((f"metadata.annotations[{ACCOUNT_NAME}]", "Required value"))
    if causes:
        raise invalid(res, name, causes)
