"""API verbs with the real server's semantics, over the store, with controllers reacting to writes."""
import copy
import datetime
import secrets
import uuid

from . import (admission, controllers, defaults, errors, patches, persistence, quota, resources, scc, selectors,
               validation)
from .errors import ApiError
from .resources import DEFAULT_KUBE_VERSION, Catalogue
from .store import Store

ADMIN = "system:admin"
# Who a bearer token is. The developer may not write cluster-scoped objects, only request (and delete) projects.
TOKENS = {"emulator-admin-token": ADMIN, "emulator-developer-token": "developer"}
DEVELOPER_CLUSTER_WRITES = {"projectrequests", "projects", "selfsubjectaccessreviews", "selfsubjectrulesreviews"}
READ_VERBS = {"get", "list", "watch"}
RBAC = "rbac.authorization.k8s.io"
# Kubernetes puts every authenticated user in this group (the Authenticating page); the emulator gives no other.
AUTHENTICATED = "system:authenticated"
# The emulator's own grants as the rules a rules review lists (see Cluster.identity_rules).
EVERYTHING = {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}
READ_EVERYTHING = {"verbs": sorted(READ_VERBS), "apiGroups": ["*"], "resources": ["*"]}
# Served to anyone, credentials or not (server.py answers them before it asks who calls).
DISCOVERY_URLS = ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi/*", "/readyz", "/version"]


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def rule_allows(rule, verb, group, resource):
    """Whether one RBAC PolicyRule allows a request on a whole resource, as the RBAC page (Using RBAC
    Authorization) reads it: `*` matches any verb, API group or resource. The emulator authorizes requests
    without their subresource or object name, so a rule limited to subresources or `resourceNames` grants
    nothing here."""
    return bool({"*", verb} & set(rule.get("verbs") or [])) \
        and bool({"*", group} & set(rule.get("apiGroups") or [])) \
        and bool({"*", resource} & set(rule.get("resources") or [])) \
        and not rule.get("resourceNames")


def _is_subject(subject, user):
    """Whether a binding's subject is `user`, by name, as one of its groups, or as its service account."""
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "User":
        return name == user
    if kind == "Group":
        return name == AUTHENTICATED
    return kind == "ServiceAccount" and user == f"system:serviceaccount:{subject.get('namespace')}:{name}"


def _spec_of(obj):
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


class Cluster:
    def __init__(self, openshift=True, saved=None, kube_version=None):
        """A new cluster reporting `kube_version` (default v1.33.0), or the one `saved` (what dump() gave)."""
        self.openshift = openshift
        version = persistence.saved_version(saved) if saved else kube_version or DEFAULT_KUBE_VERSION
        self.catalogue = Catalogue(openshift=openshift, kube_version=resources.kube_version(version))
        # Job outcomes armed at the control endpoint (POST /_emulator/job-outcomes), used up by the Jobs they match.
        self.job_outcomes = []
        # The warnings of the request being served (the server sends them as Warning headers).
        self.warnings = []
        self.store = Store()
        self.lock = self.store.lock
        with self.lock:
            if saved:
                self.store.load(saved)
            else:
                controllers.bootstrap(self)

    def dump(self):
        """The cluster as JSON data, for persistence.write(); call it under the lock."""
        return {"flavour": persistence.flavour(self.openshift), "kubeVersion": self.catalogue.kube_version,
                **self.store.dump()}

    def res(self, plural, group=""):
        for res in self.catalogue.resources:
            if res.plural == plural and res.group == group:
                return res
        raise KeyError(plural)

    # --- authorization ------------------------------------------------------------------
    def allowed(self, user, verb, res, namespace):
        if user == ADMIN or verb in READ_VERBS:
            return True
        # An access review may name a namespace for a cluster-scoped resource: it does not count.
        if user == "developer" and ((res.namespaced and bool(namespace)) or res.plural in DEVELOPER_CLUSTER_WRITES):
            return True
        # Beyond the built-in identities' grants, what RBAC bindings give (additive, as in Kubernetes).
        bound = self.bound_rules(user, namespace if res.namespaced else None)[0]
        return any(rule_allows(rule, verb, res.group, res.plural) for rule in bound)

    def identity_rules(self, user):
        """What allowed() grants an identity by itself, as (resource rules, non-resource rules): everything for
        the admin (the cluster-admin ClusterRole's two rules); reads for anyone; for the developer every write in
        the namespace asked about and the cluster-scoped writes it may do."""
        if user == ADMIN:
            return [copy.deepcopy(EVERYTHING)], [{"verbs": ["*"], "nonResourceURLs": ["*"]}]
        rules = [copy.deepcopy(READ_EVERYTHING)]
        if user == "developer":
            rules.append(copy.deepcopy(EVERYTHING))
            rules.extend({"verbs": ["*"], "apiGroups": [res.group], "resources": [res.plural]}
                         for res in self.catalogue.resources if res.plural in DEVELOPER_CLUSTER_WRITES)
        return rules, [{"verbs": ["get"], "nonResourceURLs": list(DISCOVERY_URLS)}]

    def bound_rules(self, user, namespace):
        """The rules RBAC binds to `user` (or its group system:authenticated) in `namespace`: those of the Role or
        ClusterRole each RoleBinding of the namespace refers to, and those of the ClusterRoleBindings (the only
        ones when `namespace` is None). Returns (rules, errors): a binding to a missing role is an error."""
        bindings = self.store.items(self.res("clusterrolebindings", RBAC))
        if namespace:
            bindings = self.store.items(self.res("rolebindings", RBAC), namespace) + bindings
        rules, problems = [], []
        for binding in bindings:
            if not any(_is_subject(subject, user) for subject in binding.get("subjects") or []):
                continue
            ref = binding.get("roleRef") or {}
            if ref.get("kind") == "Role" and binding["metadata"].get("namespace"):
                role = self.store.get(self.res("roles", RBAC), binding["metadata"]["namespace"], ref.get("name"))
            elif ref.get("kind") == "ClusterRole":
                role = self.store.get(self.res("clusterroles", RBAC), None, ref.get("name"))
            else:
                role = None
            if role is None:
                problems.append(f'{str(ref.get("kind")).lower()}.{RBAC} "{ref.get("name")}" not found')
                continue
            rules.extend(rule for rule in role.get("rules") or [] if isinstance(rule, dict))
        return rules, problems

    def rules_review(self, body, user):
        """Answer a SelfSubjectRulesReview: the rules the caller holds in spec.namespace, its own and those bound
        to it; complete (`incomplete: false`), as RBAC alone answers. Nothing is stored."""
        if not isinstance(body, dict):
            raise ApiError(400, "the body of the request was not a JSON object")
        namespace = (body.get("spec") or {}).get("namespace")
        if not namespace:
            raise ApiError(400, "no namespace on request")
        resource_rules, non_resource_rules = self.identity_rules(user)
        bound, problems = self.bound_rules(user, namespace)
        for rule in bound:
            if rule.get("nonResourceURLs"):
                non_resource_rules.append({"verbs": list(rule.get("verbs") or []),
                                           "nonResourceURLs": list(rule["nonResourceURLs"])})
            else:
                resource_rules.append({key: list(rule[key]) for key in ("verbs", "apiGroups", "resources",
                                                                        "resourceNames") if rule.get(key)})
        status = {"resourceRules": resource_rules, "nonResourceRules": non_resource_rules, "incomplete": False}
        if problems:
            status["evaluationError"] = problems[0] if len(problems) == 1 else f"[{', '.join(problems)}]"
        review = copy.deepcopy(body)
        review.update(apiVersion="authorization.k8s.io/v1", kind="SelfSubjectRulesReview", status=status)
        review.setdefault("metadata", {})
        return review

    def authorize(self, user, verb, res, namespace):
        if not self.allowed(user, verb, res, namespace):
            raise errors.forbidden(user, verb, res, namespace)

    # --- reads --------------------------------------------------------------------------
    def get(self, res, namespace, name):
        if res.virtual:
            return controllers.project_view(self.get(self.res("namespaces"), None, name))
        obj = self.store.get(res, namespace, name)
        if obj is None:
            raise errors.not_found(res, name)
        return copy.deepcopy(obj)

    def list(self, res, namespace, label_selector="", field_selector=""):
        try:
            labels = selectors.parse_labels(label_selector)
            fields = selectors.parse_fields(field_selector)
        except selectors.SelectorError as exc:
            raise ApiError(400, str(exc)) from exc
        source = self.res("namespaces") if res.virtual else res
        items = []
        for obj in self.store.items(source, namespace if res.namespaced else None):
            if res.virtual:
                obj = controllers.project_view(obj)
            if selectors.labels_match(labels, obj["metadata"].get("labels")) and \
                    selectors.fields_match(fields, obj):
                item = copy.deepcopy(obj)
                if not res.custom:
                    item.pop("apiVersion", None)
                    item.pop("kind", None)
                items.append(item)
        return {"kind": f"{res.kind}List", "apiVersion": res.api_version,
                "metadata": {"resourceVersion": str(self.store.resource_version)}, "items": items}

    # --- writes -------------------------------------------------------------------------
    def _check_body(self, res, namespace, body, name=None):
        if not isinstance(body, dict):
            raise ApiError(400, "the body of the request was not a JSON object")
        if body.get("kind") and body["kind"] != res.kind:
            raise ApiError(400, f"the kind of the object ({body['kind']}) does not match the resource "
                                f"({res.kind})")
        meta = body.setdefault("metadata", {})
        if res.namespaced:
            if meta.get("namespace") and meta["namespace"] != namespace:
                raise ApiError(400, "the namespace of the provided object does not match the namespace sent "
                                    "on the request")
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        if name is not None:
            if meta.get("name") and meta["name"] != name:
                raise ApiError(400, "the name of the object does not match the name on the URL")
            meta["name"] = name
        body["apiVersion"], body["kind"] = res.api_version, res.kind

    def _require_namespace(self, res, namespace, name):
        """The NamespaceLifecycle admission check: the namespace exists and is not terminating."""
        if not res.namespaced:
            return
        ns = self.store.get(self.res("namespaces"), None, namespace)
        if ns is None:
            raise errors.not_found(self.res("namespaces"), namespace)
        if ns["metadata"].get("deletionTimestamp"):
            raise errors.forbidden_object(res, name, f"unable to create new content in namespace {namespace} "
                                                     "because it is being terminated")

    def _admit(self, res, body, user=ADMIN):
        """The admission plugins of a create, in the server's order: LimitRanger, DefaultStorageClass and (OpenShift)
        SecurityContextConstraints fill in defaults, then PodSecurity and ResourceQuota may refuse."""
        namespace = body["metadata"].get("namespace")
        if res.plural == "pods":
            defaults.apply_limit_ranges(body, self.store.items(self.res("limitranges"), namespace))
        if res.plural == "persistentvolumeclaims" and "storageClassName" not in body["spec"]:
            default_class = controllers.default_storage_class(self)
            if default_class is not None:
                body["spec"]["storageClassName"] = default_class["metadata"]["name"]
        if res.plural == "pods" and self.openshift:
            scc.check(self, body, user)
        admission.check(self, res, body, self.warnings)
        quota.check(self, res, body)

    def create(self, res, namespace, body, user=ADMIN, dry_run=False, keep_status=False):
        self.authorize(user, "create", res, namespace)
        if res.plural == "selfsubjectrulesreviews" and res.group == "authorization.k8s.io":
            return self.rules_review(body, user)
        if res.plural in controllers.CREATE_HANDLERS:
            return controllers.CREATE_HANDLERS[res.plural](self, body, user, dry_run)
        body = copy.deepcopy(body)
        self._check_body(res, namespace, body)
        meta = body["metadata"]
        if not meta.get("name"):
            if not meta.get("generateName"):
                raise errors.invalid(res, "", [("metadata.name", "Required value: name or generateName is "
                                                                 "required")])
            meta["name"] = meta["generateName"] + secrets.token_hex(3)[:5]
        defaults.apply(res, body)
        validation.validate(res, body)
        self._require_namespace(res, namespace, meta["name"])
        if res.has_status and not keep_status:
            body.pop("status", None)
            if res.plural == "pods" and not res.group:
                # As the API server's pod strategy (PrepareForCreate) does: a new pod is Pending, so that
                # watchers (KubeSpawner 6 reads status.phase from the first ADDED event) always see a status.
                body["status"] = copy.deepcopy(controllers.CREATED_POD_STATUS)
        for key in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds"):
            meta.pop(key, None)
        self._admit(res, body, user)
        if self.store.get(res, namespace, meta["name"]) is not None:
            raise errors.already_exists(res, meta["name"])
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now()
        if "spec" in body and res.plural != "namespaces":
            meta["generation"] = 1
        if dry_run:
            meta["resourceVersion"] = str(self.store.resource_version)
            return body
        self.store.put(res, body, "ADDED")
        controllers.reconcile(self, res, body)
        return self._answer(res, body)

    def replace(self, res, namespace, name, body, user=ADMIN, subresource=None, dry_run=False):
        self.authorize(user, "update", res, namespace)
        body = copy.deepcopy(body)
        live = self.store.get(res, namespace, name)
        if live is None:
            raise errors.not_found(res, name)
        self._check_version(res, live, body)
        if subresource == "scale":
            return self._scale(res, live, body, dry_run)
        self._check_body(res, namespace, body, name)
        return self._write(res, live, body, subresource, dry_run)

    def patch(self, res, namespace, name, patch_type, patch, user=ADMIN, subresource=None, dry_run=False,
              field_manager=None, force=False):
        self.authorize(user, "patch", res, namespace)
        live = self.store.get(res, namespace, name)
        if patch_type == "apply":
            return self._apply(res, namespace, name, live, patch, user, subresource, dry_run, field_manager, force)
        if live is None:
            raise errors.not_found(res, name)
        target = controllers.scale_view(live) if subresource == "scale" else live
        try:
            if patch_type == "json":
                merged = patches.json_patch(target, patch)
            elif patch_type == "merge":
                merged = patches.json_merge_patch(target, patch)
            else:
                merged = patches.strategic_merge_patch(target, patch)
        except patches.PatchError as exc:
            raise ApiError(422, str(exc)) from exc
        self._check_version(res, live, merged)
        if subresource == "scale":
            return self._scale(res, live, merged, dry_run)
        self._check_body(res, namespace, merged, name)
        return self._write(res, live, merged, subresource, dry_run)

    def _apply(self, res, namespace, name, live, patch, user, subresource, dry_run, field_manager, force):
        if not field_manager:
            raise ApiError(400, "PATCH requests require fieldManager for apply")
        if not isinstance(patch, dict):
            raise ApiError(400, "an apply body must be an object")
        applied = copy.deepcopy(patch)
        self._check_body(res, namespace, applied, name)
        try:
            merged = patches.server_side_apply(live, applied, field_manager, force, now())
        except patches.ApplyConflict as exc:
            raise errors.apply_conflict(exc.conflicts) from exc
        if live is None:
            return self.create(res, namespace, merged, user, dry_run)
        return self._write(res, live, merged, subresource, dry_run)

    @staticmethod
    def _check_version(res, live, body):
        """A resourceVersion sent with an update or patch is a precondition."""
        sent = (body.get("metadata") or {}).get("resourceVersion") if isinstance(body, dict) else None
        if sent and sent != live["metadata"]["resourceVersion"]:
            raise errors.conflict(res, live["metadata"]["name"])

    def _scale(self, res, live, scale, dry_run):
        """Write the replicas of a Scale (the scale subresource) into its object; answer with the Scale."""
        body = copy.deepcopy(live)
        body["spec"]["replicas"] = ((scale.get("spec") if isinstance(scale, dict) else None) or {}).get("replicas", 0)
        return controllers.scale_view(self._write(res, live, body, None, dry_run))

    def _write(self, res, live, body, subresource, dry_run):
        """Store `body` as the new state of `live`, keeping what a client may not change."""
        meta, live_meta = body["metadata"], live["metadata"]
        for key in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"):
            if key in live_meta:
                meta[key] = live_meta[key]
            else:
                meta.pop(key, None)
        # An update that sends no managedFields keeps the recorded ones; an empty list clears them.
        if "managedFields" not in meta and "managedFields" in live_meta:
            meta["managedFields"] = copy.deepcopy(live_meta["managedFields"])
        if subresource == "status":
            body = {**copy.deepcopy(live), "status": body.get("status", {})}
        elif res.has_status:
            body["status"] = copy.deepcopy(live.get("status", {}))
            if not body["status"]:
                body.pop("status")
        defaults.apply(res, body)
        validation.validate(res, body)
        controllers.check_immutable(res, live, body)
        if _spec_of(body) != _spec_of(live) and "generation" in live_meta:
            body["metadata"]["generation"] = live_meta["generation"] + 1
        body["metadata"]["resourceVersion"] = live_meta["resourceVersion"]
        if body == live:
            return copy.deepcopy(live)
        if dry_run:
            return body
        if live_meta.get("deletionTimestamp") and not meta.get("finalizers"):
            self._remove(res, body)
            return body
        self.store.put(res, body, "MODIFIED")
        controllers.reconcile(self, res, body)
        return self._answer(res, body)

    def _answer(self, res, written):
        """The answer to a write: the object as stored once controllers ran, or as written when a controller
        deleted it at once (the token controller deletes a token Secret whose ServiceAccount is missing)."""
        meta = written["metadata"]
        return copy.deepcopy(self.store.get(res, meta.get("namespace"), meta["name"]) or written)

    def delete(self, res, namespace, name, user=ADMIN, propagation=None, dry_run=False):
        self.authorize(user, "delete", res, namespace)
        if res.virtual:
            # A project's admin may delete it without the right to delete namespaces.
            return controllers.project_view(self.delete(self.res("namespaces"), None, name, ADMIN, propagation,
                                                        dry_run))
        live = self.store.get(res, namespace, name)
        if live is None:
            raise errors.not_found(res, name)
        if dry_run:
            return copy.deepcopy(live)
        if propagation == "Foreground":
            self._delete_dependents(live, "Background")
        elif propagation == "Orphan":
            self._orphan_dependents(live)
        if live["metadata"].get("finalizers") or res.plural == "namespaces":
            if not live["metadata"].get("deletionTimestamp"):
                body = copy.deepcopy(live)
                body["metadata"]["deletionTimestamp"] = now()
                body["metadata"]["deletionGracePeriodSeconds"] = 0
                self.store.put(res, body, "MODIFIED")
                controllers.terminating(self, res, body)
            current = self.store.get(res, namespace, name)
            return copy.deepcopy(current or live)
        self._remove(res, live)
        return copy.deepcopy(live)

    def delete_collection(self, res, namespace, label_selector="", field_selector="", user=ADMIN,
                          propagation=None, dry_run=False):
        self.authorize(user, "deletecollection", res, namespace)
        listed = self.list(res, namespace, label_selector, field_selector)
        for item in listed["items"]:
            meta = item["metadata"]
            self.delete(res, meta.get("namespace"), meta["name"], user, propagation, dry_run)
        return listed

    def _remove(self, res, obj):
        """Drop an object for good, then collect its dependents and let controllers react."""
        self.store.remove(res, obj)
        self._delete_dependents(obj, "Background")
        controllers.removed(self, res, obj)

    def _dependents(self, owner):
        uid = owner["metadata"]["uid"]
        for (group, plural, ns, _name), obj in list(self.store.objects.items()):
            if any(ref.get("uid") == uid for ref in obj["metadata"].get("ownerReferences", [])):
                yield self.res(plural, group), ns, obj

    def _delete_dependents(self, owner, propagation):
        for res, ns, obj in list(self._dependents(owner)):
            if self.store.get(res, ns, obj["metadata"]["name"]) is not None:
                self.delete(res, ns or None, obj["metadata"]["name"], propagation=propagation)

    def _orphan_dependents(self, owner):
        uid = owner["metadata"]["uid"]
        for res, _namespace, obj in list(self._dependents(owner)):
            body = copy.deepcopy(obj)
            refs = [r for r in body["metadata"]["ownerReferences"] if r.get("uid") != uid]
            body["metadata"]["ownerReferences"] = refs
            self.store.put(res, body, "MODIFIED")

    # --- helpers for controllers ---------------------------------------------------------
    def system_put(self, res, obj):
        """Create or overwrite an object as a controller would, without authorization or controllers."""
        meta = obj["metadata"]
        live = self.store.get(res, meta.get("namespace"), meta["name"])
        obj["apiVersion"], obj["kind"] = res.api_version, res.kind
        if live is None:
            meta.setdefault("uid", str(uuid.uuid4()))
            meta.setdefault("creationTimestamp", now())
            if "spec" in obj and res.plural != "namespaces":
                meta.setdefault("generation", 1)
            self.store.put(res, obj, "ADDED")
            return obj
        # A controller may rebuild an object from scratch: it stays the same object.
        for key in ("uid", "creationTimestamp", "resourceVersion"):
            meta[key] = live["metadata"][key]
        if "generation" in live["metadata"]:
            meta.setdefault("generation", live["metadata"]["generation"])
        if live != obj:
            if "generation" in live["metadata"] and _spec_of(obj) != _spec_of(live):
                meta["generation"] = live["metadata"]["generation"] + 1
            self.store.put(res, obj, "MODIFIED")
        return obj

    def set_status(self, res, obj, status):
        """Replace an object's status if it differs; the object is the stored one, changed in place."""
        if obj.get("status") != status:
            updated = copy.deepcopy(obj)
            updated["status"] = status
            self.store.put(res, updated, "MODIFIED")
            return updated
        return obj
