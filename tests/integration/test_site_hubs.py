"""site.yml deploying hubs with role variables from their inventory entries, against emulated clusters.

Four runs of site.yml:

1. `--check` on a fresh vanilla cluster (inventory host `local`) whose hub uses quotas, NFS homes and an
   Ingress;
2. converge: that cluster, and an OpenShift cluster (host `east`) with two hubs, one of which asks for a
   host an older route of another namespace holds: that hub fails, the other hubs are deployed;
3. converge the vanilla cluster again: nothing changes;
4. `--check --diff` on it: nothing would change.

"Nothing written": no write request (dry runs are counted apart), the resourceVersion counter still."""
import sys

import pytest
import yaml

from tests.emulator.chart_mirror import DEFAULT_DIR, ChartMirror

from .test_playbooks import REPO_ROOT, play, write_inventory
from .scenarios import Emulators, host_messages, namespace, one, stored_version

SITE = REPO_ROOT / "site.yml"
# A CPU quota needs the containers' CPU requests: the LimitRange's default gives them (else the quotas
# role's fit check refuses the hub's pods, as the API server would).
DEMO = {"name": "demo", "namespace": "jupyterhub-demo", "quotas_requests_cpu": "4",
        "quotas_container_limits": {"default_request": {"cpu": "100m"}}, "nfs_home_server": "nfs.example.org",
        "route_host": "demo.example.org"}
EAST_HUBS = [{"name": "good", "namespace": "jupyterhub-good"},
             {"name": "bad", "namespace": "jupyterhub-bad", "route_host": "taken.example.org"}]
HOLDER = {"apiVersion": "route.openshift.io/v1", "kind": "Route", "metadata": {"name": "holder", "namespace": "other"},
          "spec": {"host": "taken.example.org", "to": {"kind": "Service", "name": "web"}}}


def with_hub(hubs, mirror):
    """The hubs with what the hub role needs: a login (test-only) and the chart from the local mirror."""
    return [dict(hub, hub_auth_type="dummy", hub_allow_insecure_auth=True, hub_allowed_users=["alice"],
                 hub_chart_repo_url=mirror, hub_helm_timeout="2m") for hub in hubs]


def site(inventory, *extra):
    return play(SITE, inventory, "-f", "8", *extra)


def info(cluster, ns):
    found = one(cluster, "configmaps", ns, "hubfleet-hub-info")
    return found and found["data"]


def everything(cluster):
    """Every object the cluster holds, by kind and name (what a deployment could have written)."""
    held = {}
    for plural, group in (("namespaces", ""), ("serviceaccounts", ""), ("configmaps", ""), ("secrets", ""),
                          ("resourcequotas", ""), ("limitranges", ""), ("persistentvolumes", ""),
                          ("persistentvolumeclaims", ""), ("pods", ""), ("jobs", "batch"),
                          ("roles", "rbac.authorization.k8s.io"), ("rolebindings", "rbac.authorization.k8s.io"),
                          ("ingresses", "networking.k8s.io")):
        held[plural] = sorted((o["metadata"].get("namespace", ""), o["metadata"]["name"])
                              for o in cluster.objects(plural, None, group))
    return held


class Runs:
    """What the runs answered and what the emulators held after each."""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    emulators = Emulators(root)
    done = Runs()
    mirror_server = ChartMirror(DEFAULT_DIR)
    mirror = mirror_server.start()
    try:
        vanilla = done.vanilla = emulators.start("vanilla", openshift=False)
        east = done.east = emulators.start("east")
        east.control.seed([namespace("other"), HOLDER])
        done.holder = one(east, "routes", "other", "holder", "route.openshift.io")
        local = write_inventory(root / "local.yml", vanilla, with_hub([DEMO], mirror))

        done.fresh_held, done.fresh_version = everything(vanilla), stored_version(vanilla)
        vanilla.control.reset()
        done.check_fresh = site(local, "--check")
        done.check_fresh_held, done.check_fresh_version = everything(vanilla), stored_version(vanilla)
        done.check_fresh_requests = vanilla.control.requests()

        both = yaml.safe_load(local.read_text())
        both["clusters"]["hosts"]["east"] = {"ansible_connection": "local",
                                             "ansible_python_interpreter": sys.executable,
                                             "cluster_kubeconfig": str(east.kubeconfig),
                                             "hubs": with_hub(EAST_HUBS, mirror)}
        (root / "both.yml").write_text(yaml.safe_dump(both))
        done.converge = site(root / "both.yml")
        done.converged_held, done.converged_version = everything(vanilla), stored_version(vanilla)

        vanilla.control.reset()
        done.again = site(local)
        done.again_held, done.again_version = everything(vanilla), stored_version(vanilla)
        done.again_requests = vanilla.control.requests()

        done.check_converged = site(local, "--check", "--diff")
        done.check_converged_version = stored_version(vanilla)
        yield done
    finally:
        emulators.stop()
        mirror_server.stop()


def test_check_mode_on_a_fresh_cluster_passes_and_writes_nothing(runs):
    code, result = runs.check_fresh
    assert code == 0, {host: host_messages(result, host)[-2:] for host in result["stats"]}
    assert set(result["stats"]) == {"local", "local/demo"}
    assert result["stats"]["local/demo"]["changed"] > 0  # it would create the hub
    assert runs.check_fresh_requests["writes"] == 0, runs.check_fresh_requests
    assert runs.check_fresh_version == runs.fresh_version
    assert runs.check_fresh_held == runs.fresh_held
    assert "jupyterhub-demo" not in [name for _ns, name in runs.check_fresh_held["namespaces"]]


def test_one_hub_failing_stops_only_itself(runs):
    code, result = runs.converge
    assert code != 0
    recap = result["stats"]
    assert recap["east/bad"]["failures"] == 1, recap
    assert {host: recap[host]["failures"] + recap[host]["unreachable"] for host in recap if host != "east/bad"} == \
        {"local": 0, "east": 0, "local/demo": 0, "east/good": 0}
    failure = host_messages(result, "east/bad")[-1]
    assert "HostAlreadyClaimed" in failure and "taken.example.org" in failure, failure
    # The older route keeps its host.
    assert one(runs.east, "routes", "other", "holder", "route.openshift.io") == runs.holder


def test_the_other_hub_of_the_cluster_is_fully_deployed(runs):
    east = runs.east
    labels = one(east, "namespaces", None, "jupyterhub-good")["metadata"]["labels"]
    assert labels["hubfleet.io/hub"] == "good" and labels["app.kubernetes.io/managed-by"] == "hubfleet"
    assert one(east, "serviceaccounts", "jupyterhub-good", "jupyterhub-hub") is not None
    assert one(east, "roles", "jupyterhub-good", "jupyterhub-hub", "rbac.authorization.k8s.io") is not None
    route = one(east, "routes", "jupyterhub-good", "jupyterhub", "route.openshift.io")
    assert route["status"]["ingress"][0]["conditions"][0]["status"] == "True"
    assert info(east, "jupyterhub-good") == {
        "hub_name": "good", "namespace": "jupyterhub-good", "cluster": "east", "chart_version": "4.4.0",
        "url": "https://jupyterhub-jupyterhub-good.apps.emulator.local"}
    # The failed hub got as far as its Route, and no further.
    assert one(east, "routes", "jupyterhub-bad", "jupyterhub", "route.openshift.io") is not None
    assert info(east, "jupyterhub-bad") is None


def test_the_hub_of_the_other_cluster_is_deployed_with_its_role_variables(runs):
    vanilla = runs.vanilla
    _code, result = runs.converge
    assert result["stats"]["local/demo"]["changed"] > 0
    quota = one(vanilla, "resourcequotas", "jupyterhub-demo", "jupyterhub-quota")
    assert quota["spec"]["hard"] == {"requests.cpu": "4"}
    volume = one(vanilla, "persistentvolumes", None, "hubfleet-home-local-demo")
    assert volume["spec"]["nfs"] == {"server": "nfs.example.org", "path": "/homes/demo"}
    assert one(vanilla, "persistentvolumeclaims", "jupyterhub-demo", "jupyterhub-home")["status"]["phase"] == "Bound"
    assert [job["status"]["succeeded"] for job in vanilla.objects("jobs", "jupyterhub-demo", "batch")] == [1]
    ingress = one(vanilla, "ingresses", "jupyterhub-demo", "jupyterhub", "networking.k8s.io")
    assert ingress["spec"]["rules"][0]["host"] == "demo.example.org"
    assert info(vanilla, "jupyterhub-demo")["url"] == "http://demo.example.org"
    assert info(vanilla, "jupyterhub-demo")["cluster"] == "local"


def test_a_second_converge_changes_nothing_and_writes_nothing(runs):
    code, result = runs.again
    assert code == 0, {host: host_messages(result, host)[-2:] for host in result["stats"]}
    assert {host: stats["changed"] for host, stats in result["stats"].items()} == {"local": 0, "local/demo": 0}
    assert runs.again_requests["writes"] == 0, runs.again_requests
    assert runs.again_version == runs.converged_version
    assert runs.again_held == runs.converged_held


def test_check_diff_on_the_converged_cluster_reports_no_change(runs):
    code, result = runs.check_converged
    assert code == 0, {host: host_messages(result, host)[-2:] for host in result["stats"]}
    assert {host: stats["changed"] for host, stats in result["stats"].items()} == {"local": 0, "local/demo": 0}
    diffs = [item for play_ in result["plays"] for task in play_["tasks"]
             for item in task["hosts"].get("local/demo", {}).get("results", [task["hosts"].get("local/demo", {})])
             if item.get("diff")]
    assert [d["diff"] for d in diffs if d["diff"] not in ({}, [])] == []
    assert runs.check_converged_version == runs.again_version


BAD_HUB_LISTS = {
    "bad_name": ([{"name": "Demo_Hub", "namespace": "jupyterhub-demo"}], "hubs[0].name 'Demo_Hub' must be a DNS-1123 label"),
    "long_namespace": ([{"name": "demo", "namespace": "n" * 64}], "hubs[0].namespace"),
    "system_namespace": ([{"name": "demo", "namespace": "kube-system"}], "not be 'default' or start with 'kube-'"),
    "shared_namespace": ([{"name": "a", "namespace": "jupyterhub"}, {"name": "b", "namespace": "jupyterhub"}],
                         "belong to no other hub of this cluster"),
    "old_chart": ([{"name": "demo", "namespace": "jupyterhub-demo", "chart_version": "2.0.0"}],
                  "chart version '2.0.0' of hub 'demo'"),
}


def test_a_bad_hub_list_fails_its_cluster_naming_the_field_before_any_write(cluster, tmp_path):
    clusters = {name: {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                       "cluster_kubeconfig": str(cluster.kubeconfig), "hubs": hubs}
                for name, (hubs, _message) in BAD_HUB_LISTS.items()}
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"clusters": {"hosts": clusters}}))
    cluster.control.reset()
    code, result = site(inventory)
    assert code != 0
    for name, (_hubs, message) in BAD_HUB_LISTS.items():
        assert result["stats"][name]["failures"] == 1, name
        assert any(message in text for text in host_messages(result, name)), (name, host_messages(result, name))
    assert not [host for host in result["stats"] if "/" in host]
    assert cluster.writes() == 0
