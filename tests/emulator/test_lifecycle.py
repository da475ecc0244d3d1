"""Deletion: finalizers, namespace termination and garbage collection through ownerReferences."""
import secrets

import pytest
from kubernetes import client

from .expect import failure

FINALIZER = "example.com/hold"


def _owned_configmap(name, owner):
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": owner.metadata.name, "uid": owner.metadata.uid}
    return {"metadata": {"name": name, "ownerReferences": [ref]}}


def _names(core, namespace):
    return {i.metadata.name for i in core.list_namespaced_config_map(namespace).items} - {"kube-root-ca.crt"}


def test_finalizer_keeps_the_object_until_removed(core, namespace):
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "held", "finalizers": [FINALIZER]}})
    core.delete_namespaced_config_map("held", namespace)
    terminating = core.read_namespaced_config_map("held", namespace)
    assert terminating.metadata.deletion_timestamp is not None
    assert terminating.metadata.finalizers == [FINALIZER]
    # Deleting again changes nothing, the object still waits for its finalizer.
    core.delete_namespaced_config_map("held", namespace)
    assert core.read_namespaced_config_map("held", namespace).metadata.deletion_timestamp is not None
    core.patch_namespaced_config_map("held", namespace, {"metadata": {"finalizers": None}})
    assert failure(core.read_namespaced_config_map, "held", namespace)["code"] == 404


def test_object_with_one_of_two_finalizers_left_stays(core, namespace):
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "held",
                                                               "finalizers": [FINALIZER, "example.com/other"]}})
    core.delete_namespaced_config_map("held", namespace)
    patch = [{"op": "remove", "path": "/metadata/finalizers/0"}]
    core.patch_namespaced_config_map("held", namespace, patch)
    assert core.read_namespaced_config_map("held", namespace).metadata.finalizers == ["example.com/other"]


def test_namespace_deletion_removes_its_objects(core, apps):
    name = f"t-{secrets.token_hex(4)}"
    core.create_namespace({"metadata": {"name": name}})
    core.create_namespaced_config_map(name, {"metadata": {"name": "settings"}})
    labels = {"app": "web"}
    apps.create_namespaced_deployment(name, {"metadata": {"name": "web"}, "spec": {
        "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "main", "image": "x"}]}}}})
    assert len(core.list_namespaced_pod(name).items) == 1
    core.delete_namespace(name)
    assert failure(core.read_namespace, name)["code"] == 404
    assert core.list_namespaced_config_map(name).items == []
    assert core.list_namespaced_pod(name).items == []
    assert apps.list_namespaced_replica_set(name).items == []


def test_namespace_stays_terminating_while_an_object_has_a_finalizer(core):
    name = f"t-{secrets.token_hex(4)}"
    core.create_namespace({"metadata": {"name": name}})
    core.create_namespaced_config_map(name, {"metadata": {"name": "held", "finalizers": [FINALIZER]}})
    core.delete_namespace(name)
    namespace = core.read_namespace(name)
    assert namespace.status.phase == "Terminating"
    assert namespace.metadata.deletion_timestamp is not None
    status = failure(core.create_namespaced_config_map, name, {"metadata": {"name": "late"}})
    assert status["code"] == 403
    assert status["reason"] == "Forbidden"
    assert status["message"] == (f'configmaps "late" is forbidden: unable to create new content in namespace '
                                 f"{name} because it is being terminated")
    assert status["details"]["name"] == "late"
    assert status["details"]["kind"] == "configmaps"
    core.patch_namespaced_config_map("held", name, {"metadata": {"finalizers": None}})
    assert failure(core.read_namespace, name)["code"] == 404


def test_background_deletion_collects_dependents(core, namespace):
    owner = core.create_namespaced_config_map(namespace, {"metadata": {"name": "owner"}})
    core.create_namespaced_config_map(namespace, _owned_configmap("child", owner))
    grandchild_owner = core.read_namespaced_config_map("child", namespace)
    core.create_namespaced_config_map(namespace, _owned_configmap("grandchild", grandchild_owner))
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "bystander"}})
    core.delete_namespaced_config_map("owner", namespace, propagation_policy="Background")
    assert _names(core, namespace) == {"bystander"}


def test_foreground_deletion_removes_dependents_and_owner(core, namespace):
    owner = core.create_namespaced_config_map(namespace, {"metadata": {"name": "owner"}})
    core.create_namespaced_config_map(namespace, _owned_configmap("child", owner))
    core.delete_namespaced_config_map("owner", namespace, body=client.V1DeleteOptions(propagation_policy="Foreground"))
    assert _names(core, namespace) == set()


def test_orphan_deletion_keeps_dependents_without_the_owner_reference(core, namespace):
    owner = core.create_namespaced_config_map(namespace, {"metadata": {"name": "owner"}})
    other = core.create_namespaced_config_map(namespace, {"metadata": {"name": "other-owner"}})
    child = _owned_configmap("child", owner)
    child["metadata"]["ownerReferences"].append({"apiVersion": "v1", "kind": "ConfigMap", "name": "other-owner",
                                                 "uid": other.metadata.uid})
    core.create_namespaced_config_map(namespace, child)
    core.delete_namespaced_config_map("owner", namespace, propagation_policy="Orphan")
    assert _names(core, namespace) == {"child", "other-owner"}
    refs = core.read_namespaced_config_map("child", namespace).metadata.owner_references
    assert [r.name for r in refs] == ["other-owner"]


@pytest.mark.parametrize("propagation,pods_left", [("Background", 0), ("Foreground", 0), ("Orphan", 2)])
def test_deployment_deletion_propagates_to_replicasets_and_pods(apps, core, namespace, propagation, pods_left):
    labels = {"app": "web"}
    apps.create_namespaced_deployment(namespace, {"metadata": {"name": "web"}, "spec": {
        "replicas": 2, "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "main", "image": "x"}]}}}})
    assert len(core.list_namespaced_pod(namespace).items) == 2
    apps.delete_namespaced_deployment("web", namespace, propagation_policy=propagation)
    assert len(core.list_namespaced_pod(namespace).items) == pods_left
    assert len(apps.list_namespaced_replica_set(namespace).items) == (1 if pods_left else 0)
