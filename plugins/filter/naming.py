# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that name things the way KubeSpawner does (see module_utils/naming.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import naming


def user_slug(username, scheme="safe"):
    try:
        return naming.slug(username, scheme)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc))


def user_name(username, template, servername="", hubnamespace="", scheme="safe"):
    try:
        return naming.expand(template, username, servername, hubnamespace, scheme)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule:
    def filters(self):
        return {"user_slug": user_slug, "user_name": user_name}
