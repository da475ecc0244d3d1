"""The service_account role on its own (tests/integration/playbooks/roles/service_account.yml) against
emulated clusters.

Two ansible-playbook runs carry every scenario, one inventory host per scenario: a first run (the
account on both flavours, one with a token Secret and OpenShift login annotations, the two kinds of
binding, a foreign account) and a second run that repeats some, switches the binding both ways and
removes one hub's account. The tests below read those runs and what the clusters held after each."""
import base64
import json
import types

import pytest

from .scenarios import Emulators, host_messages, namespace, stored_version
from .test_role_preflight import OWNED_BY_RESEARCH, failure, named, reaching, run_playbook, shown, write_inventory

RBAC = "rbac.authorization.k8s.io"
LABELS = dict(OWNED_BY_RESEARCH, **{"app.kubernetes.io/component": "service-account"})
# The chart's own hub Role (templates/hub/rbac.yaml of chart 3.3.8 and 4.4.0).
CHART_HUB_RULES = [
    {"apiGroups": [""], "resources": ["pods", "persistentvolumeclaims", "secrets", "services"],
     "verbs": ["get", "watch", "list", "create", "delete"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["get", "watch", "list"]},
]
REDIRECT_URIS = ["https://research.example.org/hub/oauth_callback", "https://research.example.net/hub/oauth_callback"]


def account_objects(cluster, namespace_name):
    """What the role may make in a namespace, by kind and name (the namespace's `default` account left out)."""
    found = {("ServiceAccount", name): obj for name, obj in named(cluster.objects("serviceaccounts", namespace_name)).items()
             if name != "default"}
    found.update({("Role", name): obj for name, obj in named(cluster.objects("roles", namespace_name, RBAC)).items()})
    found.update({("RoleBinding", name): obj
                  for name, obj in named(cluster.objects("rolebindings", namespace_name, RBAC)).items()})
    found.update({("Secret", name): obj for name, obj in named(cluster.objects("secrets", namespace_name)).items()})
    return found


def binding(name, namespace_name, role_kind, role_name, account="jupyterhub-hub"):
    """The parts of a RoleBinding the role decides."""
    return {"roleRef": {"apiGroup": RBAC, "kind": role_kind, "name": role_name},
            "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace_name}], "name": name}


def binding_of(obj):
    return {"roleRef": obj["roleRef"], "subjects": obj["subjects"], "name": obj["metadata"]["name"]}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The two runs: what they answered, and what the clusters held after each."""
    root = tmp_path_factory.mktemp("service_account")
    emulators = Emulators(root)
    done = types.SimpleNamespace()
    hub = {"service_account_hub": "research", "service_account_namespace": "jupyterhub-research"}
    login = dict(hub, service_account_token_secret=True, service_account_oauth_redirect_routes=["jupyterhub"],
                 service_account_oauth_redirect_uris=REDIRECT_URIS)
    foreign = {"apiVersion": "v1", "kind": "ServiceAccount",
               "metadata": {"name": "jupyterhub-hub", "namespace": "foreign", "labels": {"team": "other"}}}
    try:
        done.openshift = emulators.start("openshift")
        done.vanilla = emulators.start("vanilla", openshift=False)
        done.switching = emulators.start("switching", openshift=False)
        done.openshift.control.seed([namespace("jupyterhub-research")])
        done.vanilla.control.seed([namespace("jupyterhub-research")])
        done.foreign = done.switching.control.seed([namespace("to-edit"), namespace("from-edit"),
                                                    namespace("removed"), namespace("foreign"), foreign])[-1]
        first = {
            "openshift_login": reaching(done.openshift, **login),
            "vanilla_default": reaching(done.vanilla, **hub),
            "to_edit": reaching(done.switching, service_account_hub="research", service_account_namespace="to-edit"),
            "from_edit": reaching(done.switching, service_account_hub="research", service_account_namespace="from-edit",
                                  service_account_name="research-hub", service_account_role="edit"),
            "removed": reaching(done.switching, service_account_hub="research", service_account_namespace="removed",
                                service_account_token_secret=True),
            "foreign": reaching(done.switching, service_account_hub="research", service_account_namespace="foreign"),
        }
        done.first = run_playbook("service_account.yml", write_inventory(root / "first.yml", first), root,
                                  hosts=len(first))
        done.after_first = {name: account_objects(cluster, ns) for name, cluster, ns in (
            ("openshift", done.openshift, "jupyterhub-research"), ("vanilla", done.vanilla, "jupyterhub-research"),
            ("to-edit", done.switching, "to-edit"), ("from-edit", done.switching, "from-edit"),
            ("removed", done.switching, "removed"))}

        before = {"openshift": stored_version(done.openshift), "vanilla": stored_version(done.vanilla)}
        second = {
            "openshift_login": first["openshift_login"],
            "vanilla_default": first["vanilla_default"],
            "to_edit": dict(first["to_edit"], service_account_role="edit"),
            "from_edit": dict(first["from_edit"], service_account_role="least_privilege"),
            "removed": dict(first["removed"], service_account_state="absent"),
        }
        done.second = run_playbook("service_account.yml", write_inventory(root / "second.yml", second), root,
                                   hosts=len(second))
        done.second_stored = {"openshift": stored_version(done.openshift) - before["openshift"],
                              "vanilla": stored_version(done.vanilla) - before["vanilla"]}
        yield done
    finally:
        emulators.stop()


@pytest.mark.parametrize("flavour, host", [("openshift", "openshift_login"), ("vanilla", "vanilla_default")])
def test_the_account_gets_the_charts_role_and_a_binding(runs, flavour, host):
    _code, result = runs.first
    assert result["stats"][host]["failures"] == 0, host_messages(result, host)
    objects = runs.after_first[flavour]
    token = {("Secret", "jupyterhub-hub-token")} if host == "openshift_login" else set()
    assert set(objects) == {("ServiceAccount", "jupyterhub-hub"), ("Role", "jupyterhub-hub"),
                            ("RoleBinding", "jupyterhub-hub")} | token
    assert objects[("Role", "jupyterhub-hub")]["rules"] == CHART_HUB_RULES
    assert binding_of(objects[("RoleBinding", "jupyterhub-hub")]) == \
        binding("jupyterhub-hub", "jupyterhub-research", "Role", "jupyterhub-hub")
    assert all(obj["metadata"]["labels"] == LABELS for obj in objects.values())


def test_the_fact_tells_the_chart_to_use_the_account(runs):
    _code, result = runs.first
    assert shown(result, "vanilla_default", "service_account_hub_values") == \
        {"hub": {"serviceAccount": {"create": False, "name": "jupyterhub-hub"}}, "rbac": {"create": False}}
    assert shown(result, "from_edit", "service_account_hub_values")["hub"]["serviceAccount"]["name"] == "research-hub"


@pytest.mark.parametrize("flavour, host", [("openshift", "openshift_login"), ("vanilla", "vanilla_default")])
def test_a_second_run_changes_nothing_and_writes_nothing(runs, flavour, host):
    _code, result = runs.second
    assert result["stats"][host]["failures"] == 0, host_messages(result, host)
    assert result["stats"][host]["changed"] == 0
    assert runs.second_stored[flavour] == 0  # not a write stored anywhere in the cluster
    cluster = runs.openshift if flavour == "openshift" else runs.vanilla
    versions = {key: obj["metadata"]["resourceVersion"] for key, obj in runs.after_first[flavour].items()}
    assert {key: obj["metadata"]["resourceVersion"]
            for key, obj in account_objects(cluster, "jupyterhub-research").items()} == versions


def test_the_token_secret_is_filled_by_the_token_controller(runs):
    objects = runs.after_first["openshift"]
    secret = objects[("Secret", "jupyterhub-hub-token")]
    account = objects[("ServiceAccount", "jupyterhub-hub")]
    assert secret["type"] == "kubernetes.io/service-account-token"
    assert secret["metadata"]["annotations"]["kubernetes.io/service-account.name"] == "jupyterhub-hub"
    assert secret["metadata"]["annotations"]["kubernetes.io/service-account.uid"] == account["metadata"]["uid"]
    assert base64.b64decode(secret["data"]["token"]).count(b".") == 2  # JWT-shaped
    now = account_objects(runs.openshift, "jupyterhub-research")[("Secret", "jupyterhub-hub-token")]
    assert now["data"]["token"] == secret["data"]["token"]  # the second run kept it


@pytest.mark.parametrize("run", ["first", "second"])
def test_the_token_is_never_printed(runs, run):
    token = runs.after_first["openshift"][("Secret", "jupyterhub-hub-token")]["data"]["token"]
    _code, result = getattr(runs, run)
    output = json.dumps(result)
    assert token not in output
    assert base64.b64decode(token).decode() not in output


def test_openshift_login_annotations_name_the_route_and_the_urls(runs):
    annotations = runs.after_first["openshift"][("ServiceAccount", "jupyterhub-hub")]["metadata"]["annotations"]
    reference = annotations["serviceaccounts.openshift.io/oauth-redirectreference.jupyterhub"]
    assert json.loads(reference) == {"kind": "OAuthRedirectReference", "apiVersion": "v1",
                                     "reference": {"kind": "Route", "name": "jupyterhub"}}
    assert {key: value for key, value in annotations.items() if "oauth-redirecturi" in key} == {
        "serviceaccounts.openshift.io/oauth-redirecturi.1": REDIRECT_URIS[0],
        "serviceaccounts.openshift.io/oauth-redirecturi.2": REDIRECT_URIS[1]}
    vanilla = runs.after_first["vanilla"][("ServiceAccount", "jupyterhub-hub")]["metadata"]
    assert not any("oauth" in key for key in vanilla.get("annotations") or {})


def test_switching_to_edit_binds_the_cluster_role_and_removes_the_role(runs):
    _code, result = runs.second
    assert result["stats"]["to_edit"]["failures"] == 0, host_messages(result, "to_edit")
    assert ("Role", "jupyterhub-hub") in runs.after_first["to-edit"]
    objects = account_objects(runs.switching, "to-edit")
    assert set(objects) == {("ServiceAccount", "jupyterhub-hub"), ("RoleBinding", "jupyterhub-hub-edit")}
    assert binding_of(objects[("RoleBinding", "jupyterhub-hub-edit")]) == \
        binding("jupyterhub-hub-edit", "to-edit", "ClusterRole", "edit")


def test_switching_back_from_edit_restores_the_role_and_its_binding(runs):
    _code, result = runs.second
    assert result["stats"]["from_edit"]["failures"] == 0, host_messages(result, "from_edit")
    assert set(runs.after_first["from-edit"]) == {("ServiceAccount", "research-hub"), ("RoleBinding", "research-hub-edit")}
    objects = account_objects(runs.switching, "from-edit")
    assert set(objects) == {("ServiceAccount", "research-hub"), ("Role", "research-hub"), ("RoleBinding", "research-hub")}
    assert objects[("Role", "research-hub")]["rules"] == CHART_HUB_RULES
    assert binding_of(objects[("RoleBinding", "research-hub")]) == \
        binding("research-hub", "from-edit", "Role", "research-hub", account="research-hub")


def test_absent_removes_the_account_its_rbac_and_its_token(runs):
    _code, result = runs.second
    assert result["stats"]["removed"]["failures"] == 0, host_messages(result, "removed")
    assert set(runs.after_first["removed"]) == {("ServiceAccount", "jupyterhub-hub"), ("Role", "jupyterhub-hub"),
                                                ("RoleBinding", "jupyterhub-hub"), ("Secret", "jupyterhub-hub-token")}
    assert account_objects(runs.switching, "removed") == {}


def test_a_foreign_account_of_the_same_name_is_refused_and_left_alone(runs):
    _code, result = runs.first
    message = failure(result, "foreign")
    assert "ServiceAccount foreign/jupyterhub-hub: not managed by hubfleet" in message, message
    objects = account_objects(runs.switching, "foreign")
    assert set(objects) == {("ServiceAccount", "jupyterhub-hub")}
    assert objects[("ServiceAccount", "jupyterhub-hub")]["metadata"]["resourceVersion"] == \
        runs.foreign["metadata"]["resourceVersion"]
    assert objects[("ServiceAccount", "jupyterhub-hub")]["metadata"]["labels"] == {"team": "other"}
