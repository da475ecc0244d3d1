#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: build_run
short_description: Start OpenShift builds of BuildConfigs and wait until they complete
version_added: 0.3.0
description:
  - Starts one build of each of O(build_configs) (a C(BuildRequest) POSTed to the BuildConfig's
    C(instantiate) subresource, as C(oc start-build) does), all of them first, then waits for them together.
  - Fails when a build ends C(Failed), C(Error) or C(Cancelled), or is still unfinished after O(wait_timeout)
    seconds, naming each such build with its phase, reason and the last O(log_lines) lines of its log.
  - The image_build role uses it for the BuildConfigs it has just created or changed; the BuildConfigs
    themselves are applied with M(hubfleet.jupyterhub.owned_objects).
author:
  - hubfleet maintainers (@hubfleet)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - hubfleet.jupyterhub.request_timeout
attributes:
  check_mode:
    support: full
    description: Starts nothing and reads nothing; reports each build as V(would start).
  diff_mode:
    support: none
    description: A build is not an object to compare.
options:
  namespace:
    description: The namespace of the BuildConfigs.
    type: str
    required: true
  build_configs:
    description: The names of the BuildConfigs to start one build of each. An empty list does nothing.
    type: list
    elements: str
    required: true
  wait:
    description: Whether to wait until every build has finished. With V(false) the builds are started only.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for all the builds together.
    type: int
    default: 900
  wait_sleep:
    description: Seconds between two looks at the builds.
    type: int
    default: 5
  log_lines:
    description: How many lines from the end of the log of a build that did not complete the failure shows.
    type: int
    default: 20
"""

EXAMPLES = r"""
- name: Build the notebook image and wait for it
  hubfleet.jupyterhub.build_run:
    namespace: jupyterhub-research
    build_configs: [notebook]
    wait_timeout: 1200
  register: __built

- name: Show the pushed image
  ansible.builtin.debug:
    msg: "{{ __built.builds[0].output_image }}"
"""

RETURN = r"""
builds:
  description: Each build started, in the order of O(build_configs).
  returned: always
  type: list
  elements: dict
  contains:
    build_config:
      description: The BuildConfig it is a build of.
      type: str
      sample: notebook
    name:
      description: The build's name (C(<build config>-<number>)); empty in check mode.
      type: str
      sample: notebook-3
    phase:
      description: >-
        The build's last phase seen: V(Complete), V(Failed), V(Error), V(Cancelled), or while it runs V(New),
        V(Pending), V(Running); V(would start) in check mode.
      type: str
    reason:
      description: The build's C(status.reason) (for example V(GenericBuildFailed)); empty when it has none.
      type: str
    message:
      description: The build's C(status.message); empty when it has none.
      type: str
    output_image:
      description: The image reference the build pushes to (C(status.outputDockerImageReference)).
      type: str
      sample: image-registry.openshift-image-registry.svc:5000/jupyterhub-research/notebook:latest
"""

import copy
import time

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import builds, validation
from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.client import TIMEOUT_ARG_SPEC, Cluster
from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.entry import execute
from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.errors import HubfleetError
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC


def input_errors(params):
    errors = []
    problem = validation.dns_label_error(params["namespace"])
    if problem:
        errors.append("namespace: %r %s" % (params["namespace"], problem))
    for index, name in enumerate(params["build_configs"]):
        problem = validation.dns_subdomain_error(name)
        if problem:
            errors.append("build_configs[%d]: %r %s" % (index, name, problem))
    for option in ("wait_timeout", "wait_sleep"):
        if params[option] < 1:
            errors.append("%s: must be at least 1, not %s" % (option, params[option]))
    if params["log_lines"] < 0:
        errors.append("log_lines: must be 0 or more, not %s" % params["log_lines"])
    return errors


class Builds:
    def __init__(self, cluster, namespace):
        self.cluster = cluster
        self.namespace = namespace
        self.configs = cluster.resource(builds.API_VERSION, "BuildConfig")
        self.builds = cluster.resource(builds.API_VERSION, "Build")

    def start(self, name):
        what = "start a build of BuildConfig %s/%s" % (self.namespace, name)
        started = self.cluster.call(what, self.configs.subresources["instantiate"].create,
                                    body=builds.build_request(name), name=name, namespace=self.namespace).to_dict()
        self.cluster.writes += 1
        return started

    def read(self, name):
        return self.cluster.get(builds.API_VERSION, "Build", name, self.namespace)

    def log(self, name, lines):
        """The end of a build's log; a log the server cannot give (a build that never ran) is said so."""
        if lines == 0:
            return []
        try:
            answer = self.cluster.call("read the log of Build %s/%s" % (self.namespace, name),
                                       self.builds.subresources["log"].get, name=name, namespace=self.namespace,
                                       query_params=[("tailLines", lines)], serialize=False)
        except HubfleetError as exc:
            return ["(no log: %s)" % exc.msg]
        return builds.log_tail(answer.data.decode("utf-8", "replace"), lines)


def run(module):
    params = module.params
    problems = input_errors(params)
    if problems:
        raise HubfleetError("nothing was started: " + "; ".join(problems), problems=problems)
    names = params["build_configs"]
    if module.check_mode:
        return dict(changed=bool(names), builds=[dict(build_config=name, name="", phase="would start", reason="",
                                                      message="", output_image="") for name in names])
    if not names:
        return dict(changed=False, builds=[])
    cluster = Cluster(module)
    runner = Builds(cluster, params["namespace"])
    current = [runner.start(name) for name in names]
    timed_out = None
    if params["wait"]:
        deadline = time.monotonic() + params["wait_timeout"]
        while True:
            current = [build if builds.finished(build) else (runner.read(build["metadata"]["name"]) or build)
                       for build in current]
            if all(builds.finished(build) for build in current):
                break
            if time.monotonic() >= deadline:
                timed_out = params["wait_timeout"]
                break
            time.sleep(params["wait_sleep"])
    result = dict(changed=True, builds=[dict(builds.summary(build), build_config=name)
                                        for name, build in zip(names, current)])
    if not params["wait"]:
        return result
    failures = [builds.failure(build, params["namespace"], runner.log(build["metadata"]["name"], params["log_lines"]),
                               None if builds.finished(build) else timed_out)
                for build in current if builds.phase(build) != "Complete"]
    if failures:
        raise HubfleetError("; ".join(failures), changed=True, builds=result["builds"])
    return result


def main():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(TIMEOUT_ARG_SPEC)
    spec.update(
        namespace=dict(type="str", required=True),
        build_configs=dict(type="list", elements="str", required=True),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=900),
        wait_sleep=dict(type="int", default=5),
        log_lines=dict(type="int", default=20),
    )
    execute(run, spec)


if __name__ == "__main__":
    main()
