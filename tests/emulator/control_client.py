"""A small client for the emulator's control endpoint (/_emulator/...), stdlib only.

Contract tests, benchmarks and molecule helpers use it to count requests, inject faults,
arm Job outcomes and seed objects:

    control = ControlClient("http://127.0.0.1:8080")
    control.reset()
    control.fault(verb="create", resource="configmaps", status=500, count=2)
    control.counts()["create configmaps"]
"""
import json
import urllib.error
import urllib.request


class ControlError(RuntimeError):
    pass


class ControlClient:
    def __init__(self, url, timeout=10):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}/_emulator/{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise ControlError(f"{method} /_emulator/{path}: {exc.code} {exc.read().decode()}") from exc

    def requests(self):
        """{"total": N, "writes": N, "counts": {"<verb> <resource>": N}} since the last reset."""
        return self._call("GET", "requests")

    def counts(self):
        return self.requests()["counts"]

    def reset(self):
        self._call("DELETE", "requests")

    def fault(self, verb=None, resource=None, namespace=None, name=None, status=None, count=1, latency=None,
              message=None, commit=None):
        """Arm a fault: the next `count` matching requests fail with `status` and/or wait `latency` s.
        With `commit=True` they are carried out first and only their answer is replaced by `status`."""
        wanted = {"verb": verb, "resource": resource, "namespace": namespace, "name": name, "status": status,
                  "count": count, "latency": latency, "message": message, "commit": commit}
        return self._call("POST", "faults", {k: v for k, v in wanted.items() if v is not None})["faults"]

    def faults(self):
        return self._call("GET", "faults")["faults"]

    def clear_faults(self):
        self._call("DELETE", "faults")

    def job_outcome(self, namespace=None, name_prefix=None, outcome="Failed", log="", count=1):
        """Arm a Job outcome: the next `count` Jobs created in `namespace` whose name starts with `name_prefix`
        (None matches any) end `outcome` ("Failed" or "Complete") with `log` as their pod's log, as if annotated."""
        wanted = {"namespace": namespace, "name_prefix": name_prefix, "outcome": outcome, "log": log, "count": count}
        return self._call("POST", "job-outcomes", {k: v for k, v in wanted.items() if v is not None})["job_outcomes"]

    def job_outcomes(self):
        return self._call("GET", "job-outcomes")["job_outcomes"]

    def clear_job_outcomes(self):
        self._call("DELETE", "job-outcomes")

    def seed(self, objects):
        """Create objects as the admin, keeping their status; returns the stored objects."""
        return self._call("POST", "seed", {"objects": list(objects)})["objects"]
