"""Persistence, a tooling feature: a cluster served with a state directory outlives its server."""
import contextlib
import json
import threading
import urllib.request

import pytest
from kubernetes import client

from . import persistence
from .server import EmulatorServer


@contextlib.contextmanager
def _served(state_dir, openshift=True, kube_version=None):
    """An emulator on the cluster kept in `state_dir`: yields a CoreV1Api and its URL, saves the cluster on the way out."""
    server = EmulatorServer(port=0, openshift=openshift, state_dir=state_dir, kube_version=kube_version)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield client.CoreV1Api(client.ApiClient(client.Configuration(host=server.url))), server.url
    finally:
        server.stop()
        thread.join(timeout=5)


def test_objects_outlive_a_restart_with_their_metadata(tmp_path):
    with _served(tmp_path) as (core, _url):
        core.create_namespace({"metadata": {"name": "kept"}})
        before = core.create_namespaced_config_map("kept", {"metadata": {"name": "c", "labels": {"a": "b"}},
                                                            "data": {"k": "v"}})
        default_uid = core.read_namespace("default").metadata.uid
        last = int(core.list_namespaced_config_map("kept").metadata.resource_version)
    with _served(tmp_path) as (core, _url):
        after = core.read_namespaced_config_map("c", "kept")
        assert (after.metadata.uid, after.metadata.resource_version, after.metadata.creation_timestamp) == \
            (before.metadata.uid, before.metadata.resource_version, before.metadata.creation_timestamp)
        assert (after.metadata.labels, after.data) == ({"a": "b"}, {"k": "v"})
        # The saved cluster is served as it was, not a new one: the bootstrap objects keep their uid.
        assert core.read_namespace("default").metadata.uid == default_uid
        # resourceVersions go on from where they were, so a client's cached versions stay older.
        patched = core.patch_namespaced_config_map("c", "kept", {"data": {"k": "w"}})
        assert int(patched.metadata.resource_version) > last


def test_deleted_objects_stay_deleted(tmp_path):
    with _served(tmp_path) as (core, _url):
        core.delete_namespace("kube-public")
    with _served(tmp_path) as (core, _url):
        assert "kube-public" not in [ns.metadata.name for ns in core.list_namespace().items]


def test_the_state_file_is_private_and_names_its_flavour(tmp_path):
    with _served(tmp_path, openshift=False) as (core, _url):
        core.create_namespaced_secret("default", {"metadata": {"name": "s"}, "stringData": {"password": "x"}})
    path = tmp_path / persistence.STATE_FILE
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert json.loads(path.read_text())["flavour"] == "vanilla"


def test_a_cluster_of_the_other_flavour_is_refused_in_one_line(tmp_path):
    with _served(tmp_path):
        pass
    saved = (tmp_path / persistence.STATE_FILE).read_text()
    with pytest.raises(persistence.StateError) as refused:
        EmulatorServer(port=0, openshift=False, state_dir=tmp_path)
    message = str(refused.value)
    assert "holds an OpenShift cluster, not a vanilla Kubernetes one" in message
    assert "\n" not in message
    assert (tmp_path / persistence.STATE_FILE).read_text() == saved


def test_an_unreadable_state_file_is_refused_in_one_line(tmp_path):
    (tmp_path / persistence.STATE_FILE).write_text("{not json")
    with pytest.raises(persistence.StateError, match="cannot read the saved cluster") as refused:
        EmulatorServer(port=0, state_dir=tmp_path)
    assert "\n" not in str(refused.value)


def _first_event(url, path, resource_version):
    """The first event of a watch from `resource_version`."""
    query = f"?watch=1&resourceVersion={resource_version}&timeoutSeconds=10"
    with urllib.request.urlopen(url + path + query, timeout=10) as response:
        return json.loads(response.readline())


def test_a_watch_from_before_the_restart_is_expired_and_one_from_the_list_goes_on(tmp_path):
    with _served(tmp_path) as (core, _url):
        core.create_namespace({"metadata": {"name": "kept"}})
        core.create_namespaced_config_map("kept", {"metadata": {"name": "first"}})
        last = core.list_namespaced_config_map("kept").metadata.resource_version
        core.create_namespaced_config_map("kept", {"metadata": {"name": "second"}})
    with _served(tmp_path) as (core, url):
        # The events of the old server are gone: as after a compaction, the client must list again.
        expired = _first_event(url, "/api/v1/namespaces/kept/configmaps", last)
        assert (expired["type"], expired["object"]["code"], expired["object"]["reason"]) == ("ERROR", 410, "Expired")
        listed = core.list_namespaced_config_map("kept").metadata.resource_version
        core.create_namespaced_config_map("kept", {"metadata": {"name": "third"}})
        event = _first_event(url, "/api/v1/namespaces/kept/configmaps", listed)
        assert (event["type"], event["object"]["metadata"]["name"]) == ("ADDED", "third")


def _version(url):
    with urllib.request.urlopen(url + "/version", timeout=10) as response:
        found = json.loads(response.read())
    return found["major"], found["minor"], found["gitVersion"]


def test_a_chosen_kubernetes_version_is_reported_and_kept(tmp_path):
    with _served(tmp_path, kube_version="1.27.3") as (_core, url):
        assert _version(url) == ("1", "27", "v1.27.3")
    assert json.loads((tmp_path / persistence.STATE_FILE).read_text())["kubeVersion"] == "v1.27.3"
    # A restart that names no version serves the saved cluster's, as one that names the same (with or without v).
    for again in (None, "v1.27.3"):
        with _served(tmp_path, kube_version=again) as (_core, url):
            assert _version(url) == ("1", "27", "v1.27.3")


def test_another_kubernetes_version_for_a_saved_cluster_is_refused_in_one_line(tmp_path):
    with _served(tmp_path, kube_version="1.27.3"):
        pass
    with pytest.raises(persistence.StateError) as refused:
        EmulatorServer(port=0, state_dir=tmp_path, kube_version="1.33.0")
    assert "holds a Kubernetes v1.27.3 cluster, not v1.33.0: drop --kube-version" in str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_cluster_saved_without_a_version_is_the_default_one(tmp_path):
    with _served(tmp_path):
        pass
    path = tmp_path / persistence.STATE_FILE
    saved = json.loads(path.read_text())
    del saved["kubeVersion"]  # as saved before versions could be chosen
    path.write_text(json.dumps(saved))
    with _served(tmp_path) as (_core, url):
        assert _version(url) == ("1", "33", "v1.33.0")
    with pytest.raises(persistence.StateError, match="holds a Kubernetes v1.33.0 cluster, not v1.27.3"):
        EmulatorServer(port=0, state_dir=tmp_path, kube_version="1.27.3")


def test_a_malformed_kubernetes_version_is_refused():
    with pytest.raises(ValueError, match="not a Kubernetes version"):
        EmulatorServer(port=0, kube_version="1.27")
