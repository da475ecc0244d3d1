"""kubectl against the emulator: protobuf creates, get, apply (client- and server-side), delete."""
import base64
import json

from .expect import failure


def _manifest(name, data, labels=None):
    return json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": name, "labels": labels or {"app": "hub"}}, "data": data})


def test_create_namespace_sends_protobuf_and_reads_back_as_json(kubectl, core):
    done = kubectl("create", "namespace", "t-kubectl-made")
    try:
        assert done.stdout.strip() == "namespace/t-kubectl-made created"
        namespace = core.read_namespace("t-kubectl-made")
        assert namespace.status.phase == "Active"
        assert namespace.metadata.labels["kubernetes.io/metadata.name"] == "t-kubectl-made"
    finally:
        kubectl("delete", "namespace", "t-kubectl-made")
    assert failure(core.read_namespace, "t-kubectl-made")["code"] == 404


def test_create_configmap_and_secret_send_protobuf(kubectl, core, namespace):
    kubectl("create", "configmap", "settings", "-n", namespace, "--from-literal=mode=fast",
            "--from-literal=level=3")
    kubectl("create", "secret", "generic", "token", "-n", namespace, "--from-literal=token=s3cr3t",
            "--type=Opaque")
    assert core.read_namespaced_config_map("settings", namespace).data == {"mode": "fast", "level": "3"}
    secret = core.read_namespaced_secret("token", namespace)
    assert secret.type == "Opaque"
    assert base64.b64decode(secret.data["token"]) == b"s3cr3t"


def _protobuf_field(number, payload):
    """A length-delimited protobuf field (payloads here stay under 128 bytes)."""
    return bytes([number << 3 | 2, len(payload)]) + payload


def test_protobuf_of_an_unsupported_kind_is_415(emulator, namespace):
    type_meta = _protobuf_field(1, b"apps/v1") + _protobuf_field(2, b"Deployment")
    body = b"k8s\x00" + _protobuf_field(1, type_meta) + _protobuf_field(2, b"")
    code, status = emulator.http("POST", f"/apis/apps/v1/namespaces/{namespace}/deployments", body,
                                 {"Content-Type": "application/vnd.kubernetes.protobuf"})
    assert code == 415
    assert status["reason"] == "UnsupportedMediaType"
    assert "Deployment" in status["message"]


def test_get_json_of_a_list_and_of_one_object(kubectl, core, namespace):
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "settings"}, "data": {"a": "1"}})
    listed = kubectl.json("get", "configmaps", "-n", namespace)
    assert listed["kind"] == "List"
    assert {i["metadata"]["name"]: i["kind"] for i in listed["items"]} == {"settings": "ConfigMap",
                                                                           "kube-root-ca.crt": "ConfigMap"}
    one = kubectl.json("get", "configmap", "settings", "-n", namespace)
    assert one["apiVersion"] == "v1"
    assert one["data"] == {"a": "1"}


def test_get_of_a_missing_object_prints_the_server_message(kubectl, namespace):
    done = kubectl("get", "configmap", "absent", "-n", namespace, check=False)
    assert done.returncode == 1
    assert 'Error from server (NotFound): configmaps "absent" not found' in done.stderr


def test_get_with_a_selector_and_custom_columns(kubectl, core, namespace):
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "a", "labels": {"tier": "x"}}})
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "b"}})
    done = kubectl("get", "configmaps", "-n", namespace, "-l", "tier", "-o", "custom-columns=NAME:.metadata.name",
                   "--no-headers")
    assert done.stdout.split() == ["a"]


def test_client_side_apply_twice_is_unchanged(kubectl, core, namespace):
    first = kubectl("apply", "-n", namespace, "-f", "-", stdin=_manifest("settings", {"a": "1"}))
    assert first.stdout.strip() == "configmap/settings created"
    second = kubectl("apply", "-n", namespace, "-f", "-", stdin=_manifest("settings", {"a": "1"}))
    assert second.stdout.strip() == "configmap/settings unchanged"
    changed = kubectl("apply", "-n", namespace, "-f", "-", stdin=_manifest("settings", {"b": "2"}))
    assert changed.stdout.strip() == "configmap/settings configured"
    stored = core.read_namespaced_config_map("settings", namespace)
    assert stored.data == {"b": "2"}
    last_applied = json.loads(stored.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"])
    assert last_applied["data"] == {"b": "2"}


def test_client_side_apply_of_a_deployment_is_idempotent(kubectl, namespace):
    deployment = json.dumps({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {
        "replicas": 2, "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}},
                     "spec": {"containers": [{"name": "main", "image": "busybox:1", "ports": [{"containerPort": 80}]}]}}}})
    assert "created" in kubectl("apply", "-n", namespace, "-f", "-", stdin=deployment).stdout
    assert kubectl("apply", "-n", namespace, "-f", "-", stdin=deployment).stdout.strip() == \
        "deployment.apps/web unchanged"


def test_server_side_apply(kubectl, core, namespace):
    first = kubectl("apply", "--server-side", "-n", namespace, "-f", "-", stdin=_manifest("settings", {"a": "1"}))
    assert first.stdout.strip() == "configmap/settings serverside-applied"
    stored = core.read_namespaced_config_map("settings", namespace)
    assert [(m.manager, m.operation) for m in stored.metadata.managed_fields] == [("kubectl", "Apply")]
    kubectl("apply", "--server-side", "-n", namespace, "-f", "-", stdin=_manifest("settings", {"b": "2"}))
    assert core.read_namespaced_config_map("settings", namespace).data == {"b": "2"}


def test_server_side_apply_conflict_and_force(kubectl, core, namespace):
    kubectl("apply", "--server-side", "-n", namespace, "-f", "-", stdin=_manifest("settings", {"a": "1"}))
    other = ("apply", "--server-side", "--field-manager=other", "-n", namespace, "-f", "-")
    conflict = kubectl(*other, check=False, stdin=_manifest("settings", {"a": "2"}))
    assert conflict.returncode == 1
    assert 'conflict with "kubectl": .data.a' in conflict.stderr
    assert core.read_namespaced_config_map("settings", namespace).data == {"a": "1"}
    kubectl(*other, "--force-conflicts", stdin=_manifest("settings", {"a": "2"}))
    assert core.read_namespaced_config_map("settings", namespace).data == {"a": "2"}


def test_delete_by_name_by_file_and_by_selector(kubectl, core, namespace):
    for name in ("one", "two", "three"):
        kubectl("apply", "-n", namespace, "-f", "-", stdin=_manifest(name, {"a": "1"}, {"group": name[0]}))
    assert kubectl("delete", "configmap", "one", "-n", namespace).stdout.strip() == 'configmap "one" deleted'
    kubectl("delete", "-n", namespace, "-f", "-", stdin=_manifest("two", {}))
    kubectl("delete", "configmaps", "-n", namespace, "-l", "group=t")
    assert [i.metadata.name for i in core.list_namespaced_config_map(namespace).items] == ["kube-root-ca.crt"]
    missing = kubectl("delete", "configmap", "one", "-n", namespace, check=False)
    assert missing.returncode == 1
    assert "NotFound" in missing.stderr


def test_label_annotate_and_patch(kubectl, core, namespace):
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "settings"}, "data": {"a": "1"}})
    kubectl("label", "configmap", "settings", "-n", namespace, "tier=front")
    kubectl("annotate", "configmap", "settings", "-n", namespace, "owner=team")
    kubectl("patch", "configmap", "settings", "-n", namespace, "--type=merge", "-p", '{"data": {"b": "2"}}')
    kubectl("patch", "configmap", "settings", "-n", namespace, "--type=json",
            "-p", '[{"op": "remove", "path": "/data/a"}]')
    stored = core.read_namespaced_config_map("settings", namespace)
    assert stored.metadata.labels == {"tier": "front"}
    assert stored.metadata.annotations == {"owner": "team"}
    assert stored.data == {"b": "2"}


def test_scale_a_deployment(kubectl, apps, namespace):
    deployment = json.dumps({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "m", "image": "x"}]}}}})
    kubectl("apply", "-n", namespace, "-f", "-", stdin=deployment)
    assert kubectl("scale", "deployment/web", "-n", namespace, "--replicas=3").stdout.strip() == \
        "deployment.apps/web scaled"
    assert apps.read_namespaced_deployment("web", namespace).status.ready_replicas == 3


def test_get_all_lists_the_workload_category(kubectl, namespace):
    deployment = json.dumps({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "m", "image": "x"}]}}}})
    kubectl("apply", "-n", namespace, "-f", "-", stdin=deployment)
    kinds = {line.split("/")[0] for line in kubectl("get", "all", "-n", namespace, "-o", "name").stdout.split()}
    assert kinds == {"pod", "deployment.apps", "replicaset.apps"}
