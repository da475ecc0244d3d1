"""The control endpoint (/_emulator/...) for tests and benchmarks.

GET    /_emulator/healthz     liveness
GET    /_emulator/requests    {"total": N, "writes": N, "counts": {"<verb> <resource>": N}}
DELETE /_emulator/requests    reset the counters
GET    /_emulator/faults      the faults still armed
POST   /_emulator/faults      arm a fault: {"verb", "resource", "namespace", "name", "status", "count",
                              "latency", "message"}; the next `count` matching requests get `status`
                              (500, 429, 409...) and/or are delayed by `latency` seconds; omitted keys
                              match anything
DELETE /_emulator/faults      disarm all faults
POST   /_emulator/seed        {"objects": [...]}: create objects as an admin, keeping their status
"""
import collections
import threading
import time

from .errors import ApiError

WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")
# Created, answered, never stored: asking a question is no write.
REVIEWS = ("selfsubjectaccessreviews",)


class Control:
    def __init__(self, cluster):
        self.cluster = cluster
        self.lock = threading.Lock()
        self.counts = collections.Counter()
        self.faults = []

    def count(self, verb, resource):
        with self.lock:
            self.counts[f"{verb} {resource}"] += 1

    def inject(self, verb, resource, namespace, name):
        with self.lock:
            fault = next((f for f in self.faults if _matches(f, verb, resource, namespace, name)), None)
            if fault is None:
                return
            fault["count"] -= 1
            if fault["count"] <= 0:
                self.faults.remove(fault)
        if fault.get("latency"):
            time.sleep(float(fault["latency"]))
        if fault.get("status"):
            code = int(fault["status"])
            raise ApiError(code, fault.get("message") or f"injected fault: {code} for {verb} {resource}")

    def handle(self, method, parts, body):
        path = "/".join(parts)
        if (method, path) == ("GET", "healthz"):
            return 200, "ok", "text/plain"
        if path == "requests":
            with self.lock:
                if method == "DELETE":
                    self.counts.clear()
                counts = dict(self.counts)
            writes = sum(n for key, n in counts.items()
                         if key.split(" ")[0] in WRITE_VERBS and key.split(" ")[1] not in REVIEWS)
            return 200, {"total": sum(counts.values()), "writes": writes, "counts": counts}
        if path == "faults":
            with self.lock:
                if method == "POST":
                    self.faults.append({"count": 1, **(body or {})})
                elif method == "DELETE":
                    self.faults.clear()
                return 200, {"faults": list(self.faults)}
        if (method, path) == ("POST", "seed"):
            created = []
            with self.cluster.lock:
                for obj in (body or {}).get("objects", []):
                    created.append(self._seed(obj))
            return 200, {"objects": created}
        return 404, ApiError(404, f"no control endpoint {method} /_emulator/{path}").status()

    def _seed(self, obj):
        api_version, kind = obj.get("apiVersion", "v1"), obj.get("kind", "")
        res = self.cluster.catalogue.for_kind(api_version, kind)
        if res is None:
            raise ApiError(400, f"cannot seed unknown kind {api_version}/{kind}")
        namespace = obj.get("metadata", {}).get("namespace") or ("default" if res.namespaced else None)
        return self.cluster.create(res, namespace, obj, keep_status=True)


def _matches(fault, verb, resource, namespace, name):
    wanted = {"verb": verb, "resource": resource, "namespace": namespace, "name": name}
    return all(fault.get(key) in (None, value) for key, value in wanted.items())
