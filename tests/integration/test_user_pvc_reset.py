"""hubfleet.jupyterhub.user_pvc_reset against the emulated cluster, with KubeSpawner-made objects."""
import pytest

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.errors import HubfleetError
from ansible_collections.hubfleet.jupyterhub.plugins.modules import user_pvc_reset

from .kubespawner_objects import user_objects
from .modules import run_module

NAMESPACE = "jhub"


@pytest.fixture
def hub(cluster):
    """The hub's namespace with alice (server running) and bob (server stopped), as KubeSpawner made them."""
    alice_pvc, alice_pod = user_objects("alice")
    bob_pvc, _bob_pod = user_objects("bob")
    cluster.control.seed([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
                          alice_pvc, alice_pod, bob_pvc])
    cluster.control.reset()
    return cluster


def reset(cluster, users, **params):
    params = dict(dict(wait_sleep=1, wait_timeout=10), **params)
    return run_module(user_pvc_reset, cluster.kubeconfig, namespace=NAMESPACE, users=users, **params)


def names(cluster, plural, group=""):
    return sorted(obj["metadata"]["name"] for obj in cluster.objects(plural, NAMESPACE, group))


def test_a_running_server_is_refused_and_nothing_changes(hub):
    result = reset(hub, ["alice"])
    assert isinstance(result, HubfleetError)
    assert "user 'alice': the server is running (pod jupyter-alice)" in result.msg
    assert hub.writes() == 0
    assert names(hub, "persistentvolumeclaims") == ["claim-alice", "claim-bob"]


def test_stop_server_deletes_the_pod_then_the_pvc_and_nothing_else(hub):
    result = reset(hub, ["alice"], stop_server=True)
    entry = result["users"][0]
    assert (entry["pvc"], entry["found_by"], entry["action"], entry["server_stopped"]) == \
        ("claim-alice", "annotations", "deleted", True)
    assert entry["pods"] == ["jupyter-alice"]
    assert names(hub, "pods") == []
    assert names(hub, "persistentvolumeclaims") == ["claim-bob"]
    assert hub.control.counts()["delete persistentvolumeclaims"] == 1


def test_a_stopped_server_needs_no_stop(hub):
    result = reset(hub, ["bob"])
    assert result["users"][0]["server_stopped"] is False
    assert names(hub, "persistentvolumeclaims") == ["claim-alice"]
    assert names(hub, "pods") == ["jupyter-alice"]


def test_legacy_named_pvc_is_found(cluster):
    legacy_pvc, _pod = user_objects("Carol.J", slug_scheme="escape")
    del legacy_pvc["metadata"]["annotations"]  # KubeSpawner before version 4 did not annotate
    cluster.control.seed([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}, legacy_pvc])
    result = reset(cluster, ["Carol.J"])
    entry = result["users"][0]
    assert (entry["pvc"], entry["found_by"]) == ("claim--43arol-2e-4a", "name (escape scheme)")
    assert names(cluster, "persistentvolumeclaims") == []


def test_named_server_storage(cluster):
    default_pvc, _pod = user_objects("dave")
    gpu_pvc, _gpu_pod = user_objects("dave", "gpu")
    cluster.control.seed([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
                          default_pvc, gpu_pvc])
    result = reset(cluster, ["dave"], server_name="gpu")
    assert result["users"][0]["pvc"] == "claim-dave--gpu"
    assert names(cluster, "persistentvolumeclaims") == ["claim-dave"]


def test_unlabelled_pvc_is_refused_unless_forced(cluster):
    pvc, _pod = user_objects("erin")
    del pvc["metadata"]["labels"]["component"]
    cluster.control.seed([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}, pvc])
    refused = reset(cluster, ["erin"])
    assert isinstance(refused, HubfleetError) and "lacks the label component=singleuser-storage" in refused.msg
    assert names(cluster, "persistentvolumeclaims") == ["claim-erin"]
    assert reset(cluster, ["erin"], force=True)["users"][0]["action"] == "deleted"


def test_unknown_user_fails_naming_the_names_looked_for(hub):
    result = reset(hub, ["bob", "zoe"])
    assert isinstance(result, HubfleetError)
    assert "user 'zoe': no PVC found" in result.msg and "claim-zoe" in result.msg
    assert names(hub, "persistentvolumeclaims") == ["claim-alice", "claim-bob"]


def test_check_mode_reports_exactly_and_changes_nothing(hub):
    result = run_module(user_pvc_reset, hub.kubeconfig, check_mode=True, diff=True, namespace=NAMESPACE,
                        users=["alice", "bob"], stop_server=True, backup="snapshot", recreate=True)
    assert hub.writes() == 0
    alice, bob = result["users"]
    assert (alice["pvc"], alice["pods"], alice["action"]) == ("claim-alice", ["jupyter-alice"], "recreated")
    assert alice["snapshot"].startswith("claim-alice-reset-") and bob["pods"] == []
    assert alice["server_stopped"] is False
    assert set(result["diff"]["before"]) == {"alice/claim-alice", "bob/claim-bob"}
    assert names(hub, "pods") == ["jupyter-alice"]


def test_snapshot_is_ready_before_the_pvc_goes_and_recreate_gives_an_empty_twin(hub):
    original = [p for p in hub.objects("persistentvolumeclaims", NAMESPACE) if p["metadata"]["name"] == "claim-bob"][0]
    result = reset(hub, ["bob"], backup="snapshot", snapshot_class="standard-snapshot", recreate=True)
    entry = result["users"][0]
    snapshots = hub.objects("volumesnapshots", NAMESPACE, "snapshot.storage.k8s.io")
    assert [s["metadata"]["name"] for s in snapshots] == [entry["snapshot"]]
    assert snapshots[0]["spec"]["source"] == {"persistentVolumeClaimName": "claim-bob"}
    assert snapshots[0]["status"]["readyToUse"] is True
    counts = hub.control.counts()
    assert counts["create volumesnapshots"] == 1 and counts["delete persistentvolumeclaims"] == 1
    fresh = [p for p in hub.objects("persistentvolumeclaims", NAMESPACE) if p["metadata"]["name"] == "claim-bob"][0]
    assert entry["action"] == "recreated"
    assert fresh["metadata"]["uid"] != original["metadata"]["uid"]
    assert fresh["spec"]["resources"] == original["spec"]["resources"]
    assert fresh["spec"]["storageClassName"] == "standard"
    assert fresh["metadata"]["labels"] == original["metadata"]["labels"]
    assert fresh["metadata"]["annotations"]["hub.jupyter.org/username"] == "bob"
    assert fresh["spec"]["volumeName"] != original["spec"]["volumeName"]


def test_a_failed_snapshot_keeps_the_pvc(hub):
    result = reset(hub, ["bob"], backup="snapshot", snapshot_class="no-such-class")
    assert isinstance(result, HubfleetError)
    assert "snapshot claim-bob-reset-" in result.msg and "the PVC was kept" in result.msg
    assert result.details["users"][0]["action"] == "failed"
    assert names(hub, "persistentvolumeclaims") == ["claim-alice", "claim-bob"]


def test_shared_home_is_moved_aside_by_a_job_and_the_pvc_is_kept(cluster):
    share = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
             "metadata": {"name": "home-nfs", "namespace": NAMESPACE},
             "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "100Gi"}}}}
    volumes = [{"name": "home", "persistentVolumeClaim": {"claimName": "home-nfs"}}]
    _pvc, frank_pod = user_objects("frank", volumes=volumes)
    cluster.control.seed([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}, share,
                          frank_pod])
    result = reset(cluster, ["frank"], shared_pvc="home-nfs", home_subpath_template="home/{username}",
                   stop_server=True)
    entry = result["users"][0]
    assert entry["action"] == "archived" and entry["archive"].startswith("home/frank.reset-")
    assert names(cluster, "persistentvolumeclaims") == ["home-nfs"]
    job = [j for j in cluster.objects("jobs", NAMESPACE, "batch") if j["metadata"]["name"] == entry["job"]][0]
    env = dict((e["name"], e["value"]) for e in job["spec"]["template"]["spec"]["containers"][0]["env"])
    assert env == {"HOME_DIR": "home/frank", "ARCHIVE_DIR": entry["archive"]}
    assert job["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == "home-nfs"
    assert cluster.control.counts().get("delete persistentvolumeclaims") is None


def test_a_pvc_other_users_mount_is_never_deleted(cluster):
    share = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
             "metadata": {"name": "claim-gina", "namespace": NAMESPACE, "labels": {"component": "singleuser-storage"}},
             "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "1Gi"}}}}
    volumes = [{"name": "home", "persistentVolumeClaim": {"claimName": "claim-gina"}}]
    _pvc, other_pod = user_objects("henry", volumes=volumes)
    cluster.control.seed([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}, share,
                          other_pod])
    result = reset(cluster, ["gina"], force=True)
    assert isinstance(result, HubfleetError) and "also mounted by jupyter-henry" in result.msg
    assert names(cluster, "persistentvolumeclaims") == ["claim-gina"]


def test_a_job_that_never_finishes_times_out(cluster):
    share = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "home-nfs", "namespace": NAMESPACE},
             "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "1Gi"}}}}
    cluster.control.seed([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}, share])
    cluster.control.fault(verb="get", resource="jobs", status=404, count=100)
    result = reset(cluster, ["ivan"], shared_pvc="home-nfs", wait_timeout=2)
    assert isinstance(result, HubfleetError) and "timed out after 2s waiting for job" in result.msg


@pytest.mark.parametrize("params, expected", [
    ({"users": ["u%d" % n for n in range(11)]}, "11 users exceed max_users=10"),
    ({"users": ["bob", "bob"]}, "listed more than once: bob"),
    ({"users": ["bob"], "hub_api_url": "http://127.0.0.1:1/hub/api"}, "hub_api_url and hub_api_token go together"),
    ({"users": ["bob"], "shared_pvc": "home-nfs", "recreate": True}, "backup and recreate do not apply"),
])
def test_guards_refuse_before_any_change(hub, params, expected):
    result = run_module(user_pvc_reset, hub.kubeconfig, namespace=NAMESPACE, **params)
    assert isinstance(result, HubfleetError) and expected in result.msg
    assert hub.writes() == 0
