"""Our hub config under the real JupyterHub and KubeSpawner of each chart line's hub image.

Those packages clash with each other and with this venv, so the tests (tests/hub/in_venv) run
in one venv per chart line, .venv-hub/<chart version>; this file starts them there and fails
with their output (docs/hub_config_tests.md). The chart lines run side by side to save time.
"""
import importlib.util
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "hub_tests_run", Path(__file__).resolve().parents[1] / "hub" / "run.py")
hub_tests = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hub_tests)

TIMEOUT = 300


@pytest.fixture(name="hub_test_runs", scope="module")
def hub_test_runs_fixture():
    """{chart version: (process, output file)}, started on first use: all chart lines at once,
    or only the one asked for under pytest-xdist, where each worker runs its own."""
    runs = {}

    def run(chart_version):
        if chart_version not in runs:
            wanted = [chart_version] if os.environ.get("PYTEST_XDIST_WORKER") else hub_tests.CHART_VERSIONS
            for version in wanted:
                if version not in runs and hub_tests.venv_python(version).exists():
                    output = tempfile.TemporaryFile("w+")  # pylint: disable=consider-using-with
                    runs[version] = hub_tests.start(version, output), output
        return runs.get(chart_version)

    yield run
    for process, output in runs.values():
        if process.poll() is None:
            process.kill()
            process.wait()
        output.close()


def test_there_are_chart_lines_to_test():
    assert hub_tests.CHART_VERSIONS, "no tests/hub/requirements-<chart version>.txt"


@pytest.mark.parametrize("chart_version", hub_tests.CHART_VERSIONS)
def test_hub_config_passes_in_the_hub_venv(hub_test_runs, chart_version):
    if not hub_tests.venv_python(chart_version).exists():
        pytest.fail(hub_tests.missing_venv_message(chart_version))
    process, output = hub_test_runs(chart_version)
    try:
        process.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail(f"the hub config tests in .venv-hub/{chart_version} took over {TIMEOUT}s")
    output.seek(0)
    assert process.returncode == 0, (
        f"the hub config tests failed in .venv-hub/{chart_version}"
        f" ({' '.join(hub_tests.command(chart_version))}):\n{output.read()}")
