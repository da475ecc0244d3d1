# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The argument spec of the inventory: a cluster host's variables (playbooks/specs/cluster.yml) and the
items of its `hubs` list, whose options are the entry's own keys (playbooks/specs/hub_entry.yml) and the
main variables of every role site.yml runs, but those site.yml sets for each hub itself.

Read from the collection's files, so the spec and docs/variables.md (scripts/role_docs.py) cannot drift
from the roles."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import difflib
import os
import re

import yaml

COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# How ansible-core's validator reports an unknown key of a sub-option, e.g. "user_projects.foo. Supported ...".
_UNSUPPORTED = re.compile(r"\A(\S+)\. Supported parameters include: (.*?)\.?\Z")

# The roles whose variables a hub entry may set, in the order site.yml runs them.
STAGE_ROLES = ("preflight", "service_account", "quotas", "nfs_home", "image_build", "route", "hub")


def _load(root, *parts):
    with open(os.path.join(root, *parts), encoding="utf-8") as stream:
        return yaml.safe_load(stream)


def role_options(role, root=COLLECTION_ROOT):
    """The options of a role's main entry point, as its meta/argument_specs.yml writes them."""
    return _load(root, "roles", role, "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]


def cluster_options(root=COLLECTION_ROOT):
    """The variables of a cluster host (playbooks/specs/cluster.yml)."""
    return _load(root, "playbooks", "specs", "cluster.yml")["hubfleet_cluster_spec"]["options"]


def hub_entry(root=COLLECTION_ROOT):
    """(options, set_by_site, role_of): what a hub entry may hold, the role variables site.yml sets
    itself (each mapped to the entry key or setting to use instead), and which role each role option
    belongs to. Role options lose `default` and `required`: the role supplies its defaults, and the
    entry need not repeat the fleet's group_vars."""
    entry = _load(root, "playbooks", "specs", "hub_entry.yml")["hubfleet_hub_entry"]
    options = copy.deepcopy(entry["options"])
    set_by_site = entry["set_by_site"]
    role_of = {}
    for role in STAGE_ROLES:
        for name, option in role_options(role, root).items():
            if name in set_by_site:
                continue
            option = {key: value for key, value in option.items() if key not in ("default", "required")}
            options[name] = option
            role_of[name] = role
    return options, set_by_site, role_of


def _key_error(key, options, set_by_site):
    if key in set_by_site:
        return "'%s' is set by site.yml for each hub: use %s" % (key, set_by_site[key])
    close = difflib.get_close_matches(key, list(options), n=1, cutoff=0.75)
    return "unknown key '%s'%s" % (key, " (did you mean '%s'?)" % close[0] if close else "")


def _value_errors(entry, options):
    """The validator's messages for the known keys; those about a no_log option never show its value."""
    # Imported here: ansible is there when the filter runs, and scripts/role_docs.py never calls this.
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
    known = {key: value for key, value in entry.items() if key in options}
    result = ArgumentSpecValidator(options).validate(known)
    secrets = [name for name, option in options.items() if option.get("no_log")]
    messages = []
    for message in result.error_messages:
        unsupported = _UNSUPPORTED.match(message)
        if unsupported:
            messages.append("unknown key '%s' (known: %s)" % unsupported.groups())
            continue
        secret = next((name for name in secrets if "'%s'" % name in message or name + " " in message), None)
        messages.append("'%s' has a value of the wrong type (expected %s)" % (secret, options[secret]["type"])
                        if secret else message)
    return messages


def cluster_errors(variables, where, root=COLLECTION_ROOT):
    """Every problem of a cluster host's variables (its `hubs` list and every `cluster_*` variable), each
    message starting with `where` and naming the variable, the entry and the key."""
    options = cluster_options(root)
    problems = ["%s: %s" % (where, _key_error(key, options, {})) for key in variables if key not in options]
    problems.extend("%s: %s" % (where, message) for message in _value_errors(variables, options))
    hubs = variables.get("hubs")
    if isinstance(hubs, list) and all(isinstance(entry, dict) for entry in hubs):
        problems.extend(hub_entry_errors(hubs, where, root))
    return problems


def hub_entry_errors(hubs, where, root=COLLECTION_ROOT):
    """Every problem of the entries of a `hubs` list, each message starting with `where` and naming the
    entry and the key."""
    options, set_by_site, _role_of = hub_entry(root)
    problems = []
    for index, entry in enumerate(hubs):
        label = "%s: hubs[%d]%s" % (where, index, " (%s)" % entry["name"] if isinstance(entry.get("name"), str) else "")
        problems.extend("%s: %s" % (label, _key_error(key, options, set_by_site))
                        for key in entry if key not in options)
        problems.extend("%s: %s" % (label, message) for message in _value_errors(entry, options))
    return problems
