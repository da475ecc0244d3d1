"""The job-template playbooks, run with ansible-playbook against an emulated cluster."""
import json
import os
import pathlib
import subprocess
import sys

import yaml

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


def play(playbook, inventory, *extra):
    """Run a playbook of this collection; returns (exit code, JSON callback result)."""
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
               ANSIBLE_COLLECTIONS_PATH=str(REPO_ROOT / ".build" / "collections"))
    command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), str(REPO_ROOT / "playbooks" / playbook),
               "-i", str(inventory)] + list(extra)
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    return done.returncode, json.loads(done.stdout)


def write_inventory(path, cluster, hubs):
    host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
            "cluster_kubeconfig": str(cluster.kubeconfig), "hubs": hubs}
    path.write_text(yaml.safe_dump({"clusters": {"hosts": {"local": host}}}))
    return path


def recap(result):
    return result["stats"]["local"]


def test_precreate_user_projects_is_a_job_template(cluster, tmp_path):
    hubs = [{"name": "demo", "namespace": "jupyterhub-demo",
             "user_projects": {"users": ["alice", "bob"], "quota": {"requests.cpu": "2"}, "spawner_access": True}}]
    inventory = write_inventory(tmp_path / "hosts.yml", cluster, hubs)
    code, result = play("precreate_user_projects.yml", inventory, "-e", "hub=demo")
    assert code == 0, result
    assert recap(result)["changed"] == 1
    bindings = cluster.objects("rolebindings", "bob-workspace", "rbac.authorization.k8s.io")
    spawner = [b for b in bindings if b["metadata"]["name"] == "hubfleet-hub-spawner"][0]
    assert spawner["subjects"][0]["namespace"] == "jupyterhub-demo"

    code, result = play("precreate_user_projects.yml", inventory, "-e", "hub=demo")
    assert code == 0 and recap(result)["changed"] == 0

    code, result = play("precreate_user_projects.yml", inventory, "-e", "hub=demo",
                        "-e", '{"user_projects_users": ["alice"], "user_projects_prune": "true"}')
    assert code != 0 and recap(result)["failures"] == 1
    assert "bob-workspace" in [ns["metadata"]["name"] for ns in cluster.objects("namespaces")]

    code, result = play("precreate_user_projects.yml", inventory, "-e", "hub=nope")
    assert code != 0
    assert "one of the hubs of this cluster (demo)" in json.dumps(result)


def test_reset_user_storage_is_a_job_template(cluster, tmp_path):
    cluster.control.seed([
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "jupyterhub-demo"}},
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
         "metadata": {"name": "claim-alice", "namespace": "jupyterhub-demo", "labels": {"component": "singleuser-storage"},
                      "annotations": {"hub.jupyter.org/username": "alice"}},
         "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}])
    hubs = [{"name": "demo", "namespace": "jupyterhub-demo"}]
    inventory = write_inventory(tmp_path / "hosts.yml", cluster, hubs)
    code, result = play("reset_user_storage.yml", inventory, "-e", "cluster=local hub=demo user=alice backup=snapshot")
    assert code == 0, result
    assert [s["metadata"]["name"].startswith("claim-alice-reset-")
            for s in cluster.objects("volumesnapshots", "jupyterhub-demo", "snapshot.storage.k8s.io")] == [True]
    assert cluster.objects("persistentvolumeclaims", "jupyterhub-demo") == []

    code, result = play("reset_user_storage.yml", inventory, "-e", "cluster=local hub=demo user=alice backup=tape")
    assert code != 0 and "backup='tape'" in json.dumps(result)
