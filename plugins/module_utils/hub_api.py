# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The JupyterHub REST API calls our modules make, so that the hub knows what happened."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.six.moves.urllib.error import HTTPError
from ansible.module_utils.six.moves.urllib.parse import quote
from ansible.module_utils.urls import open_url

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.errors import HubfleetError


def server_path(user, server_name=""):
    user_part = quote(user, safe="")
    if server_name:
        return "/users/%s/servers/%s" % (user_part, quote(server_name, safe=""))
    return "/users/%s/server" % user_part


def stop_server(api_url, token, user, server_name="", validate_certs=True, timeout=30):
    """Ask the hub to stop a user's server. True when the hub is stopping it (202); False when it
    runs no such server (204), or knows no such user or server (404)."""
    url = api_url.rstrip("/") + server_path(user, server_name)
    try:
        response = open_url(url, method="DELETE", headers={"Authorization": "token %s" % token},
                            validate_certs=validate_certs, timeout=timeout)
    except HTTPError as exc:
        if exc.code == 404:
            return False
        raise HubfleetError("the hub refused to stop the server of %r: HTTP %s %s" % (user, exc.code, exc.reason))
    except Exception as exc:  # pylint: disable=broad-except
        raise HubfleetError("cannot reach the hub API at %s: %s" % (api_url, exc))
    return response.getcode() == 202
