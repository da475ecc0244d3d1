"""The nfs_home role on its own (tests/integration/playbooks/roles_b/nfs_home.yml) against emulated clusters.

Three ansible-playbook runs carry every scenario, one inventory host per scenario (see test_role_route.py),
each host on its own emulator or sharing one where the scenarios cannot disturb each other:

1. converge: the hub on OpenShift (host `localhost`) and on vanilla Kubernetes (host `Vanilla_East`), a
   share-creator Job that fails, a foreign volume of our volume's name, and two hubs set up for run 2;
2. the two converged hubs again (nothing changes), one hub with another directory mode, one removed;
3. check mode on a fresh cluster.

A volume is named `hubfleet-home-<inventory host>-<hub>`, the host lower-cased, `_` made `-`."""
import pytest

from .scenarios import Emulators, host_messages, namespace, one, stored_version
from .test_role_route import last_value, local_inventory, reported, run_role, stats

JOB_PREFIX = "hubfleet-nfs-home-"
PERMISSION_DENIED = "mkdir: cannot create directory '/share/demo': Permission denied"
STORAGE_VALUES = {"singleuser": {"storage": {"type": "static",
                                             "static": {"pvcName": "jupyterhub-home", "subPath": "{username}"},
                                             "homeMountPath": "/home/jovyan"}}}
NAMESPACE = "jupyterhub-demo"
FOREIGN_PV = {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "hubfleet-home-foreign-theirs"},
              "spec": {"capacity": {"storage": "5Gi"}, "accessModes": ["ReadWriteMany"],
                       "persistentVolumeReclaimPolicy": "Retain", "nfs": {"server": "filer.example.org", "path": "/x"}}}


def hub(name, cluster, **role_vars):
    return dict({"cluster": cluster, "nfs_home_hub": name, "nfs_home_namespace": f"jupyterhub-{name}",
                 "nfs_home_server": "nfs.example.org"}, **role_vars)


def jobs(cluster, ns=NAMESPACE):
    return cluster.objects("jobs", ns, "batch")


def volume(cluster, name):
    return one(cluster, "persistentvolumes", None, name)


def claim(cluster, ns=NAMESPACE):
    return one(cluster, "persistentvolumeclaims", ns, "jupyterhub-home")


def finished(job, kind):
    return any(c["type"] == kind and c["status"] == "True" for c in job.get("status", {}).get("conditions", []))


def held(cluster):
    """Everything of nfs_home's kinds the cluster holds."""
    return {"jobs": cluster.objects("jobs", None, "batch"), "pods": cluster.objects("pods"),
            "persistentvolumes": cluster.objects("persistentvolumes"),
            "persistentvolumeclaims": cluster.objects("persistentvolumeclaims")}


class Runs:
    """What the runs answered and what the emulators held after each."""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("nfs_home")
    emulators = Emulators(root)
    done = Runs()
    try:
        openshift = done.openshift = emulators.start("openshift")
        vanilla = done.vanilla = emulators.start("vanilla", openshift=False)
        lifecycle = done.lifecycle = emulators.start("lifecycle")
        removal = done.removal = emulators.start("removal")
        fresh = done.fresh = emulators.start("fresh", openshift=False)
        openshift.control.seed([namespace(NAMESPACE), namespace("jupyterhub-fails"), namespace("jupyterhub-theirs"),
                                FOREIGN_PV])
        openshift.control.job_outcome(namespace="jupyterhub-fails", name_prefix=JOB_PREFIX, outcome="Failed",
                                      log=PERMISSION_DENIED)
        done.foreign_before = volume(openshift, "hubfleet-home-foreign-theirs")
        # On vanilla the hub namespace enforces Pod Security "restricted": the share-creator Job's pod must pass.
        vanilla.control.seed([dict(namespace(NAMESPACE), metadata={
            "name": NAMESPACE, "labels": {"pod-security.kubernetes.io/enforce": "restricted"}})])
        for cluster in (lifecycle, removal):
            cluster.control.seed([namespace(NAMESPACE)])
        converged = {"localhost": hub("demo", openshift), "Vanilla_East": hub("demo", vanilla)}
        inventory = local_inventory(root / "converge.yml", **converged, failing=hub("fails", openshift),
                                    foreign=hub("theirs", openshift), lifecycle=hub("demo", lifecycle),
                                    removal=hub("demo", removal))
        done.converge = run_role("nfs_home.yml", inventory)
        done.after_converge = {"openshift": held(openshift), "vanilla": held(vanilla)}
        done.converged_versions = {"openshift": stored_version(openshift), "vanilla": stored_version(vanilla)}
        done.first_job = [job["metadata"]["name"] for job in jobs(lifecycle)]
        done.removal_before = held(removal)

        for cluster in (openshift, vanilla, removal):
            cluster.control.reset()
        inventory = local_inventory(root / "again.yml", **converged,
                                    lifecycle=hub("demo", lifecycle, nfs_home_mode="0770"),
                                    removal=hub("demo", removal, nfs_home_state="absent"))
        done.again = run_role("nfs_home.yml", inventory)
        done.after_again = {"openshift": held(openshift), "vanilla": held(vanilla)}
        done.again_versions = {"openshift": stored_version(openshift), "vanilla": stored_version(vanilla)}
        done.removal_counts = removal.control.counts()
        done.again_writes = {"openshift": openshift.control.requests(), "vanilla": vanilla.control.requests()}

        done.fresh_version = stored_version(fresh)
        fresh.control.reset()
        inventory = local_inventory(root / "check.yml", localhost=hub("demo", fresh))
        done.check = run_role("nfs_home.yml", inventory, "--check")
        done.check_requests = fresh.control.requests()
        yield done
    finally:
        emulators.stop()


@pytest.mark.parametrize("host, flavour", [("localhost", "openshift"), ("Vanilla_East", "vanilla")])
def test_converge_creates_the_directory_then_the_volume_and_the_claim_bound_to_it(runs, host, flavour):
    _code, result = runs.converge
    assert stats(result, host)["failures"] == 0, host_messages(result, host)
    assert stats(result, host)["changed"] > 0
    cluster = getattr(runs, flavour)
    [job] = jobs(cluster)
    assert job["metadata"]["name"].startswith(JOB_PREFIX) and finished(job, "Complete")
    assert job["metadata"]["labels"]["hubfleet.io/hub"] == "demo"
    # The base share through a claim (Pod Security "restricted" and restricted-v2 refuse inline nfs), which
    # is gone again: only the hub's own volume and claim stay.
    assert job["spec"]["template"]["spec"]["volumes"][0] == {"name": "share",
                                                             "persistentVolumeClaim": {"claimName": "jupyterhub-home-share"}}
    assert [pv["metadata"]["name"] for pv in cluster.objects("persistentvolumes")
            if (pv["metadata"].get("labels") or {}).get("hubfleet.io/hub") == "demo"] == [
        "hubfleet-home-localhost-demo" if host == "localhost" else "hubfleet-home-vanilla-east-demo"]
    assert [pvc["metadata"]["name"] for pvc in cluster.objects("persistentvolumeclaims", NAMESPACE)] == [
        "jupyterhub-home"]

    name = "hubfleet-home-localhost-demo" if host == "localhost" else "hubfleet-home-vanilla-east-demo"
    made = volume(cluster, name)
    assert made is not None, [pv["metadata"]["name"] for pv in cluster.objects("persistentvolumes")]
    assert made["metadata"]["labels"]["app.kubernetes.io/component"] == "nfs-home"
    spec = made["spec"]
    assert spec["nfs"] == {"server": "nfs.example.org", "path": "/homes/demo"}
    assert spec["mountOptions"] == ["soft", "noatime", "vers=4.2"]
    assert (spec["claimRef"]["namespace"], spec["claimRef"]["name"]) == (NAMESPACE, "jupyterhub-home")
    assert spec["storageClassName"] == "" and spec["persistentVolumeReclaimPolicy"] == "Retain"
    assert spec["accessModes"] == ["ReadWriteMany"]
    bound = claim(cluster)
    assert bound["spec"]["volumeName"] == name and bound["spec"]["storageClassName"] == ""
    assert bound["status"]["phase"] == "Bound" and made["status"]["phase"] == "Bound"
    assert spec["claimRef"].get("uid") == bound["metadata"]["uid"]
    assert last_value(result, host, "nfs_home_hub_values") == STORAGE_VALUES


def test_the_job_runs_as_the_owner_on_vanilla_and_as_the_assigned_uid_on_openshift(runs):
    [on_openshift] = jobs(runs.openshift)
    [on_vanilla] = jobs(runs.vanilla)
    openshift_security = on_openshift["spec"]["template"]["spec"]["securityContext"]
    vanilla_security = on_vanilla["spec"]["template"]["spec"]["securityContext"]
    assert openshift_security["runAsNonRoot"] is True and vanilla_security["runAsNonRoot"] is True
    assert "runAsUser" not in openshift_security and "runAsGroup" not in openshift_security
    assert (vanilla_security["runAsUser"], vanilla_security["runAsGroup"]) == (1000, 100)
    for job in (on_openshift, on_vanilla):
        container = job["spec"]["template"]["spec"]["containers"][0]["securityContext"]
        assert container["allowPrivilegeEscalation"] is False and container["capabilities"] == {"drop": ["ALL"]}


def test_a_failed_job_fails_the_run_with_the_end_of_its_log(runs):
    code, result = runs.converge
    assert code != 0
    assert stats(result, "failing")["failures"] == 1
    [job] = jobs(runs.openshift, "jupyterhub-fails")
    assert finished(job, "Failed")
    failure = host_messages(result, "failing")[-1]
    assert "failed" in failure and PERMISSION_DENIED in failure and job["metadata"]["name"] in failure, failure
    # Nothing is made for a directory that was not.
    assert claim(runs.openshift, "jupyterhub-fails") is None
    assert volume(runs.openshift, "hubfleet-home-failing-fails") is None


def test_a_foreign_volume_of_our_name_is_refused_by_name_and_left_alone(runs):
    _code, result = runs.converge
    assert stats(result, "foreign")["failures"] == 1
    assert any("PersistentVolume hubfleet-home-foreign-theirs" in m and "not managed by hubfleet" in m
               for m in host_messages(result, "foreign")), host_messages(result, "foreign")
    assert volume(runs.openshift, "hubfleet-home-foreign-theirs") == runs.foreign_before
    assert claim(runs.openshift, "jupyterhub-theirs") is None


@pytest.mark.parametrize("host, flavour", [("localhost", "openshift"), ("Vanilla_East", "vanilla")])
def test_a_second_run_finds_the_finished_job_and_writes_nothing(runs, host, flavour):
    code, result = runs.again
    assert stats(result, host)["failures"] == 0, host_messages(result, host)
    assert stats(result, host)["changed"] == 0, reported(result, host)
    assert runs.again_writes[flavour]["writes"] == 0, runs.again_writes[flavour]
    assert runs.again_versions[flavour] == runs.converged_versions[flavour]
    assert runs.after_again[flavour] == runs.after_converge[flavour]
    assert last_value(result, host, "nfs_home_hub_values") == STORAGE_VALUES
    assert code == 0


def test_another_mode_runs_a_new_job_and_removes_the_old_one(runs):
    _code, result = runs.again
    assert stats(result, "lifecycle")["failures"] == 0, host_messages(result, "lifecycle")
    assert len(runs.first_job) == 1
    names = [each["metadata"]["name"] for each in jobs(runs.lifecycle)]
    assert runs.first_job[0] not in names, f"the Job of the earlier settings is left: {names}"
    [job] = jobs(runs.lifecycle)
    assert job["metadata"]["name"].startswith(JOB_PREFIX)
    assert finished(job, "Complete")
    env = {e["name"]: e["value"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["MODE"] == "0770"


def test_absent_removes_claim_volume_and_jobs_and_runs_nothing_on_the_data(runs):
    _code, result = runs.again
    assert stats(result, "removal")["failures"] == 0, host_messages(result, "removal")
    assert stats(result, "removal")["changed"] > 0
    before = runs.removal_before
    assert len(before["jobs"]) == 1 and len(before["persistentvolumes"]) == 1
    assert claim(runs.removal) is None
    assert volume(runs.removal, "hubfleet-home-removal-demo") is None
    assert [job["metadata"]["name"] for job in jobs(runs.removal)] == [], "share-creator Jobs are left"
    # No Job, no pod was made to touch the directory: only deletions were asked for.
    counts = runs.removal_counts
    assert not [key for key in counts if key.split(" ")[0] in ("create", "update")], counts
    assert counts.get("delete persistentvolumeclaims") == 1 and counts.get("delete persistentvolumes") == 1, counts
    assert runs.removal.objects("pods", NAMESPACE) == []
    # Nothing handed on for a hub without NFS homes.
    assert "nfs_home_hub_values' is undefined" in str(last_value(result, "removal", "nfs_home_hub_values"))


def test_check_mode_on_a_fresh_cluster_reports_and_writes_nothing(runs):
    code, result = runs.check
    assert code == 0, host_messages(result, "localhost")
    assert stats(result, "localhost")["changed"] > 0
    told = reported(result, "localhost")
    assert any("would create" in line and f"Job {NAMESPACE}/{JOB_PREFIX}" in line for line in told), told
    assert any("would create" in line and "PersistentVolume hubfleet-home-localhost-demo" in line
               for line in told), told
    assert stored_version(runs.fresh) == runs.fresh_version
    assert held(runs.fresh) == {"jobs": [], "pods": [], "persistentvolumes": [], "persistentvolumeclaims": []}
    assert runs.check_requests["writes"] == 0, runs.check_requests
    # The cluster-scoped volumes (the base share's, the hub's) were asked of the API server as dry runs; the
    # namespaced objects could not be.
    assert runs.check_requests["counts"].get("dry-run-patch persistentvolumes") == 2, runs.check_requests
