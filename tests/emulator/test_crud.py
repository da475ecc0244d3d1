"""Create, get, list, replace, delete and deletecollection, with the metadata the server keeps."""
import datetime
import time
import uuid

from kubernetes import client

from .expect import failure


def _configmap(name, labels=None, data=None):
    return {"metadata": {"name": name, "labels": labels or {}}, "data": data or {"key": "value"}}


def _deployment(name, image="busybox:1", replicas=1):
    labels = {"app": name}
    return {"metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "main", "image": image}]}}}}


def test_create_sets_uid_resource_version_and_creation_timestamp(core, namespace):
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    created = core.create_namespaced_config_map(namespace, _configmap("settings"))
    meta = created.metadata
    assert uuid.UUID(meta.uid).version == 4
    assert int(meta.resource_version) > 0
    assert before <= meta.creation_timestamp <= datetime.datetime.now(datetime.timezone.utc)
    assert meta.namespace == namespace
    # Objects without a spec have no generation, as on a real server.
    assert meta.generation is None


def test_get_and_list_return_what_was_created(core, namespace):
    created = core.create_namespaced_config_map(namespace, _configmap("settings", data={"a": "1"}))
    fetched = core.read_namespaced_config_map("settings", namespace)
    assert fetched.metadata.uid == created.metadata.uid
    assert fetched.data == {"a": "1"}
    listed = core.list_namespaced_config_map(namespace)
    assert {"settings", "kube-root-ca.crt"} == {item.metadata.name for item in listed.items}
    assert int(listed.metadata.resource_version) >= int(created.metadata.resource_version)


def test_list_items_carry_no_kind_except_custom_resources(emulator, core, namespace):
    core.create_namespaced_config_map(namespace, _configmap("settings"))
    configmaps = emulator.get_json(f"/api/v1/namespaces/{namespace}/configmaps")
    assert configmaps["kind"] == "ConfigMapList"
    assert configmaps["apiVersion"] == "v1"
    assert all("kind" not in item and "apiVersion" not in item for item in configmaps["items"])
    classes = emulator.get_json("/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses")
    assert classes["items"][0]["kind"] == "VolumeSnapshotClass"
    assert classes["items"][0]["apiVersion"] == "snapshot.storage.k8s.io/v1"


def test_list_pages_with_limit_and_continue(core, namespace):
    for index in range(5):
        core.create_namespaced_config_map(namespace, _configmap(f"page-{index}"))
    first = core.list_namespaced_config_map(namespace, limit=4)
    assert len(first.items) == 4
    token = first.metadata._continue  # pylint: disable=protected-access
    assert token
    rest = core.list_namespaced_config_map(namespace, limit=4, _continue=token)
    assert len(rest.items) == 2
    names = [i.metadata.name for i in first.items + rest.items]
    assert sorted(names) == sorted([f"page-{n}" for n in range(5)] + ["kube-root-ca.crt"])


def test_replace_changes_resource_version(core, namespace):
    created = core.create_namespaced_config_map(namespace, _configmap("settings"))
    created.data = {"key": "changed"}
    replaced = core.replace_namespaced_config_map("settings", namespace, created)
    assert replaced.data == {"key": "changed"}
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)
    assert replaced.metadata.uid == created.metadata.uid
    assert replaced.metadata.creation_timestamp == created.metadata.creation_timestamp


def test_noop_replace_keeps_resource_version(core, namespace):
    created = core.create_namespaced_config_map(namespace, _configmap("settings"))
    replaced = core.replace_namespaced_config_map("settings", namespace, created)
    assert replaced.metadata.resource_version == created.metadata.resource_version


def test_replace_with_stale_resource_version_is_409(core, namespace):
    created = core.create_namespaced_config_map(namespace, _configmap("settings"))
    stale = created.metadata.resource_version
    core.patch_namespaced_config_map("settings", namespace, {"data": {"key": "other"}})
    created.data = {"key": "mine"}
    created.metadata.resource_version = stale
    status = failure(core.replace_namespaced_config_map, "settings", namespace, created)
    assert status["code"] == 409
    assert status["reason"] == "Conflict"
    assert status["details"] == {"name": "settings", "kind": "configmaps"}
    assert "the object has been modified" in status["message"]
    assert core.read_namespaced_config_map("settings", namespace).data == {"key": "other"}


def test_patch_with_stale_resource_version_is_409(core, namespace):
    created = core.create_namespaced_config_map(namespace, _configmap("settings"))
    core.patch_namespaced_config_map("settings", namespace, {"data": {"key": "other"}})
    patch = {"metadata": {"resourceVersion": created.metadata.resource_version}, "data": {"key": "mine"}}
    status = failure(core.patch_namespaced_config_map, "settings", namespace, patch)
    assert status["reason"] == "Conflict"
    assert core.read_namespaced_config_map("settings", namespace).data == {"key": "other"}


def test_create_of_an_existing_name_is_409_already_exists(core, namespace):
    core.create_namespaced_config_map(namespace, _configmap("settings"))
    status = failure(core.create_namespaced_config_map, namespace, _configmap("settings"))
    assert status["code"] == 409
    assert status["reason"] == "AlreadyExists"
    assert status["message"] == 'configmaps "settings" already exists'
    assert status["details"] == {"name": "settings", "kind": "configmaps"}


def test_get_missing_is_404_status(apps, namespace):
    status = failure(apps.read_namespaced_deployment, "absent", namespace)
    assert status == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                      "message": 'deployments.apps "absent" not found', "reason": "NotFound",
                      "details": {"name": "absent", "group": "apps", "kind": "deployments"}, "code": 404}


def test_object_in_a_missing_namespace_is_404(core):
    status = failure(core.create_namespaced_config_map, "no-such-namespace", _configmap("settings"))
    assert status["code"] == 404
    assert status["details"] == {"name": "no-such-namespace", "kind": "namespaces"}


def test_invalid_namespace_name_is_422_with_causes(core):
    status = failure(core.create_namespace, {"metadata": {"name": "Bad_Name"}})
    assert status["code"] == 422
    assert status["reason"] == "Invalid"
    assert status["message"].startswith('Namespace "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"')
    assert status["details"]["name"] == "Bad_Name"
    assert status["details"]["kind"] == "Namespace"
    assert [c["field"] for c in status["details"]["causes"]] == ["metadata.name"]
    assert status["details"]["causes"][0]["reason"] == "FieldValueInvalid"


def test_invalid_label_value_is_422(core, namespace):
    status = failure(core.create_namespaced_config_map, namespace, _configmap("settings", {"app": "not valid!"}))
    assert status["code"] == 422
    assert status["details"]["causes"][0]["field"] == "metadata.labels"


def test_missing_name_is_422_and_generate_name_makes_one(core, namespace):
    status = failure(core.create_namespaced_config_map, namespace, {"metadata": {}})
    assert status["details"]["causes"][0]["field"] == "metadata.name"
    generated = core.create_namespaced_config_map(namespace, {"metadata": {"generateName": "gen-"}})
    assert generated.metadata.name.startswith("gen-")
    assert len(generated.metadata.name) == len("gen-") + 5


def test_missing_required_fields_are_422(dyn, namespace):
    pods = dyn.resources.get(api_version="v1", kind="Pod")
    status = failure(pods.create, namespace=namespace, body={"metadata": {"name": "empty"}, "spec": {}})
    assert status["message"] == 'Pod "empty" is invalid: spec.containers: Required value'
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    status = failure(deployments.create, namespace=namespace, body={"metadata": {"name": "web"}, "spec": {}})
    assert [c["field"] for c in status["details"]["causes"]] == ["spec.selector", "spec.template"]


def test_non_string_annotation_is_422(dyn, namespace):
    configmaps = dyn.resources.get(api_version="v1", kind="ConfigMap")
    status = failure(configmaps.create, namespace=namespace,
                     body={"metadata": {"name": "cm", "annotations": {"replicas": 3}}})
    assert status["details"]["causes"][0]["field"] == "metadata.annotations"


def test_claim_spec_is_immutable_but_may_grow(core, namespace):
    claim = {"metadata": {"name": "home"}, "spec": {"accessModes": ["ReadWriteOnce"],
                                                    "resources": {"requests": {"storage": "1Gi"}}}}
    core.create_namespaced_persistent_volume_claim(namespace, claim)
    status = failure(core.patch_namespaced_persistent_volume_claim, "home", namespace,
                     {"spec": {"accessModes": ["ReadWriteMany"]}})
    assert status["code"] == 422
    grown = core.patch_namespaced_persistent_volume_claim("home", namespace,
                                                          {"spec": {"resources": {"requests": {"storage": "2Gi"}}}})
    assert grown.spec.resources.requests == {"storage": "2Gi"}


def test_verb_a_kind_lacks_is_405(emulator):
    code, status = emulator.http("GET", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
    assert code == 405
    assert status["reason"] == "MethodNotAllowed"


def test_bad_quantity_is_400(core, namespace):
    quota = {"metadata": {"name": "quota"}, "spec": {"hard": {"requests.storage": "2 Gi"}}}
    status = failure(core.create_namespaced_resource_quota, namespace, quota)
    assert status["code"] == 400
    assert status["reason"] == "BadRequest"
    assert status["message"] == ('ResourceQuota in version "v1" cannot be handled as a ResourceQuota: quantities '
                                 "must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
    assert core.list_namespaced_resource_quota(namespace).items == []


def test_good_quantity_is_accepted(core, namespace):
    quota = {"metadata": {"name": "quota"}, "spec": {"hard": {"requests.storage": "2Gi", "pods": "10"}}}
    created = core.create_namespaced_resource_quota(namespace, quota)
    assert created.spec.hard == {"requests.storage": "2Gi", "pods": "10"}


def test_generation_bumps_on_spec_change_only(apps, namespace):
    created = apps.create_namespaced_deployment(namespace, _deployment("web"))
    assert created.metadata.generation == 1
    labelled = apps.patch_namespaced_deployment("web", namespace, {"metadata": {"labels": {"tier": "front"}}})
    assert labelled.metadata.generation == 1
    assert labelled.metadata.resource_version != created.metadata.resource_version
    scaled = apps.patch_namespaced_deployment("web", namespace, {"spec": {"replicas": 2}})
    assert scaled.metadata.generation == 2
    assert scaled.status.observed_generation == 2


def test_status_subresource_ignores_spec_and_main_resource_ignores_status(api, namespace):
    networking = client.NetworkingV1Api(api)
    backend = {"service": {"name": "web", "port": {"number": 80}}}
    networking.create_namespaced_ingress(namespace, {"metadata": {"name": "web"},
                                                     "spec": {"defaultBackend": backend}})
    address = {"loadBalancer": {"ingress": [{"ip": "10.0.0.7"}]}}
    changed = networking.patch_namespaced_ingress_status("web", namespace, {
        "spec": {"defaultBackend": {"service": {"name": "other", "port": {"number": 80}}}}, "status": address})
    assert changed.spec.default_backend.service.name == "web"
    assert changed.status.load_balancer.ingress[0].ip == "10.0.0.7"
    changed = networking.patch_namespaced_ingress("web", namespace, {"status": {"loadBalancer": {}}})
    assert changed.status.load_balancer.ingress[0].ip == "10.0.0.7"
    assert changed.metadata.generation == 1


def test_selector_of_a_deployment_is_immutable(apps, namespace):
    apps.create_namespaced_deployment(namespace, _deployment("web"))
    status = failure(apps.patch_namespaced_deployment, "web", namespace,
                     {"spec": {"selector": {"matchLabels": {"app": "other"}}}})
    assert status["code"] == 422
    assert status["details"]["causes"][0]["field"] == "spec.selector"


def test_delete_removes_and_returns_the_object(core, namespace):
    core.create_namespaced_config_map(namespace, _configmap("settings"))
    core.delete_namespaced_config_map("settings", namespace)
    assert failure(core.read_namespaced_config_map, "settings", namespace)["code"] == 404
    assert failure(core.delete_namespaced_config_map, "settings", namespace)["code"] == 404


def test_deletecollection_deletes_only_what_the_selector_matches(core, namespace):
    core.create_namespaced_config_map(namespace, _configmap("one", {"batch": "a"}))
    core.create_namespaced_config_map(namespace, _configmap("two", {"batch": "a"}))
    core.create_namespaced_config_map(namespace, _configmap("three", {"batch": "b"}))
    core.delete_collection_namespaced_config_map(namespace, label_selector="batch=a")
    names = {i.metadata.name for i in core.list_namespaced_config_map(namespace).items}
    assert names == {"three", "kube-root-ca.crt"}


def test_dry_run_create_does_not_persist(core, namespace):
    answer = core.create_namespaced_config_map(namespace, _configmap("settings"), dry_run="All")
    assert answer.metadata.name == "settings"
    assert answer.metadata.uid
    assert failure(core.read_namespaced_config_map, "settings", namespace)["code"] == 404


def test_dry_run_patch_and_replace_do_not_persist(core, namespace):
    created = core.create_namespaced_config_map(namespace, _configmap("settings"))
    patched = core.patch_namespaced_config_map("settings", namespace, {"data": {"key": "dry"}}, dry_run="All")
    assert patched.data == {"key": "dry"}
    created.data = {"key": "dry-replace"}
    core.replace_namespaced_config_map("settings", namespace, created, dry_run="All")
    stored = core.read_namespaced_config_map("settings", namespace)
    assert stored.data == {"key": "value"}
    assert stored.metadata.resource_version == created.metadata.resource_version


def test_dry_run_delete_does_not_persist(core, namespace):
    core.create_namespaced_config_map(namespace, _configmap("settings"))
    core.delete_namespaced_config_map("settings", namespace, dry_run="All")
    core.delete_collection_namespaced_config_map(namespace, dry_run="All")
    assert core.read_namespaced_config_map("settings", namespace).data == {"key": "value"}


def test_cluster_scoped_objects_have_no_namespace(api):
    rbac = client.RbacAuthorizationV1Api(api)
    role = {"metadata": {"name": f"reader-{uuid.uuid4().hex[:6]}", "namespace": "ignored"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}
    created = rbac.create_cluster_role(role)
    try:
        assert created.metadata.namespace is None
        assert rbac.read_cluster_role(created.metadata.name).rules[0].verbs == ["get"]
    finally:
        rbac.delete_cluster_role(created.metadata.name)


def test_dynamic_client_create_get_replace_delete(dyn, namespace):
    secrets = dyn.resources.get(api_version="v1", kind="Secret")
    created = secrets.create(namespace=namespace, body={
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "token"}, "stringData": {"token": "abc"}})
    assert created.metadata.name == "token"
    body = secrets.get(name="token", namespace=namespace).to_dict()
    body["metadata"]["labels"] = {"rotated": "yes"}
    replaced = secrets.replace(namespace=namespace, body=body)
    assert replaced.to_dict()["metadata"]["labels"] == {"rotated": "yes"}
    secrets.delete(name="token", namespace=namespace)
    assert [i.metadata.name for i in secrets.get(namespace=namespace).items] == []


def test_requests_are_answered_promptly(core, namespace):
    """Not a benchmark: 50 reads take ~2 s when each response waits on a delayed ACK (Nagle)."""
    core.create_namespaced_config_map(namespace, _configmap("settings"))
    started = time.monotonic()
    for _unused in range(50):
        core.read_namespaced_config_map("settings", namespace)
    assert time.monotonic() - started < 1.0


def test_container_limit_ranges_get_the_servers_defaults(core, namespace):
    created = core.create_namespaced_limit_range(namespace, {
        "metadata": {"name": "limits"},
        "spec": {"limits": [{"type": "Container", "max": {"cpu": "2"}, "min": {"memory": "64Mi"},
                             "default": {"memory": "1Gi"}},
                            {"type": "Pod", "max": {"cpu": "4"}}]}})
    container, pod = created.spec.limits
    assert container.default == {"memory": "1Gi", "cpu": "2"}  # cpu from max
    assert container.default_request == {"memory": "1Gi", "cpu": "2"}  # from default, before min
    assert pod.default is None and pod.default_request is None
