"""The HTTP front of the emulator: routing, content types, watches and the control endpoint."""
import copy
import json
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import admission, controllers, persistence, protobuf, resources
from .cluster import ADMIN, TOKENS, Cluster
from .control import Control, Stopped
from .errors import ApiError

PATCH_TYPES = {"application/json-patch+json": "json", "application/merge-patch+json": "merge",
               "application/strategic-merge-patch+json": "strategic", "application/apply-patch+yaml": "apply",
               "application/apply-patch+cbor": None}
WATCH_TIMEOUT = 300


class Route:
    """What a request path names."""

    def __init__(self, res, namespace=None, name=None, subresource=None):
        self.res, self.namespace, self.name, self.subresource = res, namespace, name, subresource


def parse_resource_path(catalogue, parts):
    if parts[0] == "api" and len(parts) >= 2:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[0] == "apis" and len(parts) >= 3:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] not in ("status", "finalize"):
        namespace, rest = rest[1], rest[2:]
    if not rest:
        return None
    res = catalogue.lookup(group, version, rest[0])
    if res is None:
        raise ApiError(404, "the server could not find the requested resource")
    if namespace is not None and not res.namespaced:
        raise ApiError(404, "the server could not find the requested resource")
    return Route(res, namespace, rest[1] if len(rest) > 1 else None, rest[2] if len(rest) > 2 else None)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, each response waits ~40 ms
    # for the client's delayed ACK.
    disable_nagle_algorithm = True
    server: "EmulatorServer"
    raw_body = b""

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        if self.server.verbose:
            super().log_message(format, *args)

    # --- plumbing ---------------------------------------------------------------------
    def _send(self, code, body, content_type="application/json", headers=None):
        data = body if isinstance(body, bytes) else (
            body.encode() if isinstance(body, str) else json.dumps(body).encode())
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        raw = self.raw_body
        content_type = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip()
        if not raw:
            return None, content_type
        if content_type == "application/vnd.kubernetes.protobuf":
            try:
                return protobuf.decode(raw), content_type
            except protobuf.ProtobufError as exc:
                raise ApiError(415, str(exc)) from exc
        try:
            return json.loads(raw), content_type
        except ValueError:
            pass
        try:
            import yaml  # pylint: disable=import-outside-toplevel
            return yaml.safe_load(raw), content_type
        except Exception as exc:  # noqa: BLE001 - any parse failure is the client's bad request
            raise ApiError(400, f"could not decode the request body: {exc}") from exc

    def _user(self):
        """Who asks. Like the old insecure port, plain HTTP without a token is the admin (client-go
        sends no bearer token over plain HTTP); an admin may impersonate another user."""
        header = self.headers.get("Authorization", "")
        if not header:
            user = ADMIN
        elif header.startswith("Bearer ") and header[7:] in TOKENS:
            user = TOKENS[header[7:]]
        else:
            raise ApiError(401, "Unauthorized")
        if user == ADMIN:
            return self.headers.get("Impersonate-User") or user
        return user

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _dispatch(self, method):
        # Read the body first: a request answered early (fault, 404) must not leave it in the
        # stream, where a keep-alive connection would take it for the next request.
        length = int(self.headers.get("Content-Length") or 0)
        self.raw_body = self.rfile.read(length) if length else b""
        url = urllib.parse.urlsplit(self.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
        parts = [urllib.parse.unquote(p) for p in url.path.strip("/").split("/") if p]
        try:
            if parts[:1] == ["_emulator"]:
                body = self._body()[0]
                self._send(*self.server.control.handle(method, parts[1:], body))
                return
            self._serve_api(method, parts, query)
        except ApiError as exc:
            self._send(exc.code, exc.status(), headers={"Retry-After": "1"} if exc.code == 429 else None)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Stopped:
            self.close_connection = True
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # An emulator bug: answer as a server's internal error rather than drop the connection.
            sys.stderr.write(f"{method} {self.path} failed:\n{traceback.format_exc()}")
            self._send(500, ApiError(500, f"emulator error: {exc!r}").status())

    # --- the Kubernetes API --------------------------------------------------------------
    def _serve_api(self, method, parts, query):
        cluster = self.server.cluster
        discovery = self._discovery(parts) if method == "GET" else None
        if discovery is not None:
            self.server.control.count("discovery", "/" + "/".join(parts))
            self._send(*discovery)
            return
        route = parse_resource_path(cluster.catalogue, parts) if parts else None
        if route is None:
            raise ApiError(404, "the server could not find the requested resource")
        user = self._user()
        verb = self._verb(method, route, query)
        label = route.res.plural + (f"/{route.subresource}" if route.subresource else "")
        # A dry run changes nothing: counted apart, so that `writes` counts what could change the cluster.
        self.server.control.count(f"dry-run-{verb}" if query.get("dryRun") == "All" else verb, label)
        body, content_type = self._body() if method in ("POST", "PUT", "PATCH", "DELETE") else (None, None)
        name = route.name
        if verb == "create" and name is None and isinstance(body, dict):
            name = (body.get("metadata") or {}).get("name")
        lost = self.server.control.inject(verb, label, route.namespace, name)
        if verb == "watch":
            if lost is not None:
                raise lost
            self._watch(route, query)
            return
        # A committed fault: the request is carried out, then its answer, whatever it was, is lost.
        try:
            with cluster.lock:
                cluster.warnings = []
                result = self._call(verb, route, query, body, content_type, user)
                warning = admission.warning_header(cluster.warnings)
        except ApiError:
            if lost is None:
                raise
            raise lost from None
        if lost is not None:
            raise lost
        if isinstance(result, str):
            self._send(200, result, "text/plain")
        else:
            self._send(201 if verb == "create" and route.subresource is None else 200, result,
                       headers={"Warning": warning} if warning else None)

    def _discovery(self, parts):
        catalogue = self.server.cluster.catalogue
        path = "/".join(parts)
        if path in ("healthz", "readyz", "livez"):
            return 200, "ok", "text/plain"
        if path == "version":
            return 200, catalogue.version()
        if path == "openapi/v2":
            # An empty document: kubectl and helm then skip client-side schema validation.
            return 200, b"", "application/json"
        if path == "api":
            return 200, catalogue.core_versions()
        if path == "apis":
            return 200, catalogue.group_list()
        if len(parts) == 2 and parts[0] == "api":
            found = catalogue.resource_list("", parts[1])
            return (200, found) if found else (404, ApiError(404, "not found").status())
        if len(parts) == 2 and parts[0] == "apis":
            found = catalogue.group(parts[1])
            return (200, found) if found else (404, ApiError(404, "not found").status())
        if len(parts) == 3 and parts[0] == "apis":
            found = catalogue.resource_list(parts[1], parts[2])
            return (200, found) if found else (404, ApiError(404, "not found").status())
        if parts[:1] == ["openapi"]:
            return 404, ApiError(404, "the server could not find the requested resource").status()
        return None

    @staticmethod
    def _verb(method, route, query):
        collection = route.name is None
        if method == "GET":
            if collection:
                # A bool query parameter as the API server converts it (apimachinery's
                # Convert_Slice_string_To_bool): only "false" and "0", in any case, are false, so
                # kubernetes_asyncio's watch=True is a watch.
                watch = query.get("watch")
                return "watch" if watch is not None and watch.lower() not in ("false", "0") else "list"
            return "get"
        if method == "DELETE":
            return "deletecollection" if collection else "delete"
        if method == "POST":
            if collection or route.subresource:
                return "create"
            raise ApiError(405, "POST is not allowed on an object")
        if collection:
            raise ApiError(405, f"{method} needs an object name")
        return {"PUT": "update", "PATCH": "patch"}[method]

    def _call(self, verb, route, query, body, content_type, user):
        cluster, res, ns, name, sub = (self.server.cluster, route.res, route.namespace, route.name,
                                       route.subresource)
        controllers.reject_unknown_subresource(res, sub)
        if verb not in res.verbs and not sub:
            raise ApiError(405, f"the server does not allow this method on the requested resource ({verb})")
        dry_run = query.get("dryRun") == "All" or (isinstance(body, dict) and "All" in (body.get("dryRun") or []))
        labels, fields = query.get("labelSelector", ""), query.get("fieldSelector", "")
        if verb == "get":
            if res.kind == "User" and name == "~":
                return controllers.current_user(user)
            obj = cluster.get(res, ns, name)
            if sub == "log":
                return controllers.log_text(res, obj, query.get("tailLines"))
            return controllers.scale_view(obj) if sub == "scale" else obj
        if verb == "list":
            return _paginate(cluster.list(res, ns, labels, fields), query)
        if verb == "create":
            if sub == "instantiate":
                cluster.authorize(user, "create", res, ns)
                return controllers.instantiate(cluster, ns, name, body or {})
            if sub == "eviction":
                return cluster.delete(cluster.res("pods"), ns, name, user, dry_run=dry_run)
            return cluster.create(res, ns, body, user, dry_run)
        if verb == "update":
            return cluster.replace(res, ns, name, body, user, sub, dry_run)
        if verb == "patch":
            patch_type = PATCH_TYPES.get(content_type)
            if patch_type is None:
                raise ApiError(415, f"the body of the request was in an unknown format ({content_type})")
            return cluster.patch(res, ns, name, patch_type, body, user, sub, dry_run, query.get("fieldManager"),
                                 query.get("force") == "true")
        propagation = query.get("propagationPolicy") or (body or {}).get("propagationPolicy")
        if verb == "delete":
            return cluster.delete(res, ns, name, user, propagation, dry_run)
        return cluster.delete_collection(res, ns, labels, fields, user, propagation, dry_run)

    def _watch(self, route, query):
        from .selectors import fields_match, labels_match, parse_fields, parse_labels  # noqa: PLC0415
        cluster, res = self.server.cluster, route.res
        source = cluster.res("namespaces") if res.virtual else res
        labels, fields = parse_labels(query.get("labelSelector", "")), parse_fields(query.get("fieldSelector", ""))
        deadline = time.monotonic() + float(query.get("timeoutSeconds") or WATCH_TIMEOUT)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def matches(obj):
            meta = obj["metadata"]
            if route.namespace and meta.get("namespace") != route.namespace:
                return False
            return labels_match(labels, meta.get("labels")) and fields_match(fields, obj)

        def emit(event_type, obj):
            if res.virtual:
                obj = controllers.project_view(obj)
            line = json.dumps({"type": event_type, "object": obj}).encode() + b"\n"
            self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
            self.wfile.flush()

        with cluster.lock:
            start = query.get("resourceVersion") or "0"
            if start == "0":
                pending = [("ADDED", o) for o in cluster.store.items(source, route.namespace) if matches(o)]
                last = cluster.store.resource_version
            else:
                last = int(start)
                pending = []
                if last < cluster.store.oldest_event() - 1:
                    gone = ApiError(410, f"too old resource version: {last}", "Expired").status()
                    pending = [("ERROR", gone)]
        try:
            for event_type, obj in pending:
                emit(event_type, obj)
            while not self.server.stopping.is_set() and time.monotonic() < deadline:
                with cluster.lock:
                    events = cluster.store.events_since(last)
                    if not events:
                        cluster.store.changed.wait(0.5)
                        events = cluster.store.events_since(last)
                if events:
                    last = events[-1][0]
                for _version, group, plural, event_type, obj, previous in events:
                    if (group, plural) == (source.group, source.plural):
                        seen = watch_event(event_type, obj, previous, matches)
                        if seen:
                            emit(*seen)
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True


def watch_event(event_type, obj, previous, matches):
    """What a watch with selectors sees of an event, as from the API server's watch cache: an object
    that starts to match is ADDED, one that stops matching is DELETED (in its last matching state)."""
    if event_type == "DELETED":
        return (event_type, obj) if matches(obj) else None
    was_matching = previous is not None and matches(previous)
    if matches(obj):
        return ("MODIFIED" if was_matching else "ADDED"), obj
    if was_matching:
        gone = copy.deepcopy(previous)
        gone["metadata"]["resourceVersion"] = obj["metadata"]["resourceVersion"]
        return "DELETED", gone
    return None


def _paginate(listed, query):
    limit = int(query.get("limit") or 0)
    if not limit:
        return listed
    start = int(query.get("continue") or 0)
    items = listed["items"]
    listed["items"] = items[start:start + limit]
    if start + limit < len(items):
        listed["metadata"]["continue"] = str(start + limit)
        listed["metadata"]["remainingItemCount"] = len(items) - start - limit
    return listed


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port=0, openshift=True, verbose=False, state_dir=None, kube_version=None):
        """With `state_dir`, serve the cluster saved there (if any) and save it there on stop()
        (persistence.StateError when it cannot be loaded). `kube_version` ("1.27.3") is the Kubernetes version a
        new cluster reports, by default v1.33.0; a saved cluster keeps its own, and naming another one is refused."""
        self.state_dir = state_dir
        kube_version = kube_version and resources.kube_version(kube_version)  # ValueError before the port is bound
        saved = persistence.read(state_dir, openshift, kube_version) if state_dir else None
        super().__init__(("127.0.0.1", port), Handler)
        self.cluster = Cluster(openshift=openshift, saved=saved, kube_version=kube_version)
        # Set by stop(): watches end and requests waiting out a latency fault are dropped.
        self.stopping = threading.Event()
        self.control = Control(self.cluster, self.stopping)
        self.verbose = verbose

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"

    def stop(self):
        self.stopping.set()
        with self.cluster.lock:
            self.cluster.store.changed.notify_all()
        self.shutdown()
        self.server_close()
        self.save()

    def save(self):
        """Write the cluster to the state directory, if there is one."""
        if self.state_dir:
            with self.cluster.lock:
                persistence.write(self.state_dir, self.cluster.dump())
