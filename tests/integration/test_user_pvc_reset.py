"""hubfleet.jupyterhub.user_pvc_reset against the emulated cluster, with KubeSpawner-made objects."""
import json
import time

import pytest

from ansible_collections.hubfleet.jupyterhub.plugins.modules import user_pvc_reset

from .kubespawner_objects import user_objects
from .modules import failed, run_module

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
    assert failed(result, "user 'alice': the server is running (pod jupyter-alice)")
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
    assert (entry["pvc"], entry["found_by"]) == ("claim--43arol-2e-4a", "name and label (escape scheme)")
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
    assert failed(refused, "lacks the label component=singleuser-storage")
    assert names(cluster, "persistentvolumeclaims") == ["claim-erin"]
    assert reset(cluster, ["erin"], force=True)["users"][0]["action"] == "deleted"


def test_unknown_user_fails_naming_the_names_looked_for(hub):
    result = reset(hub, ["bob", "zoe"])
    assert failed(result, "user 'zoe': no PVC found", "claim-zoe")
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
    assert failed(result, "snapshot claim-bob-reset-", "it was deleted and the PVC kept")
    assert result["users"][0]["action"] == "failed"
    assert names(hub, "persistentvolumeclaims") == ["claim-alice", "claim-bob"]
    assert names(hub, "volumesnapshots", "snapshot.storage.k8s.io") == []  # a failed snapshot is no backup


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
    assert failed(result, "also mounted by jupyter-henry")
    assert names(cluster, "persistentvolumeclaims") == ["claim-gina"]


def test_a_job_that_never_finishes_times_out(cluster):
    share = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "home-nfs", "namespace": NAMESPACE},
             "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "1Gi"}}}}
    cluster.control.seed([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}, share])
    cluster.control.fault(verb="get", resource="jobs", status=404, count=100)
    result = reset(cluster, ["ivan"], shared_pvc="home-nfs", wait_timeout=2)
    assert failed(result, "timed out after 2s waiting for job")


@pytest.mark.parametrize("params, expected", [
    ({"users": ["u%d" % n for n in range(11)]}, "11 users exceed max_users=10"),
    ({"users": ["bob", "bob"]}, "listed more than once: bob"),
    ({"users": ["bob"], "hub_api_url": "http://127.0.0.1:1/hub/api"},
     "parameters are required together: hub_api_url, hub_api_token"),
    ({"users": ["bob"], "shared_pvc": "home-nfs", "recreate": True}, "backup and recreate do not apply"),
])
def test_guards_refuse_before_any_change(hub, params, expected):
    result = run_module(user_pvc_reset, hub.kubeconfig, namespace=NAMESPACE, **params)
    assert failed(result, expected)
    assert hub.writes() == 0


# --- issue 7: never the wrong volume, refuse before any write, finish what was interrupted -------
def seed(cluster, *objects):
    cluster.control.seed([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}, *objects])
    cluster.control.reset()


def test_a_volume_annotated_for_another_user_is_never_taken_by_name(cluster):
    # KubeSpawner's escape scheme names a.b's volume claim-a-2eb: the safe-scheme name of user a-2eb.
    pvc, _pod = user_objects("a.b", slug_scheme="escape")
    assert pvc["metadata"]["name"] == "claim-a-2eb"
    seed(cluster, pvc)
    for force in (False, True):
        result = reset(cluster, ["a-2eb"], force=force)
        assert failed(result, "user 'a-2eb': no PVC found", "PVC claim-a-2eb is annotated for user 'a.b'")
    assert cluster.writes() == 0 and names(cluster, "persistentvolumeclaims") == ["claim-a-2eb"]


def test_a_volume_labelled_for_another_user_is_never_taken_by_name(cluster):
    pvc, _pod = user_objects("kim")
    pvc["metadata"]["name"] = "claim-lee"
    del pvc["metadata"]["annotations"]
    seed(cluster, pvc)
    assert failed(reset(cluster, ["lee"], force=True), "PVC claim-lee is labelled for user 'kim'")
    assert cluster.writes() == 0


def test_a_name_match_without_any_ownership_mark_needs_force(cluster):
    pvc, _pod = user_objects("mia")
    del pvc["metadata"]["annotations"]
    del pvc["metadata"]["labels"]["hub.jupyter.org/username"]
    seed(cluster, pvc)
    refused = reset(cluster, ["mia"])
    assert failed(refused, "PVC claim-mia has the name KubeSpawner gives this user", "set force: true")
    assert cluster.writes() == 0
    assert reset(cluster, ["mia"], force=True)["users"][0]["found_by"] == "name only (escape scheme)"


@pytest.mark.parametrize("params, expected", [
    ({"namespace": ""}, "namespace: '' must not be empty"),
    ({"namespace": "JHub"}, "namespace: 'JHub'"),
    ({"users": ["bob", "alice"], "stop_server": True, "hub_api_url": "hub.example.org", "hub_api_token": "a-long-token"},
     "hub_api_url: must be an http(s) URL"),
    ({"pvc_name_template": "claim-{user}"}, "pvc_name_template: unknown field 'user'"),
    ({"pod_name_template": "jupyter-{username"}, "pod_name_template:"),
    ({"shared_pvc": "home-nfs", "home_subpath_template": "home"}, "home_subpath_template: 'home' names no user field"),
    ({"shared_pvc": "home-nfs", "home_subpath_template": "../{username}"}, "home_subpath_template: '../bob'"),
    ({"shared_pvc": "home-nfs", "home_subpath_template": "/srv/{username}"}, "home_subpath_template: '/srv/bob'"),
    ({"shared_pvc": "home-nfs", "users": ["bobby", "bobcat"], "home_subpath_template": "home/{username:.3}"},
     "users 'bobby' and 'bobcat' would both have 'home/bob'"),
    ({"shared_pvc": "Home_NFS"}, "shared_pvc: 'Home_NFS'"),
    ({"job_image": " "}, "job_image: must name an image"),
    ({"wait_timeout": -1}, "wait_timeout: must be at least 1 second, not -1"),
    ({"wait_sleep": 0}, "wait_sleep: must be at least 1 second, not 0"),
    ({"max_users": 0}, "max_users: must be at least 1, not 0"),
    ({"request_timeout": 0}, "request_timeout: must be at least 1 second"),
])
def test_bad_options_are_refused_naming_the_option_before_any_change(hub, params, expected):
    params = dict({"users": ["bob"], "namespace": NAMESPACE}, **params)
    result = run_module(user_pvc_reset, hub.kubeconfig, wait_sleep=params.pop("wait_sleep", 1), **params)
    assert failed(result, expected)
    assert hub.writes() == 0
    assert names(hub, "persistentvolumeclaims") == ["claim-alice", "claim-bob"]


def test_a_reset_interrupted_after_the_delete_is_finished_by_the_next_run(hub):
    original = [p for p in hub.objects("persistentvolumeclaims", NAMESPACE) if p["metadata"]["name"] == "claim-bob"][0]
    hub.control.fault(verb="create", resource="persistentvolumeclaims", status=403, message="quota says no")
    broken = reset(hub, ["bob"], recreate=True)
    assert failed(broken, "create PersistentVolumeClaim jhub/claim-bob failed: 403",
                  "left behind: ConfigMap jhub/hubfleet-reset-claim-bob")
    assert broken["changed"] is True  # the claim was deleted
    assert broken["users"][0]["left"] == ["ConfigMap jhub/hubfleet-reset-claim-bob: what recreating PVC claim-bob "
                                          "takes; a re-run finishes the reset"]
    assert names(hub, "persistentvolumeclaims") == ["claim-alice"]

    finished = reset(hub, ["bob"], recreate=True)
    entry = finished["users"][0]
    assert (entry["found_by"], entry["action"], entry["left"]) == ("reset record", "recreated", [])
    fresh = [p for p in hub.objects("persistentvolumeclaims", NAMESPACE) if p["metadata"]["name"] == "claim-bob"][0]
    assert fresh["metadata"]["uid"] != original["metadata"]["uid"]
    assert fresh["spec"]["resources"] == original["spec"]["resources"]
    assert "hubfleet-reset-claim-bob" not in names(hub, "configmaps")


def test_a_reset_interrupted_after_the_recreate_is_not_done_twice(hub):
    hub.control.fault(verb="delete", resource="configmaps", status=403)
    assert failed(reset(hub, ["bob"], recreate=True), "delete ConfigMap hubfleet-reset-claim-bob failed: 403")
    fresh_uid = [p for p in hub.objects("persistentvolumeclaims", NAMESPACE) if p["metadata"]["name"] == "claim-bob"][0]["metadata"]["uid"]
    hub.control.reset()
    finished = reset(hub, ["bob"], recreate=True)
    assert finished["users"][0]["found_by"] == "reset record"
    assert hub.control.counts().get("delete persistentvolumeclaims") is None  # the fresh claim is kept
    assert [p["metadata"]["uid"] for p in hub.objects("persistentvolumeclaims", NAMESPACE)
            if p["metadata"]["name"] == "claim-bob"] == [fresh_uid]
    assert "hubfleet-reset-claim-bob" not in names(hub, "configmaps")


def test_changed_is_false_when_the_first_write_fails(hub):
    hub.control.fault(verb="create", resource="volumesnapshots", status=403)
    result = reset(hub, ["bob"], backup="snapshot")
    assert failed(result, "create VolumeSnapshot")
    assert result["changed"] is False
    assert names(hub, "persistentvolumeclaims") == ["claim-alice", "claim-bob"]


def test_a_server_that_stops_answering_fails_in_bounded_time_naming_the_call(hub):
    hub.control.fault(verb="list", resource="pods", latency=30, count=10)
    started = time.monotonic()
    result = reset(hub, ["bob"], request_timeout=1)
    assert failed(result, "list Pod failed: no answer within request_timeout=1s")
    assert time.monotonic() - started < 10


def test_an_unexpected_error_is_one_clear_failure_through_the_entry_point(hub, monkeypatch):
    def broken(*_args):
        raise RuntimeError("boom")
    monkeypatch.setattr(user_pvc_reset, "plan_user", broken)
    result = reset(hub, ["bob"], hub_api_url="http://127.0.0.1:1/hub/api", hub_api_token="s3cret-token",
                   stop_server=True)
    assert failed(result, "unexpected error in user_pvc_reset: RuntimeError: boom")
    assert "s3cret-token" not in json.dumps(result)


def test_unknown_options_are_refused_by_the_argument_spec(hub):
    assert failed(reset(hub, ["bob"], recreat=True), "Unsupported parameters", "recreat")


def test_a_reset_record_never_hands_over_another_users_volume(hub):
    # A record (as an interrupted run of ours leaves one) for bob that names alice's claim.
    alice = [p for p in hub.objects("persistentvolumeclaims", NAMESPACE) if p["metadata"]["name"] == "claim-alice"][0]
    forged = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
        "name": "hubfleet-reset-claim-bob", "namespace": NAMESPACE,
        "labels": {"app.kubernetes.io/managed-by": "hubfleet", "app.kubernetes.io/component": "user-storage-reset"},
        "annotations": {"hub.jupyter.org/username": "bob"}},
        "data": {"claim": json.dumps({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                                      "metadata": {"name": "claim-alice", "namespace": NAMESPACE}}),
                 "uid": alice["metadata"]["uid"]}}
    hub.control.seed([forged])
    hub.control.reset()
    result = reset(hub, ["bob"], recreate=True, force=True)
    assert failed(result, "reset record hubfleet-reset-claim-bob is not this user's: PVC claim-alice is annotated "
                          "for user 'alice'")
    assert hub.writes() == 0 and names(hub, "persistentvolumeclaims") == ["claim-alice", "claim-bob"]
