"""Watches: events after a resourceVersion, selector filtering, timeouts, and kubectl wait."""
import json
import subprocess
import threading
import time
import urllib.request

import pytest
from kubernetes import client, watch

from . import store
from .server import EmulatorServer


def _events_until(stream, last_name):
    """(type, name) of each event up to and including the one for `last_name`."""
    seen = []
    for event in stream:
        seen.append((event["type"], event["object"].metadata.name))
        if seen[-1][1] == last_name:
            break
    return seen


def _current_version(core, namespace):
    return core.list_namespaced_config_map(namespace).metadata.resource_version


def test_watch_from_a_resource_version_sends_later_events_in_order(core, namespace):
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "before"}})
    version = _current_version(core, namespace)
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "first"}})
    core.patch_namespaced_config_map("first", namespace, {"data": {"a": "1"}})
    core.delete_namespaced_config_map("before", namespace)
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "last"}})
    stream = watch.Watch().stream(core.list_namespaced_config_map, namespace, resource_version=version,
                                  timeout_seconds=5)
    assert _events_until(stream, "last") == [("ADDED", "first"), ("MODIFIED", "first"), ("DELETED", "before"),
                                             ("ADDED", "last")]


def test_watch_events_carry_increasing_resource_versions(core, namespace):
    version = _current_version(core, namespace)
    for name in ("one", "two", "three"):
        core.create_namespaced_config_map(namespace, {"metadata": {"name": name}})
    versions = []
    for event in watch.Watch().stream(core.list_namespaced_config_map, namespace, resource_version=version,
                                      timeout_seconds=5):
        versions.append(int(event["object"].metadata.resource_version))
        if event["object"].metadata.name == "three":
            break
    assert versions == sorted(versions)
    assert versions[0] > int(version)


def test_watch_without_a_version_starts_with_the_current_objects(core, namespace):
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "settings"}})
    stream = watch.Watch().stream(core.list_namespaced_config_map, namespace, timeout_seconds=5)
    first = [next(stream), next(stream)]
    assert {(e["type"], e["object"].metadata.name) for e in first} == {("ADDED", "settings"),
                                                                       ("ADDED", "kube-root-ca.crt")}


def test_watch_honours_the_label_selector(core, namespace):
    version = _current_version(core, namespace)
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "other", "labels": {"app": "other"}}})
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "hub", "labels": {"app": "hub"}}})
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "unlabelled"}})
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "marker", "labels": {"app": "hub"}}})
    stream = watch.Watch().stream(core.list_namespaced_config_map, namespace, resource_version=version,
                                  label_selector="app in (hub)", timeout_seconds=5)
    assert _events_until(stream, "marker") == [("ADDED", "hub"), ("ADDED", "marker")]


def test_watch_with_a_selector_sees_objects_enter_and_leave_it(core, namespace):
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "moving", "labels": {"app": "other"}}})
    version = _current_version(core, namespace)
    core.patch_namespaced_config_map("moving", namespace, {"metadata": {"labels": {"app": "hub"}}})
    core.patch_namespaced_config_map("moving", namespace, {"data": {"a": "1"}})
    core.patch_namespaced_config_map("moving", namespace, {"metadata": {"labels": {"app": "other"}}})
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "marker", "labels": {"app": "hub"}}})
    stream = watch.Watch().stream(core.list_namespaced_config_map, namespace, resource_version=version,
                                  label_selector="app=hub", timeout_seconds=5)
    events = []
    for event in stream:
        events.append((event["type"], event["object"].metadata.name, event["object"].metadata.labels["app"]))
        if event["object"].metadata.name == "marker":
            break
    # Leaving the selector is a DELETED event carrying the object as it last matched.
    assert events == [("ADDED", "moving", "hub"), ("MODIFIED", "moving", "hub"), ("DELETED", "moving", "hub"),
                      ("ADDED", "marker", "hub")]


def test_watch_honours_the_field_selector(core, namespace):
    version = _current_version(core, namespace)
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "other"}})
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "wanted"}})
    stream = watch.Watch().stream(core.list_namespaced_config_map, namespace, resource_version=version,
                                  field_selector="metadata.name=wanted", timeout_seconds=5)
    assert _events_until(stream, "wanted") == [("ADDED", "wanted")]


def test_watch_stays_in_its_namespace(core, namespace):
    other = f"{namespace}-b"
    core.create_namespace({"metadata": {"name": other}})
    try:
        version = _current_version(core, namespace)
        core.create_namespaced_config_map(other, {"metadata": {"name": "elsewhere"}})
        core.create_namespaced_config_map(namespace, {"metadata": {"name": "here"}})
        stream = watch.Watch().stream(core.list_namespaced_config_map, namespace, resource_version=version,
                                      timeout_seconds=5)
        assert _events_until(stream, "here") == [("ADDED", "here")]
    finally:
        core.delete_namespace(other)


def test_watch_from_a_version_older_than_the_event_log_is_410(monkeypatch):
    monkeypatch.setattr(store, "EVENT_LOG_SIZE", 5)
    server = EmulatorServer(port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        small = client.CoreV1Api(client.ApiClient(client.Configuration(host=server.url)))
        for index in range(10):
            small.create_namespaced_config_map("default", {"metadata": {"name": f"cm-{index}"}})
        with pytest.raises(client.ApiException) as raised:
            next(iter(watch.Watch().stream(small.list_namespaced_config_map, "default", resource_version="1",
                                           timeout_seconds=5)))
        assert raised.value.status == 410
    finally:
        server.stop()
        thread.join(timeout=5)


def test_watch_ends_at_its_timeout(core, namespace):
    version = _current_version(core, namespace)
    started = time.monotonic()
    events = list(watch.Watch().stream(core.list_namespaced_config_map, namespace, resource_version=version,
                                       timeout_seconds=1))
    elapsed = time.monotonic() - started
    assert events == []
    assert 0.9 <= elapsed < 3


def test_watch_sees_writes_made_while_it_waits(core, namespace):
    version = _current_version(core, namespace)
    stream = watch.Watch().stream(core.list_namespaced_config_map, namespace, resource_version=version,
                                  timeout_seconds=5)
    # The request goes out on the first next(); the write lands while the server waits for events.
    writer = threading.Timer(0.3, core.create_namespaced_config_map, (namespace, {"metadata": {"name": "late"}}))
    writer.start()
    try:
        assert _events_until(stream, "late") == [("ADDED", "late")]
    finally:
        writer.join()


def test_dynamic_client_watch(dyn, core, namespace):
    version = _current_version(core, namespace)
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "settings"}})
    configmaps = dyn.resources.get(api_version="v1", kind="ConfigMap")
    for event in dyn.watch(configmaps, namespace=namespace, resource_version=version, timeout=5):
        assert (event["type"], event["object"].metadata.name) == ("ADDED", "settings")
        break
    else:
        raise AssertionError("no event")


def _background(kubectl, control, *args):
    """Start kubectl without waiting for it; the request counts start afresh for _until_watching."""
    control.reset()
    return subprocess.Popen([kubectl.binary, *args], env=kubectl.env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _until_watching(control, resource, process):
    """Wait until a watch on `resource` has reached the server (the control endpoint counts it)."""
    deadline = time.monotonic() + 10
    while not control.counts().get(f"watch {resource}"):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"nothing watched {resource}"
        time.sleep(0.02)


def test_kubectl_wait_for_a_condition_set_later(kubectl, api, control, namespace):
    policy = client.PolicyV1Api(api)
    policy.create_namespaced_pod_disruption_budget(namespace, {"metadata": {"name": "hub"}, "spec": {
        "minAvailable": 1, "selector": {"matchLabels": {"app": "hub"}}}})
    waiting = _background(kubectl, control, "wait", "--for=condition=DisruptionAllowed", "pdb/hub",
                          "-n", namespace, "--timeout=20s")
    _until_watching(control, "poddisruptionbudgets", waiting)
    policy.patch_namespaced_pod_disruption_budget_status("hub", namespace, {"status": {
        "currentHealthy": 1, "desiredHealthy": 1, "disruptionsAllowed": 0, "expectedPods": 1,
        "conditions": [{"type": "DisruptionAllowed", "status": "True", "reason": "SufficientPods", "message": "",
                        "lastTransitionTime": "2026-01-01T00:00:00Z"}]}})
    out, err = waiting.communicate(timeout=20)
    assert waiting.returncode == 0, err
    assert "condition met" in out


def test_kubectl_wait_for_delete(kubectl, core, control, namespace):
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "held", "finalizers": ["example.com/x"]}})
    core.delete_namespaced_config_map("held", namespace)
    waiting = _background(kubectl, control, "wait", "--for=delete", "configmap/held", "-n", namespace,
                          "--timeout=20s")
    _until_watching(control, "configmaps", waiting)
    core.patch_namespaced_config_map("held", namespace, {"metadata": {"finalizers": None}})
    _out, err = waiting.communicate(timeout=20)
    assert waiting.returncode == 0, err


def test_kubectl_wait_for_jsonpath(kubectl, core, namespace):
    core.create_namespaced_persistent_volume_claim(namespace, {"metadata": {"name": "home"}, "spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})
    done = kubectl("wait", "--for=jsonpath={.status.phase}=Bound", "pvc/home", "-n", namespace, "--timeout=10s")
    assert "condition met" in done.stdout


def test_kubectl_get_watch_prints_events(kubectl, core, control, namespace):
    watching = _background(kubectl, control, "get", "configmaps", "-n", namespace, "--watch-only",
                           "--output-watch-events", "-o", "jsonpath={.type} {.object.metadata.name}{\"\\n\"}", "--request-timeout=10s")
    try:
        _until_watching(control, "configmaps", watching)
        core.create_namespaced_config_map(namespace, {"metadata": {"name": "seen"}})
        core.delete_namespaced_config_map("seen", namespace)
        lines = [watching.stdout.readline().strip(), watching.stdout.readline().strip()]
    finally:
        watching.terminate()
        watching.communicate()
    assert lines == ["ADDED seen", "DELETED seen"]


@pytest.mark.parametrize("value, verb", [("True", "watch"), ("1", "watch"), ("true", "watch"),
                                         ("False", "list"), ("0", "list")])
def test_watch_parameter_is_a_bool_as_the_api_server_reads_it(emulator, core, namespace, value, verb):
    """kubernetes_asyncio, which KubeSpawner uses, sends watch=True."""
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "one"}})
    url = f"{emulator.url}/api/v1/namespaces/{namespace}/configmaps?watch={value}&timeoutSeconds=1"
    with urllib.request.urlopen(url, timeout=10) as response:
        lines = response.read().decode().splitlines()
    if verb == "list":
        assert json.loads("".join(lines))["kind"] == "ConfigMapList", lines
    else:
        events = [json.loads(line) for line in lines]
        assert ("ADDED", "one") in [(e["type"], e["object"]["metadata"]["name"]) for e in events], lines


def test_a_created_pod_is_first_seen_pending_then_running(core, namespace):
    """KubeSpawner 6 reads status.phase from every pod event, the first ADDED included."""
    version = _current_version(core, namespace)
    core.create_namespaced_pod(namespace, {"metadata": {"name": "p"}, "spec": {"containers": [
        {"name": "c", "image": "busybox"}]}})
    stream = watch.Watch().stream(core.list_namespaced_pod, namespace, resource_version=version, timeout_seconds=3)
    phases = []
    for event in stream:
        phases.append((event["type"], event["object"].status.phase if event["object"].status else None))
        if phases[-1][1] == "Running":
            break
    assert phases[:2] == [("ADDED", "Pending"), ("MODIFIED", "Running")], phases
