# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes access for our modules: kubernetes.core's client, plain dicts, retries, time limits.

Every call goes through `call`, which retries throttling (429) and server errors (5xx) with
exponential backoff, honouring Retry-After; any other API error is final. Every request has a
time limit (the module option `request_timeout`), and `writes` counts the writes that took effect,
so that a module's `changed` is true exactly when the cluster was changed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.errors import HubfleetError

try:
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError as TransportError
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
except ImportError:  # reported by AnsibleK8SModule's requirement check
    pass

RETRYABLE = frozenset([429, 500, 502, 503, 504])
ATTEMPTS = 5
FIRST_DELAY = 0.5
DEFAULT_TIMEOUT = 30

# The option every module that talks to the cluster adds to kubernetes.core's auth options.
TIMEOUT_ARG_SPEC = dict(request_timeout=dict(type="int", default=DEFAULT_TIMEOUT))


def api_error_text(exc):
    status = getattr(exc, "status", "")
    summary = getattr(exc, "summary", None)
    if callable(summary):
        return "%s %s" % (status, summary())
    return "%s %s" % (status, getattr(exc, "reason", None) or exc)


def _connect(module, timeout):
    """kubernetes.core's client. Making it already asks the server (discovery), which that client
    does without a time limit: wait for it in a thread, for `timeout` seconds at most."""
    made = {}

    def connect():
        try:
            made["api"] = get_api_client(module)
        except Exception as exc:  # pylint: disable=broad-except
            made["error"] = exc
    worker = threading.Thread(target=connect)
    worker.daemon = True  # a server that never answers must not keep the module alive
    worker.start()
    worker.join(timeout)
    if "error" in made:
        raise HubfleetError("cannot reach the cluster: %s" % made["error"])
    if "api" not in made:
        raise HubfleetError("the API server did not answer discovery within request_timeout=%ss" % timeout)
    return made["api"]


def _bound_every_request(api, timeout):
    """Give every later request of this client, discovery included, `timeout` unless it names one."""
    rest = api.client.client.rest_client
    if getattr(rest, "hubfleet_timeout", None) == timeout:
        return  # kubernetes.core reuses one client per configuration
    unbounded = getattr(rest, "hubfleet_unbounded", rest.request)

    def request(*args, **kwargs):
        kwargs["_request_timeout"] = kwargs.get("_request_timeout") or timeout
        return unbounded(*args, **kwargs)
    rest.request, rest.hubfleet_unbounded, rest.hubfleet_timeout = request, unbounded, timeout


class Cluster:
    """One cluster, reached with the module's kubernetes.core auth options."""

    def __init__(self, module):
        self.module = module
        self.timeout = module.params["request_timeout"]
        if self.timeout < 1:
            raise HubfleetError("request_timeout: must be at least 1 second, not %s" % self.timeout)
        self.api = _connect(module, self.timeout)
        _bound_every_request(self.api, self.timeout)
        self.writes = 0
        self._identity = None

    def resource(self, api_version, kind):
        return self.call("look up %s %s" % (api_version, kind), self.api.resource, kind, api_version)

    def serves(self, group_version):
        """Whether the cluster serves an API group version, e.g. OpenShift's project.openshift.io/v1.

        One request; a miss in kubernetes.core's cached discovery would refetch all of it."""
        try:
            self.call("discover %s" % group_version, self.api.client.request, "GET", "/apis/%s" % group_version)
        except HubfleetError as exc:
            if exc.details.get("status") == 404:
                return False
            raise
        return True

    def call(self, what, func, *args, **kwargs):
        """Run one API call, retrying 429 and 5xx; `what` names it in the error message."""
        delay = FIRST_DELAY
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return func(*args, **kwargs)
            except ApiException as exc:  # the dynamic client's DynamicApiError too
                if exc.status not in RETRYABLE or attempt == ATTEMPTS:
                    raise HubfleetError("%s failed: %s" % (what, api_error_text(exc)), status=exc.status,
                                        attempts=attempt)
                retry_after = (getattr(exc, "headers", None) or {}).get("Retry-After")
                time.sleep(float(retry_after) if retry_after and retry_after.isdigit() else delay)
                delay *= 2
            except TransportError as exc:
                # A write that timed out may still take effect: a re-run sees and converges.
                raise HubfleetError("%s failed: no answer within request_timeout=%ss (%s)" % (what, self.timeout, exc))
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

    def create(self, obj, committed=None):
        """Create an object. A create retried after a server error may find that its first attempt
        was committed after all (409): `committed()` (by default: the object exists and carries our
        labels and annotations) decides whether that counts as done."""
        resource = self.resource(obj["apiVersion"], obj["kind"])
        meta = obj["metadata"]
        what = "create %s %s" % (obj["kind"], _ref(meta))
        try:
            made = self.call(what, resource.create, body=obj, namespace=meta.get("namespace")).to_dict()
        except HubfleetError as exc:
            if exc.details.get("status") != 409 or exc.details.get("attempts", 1) == 1:
                raise
            found = committed() if committed else self._ours(obj)
            if not found:
                raise
            made = found
        self.writes += 1
        return made

    def _ours(self, obj):
        meta = obj["metadata"]
        live = self.get(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
        live_meta = (live or {}).get("metadata") or {}
        for field in ("labels", "annotations"):
            have = live_meta.get(field) or {}
            if any(have.get(key) != value for key, value in (meta.get(field) or {}).items()):
                return None
        return live

    def replace(self, obj):
        resource = self.resource(obj["apiVersion"], obj["kind"])
        meta = obj["metadata"]
        replaced = self.call("replace %s %s" % (obj["kind"], _ref(meta)), resource.replace, body=obj,
                             namespace=meta.get("namespace")).to_dict()
        self.writes += 1
        return replaced

    def delete(self, api_version, kind, name, namespace=None):
        """Delete an object; one that is already gone counts as deleted (but not as a write of ours)."""
        resource = self.resource(api_version, kind)
        try:
            self.call("delete %s %s" % (kind, name), resource.delete, name=name, namespace=namespace)
        except HubfleetError as exc:
            if exc.details.get("status") != 404:
                raise
            return
        self.writes += 1

    def allowed(self, verb, resource, group="", namespace=None):
        """Ask the API server whether the caller may do `verb` on `resource` (SelfSubjectAccessReview)."""
        resource, _slash, subresource = resource.partition("/")  # pods/log: resource pods, subresource log
        attributes = {"verb": verb, "resource": resource, "group": group}
        if subresource:
            attributes["subresource"] = subresource
        if namespace:
            attributes["namespace"] = namespace
        review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                  "metadata": {"name": ""}, "spec": {"resourceAttributes": attributes}}
        answer = self.call("SelfSubjectAccessReview", self.resource(review["apiVersion"], review["kind"]).create,
                           body=review).to_dict()
        return bool((answer.get("status") or {}).get("allowed"))

    def rules_review(self, namespace):
        """The resource rules the caller holds in `namespace` (one SelfSubjectRulesReview), or None when they cannot
        prove anything: the review is not served or refused (404, 403), fails, or says it is incomplete."""
        review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
                  "metadata": {"name": ""}, "spec": {"namespace": namespace}}
        try:
            # Straight to the path: a server without the resource answers 404, with no rediscovery.
            answer = self.call("SelfSubjectRulesReview", self.api.client.request, "POST",
                               "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", body=review)
        except HubfleetError:
            return None
        status = (answer.to_dict() if hasattr(answer, "to_dict") else {}).get("status") or {}
        if status.get("incomplete") is not False:
            return None
        return [rule for rule in status.get("resourceRules") or [] if isinstance(rule, dict)]

    def openshift_user(self):
        """Who this module runs as, as OpenShift names it (what `oc whoami` asks): the name the API
        server writes into the `openshift.io/requester` annotation of the projects we request."""
        if self._identity is None:
            me = self.get("user.openshift.io/v1", "User", "~")
            if not me:
                raise HubfleetError("cannot tell who this module runs as: GET users/~ found no user")
            self._identity = me["metadata"]["name"]
        return self._identity


def rules_allow(rules, verb, resource, group=""):
    """Whether one of a rules review's resource rules allows `verb` on `resource` (`pods/log` for a subresource),
    for any object of it, as the RBAC documentation matches a rule: `*` matches any verb, API group or resource,
    `*/log` a subresource of every resource, and a rule with resourceNames only the objects it names."""
    subresource = resource.partition("/")[2]
    for rule in rules:
        names = rule.get("resources") or []
        if (verb in (rule.get("verbs") or []) or "*" in (rule.get("verbs") or [])) \
                and (group in (rule.get("apiGroups") or []) or "*" in (rule.get("apiGroups") or [])) \
                and ("*" in names or resource in names or (subresource and "*/" + subresource in names)) \
                and not rule.get("resourceNames"):
            return True
    return False


def _ref(meta):
    return "%s/%s" % (meta["namespace"], meta["name"]) if meta.get("namespace") else meta.get("name", "")
