# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The objects hubfleet.jupyterhub.user_project would create for a hub's users, without a cluster
(module_utils/user_projects.py's plan, for playbooks/render.yml)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.errors import AnsibleFilterError

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import user_projects as plan

# The user_project module's defaults for the options a hub's `user_projects` entry may leave out.
DEFAULTS = {"name_template": "{username}-workspace", "slug_scheme": "safe", "quota": {}, "limits": {},
            "role": "admin", "labels": {}}
MODES = ("auto", "namespace", "project_request")


def user_project_objects(settings, hub, hub_namespace, openshift=True):
    """Per user, in the module's order: the Namespace (or the ProjectRequest when `project_mode` is
    project_request), then the quota, limits and bindings in it."""
    settings = json.loads(json.dumps(settings or {}))
    if not isinstance(settings, dict):
        raise AnsibleFilterError("user_project_objects expects the hub's user_projects settings as a mapping")
    params = dict(DEFAULTS, **{key: settings[key] for key in DEFAULTS if settings.get(key) is not None})
    params.update(users=settings.get("users") or [], hub_name=hub, hub_namespace=hub_namespace)
    # As the module takes them: limits without the empty kinds.
    params["limits"] = dict((kind, value) for kind, value in (params["limits"] or {}).items() if value)
    mode = settings.get("project_mode") or "auto"
    problems = []
    if mode not in MODES:
        problems.append("project_mode: %r is not one of %s" % (mode, ", ".join(MODES)))
    if mode == "project_request" and not openshift:
        problems.append("project_mode=project_request needs OpenShift")
    account = None
    if str(settings.get("spawner_access", False)).lower() in ("true", "yes", "on", "1"):
        account = settings.get("hub_service_account") or {"name": "hub", "namespace": hub_namespace}
    params["hub_service_account"] = account
    try:
        users = plan.users_from_params(params)
    except ValueError as exc:
        problems.extend(exc.args[0])
    if problems:
        raise AnsibleFilterError("user_projects of hub %s: %s" % (hub, "; ".join(problems)))
    objects = []
    for user in users:
        objects.append(plan.project_request(user, hub) if mode == "project_request"
                       else plan.namespace_object(user, hub, openshift))
        objects.extend(plan.namespaced_objects(user, hub, account).values())
    return objects


class FilterModule:
    def filters(self):
        return {"user_project_objects": user_project_objects}
