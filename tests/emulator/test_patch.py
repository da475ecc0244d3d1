"""Patches: JSON merge, strategic merge, JSON patch and server-side apply."""
import pytest

from .expect import failure

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"


def _pod_template_deployment(name):
    labels = {"app": name}
    container = {"name": "main", "image": "busybox:1", "env": [{"name": "A", "value": "1"}],
                 "ports": [{"containerPort": 8080, "name": "http"}],
                 "volumeMounts": [{"name": "cache", "mountPath": "/cache"}]}
    return {"metadata": {"name": name},
            "spec": {"selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [container],
                                           "volumes": [{"name": "cache", "emptyDir": {}},
                                                       {"name": "data", "emptyDir": {}}]}}}}


@pytest.fixture(name="deployments")
def deployments_fixture(dyn):
    return dyn.resources.get(api_version="apps/v1", kind="Deployment")


@pytest.fixture(name="configmaps")
def configmaps_fixture(dyn):
    return dyn.resources.get(api_version="v1", kind="ConfigMap")


def _pod_spec(deployment):
    return deployment.to_dict()["spec"]["template"]["spec"]


def test_strategic_merge_merges_containers_by_name(deployments, namespace):
    deployments.create(body=_pod_template_deployment("web"), namespace=namespace)
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "proxy:2"}]}}}}
    patched = deployments.patch(name="web", namespace=namespace, body=patch)
    containers = _pod_spec(patched)["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [("main", "busybox:1"), ("sidecar", "proxy:2")]


def test_strategic_merge_merges_env_and_volumes_by_name(deployments, namespace):
    deployments.create(body=_pod_template_deployment("web"), namespace=namespace)
    patch = {"spec": {"template": {"spec": {
        "containers": [{"name": "main", "env": [{"name": "B", "value": "2"}, {"name": "A", "value": "one"}]}],
        "volumes": [{"name": "logs", "emptyDir": {}}]}}}}
    spec = _pod_spec(deployments.patch(name="web", namespace=namespace, body=patch))
    assert spec["containers"][0]["env"] == [{"name": "A", "value": "one"}, {"name": "B", "value": "2"}]
    assert spec["containers"][0]["image"] == "busybox:1"
    assert [v["name"] for v in spec["volumes"]] == ["cache", "data", "logs"]


def test_strategic_merge_patch_delete_directive_removes_an_item(deployments, namespace):
    deployments.create(body=_pod_template_deployment("web"), namespace=namespace)
    patch = {"spec": {"template": {"spec": {
        "volumes": [{"name": "cache", "$patch": "delete"}],
        "containers": [{"name": "main", "volumeMounts": [{"mountPath": "/cache", "$patch": "delete"}]}]}}}}
    spec = _pod_spec(deployments.patch(name="web", namespace=namespace, body=patch))
    assert [v["name"] for v in spec["volumes"]] == ["data"]
    assert "volumeMounts" not in spec["containers"][0] or spec["containers"][0]["volumeMounts"] == []


def test_strategic_merge_null_removes_a_field(configmaps, namespace):
    configmaps.create(namespace=namespace, body={"metadata": {"name": "cm"}, "data": {"a": "1", "b": "2"}})
    patched = configmaps.patch(name="cm", namespace=namespace, body={"data": {"a": None}})
    assert patched.to_dict()["data"] == {"b": "2"}


def test_strategic_merge_replace_directive_and_primitive_list_deletion(deployments, namespace):
    deployments.create(body=_pod_template_deployment("web"), namespace=namespace)
    patch = {"spec": {"template": {"spec": {"volumes": [{"name": "only", "emptyDir": {}}, {"$patch": "replace"}]}}},
             "metadata": {"finalizers": ["example.com/a", "example.com/b"]}}
    spec = _pod_spec(deployments.patch(name="web", namespace=namespace, body=patch))
    assert [v["name"] for v in spec["volumes"]] == ["only"]
    patched = deployments.patch(name="web", namespace=namespace,
                                body={"metadata": {"$deleteFromPrimitiveList/finalizers": ["example.com/a"]}})
    assert patched.metadata.finalizers == ["example.com/b"]


def test_merge_patch_replaces_lists_whole(deployments, namespace):
    deployments.create(body=_pod_template_deployment("web"), namespace=namespace)
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "proxy:2"}]}}}}
    patched = deployments.patch(name="web", namespace=namespace, body=patch, content_type=MERGE)
    assert [c["name"] for c in _pod_spec(patched)["containers"]] == ["sidecar"]


def test_merge_patch_null_deletes_and_maps_merge(configmaps, namespace):
    configmaps.create(namespace=namespace, body={"metadata": {"name": "cm", "labels": {"a": "1", "b": "2"}}})
    patch = {"metadata": {"labels": {"a": None, "c": "3"}}}
    patched = configmaps.patch(name="cm", namespace=namespace, body=patch, content_type=MERGE)
    assert patched.to_dict()["metadata"]["labels"] == {"b": "2", "c": "3"}


def test_json_patch_operations(configmaps, namespace):
    configmaps.create(namespace=namespace, body={"metadata": {"name": "cm"}, "data": {"a": "1", "b": "2"}})
    operations = [{"op": "test", "path": "/data/a", "value": "1"},
                  {"op": "replace", "path": "/data/a", "value": "one"},
                  {"op": "remove", "path": "/data/b"},
                  {"op": "add", "path": "/metadata/labels", "value": {}},
                  {"op": "add", "path": "/metadata/labels/example.com~1team", "value": "x"},
                  {"op": "copy", "from": "/data/a", "path": "/data/c"},
                  {"op": "move", "from": "/data/c", "path": "/data/d"}]
    patched = configmaps.patch(name="cm", namespace=namespace, body=operations, content_type=JSON_PATCH)
    assert patched.to_dict()["data"] == {"a": "one", "d": "one"}
    assert patched.to_dict()["metadata"]["labels"] == {"example.com/team": "x"}


def test_failed_json_patch_test_is_422_and_changes_nothing(configmaps, namespace):
    created = configmaps.create(namespace=namespace, body={"metadata": {"name": "cm"}, "data": {"a": "1"}})
    operations = [{"op": "replace", "path": "/data/a", "value": "2"}, {"op": "test", "path": "/data/a", "value": "1"}]
    status = failure(configmaps.patch, name="cm", namespace=namespace, body=operations, content_type=JSON_PATCH)
    assert status["code"] == 422
    stored = configmaps.get(name="cm", namespace=namespace)
    assert stored.to_dict()["data"] == {"a": "1"}
    assert stored.metadata.resourceVersion == created.metadata.resourceVersion


def test_patch_of_a_missing_object_is_404(configmaps, namespace):
    status = failure(configmaps.patch, name="absent", namespace=namespace, body={"data": {"a": "1"}})
    assert status["reason"] == "NotFound"
    assert status["details"]["name"] == "absent"


def test_noop_patch_keeps_resource_version(configmaps, namespace):
    created = configmaps.create(namespace=namespace, body={"metadata": {"name": "cm"}, "data": {"a": "1"}})
    patched = configmaps.patch(name="cm", namespace=namespace, body={"data": {"a": "1"}})
    assert patched.metadata.resourceVersion == created.metadata.resourceVersion


# --- server-side apply ------------------------------------------------------------------------
def _applied(name, data, labels=None):
    meta = {"name": name, **({"labels": labels} if labels else {})}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


def _managers(obj):
    return {e["manager"]: e for e in obj.to_dict()["metadata"]["managedFields"]}


def test_apply_creates_a_missing_object_with_managed_fields(configmaps, namespace):
    created = configmaps.server_side_apply(body=_applied("cm", {"a": "1"}), name="cm", namespace=namespace,
                                           field_manager="tool-a")
    assert created.metadata.uid
    entry = _managers(created)["tool-a"]
    assert entry["operation"] == "Apply"
    assert entry["fieldsType"] == "FieldsV1"
    assert entry["fieldsV1"] == {"f:data": {"f:a": {}}}
    assert configmaps.get(name="cm", namespace=namespace).to_dict()["data"] == {"a": "1"}


def test_dry_run_apply_does_not_persist(configmaps, namespace):
    answer = configmaps.server_side_apply(body=_applied("cm", {"a": "1"}), name="cm", namespace=namespace,
                                          field_manager="tool-a", dry_run="All")
    assert answer.to_dict()["data"] == {"a": "1"}
    assert failure(configmaps.get, name="cm", namespace=namespace)["code"] == 404


def test_apply_needs_a_field_manager(configmaps, namespace):
    status = failure(configmaps.server_side_apply, body=_applied("cm", {"a": "1"}), name="cm", namespace=namespace)
    assert status["code"] == 400


def test_reapplying_the_same_config_changes_nothing(configmaps, namespace):
    first = configmaps.server_side_apply(body=_applied("cm", {"a": "1"}), name="cm", namespace=namespace,
                                         field_manager="tool-a")
    second = configmaps.server_side_apply(body=_applied("cm", {"a": "1"}), name="cm", namespace=namespace,
                                          field_manager="tool-a")
    assert second.metadata.resourceVersion == first.metadata.resourceVersion


def test_apply_removes_a_field_its_manager_dropped(configmaps, namespace):
    configmaps.server_side_apply(body=_applied("cm", {"a": "1", "b": "2"}, {"team": "x"}), name="cm",
                                 namespace=namespace, field_manager="tool-a")
    applied = configmaps.server_side_apply(body=_applied("cm", {"a": "1"}), name="cm", namespace=namespace,
                                           field_manager="tool-a")
    assert applied.to_dict()["data"] == {"a": "1"}
    assert "team" not in (applied.to_dict()["metadata"].get("labels") or {})


def test_apply_keeps_a_dropped_field_another_manager_owns(configmaps, namespace):
    configmaps.server_side_apply(body=_applied("cm", {"a": "1", "b": "2"}), name="cm", namespace=namespace,
                                 field_manager="tool-a")
    configmaps.server_side_apply(body=_applied("cm", {"b": "2"}), name="cm", namespace=namespace,
                                 field_manager="tool-b")
    applied = configmaps.server_side_apply(body=_applied("cm", {"a": "1"}), name="cm", namespace=namespace,
                                           field_manager="tool-a")
    assert applied.to_dict()["data"] == {"a": "1", "b": "2"}


def test_apply_conflict_with_another_manager_is_409(configmaps, namespace):
    configmaps.server_side_apply(body=_applied("cm", {"a": "1"}), name="cm", namespace=namespace,
                                 field_manager="tool-a")
    status = failure(configmaps.server_side_apply, body=_applied("cm", {"a": "2"}), name="cm", namespace=namespace,
                     field_manager="tool-b")
    assert status["code"] == 409
    assert status["reason"] == "Conflict"
    assert status["message"] == 'Apply failed with 1 conflict: conflict with "tool-a": .data.a'
    assert status["details"]["causes"] == [{"reason": "FieldManagerConflict", "message": 'conflict with "tool-a"',
                                            "field": ".data.a"}]
    assert configmaps.get(name="cm", namespace=namespace).to_dict()["data"] == {"a": "1"}


def test_apply_of_the_same_value_by_another_manager_shares_ownership(configmaps, namespace):
    configmaps.server_side_apply(body=_applied("cm", {"a": "1"}), name="cm", namespace=namespace,
                                 field_manager="tool-a")
    shared = configmaps.server_side_apply(body=_applied("cm", {"a": "1"}), name="cm", namespace=namespace,
                                          field_manager="tool-b")
    managers = _managers(shared)
    assert managers["tool-a"]["fieldsV1"] == managers["tool-b"]["fieldsV1"] == {"f:data": {"f:a": {}}}


def test_forced_apply_takes_ownership(configmaps, namespace):
    configmaps.server_side_apply(body=_applied("cm", {"a": "1", "b": "1"}), name="cm", namespace=namespace,
                                 field_manager="tool-a")
    forced = configmaps.server_side_apply(body=_applied("cm", {"a": "2"}), name="cm", namespace=namespace,
                                          field_manager="tool-b", force_conflicts=True)
    assert forced.to_dict()["data"] == {"a": "2", "b": "1"}
    managers = _managers(forced)
    assert managers["tool-b"]["fieldsV1"] == {"f:data": {"f:a": {}}}
    assert managers["tool-a"]["fieldsV1"] == {"f:data": {"f:b": {}}}


def test_apply_merges_containers_by_name(deployments, namespace):
    body = {"apiVersion": "apps/v1", "kind": "Deployment", **_pod_template_deployment("web")}
    deployments.server_side_apply(body=body, name="web", namespace=namespace, field_manager="tool-a")
    sidecar = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
               "spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "proxy:2"}]}}}}
    applied = deployments.server_side_apply(body=sidecar, name="web", namespace=namespace, field_manager="tool-b")
    assert [c["name"] for c in _pod_spec(applied)["containers"]] == ["main", "sidecar"]
    owned = _managers(applied)["tool-b"]["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert list(owned) == ['k:{"name":"sidecar"}']


def test_apply_conflict_on_a_keyed_list_item_names_the_path(deployments, namespace):
    body = {"apiVersion": "apps/v1", "kind": "Deployment", **_pod_template_deployment("web")}
    deployments.server_side_apply(body=body, name="web", namespace=namespace, field_manager="tool-a")
    other = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
             "spec": {"template": {"spec": {"containers": [{"name": "main", "image": "busybox:2"}]}}}}
    status = failure(deployments.server_side_apply, body=other, name="web", namespace=namespace,
                     field_manager="tool-b")
    assert status["details"]["causes"][0]["field"] == '.spec.template.spec.containers[name="main"].image'


def test_managed_fields_survive_an_update_that_omits_them(configmaps, namespace):
    configmaps.server_side_apply(body=_applied("cm", {"a": "1"}), name="cm", namespace=namespace,
                                 field_manager="tool-a")
    configmaps.replace(namespace=namespace, body={"apiVersion": "v1", "kind": "ConfigMap",
                                                  "metadata": {"name": "cm"}, "data": {"a": "1", "b": "2"}})
    status = failure(configmaps.server_side_apply, body=_applied("cm", {"a": "9"}), name="cm", namespace=namespace,
                     field_manager="tool-b")
    assert status["code"] == 409
