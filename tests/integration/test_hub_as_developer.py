"""The quickstart's promise (../shared/reference/quickstart-openshift-deploy.txt): anyone with a project
may deploy a hub into it, without cluster-admin rights. On the OpenShift emulator, the `developer`
identity (a plain user: no cluster-scoped writes) requests a project, then runs preflight, service_account,
route and hub there (tests/integration/playbooks/roles_b/hub_as_developer.yml) with the real chart from
the local mirror. It converges; and preflight, asked also for the namespace and NFS roles, names exactly
the cluster-scoped permissions the developer lacks, before any write."""
import json
import urllib.request

import pytest

from tests.emulator.chart_mirror import DEFAULT_DIR, ChartMirror

from .scenarios import Emulators, host_messages, stored_version
from .test_role_route import local_inventory, run_role, stats

DEVELOPER_TOKEN = "emulator-developer-token"   # the emulator's developer identity (docs/emulator.md)
PROJECT = "jupyterhub-mine"


def request_project(cluster, name):
    body = json.dumps({"apiVersion": "project.openshift.io/v1", "kind": "ProjectRequest",
                       "metadata": {"name": name}}).encode()
    request = urllib.request.Request(cluster.server.url + "/apis/project.openshift.io/v1/projectrequests", data=body,
                                     method="POST", headers={"Content-Type": "application/json",
                                                             "Authorization": f"Bearer {DEVELOPER_TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("developer")
    emulators = Emulators(root)
    try:
        with ChartMirror(DEFAULT_DIR) as mirror:
            cluster = emulators.start("openshift")
            request_project(cluster, PROJECT)
            common = {"cluster": cluster, "cluster_context": "emulator-developer", "hub_name": "mine",
                      "hub_namespace": PROJECT, "hub_chart_repo_url": mirror, "hub_helm_timeout": "2m",
                      "hub_auth_type": "dummy", "hub_allow_insecure_auth": True, "hub_allowed_users": ["me"]}
            converge = local_inventory(root / "converge.yml", mine=dict(
                common, developer_roles=["service_account", "quotas", "route", "hub"]))
            cluster_scoped = local_inventory(root / "cluster_scoped.yml", mine=dict(
                common, developer_roles=["namespace", "service_account", "route", "nfs_home", "hub"]))
            before = stored_version(cluster)
            refused = run_role("hub_as_developer.yml", cluster_scoped)
            after_refusal = stored_version(cluster)
            converged = run_role("hub_as_developer.yml", converge)
            again = run_role("hub_as_developer.yml", converge)
            yield {"cluster": cluster, "refused": refused, "converged": converged, "again": again,
                   "written_by_refusal": after_refusal - before}
    finally:
        emulators.stop()


def test_a_project_admin_deploys_a_hub(runs):
    code, result = runs["converged"]
    assert code == 0, host_messages(result, "mine")
    deployments = {d["metadata"]["name"]: d for d in runs["cluster"].objects("deployments", PROJECT, "apps")}
    assert sorted(deployments) == ["hub", "proxy"]
    for deployment in deployments.values():
        assert {c["type"]: c["status"] for c in deployment["status"]["conditions"]}["Available"] == "True"
    code, result = runs["again"]
    assert code == 0 and stats(result, "mine")["changed"] == 0


def test_preflight_names_the_cluster_scoped_permissions_a_project_admin_lacks(runs):
    code, result = runs["refused"]
    assert code == 2
    message = " ".join(host_messages(result, "mine"))
    assert "namespaces" in message and "persistentvolumes" in message, message
    # Only those: everything the hub role needs inside the project, the developer may do.
    for namespaced in ("deployments", "networkpolicies", "services", "serviceaccounts"):
        assert namespaced not in message.rsplit("need for namespace", maxsplit=1)[-1], message
    assert runs["written_by_refusal"] == 0
