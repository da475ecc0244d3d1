"""hubfleet.jupyterhub.user_project against the emulated cluster, as OpenShift and as Kubernetes."""
import socket
import time

import kubernetes
import pytest

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import client
from ansible_collections.hubfleet.jupyterhub.plugins.modules import user_project

from tests.emulator.__main__ import write_kubeconfig

from .modules import failed, run_module

USERS = ["alice", {"name": "Bob.Smith@example.org", "groups": ["physics"], "quota": {"requests.cpu": "4"}}, "carol"]
BASE = dict(hub_name="jhub", hub_namespace="jhub", quota={"requests.cpu": "2", "requests.memory": "4Gi"},
            limits={"default": {"cpu": "1", "memory": "2Gi"}, "default_request": {"cpu": "100m"}},
            hub_service_account={"name": "hub", "namespace": "jhub"})


def run(cluster, users=None, **params):
    return run_module(user_project, cluster.kubeconfig, users=USERS if users is None else users, **dict(BASE, **params))


def by_name(result):
    return dict((entry["name"], entry) for entry in result["users"])


def test_creates_every_object_for_every_user(cluster):
    result = run(cluster)
    assert result["changed"] is True
    assert result["summary"]["created"] == 3
    bob = by_name(result)["Bob.Smith@example.org"]
    assert bob["namespace"] == "bob-smith-example-org---da50e6af-workspace"
    namespaces = dict((ns["metadata"]["name"], ns) for ns in cluster.objects("namespaces"))
    meta = namespaces[bob["namespace"]]["metadata"]
    assert meta["labels"]["app.kubernetes.io/managed-by"] == "hubfleet"
    assert meta["labels"]["hubfleet.io/hub"] == "jhub"
    assert meta["annotations"]["hub.jupyter.org/username"] == "Bob.Smith@example.org"
    openshift = cluster.server.cluster.catalogue.openshift
    assert ("openshift.io/display-name" in meta["annotations"]) is openshift
    quota = cluster.objects("resourcequotas", bob["namespace"])[0]
    assert quota["spec"]["hard"] == {"requests.cpu": "4"}
    assert cluster.objects("resourcequotas", "alice-workspace")[0]["spec"]["hard"]["requests.memory"] == "4Gi"
    limits = cluster.objects("limitranges", "alice-workspace")[0]["spec"]["limits"]
    # The memory request comes from the default limit, as the API server fills it in.
    assert limits == [{"type": "Container", "default": {"cpu": "1", "memory": "2Gi"},
                       "defaultRequest": {"cpu": "100m", "memory": "2Gi"}}]
    bindings = dict((b["metadata"]["name"], b) for b in cluster.objects("rolebindings", bob["namespace"], "rbac.authorization.k8s.io"))
    assert bindings["hubfleet-user-access-admin"]["roleRef"]["name"] == "admin"
    assert [s["name"] for s in bindings["hubfleet-user-access-admin"]["subjects"]] == ["Bob.Smith@example.org", "physics"]
    assert bindings["hubfleet-hub-spawner"]["subjects"] == [{"kind": "ServiceAccount", "name": "hub", "namespace": "jhub"}]
    roles = cluster.objects("roles", bob["namespace"], "rbac.authorization.k8s.io")
    # The chart's own hub Role's rules (module_utils/rbac.py): no more than KubeSpawner uses.
    assert roles[0]["rules"] == [
        {"apiGroups": [""], "resources": ["pods", "persistentvolumeclaims", "secrets", "services"],
         "verbs": ["get", "watch", "list", "create", "delete"]},
        {"apiGroups": [""], "resources": ["events"], "verbs": ["get", "watch", "list"]}]
    assert not cluster.objects("clusterrolebindings", group="rbac.authorization.k8s.io")


def test_rerun_is_unchanged_and_writes_nothing(cluster):
    run(cluster)
    cluster.control.reset()
    result = run(cluster)
    assert result["changed"] is False
    assert result["summary"]["unchanged"] == 3
    requests = cluster.control.requests()
    assert requests["writes"] == 0
    assert requests["total"] <= 10


def test_changing_one_quota_writes_only_that_quota(cluster):
    run(cluster)
    cluster.control.reset()
    users = ["alice", dict(USERS[1], quota={"requests.cpu": "8"}), "carol"]
    result = run(cluster, users=users)
    statuses = dict((name, entry["status"]) for name, entry in by_name(result).items())
    assert statuses == {"alice": "unchanged", "Bob.Smith@example.org": "updated", "carol": "unchanged"}
    assert cluster.control.counts().get("update resourcequotas") == 1
    assert cluster.writes() == 1
    bob_ns = by_name(result)["Bob.Smith@example.org"]["namespace"]
    assert cluster.objects("resourcequotas", bob_ns)[0]["spec"]["hard"] == {"requests.cpu": "8"}


def test_equal_quantities_in_another_spelling_are_unchanged(cluster):
    run(cluster)
    result = run(cluster, quota={"requests.cpu": "2000m", "requests.memory": "4096Mi"})
    assert by_name(result)["alice"]["status"] == "unchanged"


def test_prune_removes_only_unlisted_managed_projects(cluster):
    run(cluster)
    cluster.control.seed([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "someone-elses"}}])
    refused = run(cluster, users=["alice", "carol"], prune=True)
    assert failed(refused, "prune_confirm")
    result = run(cluster, users=["alice", "carol"], prune=True, prune_confirm=True)
    bob = by_name(result)["Bob.Smith@example.org"]
    assert bob["status"] == "removed"
    names = set(ns["metadata"]["name"] for ns in cluster.objects("namespaces"))
    assert bob["namespace"] not in names
    assert {"alice-workspace", "carol-workspace", "someone-elses"} <= names


def test_state_absent_removes_listed_users_projects(cluster):
    run(cluster)
    result = run(cluster, users=["carol"], state="absent")
    assert by_name(result)["carol"]["status"] == "removed"
    names = set(ns["metadata"]["name"] for ns in cluster.objects("namespaces"))
    assert "carol-workspace" not in names and "alice-workspace" in names


def test_check_mode_writes_nothing_and_tells_the_truth(cluster):
    run(cluster, users=["alice"])
    cluster.control.reset()
    params = {**BASE, "users": USERS, "quota": {"requests.cpu": "3"}}
    result = run_module(user_project, cluster.kubeconfig, check_mode=True, diff=True, **params)
    assert cluster.writes() == 0
    statuses = dict((name, entry["status"]) for name, entry in by_name(result).items())
    assert statuses == {"alice": "updated", "Bob.Smith@example.org": "created", "carol": "created"}
    assert by_name(result)["alice"]["changes"] == ["replace ResourceQuota/hubfleet-user-quota"]
    before = result["diff"]["before"]["alice-workspace"]["ResourceQuota/hubfleet-user-quota"]
    after = result["diff"]["after"]["alice-workspace"]["ResourceQuota/hubfleet-user-quota"]
    assert (before["spec"]["hard"]["requests.cpu"], after["spec"]["hard"]["requests.cpu"]) == ("2", "3")
    assert len(cluster.objects("namespaces")) == 4  # default, kube-public, kube-system, alice-workspace


@pytest.mark.parametrize("users, params, expected", [
    (["alice", {"name": "bob", "quota": {"requests.memory": "2 Gi"}}], {}, "user 'bob': quota.requests.memory: '2 Gi' is not"),
    (["alice", "bob", "alice"], {}, "user 'alice': listed twice"),
    (["alice", "bob"], {"name_template": "shared-{hubnamespace}"}, "user 'bob': namespace 'shared-jhub' is also the namespace of user 'alice'"),
    (["Bob"], {"name_template": "{unescaped_username}-ws"}, "user 'Bob': namespace 'Bob-ws'"),
    (["a" * 60], {"name_template": "{unescaped_username}-workspace"}, "at most 63"),
    ([{"name": "dave", "role": "cluster-admin"}], {}, "role 'cluster-admin' is not one of admin, edit, view"),
    ([{"name": "dave", "colour": "blue"}], {}, "unknown key 'colour'"),
    ([{"name": "dave", "labels": {"team": "a b"}}], {}, "is not a valid label value"),
    ([{"name": "dave", "limits": {"maximum": {"cpu": "1"}}}], {}, "unknown key 'maximum'"),
    (["dave"], {"name_template": "{user}-ws"}, "name_template: unknown field 'user'"),
])
def test_bad_input_fails_naming_the_user_and_writes_nothing(cluster, users, params, expected):
    cluster.control.reset()
    result = run(cluster, users=users, **params)
    assert failed(result, expected, "nothing was written")
    assert cluster.writes() == 0


def test_foreign_namespace_is_never_adopted(cluster):
    cluster.control.seed([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "carol-workspace"}}])
    cluster.control.reset()
    result = run(cluster)
    assert failed(result, "user 'carol': namespace 'carol-workspace' already exists and belongs to someone else: "
                          "it carries no hubfleet marks for hub 'jhub'")
    assert cluster.writes() == 0


@pytest.mark.parametrize("status, waits", [
    (500, [client.FIRST_DELAY, client.FIRST_DELAY * 2]),  # exponential backoff
    (429, [1.0, 1.0]),  # the server's Retry-After
])
def test_throttling_and_server_errors_are_retried(cluster, monkeypatch, status, waits):
    slept = []
    monkeypatch.setattr(client.time, "sleep", slept.append)
    cluster.control.fault(verb="create", resource="limitranges", status=status, count=2)
    result = run(cluster, users=["alice"])
    assert by_name(result)["alice"]["status"] == "created"
    assert slept == waits
    assert cluster.control.counts()["create limitranges"] == 3


def test_hard_failure_reports_completed_users_and_a_rerun_converges(cluster, monkeypatch):
    monkeypatch.setattr(client.time, "sleep", lambda seconds: None)
    cluster.control.fault(verb="create", resource="rolebindings", namespace="bob-smith-example-org---da50e6af-workspace",
                          status=500, count=client.ATTEMPTS)
    broken = run(cluster)
    assert failed(broken, "completed before it: alice")
    statuses = dict((entry["name"], entry["status"]) for entry in broken["users"])
    assert statuses == {"alice": "created", "Bob.Smith@example.org": "failed", "carol": "skipped"}
    assert broken["changed"] is True  # alice's project was made
    result = run(cluster)
    statuses = dict((name, entry["status"]) for name, entry in by_name(result).items())
    assert statuses == {"alice": "unchanged", "Bob.Smith@example.org": "updated", "carol": "created"}
    assert run(cluster)["changed"] is False


def test_role_change_binds_the_new_role_before_removing_the_old(cluster):
    run(cluster, users=["alice"])
    cluster.control.reset()
    result = run(cluster, users=[{"name": "alice", "role": "view"}])
    assert by_name(result)["alice"]["changes"] == ["create RoleBinding/hubfleet-user-access-view",
                                                   "delete RoleBinding/hubfleet-user-access-admin"]
    bindings = [b for b in cluster.objects("rolebindings", "alice-workspace", "rbac.authorization.k8s.io")
                if b["metadata"]["name"].startswith("hubfleet-user-access")]
    assert [(b["metadata"]["name"], b["roleRef"]["name"]) for b in bindings] == [("hubfleet-user-access-view", "view")]


def test_dropping_the_quota_removes_the_managed_quota(cluster):
    run(cluster, users=["alice"])
    result = run(cluster, users=["alice"], quota={})
    assert by_name(result)["alice"]["changes"] == ["delete ResourceQuota/hubfleet-user-quota"]
    assert cluster.objects("resourcequotas", "alice-workspace") == []


def test_enable_user_namespaces_layout(cluster):
    result = run(cluster, users=["alice"], name_template="{hubnamespace}-{username}", hub_namespace="default")
    assert by_name(result)["alice"]["namespace"] == "user-alice"


def test_developer_on_openshift_gets_projects_through_project_requests(openshift):
    params = dict(BASE, context="emulator-developer")
    result = run_module(user_project, openshift.kubeconfig, users=["alice", "carol"], **params)
    assert result["project_mode"] == "project_request"
    assert openshift.control.counts()["create projectrequests"] == 2
    alice = [ns for ns in openshift.objects("namespaces") if ns["metadata"]["name"] == "alice-workspace"][0]
    assert alice["metadata"]["annotations"]["openshift.io/requester"] == "developer"
    assert alice["metadata"]["annotations"]["openshift.io/display-name"] == "alice"
    openshift.control.reset()
    again = run_module(user_project, openshift.kubeconfig, users=["alice", "carol"], **params)
    assert again["changed"] is False and openshift.writes() == 0
    pruned = run_module(user_project, openshift.kubeconfig, users=["alice"], prune=True, prune_confirm=True, **params)
    assert by_name(pruned)["carol"]["status"] == "removed"
    assert "carol-workspace" not in [ns["metadata"]["name"] for ns in openshift.objects("namespaces")]


def test_project_request_mode_needs_openshift(tmp_path):
    from .conftest import Cluster  # pylint: disable=import-outside-toplevel
    vanilla = Cluster(tmp_path, openshift=False)
    try:
        run(vanilla, users=["alice"])
        vanilla.control.reset()
        result = run(vanilla, users=["alice", "bob"], quota={"requests.cpu": "9"}, project_mode="project_request")
        assert failed(result, "needs OpenShift")
        assert vanilla.writes() == 0  # not even alice's quota, which came first
    finally:
        vanilla.stop()


def test_a_forbidden_cluster_wide_list_falls_back_to_each_managed_namespace(cluster):
    run(cluster)
    cluster.control.reset()
    cluster.control.fault(verb="list", resource="resourcequotas", status=403, count=1)
    result = run(cluster)
    assert result["changed"] is False
    assert cluster.control.counts()["list resourcequotas"] == 1 + 3  # the refused one, then one per project


# --- issue 7: no wrong deletion or takeover, API-server-grade validation, honest results -------
MARKER = "JupyterHub user project, managed by hubfleet for hub jhub"


def namespace_names(cluster):
    return set(ns["metadata"]["name"] for ns in cluster.objects("namespaces"))


def test_a_project_someone_else_requested_with_our_description_is_not_adopted(openshift):
    # What the API server stores when the user "developer" requests a project with our description.
    openshift.control.seed([{"apiVersion": "v1", "kind": "Namespace", "metadata": {
        "name": "alice-workspace", "annotations": {"openshift.io/requester": "developer",
                                                   "openshift.io/description": MARKER,
                                                   "openshift.io/display-name": "alice"}}}])
    openshift.control.reset()
    result = run(openshift, users=["alice"])
    assert failed(result, "namespace 'alice-workspace' already exists and belongs to 'developer', who requested it "
                          "(this module runs as 'system:admin')")
    assert openshift.writes() == 0
    pruned = run(openshift, users=["bob"], prune=True, prune_confirm=True)
    assert by_name(pruned)["bob"]["status"] == "created" and "alice-workspace" in namespace_names(openshift)


def test_our_requested_project_survives_a_renamed_display_name(openshift):
    params = dict(BASE, context="emulator-developer")
    run_module(user_project, openshift.kubeconfig, users=["alice", "carol"], **params)
    # The display name is the project admins' to edit.
    api = kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(str(openshift.kubeconfig)))
    api.patch_namespace("alice-workspace", {"metadata": {"annotations": {"openshift.io/display-name": "Scratch"}}})
    openshift.control.reset()
    again = run_module(user_project, openshift.kubeconfig, users=["alice", "carol"], **params)
    assert again["changed"] is False and openshift.writes() == 0
    pruned = run_module(user_project, openshift.kubeconfig, users=["carol"], prune=True, prune_confirm=True, **params)
    # A user no longer listed is known only by the display name, whatever it now says.
    statuses = [(u["namespace"], u["status"]) for u in pruned["users"]]
    assert statuses == [("carol-workspace", "unchanged"), ("alice-workspace", "removed")]


def test_prune_with_no_users_is_refused_unless_asked_in_so_many_words(cluster):
    run(cluster)
    cluster.control.reset()
    refused = run(cluster, users=[], prune=True, prune_confirm=True)
    assert failed(refused, "prune with an empty users list removes every project of hub 'jhub'", "prune_all")
    assert cluster.writes() == 0
    result = run(cluster, users=[], prune=True, prune_confirm=True, prune_all=True)
    assert result["summary"]["removed"] == 3
    assert not {"alice-workspace", "carol-workspace"} & namespace_names(cluster)


def test_one_call_removes_at_most_max_removals_projects(cluster):
    run(cluster)
    cluster.control.reset()
    refused = run(cluster, users=["alice"], prune=True, prune_confirm=True, max_removals=1)
    assert failed(refused, "would remove 2 projects", "more than max_removals=1", "nothing was written")
    assert refused["would_remove"] == ["bob-smith-example-org---da50e6af-workspace", "carol-workspace"]
    assert cluster.writes() == 0
    assert failed(run(cluster, users=["alice", "carol"], state="absent", max_removals=1), "would remove 2 projects")
    assert run(cluster, users=["alice", "carol"], prune=True, prune_confirm=True, max_removals=1)["summary"]["removed"] == 1


@pytest.mark.parametrize("key", ["hubfleet.io/hub", "app.kubernetes.io/managed-by", "hubfleet.io/anything"])
def test_ownership_labels_cannot_be_set_through_labels(cluster, key):
    result = run(cluster, users=["alice"], labels={key: "other"})
    assert failed(result, "labels: %r is reserved" % key)
    assert cluster.writes() == 0


def test_a_label_dropped_from_labels_is_removed(cluster):
    run(cluster, users=["alice"], labels={"team": "physics", "cost-centre": "42"})
    result = run(cluster, users=["alice"], labels={"team": "physics"})
    assert by_name(result)["alice"]["changes"] == ["replace Namespace/alice-workspace"]
    labels = [ns for ns in cluster.objects("namespaces") if ns["metadata"]["name"] == "alice-workspace"][0]["metadata"]["labels"]
    assert labels["team"] == "physics" and "cost-centre" not in labels
    assert run(cluster, users=["alice"], labels={"team": "physics"})["changed"] is False


@pytest.mark.parametrize("params, expected", [
    ({"quota": {"requests.cpu": "-1"}}, "quota.requests.cpu"),
    ({"quota": {"cpus": "1"}}, "quota.cpus"),
    ({"quota": {"pods": "1.5"}}, "must be an integer"),
    ({"limits": {"min": {"cpu": "2"}, "max": {"cpu": "1"}}}, "limits.min.cpu"),
    ({"limits": {"default": {"memory": "1Gi"}, "default_request": {"memory": "2Gi"}}}, "limits.defaultRequest.memory"),
    ({"limits": {"max": {"cpu": "-500m"}}}, "limits.max.cpu"),
    ({"hub_service_account": {"name": "Hub_SA", "namespace": "jhub"}}, "hub_service_account.name: 'Hub_SA'"),
    ({"hub_service_account": {"name": "hub", "namespace": "jhub.x"}}, "hub_service_account.namespace: 'jhub.x'"),
    ({"hub_name": "a" * 64}, "hub_name: 'aaaa"),
    ({"hub_name": "my hub"}, "hub_name: 'my hub'"),
    ({"hub_name": ""}, "hub_name: '' must not be empty"),
    ({"hub_namespace": "JHub"}, "hub_namespace: 'JHub'"),
    ({"max_removals": -1}, "max_removals: must be 0 or more"),
])
def test_what_the_api_server_would_reject_is_refused_before_any_write(cluster, params, expected):
    cluster.control.reset()
    result = run(cluster, users=["alice"], **params)
    assert failed(result, expected, "nothing was written")
    assert cluster.writes() == 0


def test_changed_is_false_when_nothing_was_written(cluster, monkeypatch):
    monkeypatch.setattr(client.time, "sleep", lambda seconds: None)
    cluster.control.fault(verb="create", resource="namespaces", status=500, count=client.ATTEMPTS)
    result = run(cluster, users=["alice"])
    assert failed(result, "create Namespace alice-workspace failed")
    assert result["changed"] is False
    assert "alice-workspace" not in namespace_names(cluster)


def test_a_create_committed_before_its_5xx_counts_as_done_on_retry(cluster, monkeypatch):
    monkeypatch.setattr(client.time, "sleep", lambda seconds: None)
    cluster.control.fault(verb="create", resource="limitranges", name="hubfleet-user-limits", status=500, commit=True)
    result = run(cluster, users=["alice"])
    assert by_name(result)["alice"]["status"] == "created"
    assert cluster.control.counts()["create limitranges"] == 2  # committed but answered 500, then 409
    assert len(cluster.objects("limitranges", "alice-workspace")) == 1
    assert run(cluster, users=["alice"])["changed"] is False


def test_a_409_for_an_object_that_is_not_ours_stays_a_failure(cluster, monkeypatch):
    monkeypatch.setattr(client.time, "sleep", lambda seconds: None)
    run(cluster, users=["alice"], quota={})
    cluster.control.seed([{"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {
        "name": "hubfleet-user-quota", "namespace": "alice-workspace"}, "spec": {"hard": {"pods": "1"}}}])
    # The list did not see it (it carries no labels); the retried create meets someone else's object.
    cluster.control.fault(verb="create", resource="resourcequotas", status=500)
    result = run(cluster, users=["alice"])
    assert failed(result, "create ResourceQuota alice-workspace/hubfleet-user-quota failed: 409")


def test_a_project_request_committed_before_its_5xx_counts_as_done(openshift, monkeypatch):
    monkeypatch.setattr(client.time, "sleep", lambda seconds: None)
    openshift.control.fault(verb="create", resource="projectrequests", name="alice-workspace", status=504, commit=True)
    result = run_module(user_project, openshift.kubeconfig, users=["alice", "carol"], **dict(BASE, context="emulator-developer"))
    assert [u["status"] for u in result["users"]] == ["created", "created"]
    assert openshift.control.counts()["create projectrequests"] == 3  # alice twice (500 then 409), carol once


def test_a_server_that_stops_answering_fails_in_bounded_time_naming_the_call(cluster):
    cluster.control.fault(verb="list", resource="resourcequotas", latency=30, count=10)
    started = time.monotonic()
    result = run(cluster, users=["alice"], request_timeout=1)
    assert failed(result, "list ResourceQuota failed: no answer within request_timeout=1s")
    assert time.monotonic() - started < 10


def test_an_api_server_that_never_answers_discovery_fails_in_bounded_time(tmp_path):
    """kubernetes.core's client asks the server as it is made, without a time limit of its own."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # connections complete in the backlog; nothing is ever read or answered
    kubeconfig = tmp_path / "kubeconfig"
    write_kubeconfig(kubeconfig, "http://127.0.0.1:%d" % silent.getsockname()[1])
    try:
        started = time.monotonic()
        result = run_module(user_project, kubeconfig, users=["alice"], request_timeout=1)
        # Which request times out first depends on kubernetes.core's discovery cache (a file per server
        # address, which a port used before may have left): either way the message names the bound.
        assert failed(result, "discover", "within request_timeout=1s")
        assert time.monotonic() - started < 10
    finally:
        silent.close()
