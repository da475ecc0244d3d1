"""The emulated controllers: workloads get ready, claims bind, jobs finish, snapshots get ready, token Secrets get
their token."""
import base64

from kubernetes import client

from .expect import failure

PVC_PROTECTION = "kubernetes.io/pvc-protection"
OUTCOME = "emulator.hubfleet.io/outcome"


def _template(app):
    return {"metadata": {"labels": {"app": app}},
            "spec": {"containers": [{"name": "main", "image": "busybox:1"}]}}


def _workload(name, replicas=None, **spec):
    body = {"metadata": {"name": name},
            "spec": {"selector": {"matchLabels": {"app": name}}, "template": _template(name), **spec}}
    if replicas is not None:
        body["spec"]["replicas"] = replicas
    return body


def _claim(name, size="1Gi", **spec):
    return {"metadata": {"name": name},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}, **spec}}


def test_deployment_becomes_available_with_its_pods(apps, core, namespace):
    apps.create_namespaced_deployment(namespace, _workload("web", replicas=3))
    deployment = apps.read_namespaced_deployment("web", namespace)
    assert deployment.status.ready_replicas == 3
    assert deployment.status.available_replicas == 3
    assert deployment.status.updated_replicas == 3
    assert deployment.status.observed_generation == 1
    assert {c.type: c.status for c in deployment.status.conditions} == {"Available": "True",
                                                                        "Progressing": "True"}
    pods = core.list_namespaced_pod(namespace, label_selector="app=web").items
    assert len(pods) == 3
    assert {p.status.phase for p in pods} == {"Running"}
    assert all(p.spec.node_name and p.status.pod_ip for p in pods)
    replica_set = apps.list_namespaced_replica_set(namespace).items[0]
    assert replica_set.metadata.owner_references[0].uid == deployment.metadata.uid
    assert pods[0].metadata.owner_references[0].uid == replica_set.metadata.uid


def test_deployment_scales_and_rolls_out_a_new_template(apps, core, namespace):
    apps.create_namespaced_deployment(namespace, _workload("web", replicas=2))
    apps.patch_namespaced_deployment("web", namespace, {"spec": {"replicas": 1}})
    assert len(core.list_namespaced_pod(namespace).items) == 1
    new_template = {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "busybox:2"}]}}}}
    rolled = apps.patch_namespaced_deployment("web", namespace, new_template)
    assert rolled.status.observed_generation == 3
    pods = core.list_namespaced_pod(namespace).items
    assert [p.spec.containers[0].image for p in pods] == ["busybox:2"]
    replica_sets = {rs.spec.template.spec.containers[0].image: rs.spec.replicas
                    for rs in apps.list_namespaced_replica_set(namespace).items}
    assert replica_sets == {"busybox:1": 0, "busybox:2": 1}


def test_deployment_scaled_to_zero_has_no_pods(apps, core, namespace):
    apps.create_namespaced_deployment(namespace, _workload("web", replicas=0))
    deployment = apps.read_namespaced_deployment("web", namespace)
    assert deployment.status.ready_replicas is None
    assert core.list_namespaced_pod(namespace).items == []


def test_scale_subresource_reads_and_writes_replicas(apps, core, namespace):
    apps.create_namespaced_deployment(namespace, _workload("web", replicas=2))
    scale = apps.read_namespaced_deployment_scale("web", namespace)
    assert scale.kind == "Scale"
    assert (scale.spec.replicas, scale.status.replicas, scale.status.selector) == (2, 2, "app=web")
    scaled = apps.patch_namespaced_deployment_scale("web", namespace, {"spec": {"replicas": 4}})
    assert scaled.spec.replicas == 4
    assert apps.read_namespaced_deployment("web", namespace).status.ready_replicas == 4
    scale = apps.read_namespaced_deployment_scale("web", namespace)
    scale.spec.replicas = 1
    apps.replace_namespaced_deployment_scale("web", namespace, scale)
    assert len(core.list_namespaced_pod(namespace).items) == 1


def test_statefulset_gets_ordinal_pods_and_claims(apps, core, namespace):
    claim = {"metadata": {"name": "data"}, "spec": _claim("data")["spec"]}
    apps.create_namespaced_stateful_set(namespace, _workload("db", replicas=2, serviceName="db",
                                                             volumeClaimTemplates=[claim]))
    sts = apps.read_namespaced_stateful_set("db", namespace)
    assert sts.status.ready_replicas == 2
    assert sts.status.current_revision == sts.status.update_revision
    assert sorted(p.metadata.name for p in core.list_namespaced_pod(namespace).items) == ["db-0", "db-1"]
    claims = {c.metadata.name: c.status.phase for c in core.list_namespaced_persistent_volume_claim(namespace).items}
    assert claims == {"data-db-0": "Bound", "data-db-1": "Bound"}


def test_daemonset_gets_one_ready_pod_per_node(apps, core, namespace):
    apps.create_namespaced_daemon_set(namespace, _workload("agent"))
    ds = apps.read_namespaced_daemon_set("agent", namespace)
    assert ds.status.desired_number_scheduled == 1
    assert ds.status.number_ready == 1
    nodes = [n.metadata.name for n in core.list_node().items]
    assert [p.spec.node_name for p in core.list_namespaced_pod(namespace).items] == nodes


def test_kubectl_rollout_status_succeeds(apps, kubectl, namespace):
    apps.create_namespaced_deployment(namespace, _workload("web", replicas=2))
    done = kubectl("rollout", "status", "deployment/web", "-n", namespace, "--timeout=10s")
    assert 'deployment "web" successfully rolled out' in done.stdout
    apps.create_namespaced_stateful_set(namespace, _workload("db", replicas=1, serviceName="db"))
    done = kubectl("rollout", "status", "statefulset/db", "-n", namespace, "--timeout=10s")
    assert "roll out complete" in done.stdout or "rolling update complete" in done.stdout


def test_service_gets_a_cluster_ip_that_survives_updates(core, namespace):
    service = {"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}
    created = core.create_namespaced_service(namespace, service)
    assert created.spec.cluster_ip.startswith("10.96.")
    assert created.spec.type == "ClusterIP"
    replaced = core.replace_namespaced_service("web", namespace, {**service, "metadata": {
        "name": "web", "labels": {"tier": "front"}}})
    assert replaced.spec.cluster_ip == created.spec.cluster_ip


# --- storage ----------------------------------------------------------------------------------
def test_claim_is_bound_to_a_dynamically_provisioned_volume(core, namespace):
    core.create_namespaced_persistent_volume_claim(namespace, _claim("home", "2Gi"))
    claim = core.read_namespaced_persistent_volume_claim("home", namespace)
    assert claim.status.phase == "Bound"
    assert claim.status.capacity == {"storage": "2Gi"}
    assert claim.spec.storage_class_name == "standard"
    assert PVC_PROTECTION in claim.metadata.finalizers
    volume = core.read_persistent_volume(claim.spec.volume_name)
    assert volume.status.phase == "Bound"
    assert volume.spec.claim_ref.name == "home"
    assert volume.spec.claim_ref.uid == claim.metadata.uid
    assert volume.spec.persistent_volume_reclaim_policy == "Delete"


def test_claim_binds_a_static_volume_by_name_and_releases_it(core, namespace):
    name = f"static-{namespace}"
    core.create_persistent_volume({"metadata": {"name": name}, "spec": {
        "capacity": {"storage": "5Gi"}, "accessModes": ["ReadWriteMany"], "storageClassName": "",
        "persistentVolumeReclaimPolicy": "Retain", "nfs": {"server": "nfs.example", "path": "/export"}}})
    try:
        assert core.read_persistent_volume(name).status.phase == "Available"
        core.create_namespaced_persistent_volume_claim(namespace, _claim("shared", storageClassName="",
                                                                         volumeName=name))
        claim = core.read_namespaced_persistent_volume_claim("shared", namespace)
        assert claim.status.phase == "Bound"
        assert claim.status.capacity == {"storage": "5Gi"}
        assert claim.status.access_modes == ["ReadWriteMany"]
        assert core.read_persistent_volume(name).spec.claim_ref.name == "shared"
        core.delete_namespaced_persistent_volume_claim("shared", namespace)
        assert core.read_persistent_volume(name).status.phase == "Released"
    finally:
        core.delete_persistent_volume(name)
    assert failure(core.read_persistent_volume, name)["code"] == 404


def test_bound_volume_deleted_first_goes_when_its_claim_goes(core, namespace):
    name = f"static-{namespace}"
    core.create_persistent_volume({"metadata": {"name": name}, "spec": {
        "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "persistentVolumeReclaimPolicy": "Retain",
        "hostPath": {"path": "/tmp"}}})
    core.create_namespaced_persistent_volume_claim(namespace, _claim("home", storageClassName="", volumeName=name))
    core.delete_persistent_volume(name)
    volume = core.read_persistent_volume(name)
    assert volume.metadata.deletion_timestamp is not None
    assert volume.metadata.finalizers == ["kubernetes.io/pv-protection"]
    core.delete_namespaced_persistent_volume_claim("home", namespace)
    assert failure(core.read_persistent_volume, name)["code"] == 404


def test_volume_with_a_claim_ref_binds_that_claim(core, namespace):
    core.create_namespaced_persistent_volume_claim(namespace, _claim("home", storageClassName="manual"))
    assert core.read_namespaced_persistent_volume_claim("home", namespace).status.phase == "Pending"
    name = f"reserved-{namespace}"
    core.create_persistent_volume({"metadata": {"name": name}, "spec": {
        "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "manual",
        "persistentVolumeReclaimPolicy": "Delete", "hostPath": {"path": "/tmp"},
        "claimRef": {"namespace": namespace, "name": "home"}}})
    claim = core.read_namespaced_persistent_volume_claim("home", namespace)
    assert (claim.status.phase, claim.spec.volume_name) == ("Bound", name)
    assert core.read_persistent_volume(name).status.phase == "Bound"
    core.delete_namespaced_persistent_volume_claim("home", namespace)
    assert failure(core.read_persistent_volume, name)["code"] == 404


def test_pod_eviction_deletes_the_pod(core, namespace):
    core.create_namespaced_pod(namespace, {"metadata": {"name": "victim"},
                                           "spec": {"containers": [{"name": "main", "image": "busybox"}]}})
    core.create_namespaced_pod_eviction("victim", namespace, {"metadata": {"name": "victim",
                                                                           "namespace": namespace}})
    assert failure(core.read_namespaced_pod, "victim", namespace)["code"] == 404


def test_claim_with_an_unknown_class_stays_pending(core, namespace):
    core.create_namespaced_persistent_volume_claim(namespace, _claim("home", storageClassName="absent"))
    assert core.read_namespaced_persistent_volume_claim("home", namespace).status.phase == "Pending"


def test_deleting_a_claim_deletes_its_provisioned_volume(core, namespace):
    core.create_namespaced_persistent_volume_claim(namespace, _claim("home"))
    volume = core.read_namespaced_persistent_volume_claim("home", namespace).spec.volume_name
    core.delete_namespaced_persistent_volume_claim("home", namespace)
    assert failure(core.read_namespaced_persistent_volume_claim, "home", namespace)["code"] == 404
    assert failure(core.read_persistent_volume, volume)["code"] == 404


def test_claim_in_use_stays_terminating_until_its_pod_is_gone(core, namespace):
    core.create_namespaced_persistent_volume_claim(namespace, _claim("home"))
    core.create_namespaced_pod(namespace, {"metadata": {"name": "user"}, "spec": {
        "containers": [{"name": "main", "image": "busybox"}],
        "volumes": [{"name": "home", "persistentVolumeClaim": {"claimName": "home"}}]}})
    core.delete_namespaced_persistent_volume_claim("home", namespace)
    claim = core.read_namespaced_persistent_volume_claim("home", namespace)
    assert claim.metadata.deletion_timestamp is not None
    assert claim.metadata.finalizers == [PVC_PROTECTION]
    assert claim.status.phase == "Bound"
    core.delete_namespaced_pod("user", namespace)
    assert failure(core.read_namespaced_persistent_volume_claim, "home", namespace)["code"] == 404


def test_snapshot_of_a_bound_claim_becomes_ready(dyn, core, namespace):
    core.create_namespaced_persistent_volume_claim(namespace, _claim("home", "3Gi"))
    snapshots = dyn.resources.get(api_version="snapshot.storage.k8s.io/v1", kind="VolumeSnapshot")
    snapshots.create(namespace=namespace, body={
        "apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot", "metadata": {"name": "backup"},
        "spec": {"volumeSnapshotClassName": "standard-snapshot", "source": {"persistentVolumeClaimName": "home"}}})
    status = snapshots.get(name="backup", namespace=namespace).to_dict()["status"]
    assert status["readyToUse"] is True
    assert status["restoreSize"] == "3Gi"
    contents = dyn.resources.get(api_version="snapshot.storage.k8s.io/v1", kind="VolumeSnapshotContent")
    content = contents.get(name=status["boundVolumeSnapshotContentName"]).to_dict()
    assert content["spec"]["volumeSnapshotRef"]["name"] == "backup"


def test_snapshot_of_a_missing_claim_reports_an_error(dyn, namespace):
    snapshots = dyn.resources.get(api_version="snapshot.storage.k8s.io/v1", kind="VolumeSnapshot")
    snapshots.create(namespace=namespace, body={
        "apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot", "metadata": {"name": "backup"},
        "spec": {"source": {"persistentVolumeClaimName": "absent"}}})
    status = snapshots.get(name="backup", namespace=namespace).to_dict()["status"]
    assert status["readyToUse"] is False
    assert "absent" in status["error"]["message"]


# --- jobs ---------------------------------------------------------------------------------------
def _job(name, annotations=None):
    return {"metadata": {"name": name, "annotations": annotations or {}},
            "spec": {"backoffLimit": 2, "template": {"spec": {
                "restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox"}]}}}}


def test_job_completes(api, core, namespace):
    batch = client.BatchV1Api(api)
    batch.create_namespaced_job(namespace, _job("migrate"))
    job = batch.read_namespaced_job("migrate", namespace)
    assert job.status.succeeded == 1
    assert job.status.completion_time is not None
    assert {c.type for c in job.status.conditions} == {"Complete", "SuccessCriteriaMet"}
    pods = core.list_namespaced_pod(namespace, label_selector="job-name=migrate").items
    assert [p.status.phase for p in pods] == ["Succeeded"]


def test_job_pod_log_comes_from_the_log_annotation(api, core, namespace):
    client.BatchV1Api(api).create_namespaced_job(namespace, _job("report", {"emulator.hubfleet.io/log": "42 rows\n"}))
    pod = core.list_namespaced_pod(namespace, label_selector="job-name=report").items[0]
    assert core.read_namespaced_pod_log(pod.metadata.name, namespace) == "42 rows\n"


def test_pod_log_keeps_the_last_tail_lines(api, core, namespace, kubectl):
    log = "first\nsecond\nthird\n"
    client.BatchV1Api(api).create_namespaced_job(namespace, _job("report", {"emulator.hubfleet.io/log": log}))
    pod = core.list_namespaced_pod(namespace, label_selector="job-name=report").items[0].metadata.name
    assert core.read_namespaced_pod_log(pod, namespace, tail_lines=2) == "second\nthird\n"
    assert core.read_namespaced_pod_log(pod, namespace, tail_lines=0) == ""
    assert core.read_namespaced_pod_log(pod, namespace, tail_lines=5) == log
    assert kubectl("logs", pod, "-n", namespace, "--tail=1").stdout == "third\n"
    status = failure(core.read_namespaced_pod_log, pod, namespace, tail_lines=-1)
    assert (status["code"], status["reason"]) == (422, "Invalid")
    assert status["message"] == (f'PodLogOptions "{pod}" is invalid: '
                                 "tailLines: Invalid value: -1: must be greater than or equal to 0")


def test_job_fails_when_annotated(api, core, namespace, kubectl):
    batch = client.BatchV1Api(api)
    batch.create_namespaced_job(namespace, _job("migrate", {OUTCOME: "Failed"}))
    job = batch.read_namespaced_job("migrate", namespace)
    assert job.status.succeeded is None
    assert job.status.failed == 3
    assert {c.type: c.reason for c in job.status.conditions}["Failed"] == "BackoffLimitExceeded"
    pods = core.list_namespaced_pod(namespace, label_selector="job-name=migrate").items
    assert [p.status.phase for p in pods] == ["Failed"]
    waited = kubectl("wait", "--for=condition=Failed", "job/migrate", "-n", namespace, "--timeout=5s")
    assert "condition met" in waited.stdout


# --- service account tokens -------------------------------------------------------------------
TOKEN_TYPE = "kubernetes.io/service-account-token"
ACCOUNT = "kubernetes.io/service-account.name"


def _token_secret(name, account):
    return {"metadata": {"name": name, "annotations": {ACCOUNT: account}}, "type": TOKEN_TYPE}


def test_token_secret_of_a_service_account_gets_a_token(core, namespace):
    account = core.create_namespaced_service_account(namespace, {"metadata": {"name": "robot"}})
    core.create_namespaced_secret(namespace, _token_secret("robot-token", "robot"))
    core.create_namespaced_secret(namespace, _token_secret("robot-token-2", "robot"))
    secret = core.read_namespaced_secret("robot-token", namespace)
    assert secret.metadata.annotations["kubernetes.io/service-account.uid"] == account.metadata.uid
    data = {key: base64.b64decode(value).decode() for key, value in secret.data.items()}
    assert data["namespace"] == namespace
    assert data["ca.crt"] == core.read_namespaced_config_map("kube-root-ca.crt", namespace).data["ca.crt"]
    assert data["token"]
    assert secret.data["token"] != core.read_namespaced_secret("robot-token-2", namespace).data["token"]


def test_token_secret_of_a_missing_service_account_is_deleted(core, namespace):
    created = core.create_namespaced_secret(namespace, _token_secret("orphan-token", "nobody"))
    assert created.metadata.name == "orphan-token"
    assert failure(core.read_namespaced_secret, "orphan-token", namespace)["code"] == 404


def test_token_secret_without_a_service_account_name_is_422(core, namespace):
    status = failure(core.create_namespaced_secret, namespace, {"metadata": {"name": "token"}, "type": TOKEN_TYPE})
    assert status["reason"] == "Invalid"
    assert status["message"] == ('Secret "token" is invalid: metadata.annotations[kubernetes.io/service-account.name]: '
                                 "Required value")
    assert [c["field"] for c in status["details"]["causes"]] == [f"metadata.annotations[{ACCOUNT}]"]


def test_deleting_a_service_account_deletes_its_token_secrets(core, namespace):
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "robot"}})
    core.create_namespaced_secret(namespace, _token_secret("robot-token", "robot"))
    core.delete_namespaced_service_account("robot", namespace)
    assert failure(core.read_namespaced_secret, "robot-token", namespace)["code"] == 404


def test_a_service_account_token_authenticates_nothing(emulator, core, namespace):
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "robot"}})
    core.create_namespaced_secret(namespace, _token_secret("robot-token", "robot"))
    token = base64.b64decode(core.read_namespaced_secret("robot-token", namespace).data["token"]).decode()
    assert failure(client.CoreV1Api(emulator.api_client(token)).list_namespace)["code"] == 401
