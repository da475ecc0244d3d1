#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cluster_facts
short_description: What a cluster is, asked once (Kubernetes version, OpenShift APIs, storage)
version_added: 0.3.0
description:
  - Asks the API server what the roles of this collection need to know about a cluster, in a few
    requests, each bounded by O(request_timeout). The preflight role runs it once per cluster and
    hands the answer to every other role as the fact C(preflight_cluster).
  - Fails with one message when the server cannot be reached or refuses the credentials.
  - Reads only; never changes the cluster.
author:
  - hubfleet maintainers (@hubfleet)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - hubfleet.jupyterhub.request_timeout
attributes:
  check_mode:
    support: full
    description: Reads only; the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing, so there is nothing to show.
"""

EXAMPLES = r"""
- name: Learn what the cluster is
  hubfleet.jupyterhub.cluster_facts:
  register: __cluster

- name: Only on OpenShift
  ansible.builtin.debug:
    msg: "OpenShift {{ __cluster.cluster.kubernetes_version }}"
  when: __cluster.cluster.openshift
"""

RETURN = r"""
cluster:
  description: What the cluster is.
  returned: success
  type: dict
  contains:
    kubernetes_version:
      description: The server's Kubernetes version, without the leading C(v) and build suffixes.
      type: str
      sample: 1.33.0
    git_version:
      description: The version string as the server reports it.
      type: str
      sample: v1.33.0+6216ea1
    api_groups:
      description: The named API groups the server serves (the core group is always served).
      type: list
      elements: str
      sample: [apps, batch, route.openshift.io]
    openshift:
      description: Whether the cluster serves OpenShift's APIs (the group C(project.openshift.io)).
      type: bool
    routes:
      description: Whether OpenShift Routes are served (C(route.openshift.io)).
      type: bool
    builds:
      description: Whether OpenShift builds and image streams are served (C(build.openshift.io) and C(image.openshift.io)).
      type: bool
    openshift_login:
      description: Whether OpenShift's user API is served (C(user.openshift.io)), which OpenShift login asks who a user is.
      type: bool
    volume_snapshots:
      description: Whether VolumeSnapshots are served (C(snapshot.storage.k8s.io)).
      type: bool
    default_storage_class:
      description: The StorageClass annotated as the default, or V(null) when none is (or there are several).
      type: str
      sample: standard
"""

import copy
import re

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.client import TIMEOUT_ARG_SPEC, Cluster
from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.entry import execute
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC

try:
    from kubernetes import client as k8s_client
except ImportError:  # reported by AnsibleK8SModule's requirement check
    pass

DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
# "v1.28.6+6216ea1", "v1.30.2-eks-1552ad0", "v1.29.4+k3s1": the release is the leading x.y.z.
_RELEASE = re.compile(r"^v?(\d+\.\d+\.\d+)")


def release(git_version):
    match = _RELEASE.match(git_version or "")
    return match.group(1) if match else None


def default_storage_class(classes):
    """The one class marked default; none when no class is, or when several are (the API server
    then refuses to pick one for a claim without a class)."""
    marked = [c["metadata"]["name"] for c in classes
              if ((c.get("metadata") or {}).get("annotations") or {}).get(DEFAULT_CLASS) == "true"]
    return marked[0] if len(marked) == 1 else None


def describe(git_version, groups, classes):
    served = set(groups)
    return dict(
        kubernetes_version=release(git_version),
        git_version=git_version,
        api_groups=sorted(served),
        openshift="project.openshift.io" in served,
        routes="route.openshift.io" in served,
        builds="build.openshift.io" in served and "image.openshift.io" in served,
        openshift_login="user.openshift.io" in served,
        volume_snapshots="snapshot.storage.k8s.io" in served,
        default_storage_class=default_storage_class(classes),
    )


def run(module):
    cluster = Cluster(module)
    api = cluster.api.client.client
    version = cluster.call("read the server version", k8s_client.VersionApi(api).get_code)
    groups = cluster.call("list the API groups", k8s_client.ApisApi(api).get_api_versions)
    classes = cluster.list("storage.k8s.io/v1", "StorageClass")
    return dict(changed=False, cluster=describe(version.git_version, [g.name for g in groups.groups], classes))


def main():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(TIMEOUT_ARG_SPEC)
    execute(run, spec)


if __name__ == "__main__":
    main()
