# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks that mirror the Kubernetes API server's, run before the first write."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from decimal import Decimal, InvalidOperation

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_QUANTITY = re.compile(r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$")
_MULTIPLIERS = {
    None: 1, "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "k": 10 ** 3, "M": 10 ** 6,
    "G": 10 ** 9, "T": 10 ** 12, "P": 10 ** 15, "E": 10 ** 18, "Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30,
    "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60,
}


def dns_label_error(name):
    """Why `name` cannot name a namespace, or None."""
    if not name:
        return "must not be empty"
    if len(name) > 63:
        return "is %d characters long, at most 63 are allowed" % len(name)
    if not DNS1123_LABEL.match(name):
        return "must be a DNS-1123 label: lower case letters, digits and '-', starting and ending with a letter or digit"
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


def quantity_map_errors(amounts, where):
    """Messages for each malformed quantity in a {resource: quantity} map."""
    if not isinstance(amounts, dict):
        return ["%s must be a mapping of resource name to quantity" % where]
    errors = []
    for resource, amount in amounts.items():
        try:
            quantity(amount)
        except ValueError as exc:
            errors.append("%s.%s: %s" % (where, resource, exc))
    return errors


def same_quantities(first, second):
    """Whether two {resource: quantity} maps mean the same amounts (the server rewrites '1024Mi' as '1Gi')."""
    first, second = first or {}, second or {}
    if set(first) != set(second):
        return False
    return all(quantity(first[key]) == quantity(second[key]) for key in first)


def label_errors(labels, where):
    errors = []
    for key, value in (labels or {}).items():
        prefix, _slash, name = str(key).rpartition("/")
        if not name or len(name) > 63 or not LABEL_VALUE.match(name) or (
                prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix))):
            errors.append("%s: %r is not a valid label key" % (where, key))
        if not isinstance(value, str) or len(value) > 63 or not LABEL_VALUE.match(value):
            errors.append("%s: the value %r of label %r is not a valid label value" % (where, value, key))
    return errors
