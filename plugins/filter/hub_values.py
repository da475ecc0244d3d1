# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hub role's chart values (module_utils/hub_values.py), and their secrets hidden for output."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.errors import AnsibleFilterError

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import hub_values as composer


def _plain(data):
    """Plain Python data: ansible hands filters lazily templated containers, which would be templated
    again at every access and copy (seconds per call for the hub's settings)."""
    return json.loads(json.dumps(data))


def hub_values(settings):
    if not isinstance(settings, dict):
        raise AnsibleFilterError("hub_values expects the hub role's settings as a mapping")
    settings = _plain(settings)
    try:
        values, errors = composer.compose(settings)
    except KeyError as exc:
        raise AnsibleFilterError("hub_values: the setting %s is missing" % exc)
    version = settings.get("chart_version")
    if errors:
        return {"values": {}, "errors": errors}
    return {"values": values, "errors": [],
            "pvc_name_template": composer.pvc_name_template(values, version),
            "slug_scheme": composer.SLUG_SCHEMES[version]}


def hub_values_masked(values):
    return composer.masked(_plain(values))


def hub_redacted(text, values):
    return composer.redacted(text, _plain(values))


def hub_release_plan(installed, hub, chart, values):
    installed, values = _plain(installed or {}), _plain(values)
    problem = composer.foreign_release_error(installed, hub)
    return {"foreign": problem or "",
            "reasons": [] if problem else composer.release_reasons(installed, chart, values)}


def helm_release(secrets):
    return composer.installed_release(_plain(secrets or []))


class FilterModule:
    def filters(self):
        return {"hub_values": hub_values, "hub_values_masked": hub_values_masked, "hub_redacted": hub_redacted,
                "hub_release_plan": hub_release_plan, "helm_release": helm_release}
