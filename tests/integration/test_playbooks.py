"""The job-template playbooks, run with ansible-playbook against an emulated cluster."""
import json
import os
import pathlib
import subprocess
import sys

import yaml

from ansible_collections.hubfleet.jupyterhub.plugins.modules import user_project

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


def play(playbook, inventory, *extra, callback="ansible.posix.json", env=None):
    """Run a playbook of this collection; returns (exit code, JSON callback result).

    KUBECONFIG points nowhere: the cluster is reached only through the inventory's cluster_*
    variables, as the shared auth block (playbooks/vars/cluster_auth.yml) passes them on."""
    env = dict(dict(os.environ, ANSIBLE_STDOUT_CALLBACK=callback, KUBECONFIG="/nonexistent/kubeconfig",
                    ANSIBLE_COLLECTIONS_PATH=str(REPO_ROOT / ".build" / "collections")), **(env or {}))
    path = playbook if os.path.isabs(str(playbook)) else REPO_ROOT / "playbooks" / playbook
    command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), str(path),
               "-i", str(inventory)] + list(extra)
    # From the inventory's directory: site.yml's report (./hubfleet-report) lands beside it, not in the checkout.
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False,
                          cwd=pathlib.Path(inventory).parent)
    return done.returncode, json.loads(done.stdout) if callback.endswith("json") else done.stdout


def write_inventory(path, cluster, hubs, **host_vars):
    host = dict({"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                 "cluster_kubeconfig": str(cluster.kubeconfig), "hubs": hubs}, **host_vars)
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
    # The account site.yml makes for the hub (roles/service_account).
    assert spawner["subjects"][0] == {"kind": "ServiceAccount", "name": "jupyterhub-hub", "namespace": "jupyterhub-demo"}

    code, result = play("precreate_user_projects.yml", inventory, "-e", "hub=demo")
    assert code == 0 and recap(result)["changed"] == 0

    code, result = play("precreate_user_projects.yml", inventory, "-e", "hub=demo",
                        "-e", '{"user_projects_users": ["alice"], "user_projects_prune": "true"}')
    assert code != 0 and recap(result)["failures"] == 1
    assert "bob-workspace" in [ns["metadata"]["name"] for ns in cluster.objects("namespaces")]

    code, result = play("precreate_user_projects.yml", inventory, "-e", "hub=nope")
    assert code != 0
    assert "set the extra variable 'hub' to one of the hubs of the inventory (demo); got 'nope'" in json.dumps(result)


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


def messages(result):
    """Every `msg` of every task result, for asserting on what a user would read."""
    found = []
    for task in (t for p in result["plays"] for t in p["tasks"]):
        for host_result in task["hosts"].values():
            for item in host_result.get("results", [host_result]):
                if item.get("msg"):
                    found.append(str(item["msg"]))
    return found


def test_operations_playbooks_fail_on_a_cluster_or_hub_the_inventory_does_not_know(cluster, tmp_path):
    inventory = write_inventory(tmp_path / "hosts.yml", cluster, [{"name": "demo", "namespace": "jupyterhub-demo"}])
    cases = [
        ("reset_user_storage.yml", "hub=demo user=alice", "set the extra variable 'cluster' to one of the clusters of "
                                                          "the inventory (local); got ''"),
        ("reset_user_storage.yml", "cluster=locall hub=demo user=alice", "got 'locall'"),
        ("reset_user_storage.yml", "cluster=local hub=dmeo user=alice", "one of the hubs of cluster local (demo); got 'dmeo'"),
        ("precreate_user_projects.yml", "cluster=nowhere hub=demo", "clusters of the inventory (local); got 'nowhere'"),
        ("precreate_user_projects.yml", "cluster=local", "one of the hubs of cluster local (demo); got ''"),
    ]
    for playbook, extra, expected in cases:
        code, result = play(playbook, inventory, "-e", extra)
        assert code != 0, (playbook, extra)
        assert any(expected in message for message in messages(result)), (playbook, extra, messages(result))
    assert cluster.writes() == 0


def test_the_default_output_shows_each_users_outcome(cluster, tmp_path):
    hubs = [{"name": "demo", "namespace": "jupyterhub-demo", "user_projects": {"users": ["alice", "bob"]}}]
    inventory = write_inventory(tmp_path / "hosts.yml", cluster, hubs)
    code, output = play("precreate_user_projects.yml", inventory, "-e", "hub=demo", callback="ansible.builtin.default")
    assert code == 0, output
    assert "alice-workspace: created (create Namespace/alice-workspace, " \
           "create RoleBinding/hubfleet-user-access-admin)" in output
    assert "bob-workspace: created" in output


def test_one_auth_block_reaches_the_cluster_for_every_module_group(cluster, tmp_path):
    """Our modules, kubernetes.core's k8s and helm modules and community.okd's take cluster access
    from the one block in playbooks/vars/cluster_auth.yml (KUBECONFIG points nowhere here)."""
    inventory = write_inventory(tmp_path / "hosts.yml", cluster, [])
    code, result = play(REPO_ROOT / "tests" / "integration" / "playbooks" / "auth_group.yml", inventory)
    assert code == 0, messages(result)
    assert recap(result)["failures"] == 0 and recap(result)["ok"] == 4


def test_helm_incompatible_access_settings_fail_the_cluster_before_any_write(cluster, tmp_path):
    hubs = [{"name": "demo", "namespace": "jupyterhub-demo"}]
    inventory = write_inventory(tmp_path / "hosts.yml", cluster, hubs, cluster_context="emulator",
                                cluster_validate_certs=False)
    code, result = play(REPO_ROOT / "site.yml", inventory)
    assert code != 0
    assert any("local: cluster_context cannot be combined with cluster_validate_certs" in message
               for message in messages(result))
    assert cluster.writes() == 0


def test_the_user_project_examples_are_safe_to_run_in_sequence(cluster, tmp_path):
    """Run the module's EXAMPLES one after the other, as a reader would: the second (removing the
    projects of users who left) must leave the remaining user's quota, limits and access alone."""
    playbook = tmp_path / "examples.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "user_project EXAMPLES", "hosts": "clusters", "connection": "local", "gather_facts": False,
        "vars": {"current_users": ["alice"]},
        "module_defaults": {"hubfleet.jupyterhub.user_project": {"kubeconfig": str(cluster.kubeconfig)}},
        "tasks": yaml.safe_load(user_project.EXAMPLES)}]))
    code, result = play(playbook, write_inventory(tmp_path / "hosts.yml", cluster, []))
    assert code == 0, messages(result)
    first, second = [t["hosts"]["local"] for t in result["plays"][0]["tasks"]]
    assert [u["status"] for u in first["users"]] == ["created", "created"]
    outcome = [(u["name"], u["status"]) for u in second["users"]]
    assert outcome == [("alice", "unchanged"), ("Bob.Smith@example.org", "removed")]
    assert cluster.objects("resourcequotas", "alice-workspace")[0]["spec"]["hard"]["requests.cpu"] == "2"
    assert cluster.objects("limitranges", "alice-workspace")
    assert [r["metadata"]["name"] for r in cluster.objects("roles", "alice-workspace", "rbac.authorization.k8s.io")] == \
        ["hubfleet-hub-spawner"]
