"""Fixtures for the benchmarks: a fresh emulator per measured phase, started with the emulator's CLI
(a separate process, as a real API server would be, so it does not share a CPU budget with pytest's
interpreter lock)."""
import json
import pathlib
import subprocess
import sys
import urllib.request

import pytest

from tests.emulator.chart_mirror import DEFAULT_DIR, ChartMirror
from tests.emulator.control_client import ControlClient

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


class Emulator:
    """An emulator started with `python -m tests.emulator start` in its own state directory."""

    def __init__(self, home, openshift=True):
        self.state_dir = home / "state"
        self.kubeconfig = home / "kubeconfig"
        command = [sys.executable, "-m", "tests.emulator", "start", "--port", "0",
                   "--kubeconfig", str(self.kubeconfig), "--state-dir", str(self.state_dir)]
        subprocess.run(command + ([] if openshift else ["--vanilla"]), cwd=REPO_ROOT, check=True, timeout=60,
                       stdout=subprocess.DEVNULL)
        self.url = json.loads(self.kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
        self.control = ControlClient(self.url)

    def get(self, path):
        """GET as the admin (the emulator's default without a token); the parsed body."""
        with urllib.request.urlopen(self.url + path, timeout=30) as response:
            return json.loads(response.read())

    def stop(self):
        subprocess.run([sys.executable, "-m", "tests.emulator", "stop", "--state-dir", str(self.state_dir)],
                       cwd=REPO_ROOT, check=True, timeout=30)


@pytest.fixture
def start_emulator(tmp_path):
    """start_emulator(name, openshift=True): a fresh emulator; all are stopped after the test."""
    started = []

    def start(name, openshift=True):
        started.append(Emulator(tmp_path / name, openshift))
        return started[-1]

    yield start
    for emulator in started:
        emulator.stop()


@pytest.fixture(scope="session")
def chart_mirror():
    """The URL of a local chart repository serving the real Zero-to-JupyterHub charts of ../shared/z2jh."""
    if not (DEFAULT_DIR / "index.yaml").is_file():
        pytest.skip("no chart repository in %s (the site.yml benchmarks install the real chart from it)" % DEFAULT_DIR)
    mirror = ChartMirror(DEFAULT_DIR)
    yield mirror.start()
    mirror.stop()
