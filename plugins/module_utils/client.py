# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes access for our modules: kubernetes.core's client, plain dicts, retries.

Every call goes through `call`, which retries throttling (429) and server errors (5xx) with
exponential backoff, honouring Retry-After; any other API error is final.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.errors import HubfleetError

try:
    from kubernetes.dynamic.exceptions import DynamicApiError, NotFoundError
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
except ImportError:  # reported by AnsibleK8SModule's requirement check
    pass

RETRYABLE = frozenset([429, 500, 502, 503, 504])
ATTEMPTS = 5
FIRST_DELAY = 0.5


def api_error_text(exc):
    status = getattr(exc, "status", "")
    summary = getattr(exc, "summary", None)
    return "%s %s" % (status, summary() if callable(summary) else exc)


class Cluster:
    """One cluster, reached with the module's kubernetes.core auth options."""

    def __init__(self, module):
        self.module = module
        self.api = get_api_client(module)

    def resource(self, api_version, kind):
        return self.api.resource(kind, api_version)

    def serves(self, group_version):
        """Whether the cluster serves an API group version, e.g. OpenShift's project.openshift.io/v1.

        One request; a miss in kubernetes.core's cached discovery would refetch all of it."""
        try:
            self.api.client.request("GET", "/apis/%s" % group_version)
        except NotFoundError:
            return False
        return True

    def call(self, what, func, *args, **kwargs):
        """Run one API call, retrying 429 and 5xx; `what` names it in the error message."""
        delay = FIRST_DELAY
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return func(*args, **kwargs)
            except DynamicApiError as exc:
                if exc.status not in RETRYABLE or attempt == ATTEMPTS:
                    raise HubfleetError("%s failed: %s" % (what, api_error_text(exc)), status=exc.status)
                retry_after = (getattr(exc, "headers", None) or {}).get("Retry-After")
                time.sleep(float(retry_after) if retry_after and retry_after.isdigit() else delay)
                delay *= 2
        return None

    def list(self, api_version, kind, label_selector=None, namespace=None):
        """Items of one kind as dicts: one request, across all namespaces unless one is named."""
        resource = self.resource(api_version, kind)
        listed = self.call("list %s" % kind, resource.get, namespace=namespace, label_selector=label_selector)
        items = listed.to_dict().get("items") or []
        for item in items:
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
        return items

    def list_or_per_namespace(self, api_version, kind, label_selector, namespaces):
        """List across the cluster; where that is forbidden, list in each of `namespaces`."""
        try:
            return self.list(api_version, kind, label_selector)
        except HubfleetError as exc:
            if exc.details.get("status") != 403:
                raise
        items = []
        for namespace in namespaces:
            items.extend(self.list(api_version, kind, label_selector, namespace))
        return items

    def get(self, api_version, kind, name, namespace=None):
        """One object as a dict, or None when it does not exist."""
        resource = self.resource(api_version, kind)
        try:
            return self.call("get %s %s" % (kind, name), resource.get, name=name, namespace=namespace).to_dict()
        except HubfleetError as exc:
            if exc.details.get("status") == 404:
                return None
            raise

    def create(self, obj):
        resource = self.resource(obj["apiVersion"], obj["kind"])
        meta = obj["metadata"]
        return self.call("create %s %s" % (obj["kind"], _ref(meta)), resource.create, body=obj,
                         namespace=meta.get("namespace")).to_dict()

    def replace(self, obj):
        resource = self.resource(obj["apiVersion"], obj["kind"])
        meta = obj["metadata"]
        return self.call("replace %s %s" % (obj["kind"], _ref(meta)), resource.replace, body=obj,
                         namespace=meta.get("namespace")).to_dict()

    def delete(self, api_version, kind, name, namespace=None):
        """Delete an object; one that is already gone counts as deleted."""
        resource = self.resource(api_version, kind)
        try:
            self.call("delete %s %s" % (kind, name), resource.delete, name=name, namespace=namespace)
        except HubfleetError as exc:
            if exc.details.get("status") != 404:
                raise

    def allowed(self, verb, resource, group="", namespace=None):
        """Ask the API server whether the caller may do `verb` on `resource` (SelfSubjectAccessReview)."""
        review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                  "metadata": {"name": ""}, "spec": {"resourceAttributes": {"verb": verb, "resource": resource, "group": group}}}
        if namespace:
            review["spec"]["resourceAttributes"]["namespace"] = namespace
        answer = self.create(review)
        return bool((answer.get("status") or {}).get("allowed"))


def _ref(meta):
    return "%s/%s" % (meta["namespace"], meta["name"]) if meta.get("namespace") else meta.get("name", "")
