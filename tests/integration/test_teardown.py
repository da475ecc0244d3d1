"""playbooks/teardown.yml against a hub that site.yml deployed (the real chart, from the local mirror).

One site.yml run, then teardowns in sequence on the same emulated cluster:

1. `--check`: nothing written, the report lists what would go;
2. teardown_delete_user_data without teardown_confirm: fails before any write, naming the variable;
3. teardown keeping user data: release and our objects gone; the user's PVC, a PVC of another release, a
   ConfigMap of someone else, the user project and so the namespace kept;
4. the same again: changed=0;
5. with user data, confirmed: the user's PVC, the project and the NFS directory (a Job) go; the namespace
   stays for what is not ours;
6. once those are gone, with user data again: the namespace goes.

"Nothing written": the emulator's resourceVersion counter stands still."""
import subprocess

import pytest

from tests.emulator.chart_mirror import DEFAULT_DIR, ChartMirror

from .scenarios import Emulators, host_messages, one, stored_version
from .test_playbooks import REPO_ROOT, play, write_inventory
from .test_site_hubs import SITE, with_hub

NS = "jupyterhub-demo"
HUB = {"name": "demo", "namespace": NS, "nfs_home_server": "nfs.example.org", "quotas_requests_cpu": "4",
       "route_host": "demo.example.org",
       "quotas_container_limits": {"default_request": {"cpu": "100m"}}}
ANNOTATION = "hub.jupyter.org/username"


def claim(name, release, user):
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": name, "namespace": NS, "annotations": {ANNOTATION: user},
                         "labels": {"component": "singleuser-storage", "release": release, "app": "jupyterhub",
                                    "hub.jupyter.org/username": user}},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}


USER_PROJECT = {"apiVersion": "v1", "kind": "Namespace", "metadata": {
    "name": "alice-workspace", "annotations": {ANNOTATION: "alice"},
    "labels": {"app.kubernetes.io/managed-by": "hubfleet", "app.kubernetes.io/component": "user-project",
               "hubfleet.io/hub": "demo", "hub.jupyter.org/username": "alice"}}}
FOREIGN = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "theirs", "namespace": NS},
           "data": {"owner": "someone else"}}


def ours(cluster):
    """(kind, namespace, name) of every object labelled ours for the hub demo."""
    held = []
    for plural, group in (("configmaps", ""), ("secrets", ""), ("serviceaccounts", ""), ("resourcequotas", ""),
                          ("limitranges", ""), ("persistentvolumeclaims", ""), ("persistentvolumes", ""),
                          ("jobs", "batch"), ("roles", "rbac.authorization.k8s.io"),
                          ("rolebindings", "rbac.authorization.k8s.io"), ("ingresses", "networking.k8s.io"),
                          ("namespaces", "")):
        held.extend((plural, o["metadata"].get("namespace", ""), o["metadata"]["name"])
                    for o in cluster.objects(plural, None, group)
                    if (o["metadata"].get("labels") or {}).get("hubfleet.io/hub") == "demo")
    return sorted(held)


def names(cluster, plural, ns=None):
    return sorted(o["metadata"]["name"] for o in cluster.objects(plural, ns))


def report(result):
    return [m for m in host_messages(result, "local/demo") if m.startswith("[")][-1]


class Runs:
    """What the runs answered and what the emulator held after each."""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("teardown")
    done = Runs()
    with Emulators(root) as emulators, ChartMirror(DEFAULT_DIR) as mirror:
        cluster = done.cluster = emulators.start("vanilla", openshift=False)
        inventory = write_inventory(root / "hosts.yml", cluster, with_hub([HUB], mirror))

        def teardown(*extra):
            return play("teardown.yml", inventory, "-e", "cluster=local hub=demo", *extra)

        done.site = play(SITE, inventory)
        cluster.control.seed([claim("claim-alice", "jupyterhub", "alice"), claim("claim-bob", "other", "bob"),
                              FOREIGN, USER_PROJECT])
        done.deployed = ours(cluster)
        done.helm_secrets = [n for n in names(cluster, "secrets", NS) if n.startswith("sh.helm.release")]

        version = stored_version(cluster)
        done.check = teardown("--check")
        done.check_untouched = stored_version(cluster) == version
        done.unconfirmed = teardown("-e", "teardown_delete_user_data=true teardown_confirm=dem")
        done.unconfirmed_untouched = stored_version(cluster) == version

        done.keep = teardown()
        done.keep_ours = ours(cluster)
        done.keep_claims = names(cluster, "persistentvolumeclaims", NS)
        done.keep_secrets = names(cluster, "secrets", NS)
        done.keep_namespaces = names(cluster, "namespaces")
        done.keep_theirs = one(cluster, "configmaps", NS, "theirs")
        done.again = teardown()

        done.purge = teardown("-e", "teardown_delete_user_data=true teardown_confirm=demo")
        done.purge_claims = names(cluster, "persistentvolumeclaims", NS)
        done.purge_namespaces = names(cluster, "namespaces")
        done.purge_volumes = names(cluster, "persistentvolumes")
        kubectl = [str(REPO_ROOT / ".tools" / "bin" / "kubectl"), "--kubeconfig", str(cluster.kubeconfig), "-n", NS]
        subprocess.run(kubectl + ["delete", "configmap/theirs", "pvc/claim-bob"], check=True, capture_output=True)
        done.last = teardown("-e", "teardown_delete_user_data=true teardown_confirm=demo")
        done.last_namespaces = names(cluster, "namespaces")
        yield done


def test_the_hub_was_deployed(runs):
    code, result = runs.site
    assert code == 0, host_messages(result, "local/demo")[-2:]
    assert ("persistentvolumes", "", "hubfleet-home-local-demo") in runs.deployed
    assert ("namespaces", "", NS) in runs.deployed and runs.helm_secrets


def test_check_mode_writes_nothing_and_lists_what_would_go(runs):
    code, result = runs.check
    assert code == 0, host_messages(result, "local/demo")[-2:]
    assert runs.check_untouched
    would, kept = report(result).strip("[]").split("', '")
    assert "would remove: Helm release jupyterhub-demo/jupyterhub" in would
    assert "PersistentVolume hubfleet-home-local-demo" in would
    assert "ResourceQuota jupyterhub-demo/jupyterhub-quota" in would
    assert "user PVC jupyterhub-demo/claim-alice" in kept and "user project alice-workspace" in kept
    assert "claim-bob" not in would


def test_deleting_user_data_without_confirmation_fails_first_naming_the_variable(runs):
    code, result = runs.unconfirmed
    assert code != 0
    assert set(result["stats"]) == {"localhost"}
    assert "set teardown_confirm to the hub's name (demo)" in host_messages(result, "localhost")[-1]
    assert runs.unconfirmed_untouched


def test_a_teardown_removes_the_release_and_our_objects_and_keeps_user_data(runs):
    code, result = runs.keep
    assert code == 0, host_messages(result, "local/demo")[-2:]
    assert not [n for n in runs.keep_secrets if n.startswith("sh.helm.release")]
    # Only the namespace (kept for the user's claim) and the user project still carry our labels.
    assert runs.keep_ours == [("namespaces", "", "alice-workspace"), ("namespaces", "", NS)]
    assert runs.keep_claims == ["claim-alice", "claim-bob"]
    assert runs.keep_theirs["data"] == {"owner": "someone else"}
    removed, kept = report(result).strip("[]").split("', '")
    assert "PersistentVolumeClaim/claim-alice" in kept and "ConfigMap/theirs" in kept, kept
    assert "NFS directory nfs.example.org:/homes/demo" in kept
    assert "PersistentVolume hubfleet-home-local-demo" in removed


def test_a_second_teardown_changes_nothing(runs):
    code, result = runs.again
    assert code == 0, host_messages(result, "local/demo")[-2:]
    assert {host: stats["changed"] for host, stats in result["stats"].items()} == \
        {"localhost": 0, "local": 0, "local/demo": 0}


def test_with_user_data_the_users_claims_projects_and_nfs_directory_go(runs):
    code, result = runs.purge
    assert code == 0, host_messages(result, "local/demo")[-3:]
    assert runs.purge_claims == ["claim-bob"]  # another release's claim is never taken
    assert "alice-workspace" not in runs.purge_namespaces
    assert NS in runs.purge_namespaces  # it still holds what is not ours
    assert not [v for v in runs.purge_volumes if v.startswith("hubfleet-")]
    removed, kept = report(result).strip("[]").split("', '")
    assert "NFS directory nfs.example.org:/homes/demo" in removed
    assert "user PVC jupyterhub-demo/claim-alice" in removed and "user project alice-workspace" in removed
    assert "ConfigMap/theirs" in kept and "PersistentVolumeClaim/claim-bob" in kept


def test_the_namespace_goes_once_it_holds_only_ours(runs):
    code, result = runs.last
    assert code == 0, host_messages(result, "local/demo")[-3:]
    assert NS not in runs.last_namespaces
    assert "Namespace jupyterhub-demo" in report(result)
