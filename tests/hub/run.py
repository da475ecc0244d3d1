"""Run the hub config tests (tests/hub/in_venv) inside each chart line's hub venv.

    .venv/bin/python tests/hub/run.py                 # every chart line
    .venv/bin/python tests/hub/run.py 4.4.0 -- -x -v  # one line, with pytest options

Any Python runs this file; the tests themselves run in .venv-hub/<chart version>, which
scripts/hub_venvs.sh (part of `make setup`) builds. The main suite goes through the same
functions: tests/unit/test_hub_config_in_real_kubespawner.py. See docs/hub_config_tests.md.
"""
import os
import subprocess
import sys
from pathlib import Path

HUB_TESTS = Path(__file__).resolve().parent
REPO = HUB_TESTS.parents[1]
# One chart line per pin file; scripts/hub_venvs.sh makes a venv of each.
CHART_VERSIONS = sorted(path.stem.removeprefix("requirements-") for path in HUB_TESTS.glob("requirements-*.txt"))
# Settings of the calling pytest or venv that must not reach the hub venv's pytest.
UNSET = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")


def venv_python(chart_version):
    return REPO / ".venv-hub" / chart_version / "bin" / "python"


def missing_venv_message(chart_version):
    return (f"the hub venv .venv-hub/{chart_version} is missing: run `make setup`"
            f" (scripts/hub_venvs.sh builds it from tests/hub/requirements-{chart_version}.txt)")


def command(chart_version, *pytest_args):
    return [str(venv_python(chart_version)), "-m", "pytest", "-q", str(HUB_TESTS / "in_venv"), *pytest_args]


def environment():
    return {name: value for name, value in os.environ.items() if name not in UNSET}


def start(chart_version, output, *pytest_args):
    """Start the tests of one chart line, their output going to the open file `output`."""
    return subprocess.Popen(command(chart_version, *pytest_args), cwd=REPO, env=environment(),
                            stdout=output, stderr=subprocess.STDOUT, text=True)


def main(argv):
    versions, pytest_args = argv, []
    if "--" in argv:
        versions, pytest_args = argv[:argv.index("--")], argv[argv.index("--") + 1:]
    unknown = set(versions) - set(CHART_VERSIONS)
    if unknown:
        print(f"no pins for chart {', '.join(sorted(unknown))}; known: {', '.join(CHART_VERSIONS)}", file=sys.stderr)
        return 2
    failed = []
    for version in versions or CHART_VERSIONS:
        print(f"== chart {version}: {venv_python(version).relative_to(REPO)}", flush=True)
        if not venv_python(version).exists():
            print(missing_venv_message(version), file=sys.stderr)
            failed.append(version)
            continue
        if subprocess.run(command(version, *pytest_args), cwd=REPO, env=environment(), check=False).returncode:
            failed.append(version)
    if failed:
        print(f"hub config tests failed for chart {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
