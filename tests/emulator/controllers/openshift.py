"""OpenShift: Routes are admitted (or rejected when another route holds their host), image streams get a
repository, builds run and tag images, projects are requested, users/~ names the caller."""
import copy
import hashlib

from .. import errors, validation
from .common import marked_failed, now, owner_ref, stored

APPS_DOMAIN = "apps.emulator.local"
REGISTRY = "image-registry.openshift-image-registry.svc:5000"
ROUTER = "default"


def reconcile_route(cluster, res, route):
    body = copy.deepcopy(route)
    meta = body["metadata"]
    host = body.setdefault("spec", {}).setdefault("host", f"{meta['name']}-{meta['namespace']}.{APPS_DOMAIN}")
    before = _ingress(route).get("host")
    admit_routes(cluster, res, host, body)
    if before != host:
        admit_routes(cluster, res, before)  # the host it left: the routes it held back may be exposed now


def admit_routes(cluster, res, host, written=None):
    """Admit the routes of a host as the router's host index does under the default (Strict) admission policy:
    the namespace of the oldest route owns the host, and in it the oldest route of each path is exposed; the others
    are rejected as HostAlreadyClaimed. `written`, the route being written, is stored; the other routes are written
    only when their admission changes (a route deleted or written may expose or displace them)."""
    claims = {r["metadata"]["uid"]: r for r in cluster.store.items(res) if (r.get("spec") or {}).get("host") == host}
    if written is not None:
        claims[written["metadata"]["uid"]] = written
    if not host or not claims:
        return
    ordered = sorted(claims.values(), key=_age)
    owner = ordered[0]
    exposed = []
    for route in ordered:
        if route["metadata"]["namespace"] == owner["metadata"]["namespace"] and \
                all(_path(other) != _path(route) for other in exposed):
            exposed.append(route)
    for route in ordered:
        rejection = None if any(route is other for other in exposed) else _rejection(route, owner, host, written)
        if route is written:
            written["status"] = _status(route, rejection)
            cluster.system_put(res, written)
        elif _admitted(route) != (rejection is None):
            cluster.set_status(res, route, _status(route, rejection))


def _age(route):
    """Oldest first, by creationTimestamp (seconds); within a second the route holding the host comes first, where
    the router would compare uids."""
    meta = route["metadata"]
    return meta["creationTimestamp"], not _admitted(route), meta["uid"]


def _path(route):
    return route["spec"].get("path") or ""


def _ingress(route):
    return next((i for i in (route.get("status") or {}).get("ingress") or [] if i.get("routerName") == ROUTER), {})


def _admitted(route):
    return any(c.get("type") == "Admitted" and c.get("status") == "True" for c in _ingress(route).get("conditions", []))


def _rejection(route, owner, host, written):
    """The router's message for a route it does not expose (openshift/router, unique_host.go)."""
    if _admitted(route) and route is not written:
        if written is None:
            return f"namespace {owner['metadata']['namespace']} owns hostname {host}"
        return f"replaced by older route {written['metadata']['name']}"
    if route["metadata"]["namespace"] == owner["metadata"]["namespace"]:
        return f"route {owner['metadata']['name']} already exposes {host} and is older"
    return f"a route in another namespace holds {host} and is older than {route['metadata']['name']}"


def _status(route, rejection):
    """The route's status with this router's ingress entry; the Admitted condition keeps its lastTransitionTime
    while it stays the same."""
    condition = {"type": "Admitted", "status": "False" if rejection else "True"}
    if rejection:
        condition.update(reason="HostAlreadyClaimed", message=rejection)
    previous = next((c for c in _ingress(route).get("conditions", []) if c.get("type") == "Admitted"), {})
    unchanged = {k: previous.get(k) for k in ("type", "status", "reason", "message") if k in previous} == condition
    condition["lastTransitionTime"] = (unchanged and previous.get("lastTransitionTime")) or now()
    others = [i for i in (route.get("status") or {}).get("ingress") or [] if i.get("routerName") != ROUTER]
    spec = route["spec"]
    mine = {"host": spec["host"], "routerName": ROUTER, "wildcardPolicy": spec.get("wildcardPolicy", "None"),
            "routerCanonicalHostname": f"router-default.{APPS_DOMAIN}", "conditions": [condition]}
    return {**(route.get("status") or {}), "ingress": [mine] + others}


def reconcile_imagestream(cluster, res, stream):
    body = copy.deepcopy(stream)
    meta = body["metadata"]
    status = body.setdefault("status", {})
    status["dockerImageRepository"] = f"{REGISTRY}/{meta['namespace']}/{meta['name']}"
    cluster.system_put(res, body)


def reconcile_buildconfig(cluster, res, config):
    if "lastVersion" in config.get("status", {}):
        return
    config = cluster.set_status(res, config, {"lastVersion": 0})
    triggers = config["spec"].get("triggers", [])
    if any(t.get("type") == "ConfigChange" for t in triggers):
        instantiate(cluster, config["metadata"]["namespace"], config["metadata"]["name"], {})


def instantiate(cluster, namespace, name, request):
    """POST buildconfigs/<name>/instantiate: start a Build, which runs to Complete (or Failed)."""
    bc_res, build_res = cluster.res("buildconfigs", "build.openshift.io"), cluster.res("builds", "build.openshift.io")
    config = cluster.store.get(bc_res, namespace, name)
    if config is None:
        raise errors.not_found(bc_res, name)
    number = config.get("status", {}).get("lastVersion", 0) + 1
    config = cluster.set_status(bc_res, config, {"lastVersion": number})
    spec = {k: copy.deepcopy(v) for k, v in config["spec"].items()
            if k not in ("triggers", "runPolicy", "successfulBuildsHistoryLimit", "failedBuildsHistoryLimit")}
    spec["triggeredBy"] = request.get("triggeredBy") or [{"message": "Manually triggered"}]
    failed = marked_failed(config)
    digest = "sha256:" + hashlib.sha256(f"{namespace}/{name}/{number}".encode()).hexdigest()
    target = spec.get("output", {}).get("to", {})
    stream, _colon, tag = target.get("name", "").partition(":")
    reference = f"{REGISTRY}/{namespace}/{stream}:{tag or 'latest'}" if stream else ""
    stamp = now()
    status = {"phase": "Failed" if failed else "Complete", "startTimestamp": stamp, "completionTimestamp": stamp,
              "duration": 1000000000, "outputDockerImageReference": reference,
              "config": {"kind": "BuildConfig", "namespace": namespace, "name": name}}
    if failed:
        status.update(reason="GenericBuildFailed", message="Generic Build failure - check logs for details.")
    else:
        status["output"] = {"to": {"imageDigest": digest}}
    build = {"metadata": {
        "name": f"{name}-{number}", "namespace": namespace, "ownerReferences": [owner_ref(config)],
        "labels": {"buildconfig": name, "openshift.io/build-config.name": name,
                   "openshift.io/build.start-policy": config["spec"].get("runPolicy", "Serial")},
        "annotations": {"openshift.io/build-config.name": name, "openshift.io/build.number": str(number)}},
        "spec": spec}
    created = cluster.create(build_res, namespace, build)
    created = cluster.set_status(build_res, stored(cluster, build_res, created), status)
    if not failed and target.get("kind") == "ImageStreamTag" and stream:
        _tag_image(cluster, namespace, stream, tag or "latest", digest)
    return copy.deepcopy(created)


def _tag_image(cluster, namespace, stream, tag, digest):
    is_res = cluster.res("imagestreams", "image.openshift.io")
    current = cluster.store.get(is_res, namespace, stream)
    if current is None:
        return
    body = copy.deepcopy(current)
    reference = f"{REGISTRY}/{namespace}/{stream}@{digest}"
    tags = [t for t in body.setdefault("status", {}).get("tags", []) if t["tag"] != tag]
    tags.append({"tag": tag, "items": [{"created": now(), "dockerImageReference": reference, "image": digest,
                                        "generation": 1}]})
    body["status"]["tags"] = tags
    cluster.system_put(is_res, body)
    cluster.system_put(cluster.res("imagestreamtags", "image.openshift.io"), {
        "metadata": {"name": f"{stream}:{tag}", "namespace": namespace},
        "tag": {"name": tag}, "image": {"metadata": {"name": digest}, "dockerImageReference": reference}})


def project_view(ns):
    view = copy.deepcopy(ns)
    view["apiVersion"], view["kind"] = "project.openshift.io/v1", "Project"
    return view


def project_request(cluster, body, user, dry_run):
    name = (body.get("metadata") or {}).get("name", "")
    ns_res = cluster.res("namespaces")
    validation.validate(ns_res, {"metadata": {"name": name}})
    if cluster.store.get(ns_res, None, name) is not None:
        raise errors.already_exists(cluster.res("projects", "project.openshift.io"), name)
    annotations = {"openshift.io/requester": user, "openshift.io/display-name": body.get("displayName", ""),
                   "openshift.io/description": body.get("description", "")}
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "annotations": annotations}}
    if dry_run:
        return project_view(namespace)
    created = cluster.create(ns_res, None, namespace)
    cluster.create(cluster.res("rolebindings", "rbac.authorization.k8s.io"), name, {
        "metadata": {"name": "admin", "namespace": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]})
    return project_view(created)


def current_user(user):
    """GET users/~: the caller as a User, built from the request's identity rather than stored. The emulator's
    identities belong to no groups."""
    return {"apiVersion": "user.openshift.io/v1", "kind": "User", "metadata": {"name": user}, "groups": []}
