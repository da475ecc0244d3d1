# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one ownership label scheme of the collection: what marks an object as ours, for which hub.

Modules import it; playbooks and roles read it through the filter hubfleet.jupyterhub.ownership_labels.
We only ever change or delete objects that carry these marks (docs/architecture.md).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGER = "hubfleet"
HUB = "hubfleet.io/hub"
COMPONENT = "app.kubernetes.io/component"


def labels(hub, component):
    """The ownership labels of an object of `component` for `hub` (no hub label when `hub` is None)."""
    marks = {MANAGED_BY: MANAGER, COMPONENT: component}
    if hub is not None:
        marks[HUB] = hub
    return marks


def selector(hub, component):
    """The label selector that finds exactly the objects `labels(hub, component)` marks."""
    return ",".join("%s=%s" % item for item in sorted(labels(hub, component).items()))


def owned(obj, hub, component):
    """Whether an object carries our ownership labels for `hub` and `component`."""
    have = (obj.get("metadata") or {}).get("labels") or {}
    return all(have.get(key) == value for key, value in labels(hub, component).items())
