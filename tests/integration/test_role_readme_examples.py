"""The play each role's README shows first, run as a reader would: ansible-playbook with KUBECONFIG set,
against an OpenShift emulator whose hub namespace exists.

Each example gets a cluster of its own, and the examples run at the same time (one ansible-playbook
each); the tests below read their outcomes."""
import concurrent.futures
import re
import sys

import pytest
import yaml

from tests.emulator.chart_mirror import DEFAULT_DIR, ChartMirror

from .test_playbooks import REPO_ROOT, play
from .scenarios import Emulators, host_messages, host_results, namespace, stored_version

READMES = sorted((REPO_ROOT / "roles").glob("*/README.md"))
FIRST_YAML_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)


def example(readme):
    """The README's first ```yaml block, which must be a play."""
    found = FIRST_YAML_BLOCK.search(readme.read_text())
    assert found, "%s has no ```yaml block" % readme
    plays = yaml.safe_load(found.group(1))
    assert isinstance(plays, list) and plays and all("hosts" in p for p in plays), readme
    return plays


def namespaces(plays):
    """The namespaces the example's roles are given (their *_namespace variables)."""
    return sorted({value for p in plays for role in p.get("roles", []) if isinstance(role, dict)
                   for key, value in role.items() if key.endswith("_namespace")})


def shown_vars(plays):
    """The variables the example's post_tasks show with debug."""
    return [task["ansible.builtin.debug"]["var"] for p in plays for task in p.get("post_tasks", [])
            if "var" in (task.get("ansible.builtin.debug") or {})]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """{role: (exit code, JSON result, cluster, what the cluster had stored before)} for every README."""
    root = tmp_path_factory.mktemp("readme_examples")
    emulators = Emulators(root)
    inventory = root / "hosts.ini"
    inventory.write_text("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    prepared = {}

    def run(role):
        playbook, cluster, _before = prepared[role]
        return play(playbook, inventory, env={"KUBECONFIG": str(cluster.kubeconfig), "TMPDIR": str(root / role),
                                              "HUBFLEET_CHART_REPO_URL": mirror})

    # The hub role's example installs the real chart: from the local mirror, as an air-gapped site would.
    mirror_server = ChartMirror(DEFAULT_DIR)
    mirror = mirror_server.start()
    try:
        for readme in READMES:
            role = readme.parent.name
            plays = example(readme)
            cluster = emulators.start(role)
            cluster.control.seed([namespace(name) for name in namespaces(plays)])
            playbook = root / role / "example.yml"
            playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
            prepared[role] = (playbook, cluster, stored_version(cluster))
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(prepared)) as pool:
            done = dict(zip(prepared, pool.map(run, prepared)))
        yield {role: done[role] + prepared[role][1:] for role in prepared}
    finally:
        emulators.stop()
        mirror_server.stop()


def test_every_role_has_a_readme_example():
    assert {readme.parent.name for readme in READMES} >= {"preflight", "quotas", "service_account"}
    roles = {path.name for path in (REPO_ROOT / "roles").iterdir() if (path / "tasks").is_dir()}
    assert {readme.parent.name for readme in READMES} == roles


@pytest.mark.parametrize("readme", READMES, ids=[readme.parent.name for readme in READMES])
def test_the_readme_example_runs(outcomes, readme):
    role = readme.parent.name
    plays = example(readme)
    assert namespaces(plays) == ["jupyterhub-research"]
    code, result, cluster, before = outcomes[role]
    assert code == 0, host_messages(result, "localhost")
    assert result["stats"]["localhost"]["failures"] == 0
    for var in shown_vars(plays):
        shown = [item[var] for _name, item in host_results(result, "localhost") if var in item]
        assert shown and shown[-1] not in (None, "VARIABLE IS NOT DEFINED!"), var
    # preflight reads only; the other roles store what they are for.
    assert (stored_version(cluster) > before) is (role != "preflight")
