"""site.yml deploying hubs with role variables from their inventory entries, against emulated clusters.

Five runs of site.yml:

1. `--check` on a fresh vanilla cluster (inventory host `local`) whose hub uses quotas, NFS homes and an
   Ingress;
2. converge: that cluster, and an OpenShift cluster (host `east`) with two hubs, one of which asks for a
   host an older route of another namespace holds: that hub fails, the other hubs are deployed;
3. converge the vanilla cluster again: nothing changes;
4. `--check --diff` on it: nothing would change;
5. `-e hub=demo --tags quotas` over both clusters: only that hub's quota stage runs.

Each run writes its summary (summary.json, summary.md) under the run's directory.

"Nothing written": no write request (dry runs are counted apart), the resourceVersion counter still."""
import json
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


def summary(root, name):
    """The summary a run wrote (-e site_report_dir=<root>/<name>): each hub's row by cluster/hub."""
    report = json.loads((root / name / "summary.json").read_text())
    return {"%s/%s" % (row["cluster"], row["hub"]): row for row in report["hubs"]}


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
    done = Runs()
    with Emulators(root) as emulators, ChartMirror(DEFAULT_DIR) as mirror:
        vanilla = done.vanilla = emulators.start("vanilla", openshift=False)
        east = done.east = emulators.start("east")
        east.control.seed([namespace("other"), HOLDER])
        done.holder = one(east, "routes", "other", "holder", "route.openshift.io")
        local = write_inventory(root / "local.yml", vanilla, with_hub([DEMO], mirror))

        done.fresh_held, done.fresh_version = everything(vanilla), stored_version(vanilla)
        vanilla.control.reset()
        done.root = root
        done.check_fresh = site(local, "--check", "-e", "site_report_dir=check_fresh")
        done.check_fresh_held, done.check_fresh_version = everything(vanilla), stored_version(vanilla)
        done.check_fresh_requests = vanilla.control.requests()

        both = yaml.safe_load(local.read_text())
        both["clusters"]["hosts"]["east"] = {"ansible_connection": "local",
                                             "ansible_python_interpreter": sys.executable,
                                             "cluster_kubeconfig": str(east.kubeconfig),
                                             "hubs": with_hub(EAST_HUBS, mirror)}
        (root / "both.yml").write_text(yaml.safe_dump(both))
        done.converge = site(root / "both.yml", "-e", "site_report_dir=converge")
        done.converged_held, done.converged_version = everything(vanilla), stored_version(vanilla)

        vanilla.control.reset()
        done.again = site(local)
        done.again_held, done.again_version = everything(vanilla), stored_version(vanilla)
        done.again_requests = vanilla.control.requests()

        done.check_converged = site(local, "--check", "--diff")
        done.check_converged_version = stored_version(vanilla)

        vanilla.control.reset()
        done.one_stage = site(root / "both.yml", "-e", "hub=demo", "--tags", "quotas")
        done.one_stage_requests = vanilla.control.requests()
        yield done


def test_check_mode_on_a_fresh_cluster_passes_and_writes_nothing(runs):
    code, result = runs.check_fresh
    assert code == 0, {host: host_messages(result, host)[-2:] for host in result["stats"]}
    assert set(result["stats"]) == {"local", "local/demo", "localhost"}
    assert result["stats"]["local/demo"]["changed"] > 0  # it would create the hub
    row = summary(runs.root, "check_fresh")["local/demo"]
    assert row["status"] == "would change" and row["failed_stage"] == ""
    assert row["changed"] == ["namespace", "service_account", "quotas", "nfs_home", "route", "hub"]
    assert runs.check_fresh_requests["writes"] == 0, runs.check_fresh_requests
    assert runs.check_fresh_version == runs.fresh_version
    assert runs.check_fresh_held == runs.fresh_held
    assert "jupyterhub-demo" not in [name for _ns, name in runs.check_fresh_held["namespaces"]]


def test_one_hub_failing_stops_only_itself(runs):
    code, result = runs.converge
    assert code != 0
    recap = result["stats"]
    # The hub's failure is rescued and recorded; the summary play fails the run at the end.
    assert recap["east/bad"]["rescued"] == 1 and recap["localhost"]["failures"] == 1, recap
    assert {host: recap[host]["failures"] + recap[host]["unreachable"] for host in recap if host != "localhost"} == \
        {"local": 0, "east": 0, "local/demo": 0, "east/good": 0, "east/bad": 0}
    assert "1 failed: east/bad" in host_messages(result, "localhost")[-1]
    rows = summary(runs.root, "converge")
    assert rows["east/bad"]["status"] == "failed at route"
    assert "HostAlreadyClaimed" in rows["east/bad"]["error"] and "taken.example.org" in rows["east/bad"]["error"]
    assert {name: row["status"] for name, row in rows.items()} == \
        {"east/bad": "failed at route", "east/good": "changed", "local/demo": "changed"}
    assert rows["east/good"]["url"] == "https://jupyterhub-jupyterhub-good.apps.emulator.local"
    assert rows["east/good"]["health"].startswith("release deployed, hub and proxy available, route admitted")
    assert "| east | bad | failed at route |" in (runs.root / "converge" / "summary.md").read_text()
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
    assert {host: stats["changed"] for host, stats in result["stats"].items()} == \
        {"local": 0, "local/demo": 0, "localhost": 0}
    assert runs.again_requests["writes"] == 0, runs.again_requests
    assert runs.again_version == runs.converged_version
    assert runs.again_held == runs.converged_held


def test_check_diff_on_the_converged_cluster_reports_no_change(runs):
    code, result = runs.check_converged
    assert code == 0, {host: host_messages(result, host)[-2:] for host in result["stats"]}
    assert {host: stats["changed"] for host, stats in result["stats"].items()} == \
        {"local": 0, "local/demo": 0, "localhost": 0}
    diffs = [item for play_ in result["plays"] for task in play_["tasks"]
             for item in task["hosts"].get("local/demo", {}).get("results", [task["hosts"].get("local/demo", {})])
             if item.get("diff")]
    assert [d["diff"] for d in diffs if d["diff"] not in ({}, [])] == []
    assert runs.check_converged_version == runs.again_version


def test_one_hub_and_one_stage_run_alone(runs):
    code, result = runs.one_stage
    assert code == 0, {host: host_messages(result, host)[-2:] for host in result["stats"]}
    # -e hub=demo: east has no such hub, so only local/demo is planned.
    assert set(result["stats"]) == {"local", "east", "local/demo", "localhost"}
    ran = {task["task"]["name"] for play_ in result["plays"] for task in play_["tasks"] if "local/demo" in task["hosts"]
           and not task["hosts"]["local/demo"].get("skipped")}
    assert "hubfleet.jupyterhub.quotas : Apply or remove the quota and limits" in ran
    # The validate stage (tag always) checks every role's variables; no other stage's task runs.
    assert not ran & {"hubfleet.jupyterhub.service_account : Apply or remove the account, its RBAC and token Secret",
                      "hubfleet.jupyterhub.route : Apply or remove the Route or Ingress",
                      "hubfleet.jupyterhub.hub : Read the release as installed", "Check the hub's health"}
    assert "hubfleet.jupyterhub.route : Check the names, host and certificate" in ran
    assert runs.one_stage_requests["writes"] == 0


BAD_HUB_LISTS = {
    "bad_name": ([{"name": "Demo_Hub", "namespace": "jupyterhub-demo"}], "hubs[0].name 'Demo_Hub' must be a DNS-1123 label"),
    "long_namespace": ([{"name": "demo", "namespace": "n" * 64}], "hubs[0].namespace"),
    "system_namespace": ([{"name": "demo", "namespace": "kube-system"}], "not be 'default' or start with 'kube-'"),
    "shared_namespace": ([{"name": "a", "namespace": "jupyterhub"}, {"name": "b", "namespace": "jupyterhub"}],
                         "belong to no other hub of this cluster"),
    "old_chart": ([{"name": "demo", "namespace": "jupyterhub-demo", "chart_version": "2.0.0"}],
                  "hubs[0] (demo): value of chart_version must be one of: 3.3.8, 4.4.0, got: 2.0.0"),
    "typo": ([{"name": "demo", "namespace": "jupyterhub-demo", "quotas_request_cpu": "4"}],
             "hubs[0] (demo): unknown key 'quotas_request_cpu' (did you mean 'quotas_requests_cpu'?)"),
    "set_by_site": ([{"name": "demo", "namespace": "jupyterhub-demo", "route_namespace": "elsewhere"}],
                    "'route_namespace' is set by site.yml for each hub: use namespace"),
    "bad_type": ([{"name": "demo", "namespace": "jupyterhub-demo", "nfs_home_allusers": "sometimes"}],
                 "nfs_home_allusers"),
}


def test_a_bad_hub_list_fails_its_cluster_naming_the_field_before_any_write(openshift, tmp_path):
    cluster = openshift  # the rules are the same on both flavours
    clusters = {name: {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                       "cluster_kubeconfig": str(cluster.kubeconfig), "hubs": hubs}
                for name, (hubs, _message) in BAD_HUB_LISTS.items()}
    inventory = tmp_path / "hosts.yml"
    clusters["typo"]["cluster_kubconfig"] = clusters["typo"]["cluster_kubeconfig"]
    inventory.write_text(yaml.safe_dump({"clusters": {"hosts": clusters}}))
    cluster.control.reset()
    code, result = site(inventory, "-e", "site_report_dir=report")
    assert code != 0
    rows = summary(tmp_path, "report")
    for name, (_hubs, message) in BAD_HUB_LISTS.items():
        assert result["stats"][name]["rescued"] == 1, name
        assert rows[name + "/"]["failed_stage"] == "plan"
        assert message in rows[name + "/"]["error"], (name, rows[name + "/"]["error"])
    assert "unknown key 'cluster_kubconfig' (did you mean 'cluster_kubeconfig'?)" in rows["typo/"]["error"]
    assert not [host for host in result["stats"] if "/" in host]
    assert cluster.writes() == 0


def test_a_hub_breaking_a_role_rule_stops_before_any_write(openshift, tmp_path):
    """The entry's types pass the inventory's spec; the quotas role's rule (a quantity) and the hub role's
    spec (a login method is required) fail the hubs in the validate stage, before the first write."""
    cluster = openshift  # the rules are the same on both flavours
    hubs = [{"name": "demo", "namespace": "jupyterhub-demo", "quotas_requests_cpu": "lots",
             "hub_auth_type": "dummy", "hub_allow_insecure_auth": True},
            {"name": "nologin", "namespace": "jupyterhub-nologin"}]
    inventory = write_inventory(tmp_path / "hosts.yml", cluster, hubs)
    cluster.control.reset()
    code, _result = site(inventory, "-e", "site_report_dir=report")
    assert code != 0
    rows = summary(tmp_path, "report")
    assert {name: row["failed_stage"] for name, row in rows.items()} == {"local/demo": "validate",
                                                                         "local/nologin": "validate"}
    assert "quotas_requests_cpu" in rows["local/demo"]["error"] and "lots" in rows["local/demo"]["error"]
    assert "missing required arguments: hub_auth_type" in rows["local/nologin"]["error"]
    assert cluster.writes() == 0
