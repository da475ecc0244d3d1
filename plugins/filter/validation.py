# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The API server's rules for role variables (module_utils/validation.py), so that roles check their
input before the first write with the same code as the modules, never with copies in Jinja."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import builds, limits, validation

_FILE_MODE = re.compile(r"^(0?[0-7]{3}|0?[1-7][0-7]{3})\Z")
_PEM = re.compile(r"\A\s*-----BEGIN [A-Z0-9 ]+-----\n.+\n-----END [A-Z0-9 ]+-----\s*\Z", re.S)


def _one(check):
    """A rule from a function that returns one problem or None; the message names the variable and value."""
    def rule(value, where):
        problem = check(value)
        return ["%s: %r %s" % (where, value, problem)] if problem else []
    return rule


def _absolute_path_error(path):
    if not isinstance(path, str) or not path.startswith("/"):
        return "must be an absolute path"
    if ".." in path.split("/") or re.search(r"\s", path):
        return "must not contain '..' path elements or whitespace"
    return None


def _file_mode_error(mode):
    if not isinstance(mode, str) or not _FILE_MODE.match(mode):
        return "must be an octal file mode in quotes, such as '0775' or '2775'"
    return None


def _host_error(host):
    """An NFS server or similar: a DNS name or an IP address."""
    if not isinstance(host, str):
        return "must be a string, not %r" % (host,)
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        return validation.dns_subdomain_error(host)


def _port_name_error(name):
    """A service port's name (IANA_SVC_NAME): at most 15 characters, a letter among them."""
    if not isinstance(name, str) or not re.match(r"^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?\Z", name) \
            or "--" in name or not re.search("[a-z]", name):
        return ("must be a port name: at most 15 lower case letters, digits and '-', with a letter, "
                "no '--', starting and ending with a letter or digit")
    return None


def _pem_errors(value, where):
    # Never echo the value: it may be a private key.
    if isinstance(value, str) and _PEM.match(value):
        return []
    return ["%s: must be PEM text (-----BEGIN ...----- to -----END ...-----); its value is not shown" % where]


def _resources_errors(value, where):
    """A container's resources: {requests: {resource: quantity}, limits: {...}}."""
    if not isinstance(value, dict):
        return ["%s must be a mapping with keys requests and limits" % where]
    errors = ["%s: unknown key %r (allowed: requests, limits)" % (where, key)
              for key in value if key not in ("requests", "limits")]
    for field in ("requests", "limits"):
        amounts = value.get(field) or {}
        if not isinstance(amounts, dict):
            errors.append("%s.%s must be a mapping of resource name to quantity" % (where, field))
            continue
        for resource in sorted(amounts, key=str):
            for problem in (validation.container_resource_name_error(resource),
                            validation.quantity_value_error(resource, amounts[resource])):
                if problem:
                    errors.append("%s.%s.%s: %s" % (where, field, resource, problem))
    return errors


def _quantity_rule(resource):
    """One amount of `resource` (whole numbers for object counts such as pods)."""
    def rule(value, where):
        problem = validation.quantity_value_error(resource, value)
        return ["%s: %s" % (where, problem)] if problem else []
    return rule


RULES = {
    "dns_label": _one(validation.dns_label_error),
    "dns_subdomain": _one(validation.dns_subdomain_error),
    "label_value": _one(validation.label_value_error),
    "labels": validation.label_errors,
    "annotations": validation.annotation_errors,
    "quota": validation.quota_errors,
    "container_limits": limits.container_limit_errors,
    "resources": _resources_errors,
    "http_url": _one(validation.http_url_error),
    "build_images": builds.image_errors,
    "subpath": _one(validation.subpath_error),
    "absolute_path": _one(_absolute_path_error),
    "file_mode": _one(_file_mode_error),
    "host": _one(_host_error),
    "port_name": _one(_port_name_error),
    "pem": _pem_errors,
}


def validation_errors(value, rule, where):
    """The problems of `value` under `rule`, each message starting with `where` (the variable's name)."""
    if rule.startswith("quantity:"):
        return _quantity_rule(rule[len("quantity:"):])(value, where)
    if rule not in RULES:
        raise AnsibleFilterError("validation_errors: unknown rule %r (known: %s, quantity:<resource>)" % (
            rule, ", ".join(sorted(RULES))))
    return RULES[rule](value, where)


def container_limit_range(value):
    """The LimitRange item (API field names, the server's defaults filled in) for container limits
    spelled as our variables spell them: {default, default_request, max, min}."""
    errors = limits.container_limit_errors(value, "container limits")
    if errors:
        raise AnsibleFilterError("; ".join(errors))
    return limits.container_limit(value)


class FilterModule:
    def filters(self):
        return {"validation_errors": validation_errors, "container_limit_range": container_limit_range}
