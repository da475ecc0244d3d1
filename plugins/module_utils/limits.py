# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Container limits as our options spell them ({default, default_request, max, min}) and as a LimitRange
item stores them, filled in as the API server fills them, so that both validate and compare alike.

Used by user_project (per-user projects) and, through the filter container_limit_range, by the quotas role.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import validation

# Option key: LimitRange field.
LIMIT_KEYS = {"default": "default", "default_request": "defaultRequest", "max": "max", "min": "min"}


def quantities(amounts):
    """{resource: quantity} with every quantity as text (YAML may hand us 2 for "2")."""
    return dict((key, str(value)) for key, value in amounts.items())


def with_server_defaults(limit):
    """Fill a container limit as the API server will (default from max, defaultRequest from default,
    then min), so that what we compare is what the server stores."""
    for source, target in (("max", "default"), ("default", "defaultRequest"), ("min", "defaultRequest")):
        for resource, amount in limit.get(source, {}).items():
            limit.setdefault(target, {}).setdefault(resource, amount)
    return limit


def container_limit(limits):
    """The LimitRange item for `limits` (option names), as the server will store it."""
    limit = {"type": "Container"}
    for key, field in LIMIT_KEYS.items():
        if limits.get(key):
            limit[field] = quantities(limits[key])
    return with_server_defaults(limit)


def container_limit_errors(limits, where):
    """Messages for `limits` (option names): unknown keys, malformed amounts, and the API server's ordering rules."""
    if not isinstance(limits, dict):
        return ["%s must be a mapping with keys %s" % (where, ", ".join(LIMIT_KEYS))]
    errors = ["%s: unknown key %r (allowed: %s)" % (where, key, ", ".join(LIMIT_KEYS))
              for key in limits if key not in LIMIT_KEYS]
    errors.extend("%s.%s must be a mapping of resource name to quantity" % (where, key)
                  for key in LIMIT_KEYS if limits.get(key) is not None and not isinstance(limits[key], dict))
    if errors:
        return errors
    return validation.limit_range_item_errors(container_limit(limits), where)
