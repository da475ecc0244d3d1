"""The command line: start and stop a background emulator, run a command against a fresh or a kept one."""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

from .conftest import REPO_ROOT, TOOL_TIMEOUT


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "tests.emulator", *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=TOOL_TIMEOUT, env=env, check=False)


def _server(kubeconfig):
    return json.loads(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]


def _healthy(url):
    try:
        with urllib.request.urlopen(f"{url}/_emulator/healthz", timeout=2) as response:
            return response.read() == b"ok"
    except OSError:
        return False


def test_start_and_stop(tmp_path, kubectl):
    kubeconfig, state = tmp_path / "kubeconfig", tmp_path / "state"
    started = _cli("start", "--kubeconfig", str(kubeconfig), "--state-dir", str(state))
    assert started.returncode == 0, started.stderr
    try:
        url = _server(kubeconfig)
        assert f"emulator running at {url}" in started.stdout
        assert _healthy(url)
        assert oct(kubeconfig.stat().st_mode & 0o777) == "0o600"
        config = json.loads(kubeconfig.read_text())
        assert {c["name"] for c in config["contexts"]} == {"emulator", "emulator-developer"}
        env = {**kubectl.env, "KUBECONFIG": str(kubeconfig)}
        done = subprocess.run([kubectl.binary, "get", "namespaces", "-o", "name"], env=env, capture_output=True,
                              text=True, timeout=TOOL_TIMEOUT, check=True)
        assert "namespace/default" in done.stdout.split()
    finally:
        stopped = _cli("stop", "--state-dir", str(state))
    assert stopped.returncode == 0, stopped.stderr
    assert not (state / "pid").exists()
    assert not _healthy(url)


def test_stop_without_a_running_emulator_does_nothing(tmp_path):
    assert _cli("stop", "--state-dir", str(tmp_path)).returncode == 0


def test_run_gives_the_command_a_kubeconfig_and_its_exit_code(tmp_path, kubectl):
    kubeconfig = tmp_path / "kubeconfig"
    env = {**kubectl.env, "PATH": f"{os.path.dirname(kubectl.binary)}{os.pathsep}{os.environ.get('PATH', '')}"}
    script = ("kubectl create namespace from-run >/dev/null && kubectl api-resources --api-group=route.openshift.io "
              "-o name && exit 7")
    done = _cli("run", "--vanilla", "--kubeconfig", str(kubeconfig), "--", "sh", "-c", script, env=env)
    assert done.returncode == 7, done.stderr
    assert done.stdout == ""
    assert f"kubeconfig of the emulated cluster was: {kubeconfig}" in done.stderr
    assert not _healthy(_server(kubeconfig))


def test_run_on_openshift_serves_routes(tmp_path, kubectl):
    env = {**kubectl.env, "PATH": f"{os.path.dirname(kubectl.binary)}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = _cli("run", "--kubeconfig", str(tmp_path / "kubeconfig"), "--", "kubectl", "api-resources",
                "--api-group=route.openshift.io", "-o", "name", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["routes.route.openshift.io"]


def test_run_without_a_command_fails(tmp_path):
    done = _cli("run", "--kubeconfig", str(tmp_path / "kubeconfig"))
    assert done.returncode != 0
    assert "run needs a command" in done.stderr


def _kubectl(kubectl, kubeconfig, *args):
    return subprocess.run([kubectl.binary, *args], env={**kubectl.env, "KUBECONFIG": str(kubeconfig)},
                          capture_output=True, text=True, timeout=TOOL_TIMEOUT, check=False)


def _wait_for_kubeconfig(kubeconfig, process):
    deadline = time.monotonic() + TOOL_TIMEOUT
    while not (kubeconfig.exists() and _healthy(_server(kubeconfig))):
        assert process.poll() is None and time.monotonic() < deadline, "serve did not answer"
        time.sleep(0.1)


def test_a_restarted_emulator_serves_the_cluster_kept_in_its_state_dir(tmp_path, kubectl):
    kubeconfig, state = tmp_path / "kubeconfig", tmp_path / "state"
    assert _cli("start", "--kubeconfig", str(kubeconfig), "--state-dir", str(state)).returncode == 0
    try:
        created = json.loads(_kubectl(kubectl, kubeconfig, "create", "configmap", "kept", "-o", "json").stdout)
    finally:
        assert _cli("stop", "--state-dir", str(state)).returncode == 0
    assert (state / "cluster.json").exists()
    assert _cli("start", "--kubeconfig", str(kubeconfig), "--state-dir", str(state)).returncode == 0
    try:
        kept = json.loads(_kubectl(kubectl, kubeconfig, "get", "configmap", "kept", "-o", "json").stdout)
        assert kept["metadata"]["uid"] == created["metadata"]["uid"]
        later = json.loads(_kubectl(kubectl, kubeconfig, "create", "configmap", "later", "-o", "json").stdout)
        assert int(later["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    finally:
        assert _cli("stop", "--state-dir", str(state), "--forget").returncode == 0
    assert not (state / "cluster.json").exists()


def test_start_refuses_a_cluster_of_the_other_flavour_in_one_line(tmp_path):
    kubeconfig, state = tmp_path / "kubeconfig", tmp_path / "state"
    assert _cli("start", "--kubeconfig", str(kubeconfig), "--state-dir", str(state)).returncode == 0
    url = _server(kubeconfig)
    try:
        refused = _cli("start", "--vanilla", "--kubeconfig", str(kubeconfig), "--state-dir", str(state))
        assert refused.returncode == 1
        assert refused.stderr.count("\n") == 1
        assert "holds an OpenShift cluster, not a vanilla Kubernetes one: drop --vanilla" in refused.stderr
        # Refused before anything was stopped.
        assert _healthy(url)
    finally:
        _cli("stop", "--state-dir", str(state))


def test_status_says_whether_an_emulator_serves_from_the_state_dir(tmp_path):
    kubeconfig, state = tmp_path / "kubeconfig", tmp_path / "state"
    assert _cli("start", "--kubeconfig", str(kubeconfig), "--state-dir", str(state)).returncode == 0
    try:
        running = _cli("status", "--state-dir", str(state))
        assert (running.returncode, running.stdout) == (0, f"emulator running at {_server(kubeconfig)}\n")
    finally:
        _cli("stop", "--state-dir", str(state))
    assert _cli("status", "--state-dir", str(state)).returncode == 3


def test_ctrl_c_stops_serve_without_a_traceback_and_saves_the_cluster(tmp_path):
    kubeconfig, state = tmp_path / "kubeconfig", tmp_path / "state"
    process = subprocess.Popen([sys.executable, "-m", "tests.emulator", "serve", "--kubeconfig", str(kubeconfig),
                                "--state-dir", str(state)], cwd=REPO_ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_kubeconfig(kubeconfig, process)
        body = json.dumps({"metadata": {"name": "before-ctrl-c"}}).encode()
        request = urllib.request.Request(f"{_server(kubeconfig)}/api/v1/namespaces", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10):
            pass
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=TOOL_TIMEOUT)
    finally:
        process.kill()
    assert process.returncode == 130
    assert "Traceback" not in err
    assert f"cluster saved in {state / 'cluster.json'}" in out
    saved = json.loads((state / "cluster.json").read_text())
    assert "before-ctrl-c" in [entry["object"]["metadata"]["name"] for entry in saved["objects"]]
    assert not (state / "pid").exists()


def test_run_of_a_command_not_on_path_fails_in_one_line_and_stops_the_emulator(tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    done = _cli("run", "--kubeconfig", str(kubeconfig), "--", "no-such-command", "--version")
    assert done.returncode == 127
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1] == ("run: no-such-command is not on PATH; try .venv/bin/no-such-command, "
                                            "or make site")
    assert not _healthy(_server(kubeconfig))


def test_run_with_a_state_dir_starts_stops_and_keeps_the_cluster(tmp_path, kubectl):
    kubeconfig, state = tmp_path / "kubeconfig", tmp_path / "state"
    env = {**kubectl.env, "PATH": f"{os.path.dirname(kubectl.binary)}{os.pathsep}{os.environ.get('PATH', '')}"}
    first = _cli("run", "--kubeconfig", str(kubeconfig), "--state-dir", str(state), "--",
                 "kubectl", "create", "namespace", "from-first-run", env=env)
    assert first.returncode == 0, first.stderr
    assert first.stderr.splitlines()[-1] == (f"emulator stopped; its cluster is kept in {state}, for the next start "
                                             f"or run --state-dir {state}")
    assert not _healthy(_server(kubeconfig))
    second = _cli("run", "--kubeconfig", str(kubeconfig), "--state-dir", str(state), "--",
                  "kubectl", "get", "namespace", "from-first-run", "-o", "name", env=env)
    assert second.returncode == 0, second.stderr
    assert second.stdout == "namespace/from-first-run\n"


def test_run_uses_the_emulator_running_from_its_state_dir_and_leaves_it_running(tmp_path, kubectl):
    state = tmp_path / "state"
    assert _cli("start", "--kubeconfig", str(tmp_path / "started"), "--state-dir", str(state)).returncode == 0
    try:
        url = _server(tmp_path / "started")
        env = {**kubectl.env, "PATH": f"{os.path.dirname(kubectl.binary)}{os.pathsep}{os.environ.get('PATH', '')}"}
        done = _cli("run", "--kubeconfig", str(tmp_path / "run"), "--state-dir", str(state), "--",
                    "kubectl", "create", "namespace", "from-run", env=env)
        assert done.returncode == 0, done.stderr
        assert _server(tmp_path / "run") == url
        assert "emulator left running" in done.stderr.splitlines()[-1]
        assert _healthy(url)
        assert "from-run" in _kubectl(kubectl, tmp_path / "started", "get", "namespaces", "-o", "name").stdout
        refused = _cli("run", "--vanilla", "--kubeconfig", str(tmp_path / "run"), "--state-dir", str(state), "--",
                       "true")
        assert (refused.returncode, refused.stderr.count("\n")) == (1, 1)
        assert "holds an OpenShift cluster, not a vanilla Kubernetes one" in refused.stderr
    finally:
        _cli("stop", "--state-dir", str(state))


def test_serve_refuses_a_state_dir_another_emulator_serves_from(tmp_path):
    state = tmp_path / "state"
    assert _cli("start", "--kubeconfig", str(tmp_path / "kubeconfig"), "--state-dir", str(state)).returncode == 0
    try:
        refused = _cli("serve", "--kubeconfig", str(tmp_path / "second"), "--state-dir", str(state))
        assert refused.returncode == 1
        assert f"another emulator (pid {(state / 'pid').read_text()}) serves from {state}" in refused.stderr
        assert not (tmp_path / "second").exists()
    finally:
        _cli("stop", "--state-dir", str(state))


def test_start_serves_a_chosen_kubernetes_version_and_keeps_it(tmp_path, kubectl):
    kubeconfig, state = tmp_path / "kubeconfig", tmp_path / "state"
    started = _cli("start", "--kube-version", "1.27.3", "--kubeconfig", str(kubeconfig), "--state-dir", str(state))
    assert started.returncode == 0, started.stderr
    try:
        url = _server(kubeconfig)
        version = json.loads(_kubectl(kubectl, kubeconfig, "version", "-o", "json").stdout)["serverVersion"]
        assert (version["major"], version["minor"], version["gitVersion"]) == ("1", "27", "v1.27.3")
        refused = _cli("start", "--kube-version", "1.28.0", "--kubeconfig", str(kubeconfig), "--state-dir", str(state))
        assert (refused.returncode, refused.stderr.count("\n")) == (1, 1)
        assert "holds a Kubernetes v1.27.3 cluster, not v1.28.0: drop --kube-version" in refused.stderr
        assert _healthy(url)  # refused before anything was stopped
    finally:
        _cli("stop", "--state-dir", str(state))
    env = {**kubectl.env, "PATH": f"{os.path.dirname(kubectl.binary)}{os.pathsep}{os.environ.get('PATH', '')}"}
    kept = _cli("run", "--kubeconfig", str(kubeconfig), "--state-dir", str(state), "--",
                "kubectl", "version", "-o", "json", env=env)
    assert kept.returncode == 0, kept.stderr
    assert json.loads(kept.stdout)["serverVersion"]["gitVersion"] == "v1.27.3"


def test_run_with_a_malformed_kubernetes_version_fails_in_one_line(tmp_path):
    done = _cli("run", "--kube-version", "latest", "--kubeconfig", str(tmp_path / "kubeconfig"), "--", "true")
    assert done.returncode == 2
    assert "argument --kube-version: invalid kube_version value: 'latest'" in done.stderr
    assert "Traceback" not in done.stderr
