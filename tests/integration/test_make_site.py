"""`make site` and `make cluster-up|cluster-down|cluster-reset` on an emulated cluster kept between runs,
each in a state directory of its own (EMULATOR_STATE)."""
import os
import pathlib
import re
import subprocess
import sys

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


def test_make_site_twice_changes_nothing_the_second_time(tmp_path):
    state = tmp_path / "emulator"
    code, first = make("site", state)
    assert code == 0, first
    assert changed(first) > 0
    code, second = make("site", state)
    assert code == 0, second
    assert changed(second) == 0, second
    # The emulator `make site` started is gone: the last line says how to serve the kept state again.
    assert not serving(state)
    assert last_line(second) == (f"The emulated cluster is stopped, its state kept in {state}: make EMULATOR_STATE="
                                 f"{state} cluster-up serves it again, with the kubeconfig {state}/kubeconfig.")


def test_cluster_up_is_what_make_site_uses_and_cluster_down_keeps_it(tmp_path):
    state = tmp_path / "emulator"
    kubeconfig = state / "kubeconfig"
    try:
        code, up = make("cluster-up", state)
        assert code == 0, up
        assert f"kubeconfig: {kubeconfig}" in up
        assert last_line(up) == f"export KUBECONFIG={kubeconfig}"
        assert kubectl(kubeconfig, "get", "namespace", "default").returncode == 0

        code, site = make("site", state)
        assert code == 0, site
        assert changed(site) > 0
        assert last_line(site) == (f"The emulated cluster is still running: export KUBECONFIG={kubeconfig}; "
                                   f"make EMULATOR_STATE={state} cluster-down stops it.")
        assert kubectl(kubeconfig, "get", "namespace", "jupyterhub-demo").returncode == 0

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
