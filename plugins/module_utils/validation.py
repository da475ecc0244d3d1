# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks that mirror the Kubernetes API server's, run before the first write.

Every ``*_error`` function returns None when the value is fine, else a message saying what is wrong;
every ``*_errors`` function returns a list of messages, each starting with its ``where``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import string
from decimal import ROUND_UP, Decimal, InvalidOperation

from ansible.module_utils.six.moves.urllib.parse import urlparse

# \Z, not $: Python's $ also matches before a trailing newline, which the API server refuses.
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?\Z")
_QUANTITY = re.compile(r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?\Z")
_MULTIPLIERS = {
    None: 1, "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "k": 10 ** 3, "M": 10 ** 6,
    "G": 10 ** 9, "T": 10 ** 12, "P": 10 ** 15, "E": 10 ** 18, "Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30,
    "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60,
}

# The resource names the API server knows without a domain prefix (pkg/apis/core/helper), in the
# order messages list them.
_COMPUTE = ("cpu", "memory", "ephemeral-storage")
_OBJECT_COUNTS = ("pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
                  "persistentvolumeclaims", "services.nodeports", "services.loadbalancers")
_REQUESTS_AND_LIMITS = ("requests.cpu", "requests.memory", "requests.storage", "requests.ephemeral-storage",
                        "limits.cpu", "limits.memory", "limits.ephemeral-storage")
_QUOTA_ORDER = _COMPUTE + _REQUESTS_AND_LIMITS + _OBJECT_COUNTS
_STANDARD_ORDER = _COMPUTE + ("storage",) + _REQUESTS_AND_LIMITS + _OBJECT_COUNTS
QUOTA_RESOURCES = frozenset(_QUOTA_ORDER)
STANDARD_RESOURCES = frozenset(_STANDARD_ORDER)
CONTAINER_RESOURCES = frozenset(_COMPUTE)
INTEGER_RESOURCES = frozenset(_OBJECT_COUNTS)
_HUGEPAGES = ("hugepages-", "requests.hugepages-")

# A container LimitRange item's fields, in the order their problems are reported.
LIMIT_FIELDS = ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio")
# (smaller, larger): the API server refuses an item where the first exceeds the second.
LIMIT_ORDER = (("min", "max"), ("min", "defaultRequest"), ("defaultRequest", "max"),
               ("defaultRequest", "default"), ("min", "default"), ("default", "max"))


def dns_label_error(name):
    """Why `name` cannot name a namespace, or None."""
    if not name:
        return "must not be empty"
    if len(name) > 63:
        return "is %d characters long, at most 63 are allowed" % len(name)
    if not DNS1123_LABEL.match(name):
        return "must be a DNS-1123 label: lower case letters, digits and '-', starting and ending with a letter or digit"
    return None


def dns_subdomain_error(name):
    """Why `name` is not a DNS-1123 subdomain (what most object names must be), or None."""
    if not isinstance(name, str):
        return "must be a string, not %r" % (name,)
    if not name:
        return "must not be empty"
    if len(name) > 253:
        return "is %d characters long, at most 253 are allowed" % len(name)
    if not DNS1123_SUBDOMAIN.match(name):
        return ("must be a DNS-1123 subdomain: lower case letters, digits, '-' and '.', "
                "starting and ending with a letter or digit")
    return None


def label_value_error(value):
    """Why `value` cannot be a label value (the empty string can), or None."""
    if not isinstance(value, str):
        return "must be a string, not %r" % (value,)
    if len(value) > 63:
        return "is %d characters long, at most 63 are allowed" % len(value)
    if not LABEL_VALUE.match(value):
        return ("must consist of letters, digits, '-', '_' or '.', "
                "starting and ending with a letter or digit")
    return None


def qualified_name_error(name):
    """Why `name` is not a qualified name ``[prefix/]name``, the prefix a DNS-1123 subdomain, or None."""
    if not isinstance(name, str):
        return "must be a string, not %r" % (name,)
    parts = name.split("/")
    if len(parts) > 2:
        return "must contain at most one '/' (an optional DNS subdomain prefix, as in example.com/name)"
    if len(parts) == 2:
        if not parts[0]:
            return "the prefix before '/' must not be empty"
        problem = dns_subdomain_error(parts[0])
        if problem:
            return "the prefix %r %s" % (parts[0], problem)
    local = parts[-1]
    if not local:
        return "the name part must not be empty"
    problem = label_value_error(local)
    if problem:
        return "the name part %r %s" % (local, problem)
    return None


def label_key_error(key):
    """Why `key` cannot be a label key, or None (the rule of qualified_name_error)."""
    return qualified_name_error(key)


def label_errors(labels, where):
    """Messages for each invalid key or value of a {key: value} label map."""
    if not isinstance(labels or {}, dict):
        return ["%s must be a mapping of label key to value" % where]
    errors = []
    for key, value in (labels or {}).items():
        if label_key_error(str(key)):
            errors.append("%s: %r is not a valid label key" % (where, key))
        if label_value_error(value):
            errors.append("%s: the value %r of label %r is not a valid label value" % (where, value, key))
    return errors


def annotation_errors(annotations, where):
    """Messages for each invalid key (the label key rule) or non-string value of an annotation map."""
    if not isinstance(annotations or {}, dict):
        return ["%s must be a mapping of annotation key to value" % where]
    errors = []
    for key, value in (annotations or {}).items():
        if label_key_error(str(key)):
            errors.append("%s: %r is not a valid annotation key" % (where, key))
        if not isinstance(value, str):
            errors.append("%s: the value of annotation %r must be a string, not %r" % (where, key, value))
    return errors


def _is_hugepages(name):
    return name.startswith(_HUGEPAGES)


def is_native_resource(name):
    """Whether `name` is in the kubernetes.io namespace (as names without a prefix are)."""
    return "/" not in name or "kubernetes.io/" in name


def is_extended_resource(name):
    """Whether `name` is an extended resource such as example.com/gpu (counted in whole units)."""
    return (not is_native_resource(name) and not name.startswith("requests.")
            and qualified_name_error("requests." + name) is None)


def is_integer_resource(name):
    """Whether amounts of resource `name` must be whole numbers."""
    return name in INTEGER_RESOURCES or is_extended_resource(name)


def _standard_names(names):
    return ", ".join(names + ("hugepages-<size>", "requests.hugepages-<size>"))


def resource_name_error(name):
    """Why `name` is not a resource name (validateResourceName), or None."""
    problem = qualified_name_error(name)
    if problem:
        return problem
    if "/" not in name and name not in STANDARD_RESOURCES and not _is_hugepages(name):
        return "must be a standard resource name (%s) or fully qualified (example.com/gpu)" % \
            _standard_names(_STANDARD_ORDER)
    return None


def container_resource_name_error(name):
    """Why `name` cannot be a key of a Container or Pod LimitRange item (validateContainerResourceName), or None."""
    problem = qualified_name_error(name)
    if problem:
        return problem
    # The container names are standard resource names too: one message says what is allowed.
    if "/" not in name and name not in CONTAINER_RESOURCES and not name.startswith("hugepages-"):
        return ("must be a standard resource for containers (cpu, memory, ephemeral-storage, hugepages-<size>) "
                "or an extended resource (example.com/gpu)")
    if not is_native_resource(name) and not is_extended_resource(name):
        return "is not an extended resource name: it must not start with 'requests.' (as in example.com/gpu)"
    return None


def quota_resource_name_error(name):
    """Why `name` cannot be a key of a ResourceQuota's spec.hard (validateResourceQuotaResourceName), or None."""
    problem = qualified_name_error(name)
    if problem:
        return problem
    if "/" not in name and name not in QUOTA_RESOURCES and not _is_hugepages(name):
        return ("must be a standard resource for quota (%s) or fully qualified (count/pods, "
                "requests.example.com/gpu)" % _standard_names(_QUOTA_ORDER))
    return None


def quantity(value):
    """The Decimal amount of a Kubernetes quantity such as '2Gi' or '500m'; ValueError if malformed."""
    if isinstance(value, bool):
        raise ValueError("%r is not a quantity" % (value,))
    text = str(value)
    match = _QUANTITY.match(text)
    if not match:
        raise ValueError("%r is not a Kubernetes quantity (examples: 500m, 2, 1.5Gi, 10G)" % (text,))
    try:
        number = Decimal(match.group(1))
    except InvalidOperation:
        raise ValueError("%r is not a Kubernetes quantity" % (text,))
    suffix = match.group(2)
    if suffix and suffix[0] in "eE" and len(suffix) > 1:
        return number * Decimal(10) ** int(suffix[1:])
    return number * _MULTIPLIERS[suffix]


def _milli(amount):
    """The amount in thousandths, rounded up as the API server's MilliValue() does."""
    return (amount * 1000).to_integral_value(rounding=ROUND_UP)


def quantity_value_error(resource, value):
    """Why `value` is not an amount of `resource` the API server accepts (ValidateResourceQuantityValue), or None."""
    try:
        amount = quantity(value)
    except ValueError as exc:
        return str(exc)
    if amount < 0:
        return "%r must be greater than or equal to 0" % (str(value),)
    if is_integer_resource(str(resource)) and _milli(amount) % 1000:
        return "%r must be an integer: %s is counted in whole units" % (str(value), resource)
    return None


def quota_errors(hard, where):
    """Messages for a ResourceQuota's spec.hard: every key a quota resource name, every value an amount of it."""
    if not isinstance(hard, dict):
        return ["%s must be a mapping of resource name to quantity" % where]
    errors = []
    for resource in sorted(hard, key=str):
        for problem in (quota_resource_name_error(resource), quantity_value_error(resource, hard[resource])):
            if problem:
                errors.append("%s.%s: %s" % (where, resource, problem))
    return errors


def same_quantities(first, second):
    """Whether two {resource: quantity} maps mean the same amounts (the server rewrites '1024Mi' as '1Gi')."""
    first, second = first or {}, second or {}
    if set(first) != set(second):
        return False
    return all(quantity(first[key]) == quantity(second[key]) for key in first)


def _limit_amounts(item, where, errors):
    """{field: {resource: amount}} of a LimitRange item's well-formed values; problems go to `errors`."""
    amounts, named, reported = {}, set(), set()
    for field in LIMIT_FIELDS:
        values = item.get(field) or {}
        if not isinstance(values, dict):
            errors.append("%s.%s must be a mapping of resource name to quantity" % (where, field))
            continue
        amounts[field] = {}
        for resource in sorted(values, key=str):
            value, path = values[resource], "%s.%s.%s" % (where, field, resource)
            problem = container_resource_name_error(resource)
            if problem and resource not in named:
                errors.append("%s: %s" % (path, problem))
            named.add(resource)
            ratio = field == "maxLimitRequestRatio"
            problem = _ratio_error(value) if ratio else quantity_value_error(resource, value)
            # The caller copies max into default and so on: report a shared value once, where it comes first.
            if problem and (ratio, resource, str(value)) not in reported:
                errors.append("%s: %s" % (path, problem))
            reported.add((ratio, resource, str(value)))
            amount = _amount(value)
            if amount is not None and isinstance(resource, str):
                amounts[field][resource] = amount
    return amounts


def _amount(value):
    """The amount of a quantity, or None if it is malformed."""
    try:
        return quantity(value)
    except ValueError:
        return None


def _ratio_error(value):
    try:
        ratio = quantity(value)
    except ValueError as exc:
        return str(exc)
    return "%r is less than 1" % (str(value),) if ratio < 1 else None


def _plain(number):
    """A Decimal as short plain text: 4, 2.5, 3.333."""
    return ("%.3f" % float(number)).rstrip("0").rstrip(".")


def _ratio_bound_error(item, amounts, resource, where):
    """Why maxLimitRequestRatio exceeds max/min for `resource` (in thousandths, as the server compares), or None."""
    ratio = amounts.get("maxLimitRequestRatio", {}).get(resource)
    low, high = amounts.get("min", {}).get(resource), amounts.get("max", {}).get(resource)
    if ratio is None or low is None or high is None or _milli(low) <= 0:
        return None
    bound = _milli(high) / _milli(low)
    if _milli(ratio) / 1000 <= bound:
        return None
    return "%s.maxLimitRequestRatio.%s: %s is greater than max/min = %s (%s.max.%s: %s, %s.min.%s: %s)" % (
        where, resource, item["maxLimitRequestRatio"][resource], _plain(bound),
        where, resource, item["max"][resource], where, resource, item["min"][resource])


def _order_errors(item, amounts, resource, where):
    errors = []
    for smaller, larger in LIMIT_ORDER:
        low, high = amounts.get(smaller, {}).get(resource), amounts.get(larger, {}).get(resource)
        if low is not None and high is not None and low > high:
            errors.append("%s.%s.%s: %s is greater than %s.%s.%s: %s" % (
                where, smaller, resource, item[smaller][resource], where, larger, resource, item[larger][resource]))
    limit, request = amounts.get("default", {}).get(resource), amounts.get("defaultRequest", {}).get(resource)
    overcommit = is_native_resource(resource) and not resource.startswith("hugepages-")
    if not overcommit and limit is not None and request is not None and limit != request:
        errors.append("%s.defaultRequest.%s: %s must equal %s.default.%s: %s, as %s cannot be overcommitted" % (
            where, resource, item["defaultRequest"][resource], where, resource, item["default"][resource], resource))
    return errors


def limit_range_item_errors(item, where):
    """Messages for one Container LimitRange item (API field names, after the API server's defaulting).

    Keys must be container resources, values amounts of them; per resource min <= defaultRequest <=
    default <= max, 1 <= maxLimitRequestRatio <= max/min, and default == defaultRequest for resources
    that cannot be overcommitted (extended resources, hugepages). Quantities compare by amount.
    """
    if not isinstance(item, dict):
        return ["%s must be a mapping with keys %s" % (where, ", ".join(LIMIT_FIELDS))]
    errors = ["%s: unknown field %r (allowed: %s)" % (where, key, ", ".join(LIMIT_FIELDS))
              for key in sorted(item, key=str) if key not in LIMIT_FIELDS and key != "type"]
    amounts = _limit_amounts(item, where, errors)
    resources = set()
    for values in amounts.values():
        resources.update(values)
    for resource in sorted(resources, key=str):
        errors.extend(_order_errors(item, amounts, resource, where))
        problem = _ratio_bound_error(item, amounts, resource, where)
        if problem:
            errors.append(problem)
    return errors


# An image reference as container tools parse it (distribution's reference grammar): an optional registry
# host and port, lower-case path components, an optional tag, an optional digest.
_IMAGE_REFERENCE = re.compile(
    r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
    r"(?::[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,127})?(?:@[a-zA-Z][a-zA-Z0-9]*(?:[-_+.][a-zA-Z][a-zA-Z0-9]*)*:[0-9a-fA-F]{32,})?\Z")
_IMAGE_TAG = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,127}\Z")
# A git branch, tag or commit: no whitespace, none of the characters git refuses in a ref, no leading '-'.
_GIT_REF = re.compile(r"^[^-\s~^:?*\[\\][^\s~^:?*\[\\]*\Z")


def image_reference_error(reference):
    """Why `reference` is not an image reference (quay.io/jupyter/minimal-notebook:2024-05-27), or None."""
    if not isinstance(reference, str) or not _IMAGE_REFERENCE.match(reference):
        return "must be an image reference such as quay.io/jupyter/minimal-notebook:2024-05-27"
    return None


def image_tag_error(tag):
    """Why `tag` is not an image tag, or None."""
    if not isinstance(tag, str) or not _IMAGE_TAG.match(tag):
        return "must be an image tag (letters, digits, _ . -, at most 128, not starting with . or -)"
    return None


def git_ref_error(ref):
    """Why `ref` cannot be a git branch, tag or commit, or None."""
    if not isinstance(ref, str) or not _GIT_REF.match(ref):
        return "must be a git branch, tag or commit (no whitespace, no leading -, none of ~^:?*[\\)"
    return None


def http_url_error(url):
    """Why `url` is not an http(s) URL with a host, or None."""
    hint = "must be an http(s) URL such as https://hub.example.org/hub/api"
    if not isinstance(url, str):
        return "%s, not %r" % (hint, url)
    if re.search(r"\s", url):
        return "%s (%r contains whitespace)" % (hint, url)
    try:
        parsed = urlparse(url)
        host, _port = parsed.hostname, parsed.port
    except ValueError as exc:
        return "%s (%r does not parse: %s)" % (hint, url, exc)
    if parsed.scheme not in ("http", "https"):
        return "%s (%r has %s)" % (hint, url, "the scheme %r" % parsed.scheme if parsed.scheme else "no scheme")
    if not host:
        return "%s (%r has no host)" % (hint, url)
    return None


def subpath_error(path):
    """Why `path` cannot be a subPath on a volume (validateLocalDescendingPath, and not empty), or None."""
    if not isinstance(path, str):
        return "must be a string, not %r" % (path,)
    if not path:
        return "must not be empty"
    if path.startswith("/"):
        return "must be a relative path, not %r" % path
    if ".." in path.split("/"):
        return "must not contain a '..' path element (%r)" % path
    return None


def _template_fields(template):
    """[(field name, conversion)] of a str.format template, nested fields in format specs included."""
    found = []
    for _literal, field, spec, conversion in string.Formatter().parse(template):
        if field is not None:
            found.append((field, conversion))
        if spec:
            found.extend(_template_fields(spec))
    return found


def _field_base(field):
    return re.split(r"[.\[]", field, maxsplit=1)[0]


def template_fields_used(template):
    """The set of field names a str.format template uses ('{username}-{servername}': both); ValueError if malformed."""
    return set(_field_base(field) for field, _conversion in _template_fields(template))


def template_error(template, fields):
    """Why `template` is not a well-formed str.format template that uses only `fields`, or None."""
    if not isinstance(template, str):
        return "must be a string, not %r" % (template,)
    known = list(fields) if isinstance(fields, (list, tuple)) else sorted(fields)
    try:
        used = _template_fields(template)
    except ValueError as exc:
        return "is not a valid template: %s" % exc
    for field, conversion in used:
        base = _field_base(field)
        if not base or base.isdigit():
            return "is not a valid template: %r is a positional field, fields are named (known: %s)" % (
                "{%s}" % field, ", ".join(known))
        if base not in known:
            return "unknown field %r (known: %s)" % (base, ", ".join(known))
        if conversion not in (None, "r", "s", "a"):
            return "is not a valid template: unknown conversion '!%s' in {%s}" % (conversion, field)
    try:
        template.format(**dict((name, "x" * 63) for name in known))
    except (ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
        return "is not a valid template: %s" % exc
    return None
