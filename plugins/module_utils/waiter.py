# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting for the cluster: poll a small check until it holds or the time is up."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.errors import HubfleetError


def wait_for(check, what, timeout, sleep):
    """Call `check()` until it returns something true and return that; on timeout fail naming `what`.

    `check` may raise HubfleetError to stop waiting at once (a failed Job, a snapshot error).
    """
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise HubfleetError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(sleep)


def condition_true(obj, kind):
    """Whether a status condition of this type is True; tolerates a missing status."""
    conditions = ((obj or {}).get("status") or {}).get("conditions") or []
    return any(c.get("type") == kind and c.get("status") == "True" for c in conditions)
