"""hubfleet.jupyterhub.user_project against the emulated cluster, as OpenShift and as Kubernetes."""
import pytest

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import client
from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.errors import HubfleetError
from ansible_collections.hubfleet.jupyterhub.plugins.modules import user_project

from .modules import run_module

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
    assert ("openshift.io/requester" in meta["annotations"]) is openshift
    quota = cluster.objects("resourcequotas", bob["namespace"])[0]
    assert quota["spec"]["hard"] == {"requests.cpu": "4"}
    assert cluster.objects("resourcequotas", "alice-workspace")[0]["spec"]["hard"]["requests.memory"] == "4Gi"
    limits = cluster.objects("limitranges", "alice-workspace")[0]["spec"]["limits"]
    # The memory request comes from the default limit, as the API server fills it in.
    assert limits == [{"type": "Container", "default": {"cpu": "1", "memory": "2Gi"},
                       "defaultRequest": {"cpu": "100m", "memory": "2Gi"}}]
    bindings = dict((b["metadata"]["name"], b) for b in cluster.objects("rolebindings", bob["namespace"], "rbac.authorization.k8s.io"))
    assert bindings["hubfleet-user-access"]["roleRef"]["name"] == "admin"
    assert [s["name"] for s in bindings["hubfleet-user-access"]["subjects"]] == ["Bob.Smith@example.org", "physics"]
    assert bindings["hubfleet-hub-spawner"]["subjects"] == [{"kind": "ServiceAccount", "name": "hub", "namespace": "jhub"}]
    roles = cluster.objects("roles", bob["namespace"], "rbac.authorization.k8s.io")
    assert roles[0]["rules"][0]["resources"] == ["pods", "persistentvolumeclaims", "services", "secrets"]
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
    assert isinstance(refused, HubfleetError) and "prune_confirm" in refused.msg
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
    assert isinstance(result, HubfleetError)
    assert expected in result.msg
    assert "nothing was written" in result.msg
    assert cluster.writes() == 0


def test_foreign_namespace_is_never_adopted(cluster):
    cluster.control.seed([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "carol-workspace"}}])
    cluster.control.reset()
    result = run(cluster)
    assert isinstance(result, HubfleetError)
    assert "user 'carol': namespace 'carol-workspace' already exists and belongs to no one" in result.msg
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
    failed = run(cluster)
    assert isinstance(failed, HubfleetError)
    statuses = dict((entry["name"], entry["status"]) for entry in failed.details["users"])
    assert statuses == {"alice": "created", "Bob.Smith@example.org": "failed", "carol": "skipped"}
    assert "completed before it: alice" in failed.msg
    result = run(cluster)
    statuses = dict((name, entry["status"]) for name, entry in by_name(result).items())
    assert statuses == {"alice": "unchanged", "Bob.Smith@example.org": "updated", "carol": "created"}
    assert run(cluster)["changed"] is False


def test_role_change_recreates_the_binding(cluster):
    run(cluster, users=["alice"])
    cluster.control.reset()
    result = run(cluster, users=[{"name": "alice", "role": "view"}])
    assert by_name(result)["alice"]["changes"] == ["delete RoleBinding/hubfleet-user-access",
                                                   "create RoleBinding/hubfleet-user-access"]
    binding = [b for b in cluster.objects("rolebindings", "alice-workspace", "rbac.authorization.k8s.io")
               if b["metadata"]["name"] == "hubfleet-user-access"][0]
    assert binding["roleRef"]["name"] == "view"


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
        assert isinstance(result, HubfleetError) and "needs OpenShift" in result.msg
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
