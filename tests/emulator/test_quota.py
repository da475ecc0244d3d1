"""ResourceQuota admission and status: counts, compute, storage and extended resources, as the API server keeps them."""
import json
import secrets

from kubernetes import client

from .expect import failure

GPU = "nvidia.com/gpu"
BY_CLASS = ".storageclass.storage.k8s.io/"


def _quota(name, hard):
    return {"metadata": {"name": name}, "spec": {"hard": hard}}


def _container(name="web", requests=None, limits=None):
    resources = {key: value for key, value in (("requests", requests), ("limits", limits)) if value}
    return {"name": name, "image": "busybox:1", "resources": resources}


def _pod(name, *containers, init=()):
    spec = {"containers": list(containers) or [_container()]}
    if init:
        spec["initContainers"] = list(init)
    return {"metadata": {"name": name}, "spec": spec}


def _claim(name, size, storage_class=None):
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    return {"metadata": {"name": name}, "spec": spec}


def _used(core, namespace, name="compute"):
    return core.read_namespaced_resource_quota(name, namespace).status.used


def _forbidden(call, *args, **kwargs):
    status = failure(call, *args, **kwargs)
    assert (status["code"], status["reason"]) == (403, "Forbidden")
    return status["message"]


def test_pod_within_quota_is_created_and_counted(core, namespace):
    created = core.create_namespaced_resource_quota(namespace, _quota("compute", {
        "requests.cpu": "2", "requests.memory": "2048Mi", "limits.memory": "4Gi", "pods": "3"}))
    assert created.status.hard == {"requests.cpu": "2", "requests.memory": "2Gi", "limits.memory": "4Gi", "pods": "3"}
    assert created.status.used == {"requests.cpu": "0", "requests.memory": "0", "limits.memory": "0", "pods": "0"}
    core.create_namespaced_pod(namespace, _pod("web", _container(requests={"cpu": "500m", "memory": "512Mi"},
                                                                 limits={"memory": "1Gi"})))
    assert core.read_namespaced_pod("web", namespace).status.phase == "Running"
    assert _used(core, namespace) == {"requests.cpu": "500m", "requests.memory": "512Mi", "limits.memory": "1Gi",
                                      "pods": "1"}


def test_new_quota_counts_what_the_namespace_holds(core, namespace):
    core.create_namespaced_pod(namespace, _pod("web", _container(
        requests={"cpu": "250m", "memory": "1Gi", "ephemeral-storage": "500M"}, limits={"cpu": "1"})))
    core.create_namespaced_persistent_volume_claim(namespace, _claim("data", "2Gi"))
    created = core.create_namespaced_resource_quota(namespace, _quota("everything", {
        "cpu": "4", "memory": "8Gi", "limits.cpu": "8", "pods": "10", "requests.ephemeral-storage": "1G",
        "requests.storage": "10Gi", "persistentvolumeclaims": "5", "services": "2"}))
    # Bare cpu and memory are requests; services are not counted by the emulator.
    assert created.status.used == {"cpu": "250m", "memory": "1Gi", "limits.cpu": "1", "pods": "1",
                                   "requests.ephemeral-storage": "500M", "requests.storage": "2Gi",
                                   "persistentvolumeclaims": "1", "services": "0"}


def test_pod_over_quota_is_forbidden_with_the_servers_message(core, namespace):
    core.create_namespaced_resource_quota(namespace, _quota("compute", {"requests.cpu": "2", "requests.memory": "4Gi"}))
    core.create_namespaced_pod(namespace, _pod("first", _container(requests={"cpu": "1", "memory": "1Gi"})))
    message = _forbidden(core.create_namespaced_pod, namespace,
                         _pod("web", _container(requests={"cpu": "2", "memory": "1Gi"})))
    # Only what is exceeded is listed; memory still fits.
    assert message == ('pods "web" is forbidden: exceeded quota: compute, requested: requests.cpu=2, '
                       "used: requests.cpu=1, limited: requests.cpu=2")
    assert failure(core.read_namespaced_pod, "web", namespace)["code"] == 404
    assert _used(core, namespace) == {"requests.cpu": "1", "requests.memory": "1Gi"}


def test_kubectl_reports_the_quota_refusal(core, kubectl, namespace):
    core.create_namespaced_resource_quota(namespace, _quota("compute", {"limits.cpu": "1"}))
    manifest = {"apiVersion": "v1", "kind": "Pod", **_pod("web", _container(limits={"cpu": "1500m"}))}
    done = kubectl("create", "-n", namespace, "-f", "-", stdin=json.dumps(manifest), check=False)
    assert done.returncode == 1
    assert done.stderr.strip() == ('Error from server (Forbidden): error when creating "STDIN": pods "web" is '
                                   "forbidden: exceeded quota: compute, requested: limits.cpu=1500m, "
                                   "used: limits.cpu=0, limited: limits.cpu=1")


def test_quantities_compare_by_amount(core, namespace):
    core.create_namespaced_resource_quota(namespace, _quota("compute", {"requests.memory": "1Gi", "requests.cpu": "1"}))
    core.create_namespaced_pod(namespace, _pod("half", _container(requests={"memory": "512Mi", "cpu": "0.5"})))
    core.create_namespaced_pod(namespace, _pod("rest", _container(requests={"memory": "524288Ki", "cpu": "500m"})))
    assert _used(core, namespace) == {"requests.memory": "1Gi", "requests.cpu": "1"}
    message = _forbidden(core.create_namespaced_pod, namespace, _pod("byte", _container(requests={"memory": "1",
                                                                                                  "cpu": "1m"})))
    assert message.endswith("exceeded quota: compute, requested: requests.cpu=1m,requests.memory=1, "
                            "used: requests.cpu=1,requests.memory=1Gi, limited: requests.cpu=1,requests.memory=1Gi")


def test_pod_leaving_a_covered_resource_unset_is_refused(core, namespace):
    core.create_namespaced_resource_quota(namespace, _quota("compute", {"limits.memory": "2Gi", "requests.cpu": "1",
                                                                        "pods": "5"}))
    pod = _pod("web", _container("web", requests={"cpu": "100m"}), _container("sidecar"))
    message = _forbidden(core.create_namespaced_pod, namespace, pod)
    assert message == ('pods "web" is forbidden: failed quota: compute: must specify limits.memory for: sidecar,web; '
                       "requests.cpu for: sidecar")
    # A limit stands for a missing request, as the API server's pod defaulting has it.
    core.create_namespaced_pod(namespace, _pod("ok", _container(limits={"cpu": "200m", "memory": "1Gi"})))
    assert core.read_namespaced_pod("ok", namespace).spec.containers[0].resources.requests == {"cpu": "200m",
                                                                                               "memory": "1Gi"}
    assert _used(core, namespace) == {"limits.memory": "1Gi", "requests.cpu": "200m", "pods": "1"}


def test_limit_range_defaults_satisfy_the_quota(core, namespace):
    core.create_namespaced_resource_quota(namespace, _quota("compute", {"limits.memory": "2Gi", "requests.cpu": "1"}))
    core.create_namespaced_limit_range(namespace, {"metadata": {"name": "defaults"}, "spec": {"limits": [
        {"type": "Container", "default": {"memory": "512Mi"}, "defaultRequest": {"cpu": "100m"}}]}})
    core.create_namespaced_pod(namespace, _pod("web", _container(requests={"memory": "256Mi"})))
    pod = core.read_namespaced_pod("web", namespace)
    assert pod.spec.containers[0].resources.limits == {"memory": "512Mi"}
    assert pod.spec.containers[0].resources.requests == {"cpu": "100m", "memory": "256Mi"}
    assert pod.metadata.annotations["kubernetes.io/limit-ranger"] == \
        "LimitRanger plugin set: cpu request for container web; memory limit for container web"
    assert _used(core, namespace) == {"limits.memory": "512Mi", "requests.cpu": "100m"}


def test_init_containers_count_when_larger_than_the_containers(core, namespace):
    core.create_namespaced_resource_quota(namespace, _quota("compute", {"requests.cpu": "4", "requests.memory": "4Gi"}))
    containers = [_container("a", requests={"cpu": "300m", "memory": "256Mi"}),
                  _container("b", requests={"cpu": "200m", "memory": "256Mi"})]
    init = [_container("setup", requests={"cpu": "1", "memory": "128Mi"})]
    core.create_namespaced_pod(namespace, _pod("web", *containers, init=init))
    # cpu: the init container's 1 beats the containers' 500m; memory: their 512Mi beats its 128Mi.
    assert _used(core, namespace) == {"requests.cpu": "1", "requests.memory": "512Mi"}


def test_gpu_requests_count(core, namespace):
    core.create_namespaced_resource_quota(namespace, _quota("gpus", {f"requests.{GPU}": "2"}))
    core.create_namespaced_pod(namespace, _pod("train", _container(limits={GPU: "1"})))  # the limit is the request
    assert _used(core, namespace, "gpus") == {f"requests.{GPU}": "1"}
    message = _forbidden(core.create_namespaced_pod, namespace, _pod("more", _container(requests={GPU: "2"},
                                                                                        limits={GPU: "2"})))
    assert message == (f'pods "more" is forbidden: exceeded quota: gpus, requested: requests.{GPU}=2, '
                       f"used: requests.{GPU}=1, limited: requests.{GPU}=2")


def test_claim_over_requests_storage_is_refused(core, namespace):
    core.create_namespaced_resource_quota(namespace, _quota("storage", {"requests.storage": "5Gi",
                                                                        "persistentvolumeclaims": "4"}))
    core.create_namespaced_persistent_volume_claim(namespace, _claim("data-1", "3Gi"))
    message = _forbidden(core.create_namespaced_persistent_volume_claim, namespace, _claim("data-2", "3Gi"))
    assert message == ('persistentvolumeclaims "data-2" is forbidden: exceeded quota: storage, '
                       "requested: requests.storage=3Gi, used: requests.storage=3Gi, limited: requests.storage=5Gi")
    assert _used(core, namespace, "storage") == {"requests.storage": "3Gi", "persistentvolumeclaims": "1"}


def test_storage_class_quota_counts_only_that_class(api, core, namespace):
    storage = client.StorageV1Api(api)
    other = f"fast-{secrets.token_hex(3)}"
    storage.create_storage_class({"metadata": {"name": other}, "provisioner": "emulator.hubfleet.io"})
    try:
        core.create_namespaced_resource_quota(namespace, _quota("standard", {
            f"standard{BY_CLASS}requests.storage": "1Gi", f"standard{BY_CLASS}persistentvolumeclaims": "1"}))
        core.create_namespaced_persistent_volume_claim(namespace, _claim("elsewhere", "20Gi", other))
        core.create_namespaced_persistent_volume_claim(namespace, _claim("data", "1Gi"))  # the default class
        assert core.read_namespaced_persistent_volume_claim("data", namespace).spec.storage_class_name == "standard"
        assert _used(core, namespace, "standard") == {f"standard{BY_CLASS}requests.storage": "1Gi",
                                                      f"standard{BY_CLASS}persistentvolumeclaims": "1"}
        # The default class is the claim's before quota admission counts it.
        message = _forbidden(core.create_namespaced_persistent_volume_claim, namespace, _claim("more", "512Mi"))
        claims, storage_requests = f"standard{BY_CLASS}persistentvolumeclaims", f"standard{BY_CLASS}requests.storage"
        assert message == (f'persistentvolumeclaims "more" is forbidden: exceeded quota: standard, '
                           f"requested: {claims}=1,{storage_requests}=512Mi, used: {claims}=1,{storage_requests}=1Gi, "
                           f"limited: {claims}=1,{storage_requests}=1Gi")
    finally:
        core.delete_collection_namespaced_persistent_volume_claim(namespace)
        storage.delete_storage_class(other)


def test_deleting_a_pod_frees_the_quota(core, namespace):
    core.create_namespaced_resource_quota(namespace, _quota("compute", {"pods": "1"}))
    core.create_namespaced_pod(namespace, _pod("first"))
    message = _forbidden(core.create_namespaced_pod, namespace, _pod("second"))
    assert message == ('pods "second" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=1, '
                       "limited: pods=1")
    core.delete_namespaced_pod("first", namespace)
    assert _used(core, namespace) == {"pods": "0"}
    core.create_namespaced_pod(namespace, _pod("second"))
    assert _used(core, namespace) == {"pods": "1"}


def test_finished_pod_counts_only_as_an_object(core, namespace):
    core.create_namespaced_resource_quota(namespace, _quota("compute", {"pods": "1", "requests.cpu": "1",
                                                                        "count/pods": "5"}))
    core.create_namespaced_pod(namespace, _pod("task", _container(requests={"cpu": "1"})))
    assert _used(core, namespace) == {"pods": "1", "requests.cpu": "1", "count/pods": "1"}
    core.patch_namespaced_pod_status("task", namespace, {"status": {"phase": "Succeeded"}})
    assert _used(core, namespace) == {"pods": "0", "requests.cpu": "0", "count/pods": "1"}
    core.create_namespaced_pod(namespace, _pod("next", _container(requests={"cpu": "1"})))
    assert _used(core, namespace) == {"pods": "1", "requests.cpu": "1", "count/pods": "2"}


def test_completed_job_pod_counts_only_as_an_object(api, core, namespace):
    core.create_namespaced_resource_quota(namespace, _quota("compute", {"pods": "1", "count/pods": "5"}))
    client.BatchV1Api(api).create_namespaced_job(namespace, {"metadata": {"name": "once"}, "spec": {"template": {
        "spec": {"restartPolicy": "Never", "containers": [_container()]}}}})
    assert [p.status.phase for p in core.list_namespaced_pod(namespace).items] == ["Succeeded"]
    assert _used(core, namespace) == {"pods": "0", "count/pods": "1"}


def test_job_whose_pod_is_refused_does_not_complete(api, core, namespace):
    core.create_namespaced_resource_quota(namespace, _quota("compute", {"pods": "0"}))
    batch = client.BatchV1Api(api)
    batch.create_namespaced_job(namespace, {"metadata": {"name": "once"}, "spec": {"template": {
        "spec": {"restartPolicy": "Never", "containers": [_container()]}}}})
    assert core.list_namespaced_pod(namespace).items == []
    status = batch.read_namespaced_job("once", namespace).status
    assert status is None or (status.conditions, status.succeeded) == (None, None)


def test_dry_run_create_is_checked_but_not_counted(core, namespace):
    core.create_namespaced_resource_quota(namespace, _quota("compute", {"requests.cpu": "1", "pods": "2"}))
    message = _forbidden(core.create_namespaced_pod, namespace, _pod("big", _container(requests={"cpu": "2"})),
                         dry_run="All")
    assert "exceeded quota: compute, requested: requests.cpu=2" in message
    answered = core.create_namespaced_pod(namespace, _pod("web", _container(requests={"cpu": "1"})), dry_run="All")
    assert answered.metadata.name == "web"
    assert _used(core, namespace) == {"requests.cpu": "0", "pods": "0"}
    core.create_namespaced_pod(namespace, _pod("web", _container(requests={"cpu": "1"})))
    assert _used(core, namespace) == {"requests.cpu": "1", "pods": "1"}


def test_count_quotas(core, namespace):
    core.create_namespaced_resource_quota(namespace, _quota("counts", {"count/pods": "2",
                                                                       "count/persistentvolumeclaims": "1"}))
    core.create_namespaced_pod(namespace, _pod("one"))
    core.create_namespaced_pod(namespace, _pod("two"))
    message = _forbidden(core.create_namespaced_pod, namespace, _pod("three"))
    assert message == ('pods "three" is forbidden: exceeded quota: counts, requested: count/pods=1, '
                       "used: count/pods=2, limited: count/pods=2")
    core.create_namespaced_persistent_volume_claim(namespace, _claim("data", "1Gi"))
    message = _forbidden(core.create_namespaced_persistent_volume_claim, namespace, _claim("more", "1Gi"))
    assert message == ('persistentvolumeclaims "more" is forbidden: exceeded quota: counts, '
                       "requested: count/persistentvolumeclaims=1, used: count/persistentvolumeclaims=1, "
                       "limited: count/persistentvolumeclaims=1")
    assert _used(core, namespace, "counts") == {"count/pods": "2", "count/persistentvolumeclaims": "1"}


def test_deployment_over_quota_gets_the_pods_that_fit(apps, core, namespace):
    core.create_namespaced_resource_quota(namespace, _quota("compute", {"pods": "2"}))
    labels = {"app": "web"}
    apps.create_namespaced_deployment(namespace, {"metadata": {"name": "web"}, "spec": {
        "replicas": 3, "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels}, "spec": {"containers": [_container()]}}}})
    assert len(core.list_namespaced_pod(namespace).items) == 2
    replica_set = apps.list_namespaced_replica_set(namespace).items[0]
    assert (replica_set.status.replicas, replica_set.status.ready_replicas) == (2, 2)
    failed = {c.type: c for c in replica_set.status.conditions}["ReplicaFailure"]
    assert (failed.status, failed.reason) == ("True", "FailedCreate")
    assert "is forbidden: exceeded quota: compute, requested: pods=1, used: pods=2, limited: pods=2" in failed.message
    deployment = apps.read_namespaced_deployment("web", namespace)
    assert (deployment.status.ready_replicas, deployment.status.unavailable_replicas) == (2, 1)
    assert {c.type: c.status for c in deployment.status.conditions} == {"Available": "False", "Progressing": "True",
                                                                        "ReplicaFailure": "True"}


def test_statefulset_over_a_claim_quota_stops_at_the_refused_claim(apps, core, namespace):
    core.create_namespaced_resource_quota(namespace, _quota("storage", {"persistentvolumeclaims": "1"}))
    labels = {"app": "db"}
    apps.create_namespaced_stateful_set(namespace, {"metadata": {"name": "db"}, "spec": {
        "replicas": 2, "serviceName": "db", "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels}, "spec": {"containers": [_container()]}},
        "volumeClaimTemplates": [_claim("data", "1Gi")]}})
    assert [c.metadata.name for c in core.list_namespaced_persistent_volume_claim(namespace).items] == ["data-db-0"]
    assert [p.metadata.name for p in core.list_namespaced_pod(namespace).items] == ["db-0"]
    assert apps.read_namespaced_stateful_set("db", namespace).status.ready_replicas == 1
