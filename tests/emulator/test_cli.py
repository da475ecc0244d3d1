"""The command line: start and stop a background emulator, run a command against a fresh one."""
import json
import os
import subprocess
import sys
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
