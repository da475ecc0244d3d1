"""The control endpoint (/_emulator/...) for tests and benchmarks.

GET    /_emulator/healthz     liveness
GET    /_emulator/requests    {"total": N, "writes": N, "counts": {"<verb> <resource>": N}}
DELETE /_emulator/requests    reset the counters
GET    /_emulator/faults      the faults still armed
POST   /_emulator/faults      arm a fault: {"verb", "resource", "namespace", "name", "status", "count",
                              "latency", "message", "commit"}; the next `count` matching requests get
                              `status` (500, 429, 409...) and/or are delayed by `latency` seconds (cut
                              short, the request dropped, when the server stops); omitted keys match
                              anything; a create matches `name` by the name in its body. With "commit":
                              true the request is carried out first and only its answer is replaced by
                              `status`, as when a write succeeds but its response is lost
DELETE /_emulator/faults      disarm all faults
GET    /_emulator/job-outcomes  the Job outcomes still armed
POST   /_emulator/job-outcomes  arm an outcome: {"namespace", "name_prefix", "outcome": "Failed"|"Complete",
                              "log", "count"}; the next `count` (default 1) Jobs created that match (omitted keys
                              match anything) run as if annotated with that outcome and log
DELETE /_emulator/job-outcomes  disarm all Job outcomes
POST   /_emulator/seed        {"objects": [...]}: create objects as an admin, keeping their status
"""
import collections
import threading

from .errors import ApiError

WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")
# Created, answered, never stored: asking a question is no write.
REVIEWS = ("selfsubjectaccessreviews", "selfsubjectrulesreviews")
# A write whose answer is lost: the reasons and wording a server gives when it runs out of time.
COMMITTED_REASONS = {500: "ServerTimeout", 504: "Timeout"}
COMMITTED_MESSAGE = "the server was unable to return a response in the time allotted, but may still be processing " \
                    "the request"
# What an armed Job outcome may be: the Job's two terminal conditions.
JOB_OUTCOMES = ("Failed", "Complete")


class Stopped(Exception):
    """The server stopped while a request waited out its latency: the request is left unanswered."""


class Control:
    def __init__(self, cluster, stopping=None):
        self.cluster = cluster
        self.stopping = stopping or threading.Event()
        self.lock = threading.Lock()
        self.counts = collections.Counter()
        self.faults = []

    def count(self, verb, resource):
        with self.lock:
            self.counts[f"{verb} {resource}"] += 1

    def inject(self, verb, resource, namespace, name):
        """Apply the first fault armed for a request: wait its latency, then raise its status. The status of a
        committed fault is returned instead, for the caller to raise once the request is carried out."""
        with self.lock:
            fault = next((f for f in self.faults if _matches(f, verb, resource, namespace, name)), None)
            if fault is None:
                return None
            fault["count"] -= 1
            if fault["count"] <= 0:
                self.faults.remove(fault)
        if fault.get("latency") and self.stopping.wait(float(fault["latency"])):
            raise Stopped()
        if not fault.get("status"):
            return None
        code = int(fault["status"])
        if fault.get("commit"):
            return ApiError(code, fault.get("message") or COMMITTED_MESSAGE, COMMITTED_REASONS.get(code))
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
        if path == "job-outcomes":
            return self._job_outcomes(method, body or {})
        if (method, path) == ("POST", "seed"):
            created = []
            with self.cluster.lock:
                for obj in (body or {}).get("objects", []):
                    created.append(self._seed(obj))
            return 200, {"objects": created}
        return 404, ApiError(404, f"no control endpoint {method} /_emulator/{path}").status()

    def _job_outcomes(self, method, body):
        """Armed outcomes live in the cluster, where the Job controller uses them up, under its lock."""
        with self.cluster.lock:
            armed = self.cluster.job_outcomes
            if method == "POST":
                if body.get("outcome", "Failed") not in JOB_OUTCOMES:
                    return 400, ApiError(400, f"outcome must be one of {', '.join(JOB_OUTCOMES)}").status()
                armed.append({"outcome": "Failed", "log": "", "count": 1, **body})
            elif method == "DELETE":
                armed.clear()
            return 200, {"job_outcomes": [dict(entry) for entry in armed]}

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
