"""The control endpoint: request counts, fault injection, armed Job outcomes and seeding."""
import threading
import time
import urllib.request

import pytest
from kubernetes import client

from .control_client import ControlClient, ControlError
from .expect import failure
from .server import EmulatorServer


def _configmap(name):
    return {"metadata": {"name": name}, "data": {"a": "1"}}


def test_requests_are_counted_by_verb_and_resource(core, control, namespace):
    control.reset()
    core.create_namespaced_config_map(namespace, _configmap("settings"))
    core.read_namespaced_config_map("settings", namespace)
    core.list_namespaced_config_map(namespace)
    core.patch_namespaced_config_map("settings", namespace, {"data": {"a": "2"}})
    core.replace_namespaced_config_map("settings", namespace, _configmap("settings"))
    core.delete_namespaced_config_map("settings", namespace)
    requests = control.requests()
    assert requests["counts"] == {"create configmaps": 1, "get configmaps": 1, "list configmaps": 1,
                                  "patch configmaps": 1, "update configmaps": 1, "delete configmaps": 1}
    assert requests["total"] == 6
    assert requests["writes"] == 4


def test_dry_runs_are_counted_apart_and_are_no_writes(core, control, namespace):
    core.create_namespaced_config_map(namespace, _configmap("settings"))
    control.reset()
    core.create_namespaced_config_map(namespace, _configmap("other"), dry_run="All")
    core.patch_namespaced_config_map("settings", namespace, {"data": {"a": "2"}}, dry_run="All")
    core.delete_namespaced_config_map("settings", namespace, dry_run="All")
    requests = control.requests()
    assert requests["counts"] == {"dry-run-create configmaps": 1, "dry-run-patch configmaps": 1,
                                  "dry-run-delete configmaps": 1}
    assert requests["writes"] == 0


def test_subresources_and_failed_requests_are_counted(apps, control, namespace):
    control.reset()
    failure(apps.read_namespaced_deployment_status, "absent", namespace)
    assert control.counts() == {"get deployments/status": 1}


def test_access_reviews_are_counted_but_are_no_writes(api, control):
    control.reset()
    review = {"spec": {"resourceAttributes": {"verb": "get", "resource": "pods"}}}
    client.AuthorizationV1Api(api).create_self_subject_access_review(review)
    assert control.requests() == {"total": 1, "writes": 0, "counts": {"create selfsubjectaccessreviews": 1}}


def test_reset_clears_the_counts(core, control, namespace):
    control.reset()
    core.list_namespaced_config_map(namespace)
    assert control.counts() == {"list configmaps": 1}
    control.reset()
    assert control.requests() == {"total": 0, "writes": 0, "counts": {}}


@pytest.mark.parametrize("code,reason", [(500, "InternalError"), (429, "TooManyRequests"), (409, "Conflict")])
def test_fault_fails_the_next_matching_requests(core, control, namespace, code, reason):
    control.fault(verb="create", resource="configmaps", namespace=namespace, status=code, count=2)
    for attempt in ("first", "second"):
        status = failure(core.create_namespaced_config_map, namespace, _configmap(attempt))
        assert status["code"] == code
        assert status["reason"] == reason
    assert control.faults() == []
    core.create_namespaced_config_map(namespace, _configmap("third"))
    names = {i.metadata.name for i in core.list_namespaced_config_map(namespace).items}
    assert names == {"third", "kube-root-ca.crt"}


def test_fault_matches_only_its_target(core, control, namespace):
    control.fault(verb="get", resource="configmaps", name="broken", status=500)
    core.create_namespaced_config_map(namespace, _configmap("fine"))
    core.create_namespaced_config_map(namespace, _configmap("broken"))
    assert core.read_namespaced_config_map("fine", namespace).metadata.name == "fine"
    assert core.list_namespaced_config_map(namespace).items
    assert [f["name"] for f in control.faults()] == ["broken"]
    assert failure(core.read_namespaced_config_map, "broken", namespace)["code"] == 500
    assert core.read_namespaced_config_map("broken", namespace).metadata.name == "broken"


def test_fault_with_a_name_fires_only_for_the_create_of_that_object(core, control, namespace):
    control.fault(verb="create", resource="configmaps", namespace=namespace, name="broken", status=500)
    core.create_namespaced_config_map(namespace, _configmap("fine"))
    assert [f["name"] for f in control.faults()] == ["broken"]
    assert failure(core.create_namespaced_config_map, namespace, _configmap("broken"))["code"] == 500
    assert control.faults() == []
    assert core.create_namespaced_config_map(namespace, _configmap("broken")).metadata.name == "broken"


@pytest.mark.parametrize("code,reason", [(500, "ServerTimeout"), (504, "Timeout")])
def test_committed_fault_creates_the_object_but_loses_the_answer(core, control, namespace, code, reason):
    control.fault(verb="create", resource="configmaps", name="lost", status=code, commit=True)
    status = failure(core.create_namespaced_config_map, namespace, _configmap("lost"))
    assert (status["code"], status["reason"]) == (code, reason)
    assert "may still be processing the request" in status["message"]
    assert core.read_namespaced_config_map("lost", namespace).data == {"a": "1"}
    assert failure(core.create_namespaced_config_map, namespace, _configmap("lost"))["reason"] == "AlreadyExists"


def test_committed_fault_deletes_the_object_but_loses_the_answer(core, control, namespace):
    core.create_namespaced_config_map(namespace, _configmap("doomed"))
    control.fault(verb="delete", resource="configmaps", status=500, commit=True, message="etcd went quiet")
    assert failure(core.delete_namespaced_config_map, "doomed", namespace)["message"] == "etcd went quiet"
    assert failure(core.read_namespaced_config_map, "doomed", namespace)["code"] == 404


def test_fault_message_is_configurable(core, control, namespace):
    control.fault(verb="list", resource="configmaps", status=503, message="etcd is down")
    status = failure(core.list_namespaced_config_map, namespace)
    assert status["message"] == "etcd is down"
    assert status["reason"] == "ServiceUnavailable"


def test_latency_fault_delays_without_failing(core, control, namespace):
    core.create_namespaced_config_map(namespace, _configmap("slow"))
    control.fault(verb="get", resource="configmaps", latency=0.4)
    started = time.monotonic()
    assert core.read_namespaced_config_map("slow", namespace).metadata.name == "slow"
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    core.read_namespaced_config_map("slow", namespace)
    assert time.monotonic() - started < 0.4


def test_latency_ends_when_the_server_stops():
    """A server that stops answering (a long latency) stops at once, and drops the request it held."""
    server = EmulatorServer(port=0)
    before = set(threading.enumerate())
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    try:
        ControlClient(server.url).fault(verb="list", resource="configmaps", latency=30)
        with pytest.raises(TimeoutError):
            urllib.request.urlopen(f"{server.url}/api/v1/namespaces/default/configmaps", timeout=1)
    finally:
        started = time.monotonic()
        server.stop()
    assert time.monotonic() - started < 2
    for thread in set(threading.enumerate()) - before:
        thread.join(timeout=2)
        assert not thread.is_alive(), f"{thread.name} still waits out the latency"


def test_clear_faults_disarms_everything(core, control, namespace):
    control.fault(verb="list", resource="configmaps", status=500, count=5)
    control.fault(verb="create", status=500)
    assert len(control.faults()) == 2
    control.clear_faults()
    assert control.faults() == []
    core.list_namespaced_config_map(namespace)


def test_kubectl_retries_after_429(kubectl, core, control, namespace):
    core.create_namespaced_config_map(namespace, _configmap("settings"))
    control.fault(verb="get", resource="configmaps", name="settings", status=429)
    control.reset()
    done = kubectl("get", "configmap", "settings", "-n", namespace, "-o", "name")
    assert done.stdout.strip() == "configmap/settings"
    assert control.counts()["get configmaps"] == 2


def _job(name, annotations=None):
    container = {"name": "main", "image": "busybox"}
    return {"metadata": {"name": name, "annotations": annotations or {}},
            "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [container]}}}}


def _job_result(api, core, namespace, name):
    """(the Job's Failed/Complete condition types, its pod's log)."""
    job = client.BatchV1Api(api).read_namespaced_job(name, namespace)
    pod = core.list_namespaced_pod(namespace, label_selector=f"job-name={name}").items[0]
    return ({c.type for c in job.status.conditions} & {"Failed", "Complete"},
            core.read_namespaced_pod_log(pod.metadata.name, namespace))


def test_armed_job_outcome_fails_the_next_matching_job_with_its_log(api, core, control, namespace):
    batch = client.BatchV1Api(api)
    armed = control.job_outcome(namespace=namespace, name_prefix="migrate", log="relation missing\n")
    assert armed == [{"namespace": namespace, "name_prefix": "migrate", "outcome": "Failed",
                      "log": "relation missing\n", "count": 1}]
    batch.create_namespaced_job(namespace, _job("cleanup"))
    assert control.job_outcomes() == armed
    batch.create_namespaced_job(namespace, _job("migrate-1"))
    assert _job_result(api, core, namespace, "migrate-1") == ({"Failed"}, "relation missing\n")
    job = batch.read_namespaced_job("migrate-1", namespace)
    assert (job.status.failed, [c.reason for c in job.status.conditions if c.type == "Failed"]) == \
        (7, ["BackoffLimitExceeded"])
    assert control.job_outcomes() == []
    batch.create_namespaced_job(namespace, _job("migrate-2"))
    assert _job_result(api, core, namespace, "migrate-2") == ({"Complete"}, "")


def test_armed_job_outcome_counts_and_may_complete_with_a_log(api, core, control, namespace):
    batch = client.BatchV1Api(api)
    control.job_outcome(outcome="Complete", log="42 rows\n", count=2)
    for name in ("first", "second"):
        batch.create_namespaced_job(namespace, _job(name))
        assert _job_result(api, core, namespace, name) == ({"Complete"}, "42 rows\n")
    assert control.job_outcomes() == []


def test_armed_job_outcome_matches_the_namespace_and_yields_to_the_jobs_annotations(api, core, control, namespace):
    batch = client.BatchV1Api(api)
    control.job_outcome(namespace="elsewhere")
    batch.create_namespaced_job(namespace, _job("here"))
    assert _job_result(api, core, namespace, "here") == ({"Complete"}, "")
    control.clear_job_outcomes()
    control.job_outcome(outcome="Complete", log="armed\n")
    batch.create_namespaced_job(namespace, _job("annotated", {"emulator.hubfleet.io/outcome": "Failed"}))
    assert _job_result(api, core, namespace, "annotated") == ({"Failed"}, "armed\n")


def test_job_outcome_must_be_failed_or_complete(control):
    with pytest.raises(ControlError, match="400"):
        control.job_outcome(outcome="Succeeded")
    assert control.job_outcomes() == []


def test_seed_keeps_status_and_defaults_the_namespace(api, core, control, namespace):
    seeded = control.seed([
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "crashed", "namespace": namespace},
         "spec": {"containers": [{"name": "main", "image": "busybox"}]},
         "status": {"phase": "Failed", "reason": "Evicted"}},
        {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "old", "namespace": namespace},
         "spec": {"template": {"spec": {"containers": [{"name": "main", "image": "busybox"}]}}},
         "status": {"startTime": "2020-01-01T00:00:00Z", "failed": 1}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"seeded-{namespace}"}},
    ])
    assert [o["metadata"]["name"] for o in seeded] == ["crashed", "old", f"seeded-{namespace}"]
    pod = core.read_namespaced_pod("crashed", namespace)
    assert (pod.status.phase, pod.status.reason) == ("Failed", "Evicted")
    job = client.BatchV1Api(api).read_namespaced_job("old", namespace)
    assert job.status.failed == 1
    assert job.status.start_time.year == 2020
    assert job.status.succeeded is None
    assert core.read_namespaced_config_map(f"seeded-{namespace}", "default").metadata.namespace == "default"
    core.delete_namespaced_config_map(f"seeded-{namespace}", "default")


def test_seed_of_an_unknown_kind_is_refused(control):
    with pytest.raises(ControlError) as raised:
        control.seed([{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}])
    assert "400" in str(raised.value)
    assert "example.com/v1/Widget" in str(raised.value)


def test_unknown_control_path_is_404(emulator):
    code, status = emulator.http("GET", "/_emulator/nothing-here")
    assert code == 404
    assert status["kind"] == "Status"


def test_healthz(emulator):
    assert emulator.http("GET", "/_emulator/healthz") == (200, "ok")
