"""`make site` and `make cluster-up|cluster-down|cluster-reset` on an emulated cluster kept between runs
(EMULATOR_STATE), and the operations playbooks on that cluster: one sequence, as a developer runs them."""
import json
import os
import pathlib
import re
import subprocess
import sys

import yaml

from tests.emulator.control_client import ControlClient

from .test_playbooks import messages, play

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
KUBECTL = REPO_ROOT / ".tools" / "bin" / "kubectl"
# The make of a test must not take options from a make that runs pytest, nor a cluster from the caller.
NOT_INHERITED = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "KUBECONFIG", "ANSIBLE_STDOUT_CALLBACK")


def make(target, state):
    """Run a make target; its exit code and its output, stdout and stderr in the order printed."""
    env = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
    done = subprocess.run(["make", "--no-print-directory", target, f"EMULATOR_STATE={state}"], cwd=REPO_ROOT,
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300,
                          check=False)
    return done.returncode, done.stdout


def changed(output):
    """The `changed` count of the play recap: the cluster `local` and its hub `local/demo`."""
    found = dict(re.findall(r"^(local|local/demo)\s+: ok=\d+\s+changed=(\d+)", output, re.MULTILINE))
    assert set(found) == {"local", "local/demo"}, output
    return sum(int(count) for count in found.values())


def last_line(output):
    return output.rstrip("\n").splitlines()[-1]


def serving(state):
    return subprocess.run([sys.executable, "-m", "tests.emulator", "status", "--state-dir", str(state)],
                          cwd=REPO_ROOT, capture_output=True, timeout=60, check=False).returncode == 0


def kubectl(kubeconfig, *args):
    return subprocess.run([str(KUBECTL), "--kubeconfig", str(kubeconfig), "--request-timeout", "5s", *args],
                          capture_output=True, text=True, timeout=60, check=False)


def stop(state):
    subprocess.run([sys.executable, "-m", "tests.emulator", "stop", "--state-dir", str(state)], cwd=REPO_ROOT,
                   timeout=60, check=False)


def test_make_site_the_cluster_commands_and_the_operations_playbooks_in_sequence(tmp_path):
    """What a developer does after a fresh clone, in order, on one cluster state: `make site` (its own emulator,
    stopped at the end, its summary and URL printed), `make cluster-up` (the kept state served), `make site`
    again (nothing changes), the operations playbooks of docs/user_projects.md and docs/user_storage.md on that
    cluster, `make cluster-down`, `make cluster-up`, `make cluster-reset`."""
    state = tmp_path / "emulator"
    kubeconfig = state / "kubeconfig"
    try:
        code, first = make("site", state)
        assert code == 0, first
        assert changed(first) > 0
        assert "Hub local/demo: changed, https://demo.apps.emulator.local" in first
        # The emulator `make site` started is gone: the last line says how to serve the kept state again.
        assert not serving(state)
        assert last_line(first) == (f"The emulated cluster is stopped, its state kept in {state}: make EMULATOR_STATE="
                                    f"{state} cluster-up serves it again, with the kubeconfig {state}/kubeconfig.")

        code, up = make("cluster-up", state)
        assert code == 0, up
        assert f"kubeconfig: {kubeconfig}" in up
        assert last_line(up) == f"export KUBECONFIG={kubeconfig}"
        assert kubectl(kubeconfig, "get", "namespace", "jupyterhub-demo").returncode == 0

        code, second = make("site", state)
        assert code == 0, second
        assert changed(second) == 0, second
        assert "Hub local/demo: ok, https://demo.apps.emulator.local" in second
        assert last_line(second) == (f"The emulated cluster is still running: export KUBECONFIG={kubeconfig}; "
                                     f"make EMULATOR_STATE={state} cluster-down stops it.")

        run_the_operations_playbooks(kubeconfig)

        code, down = make("cluster-down", state)
        assert code == 0, down
        assert not serving(state)
        assert kubectl(kubeconfig, "get", "namespace", "default").returncode != 0
        assert (state / "cluster.json").exists()

        code, up = make("cluster-up", state)
        assert code == 0, up
        assert kubectl(kubeconfig, "get", "namespace", "jupyterhub-demo").returncode == 0

        code, reset = make("cluster-reset", state)
        assert code == 0, reset
        assert not serving(state)
        assert not (state / "cluster.json").exists()
    finally:
        stop(state)


def run_the_operations_playbooks(kubeconfig):
    """The commands docs/user_projects.md and docs/user_storage.md show for `make site`'s cluster."""
    local = REPO_ROOT / "inventory" / "local"
    env = {"KUBECONFIG": str(kubeconfig)}
    control = ControlClient(json.loads(kubeconfig.read_text())["clusters"][0]["cluster"]["server"])
    code, result = play("precreate_user_projects.yml", local, "-e", "hub=demo", env=env)
    assert code == 0, messages(result)
    namespaces = kubectl(kubeconfig, "get", "namespaces", "-o", "name").stdout.split()
    assert {"namespace/jupyterhub-demo-alice", "namespace/jupyterhub-demo-bob"} <= set(namespaces)
    control.seed([yaml.safe_load((local / "files" / "claim-alice.yml").read_text())])
    code, result = play("reset_user_storage.yml", local, "-e", "cluster=local hub=demo user=alice", env=env)
    assert code == 0, messages(result)
    assert "PVC jupyterhub-demo/claim-alice (annotations): deleted" in messages(result)
    # The hub's NFS home claim (inventory/local has nfs_home) and the chart's database claim stay; alice's is gone.
    claims = kubectl(kubeconfig, "get", "persistentvolumeclaims", "-n", "jupyterhub-demo", "-o", "name").stdout.split()
    assert sorted(claims) == ["persistentvolumeclaim/hub-db-dir", "persistentvolumeclaim/jupyterhub-home"]
