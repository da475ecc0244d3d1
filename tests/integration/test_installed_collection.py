"""The playbooks run by their FQCN from the collection as `ansible-galaxy` installs it, not from the checkout.

One build and install per module: `ansible-galaxy collection build` of this checkout, then
`ansible-galaxy collection install --offline --no-deps` of the tarball into a temporary collections path.
Every command then runs in a temporary directory outside the checkout (so no ansible.cfg of ours applies),
with ANSIBLE_COLLECTIONS_PATH holding that path and the venv's bundled collections (kubernetes.core,
community.okd, ansible.posix) and not `.build/collections`, where the checkout is linked.

- `--syntax-check` of every playbooks/*.yml, found when the test runs, so new playbooks are covered;
- `hubfleet.jupyterhub.render` with a relative `render_dir`: the files land under the current directory;
- `hubfleet.jupyterhub.site` against an emulated OpenShift cluster: one hub (dummy login, the chart from the
  local mirror of ../shared/z2jh) is installed with helm."""
import json
import os
import pathlib
import subprocess
import sys
import sysconfig

import pytest
import yaml

from tests.emulator.chart_mirror import DEFAULT_DIR, ChartMirror

from .scenarios import Emulators, host_messages, one
from .test_playbooks import REPO_ROOT, write_inventory
from .test_role_hub import helm_status

BIN = pathlib.Path(sys.executable).parent
# Where the `ansible` package keeps the collections it bundles (site-packages/ansible_collections).
BUNDLED = pathlib.Path(sysconfig.get_paths()["purelib"])
CHECKOUT_LINK = REPO_ROOT / ".build" / "collections"
PLAYBOOKS = sorted(path.stem for path in (REPO_ROOT / "playbooks").glob("*.yml"))
NAMESPACE = "jupyterhub-demo"
DEMO = {"name": "demo", "namespace": NAMESPACE, "hub_auth_type": "dummy", "hub_allow_insecure_auth": True,
        "hub_allowed_users": ["alice"], "hub_helm_timeout": "2m"}
RENDERED = ["namespace.yaml", "quotas.yaml", "release.yaml", "route.yaml", "service_account.yaml", "values.yaml"]


class Installed:
    """The installed collection, the environment and directory the commands ran in, and what they answered."""

    def run(self, *command, timeout=300, **env):
        done = subprocess.run([str(BIN / command[0]), *command[1:]], cwd=self.cwd, env=dict(self.env, **env),
                              capture_output=True, text=True, timeout=timeout, check=False)
        return done.returncode, done.stdout, done.stderr


def environment(collections):
    """This process's environment without anything that could lead ansible back to the checkout."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("ANSIBLE_CONFIG", "PYTHONPATH", "ANSIBLE_COLLECTIONS_PATHS")}
    env.update(ANSIBLE_COLLECTIONS_PATH=f"{collections}{os.pathsep}{BUNDLED}", KUBECONFIG="/nonexistent/kubeconfig",
               ANSIBLE_NOCOLOR="1")
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    root = tmp_path_factory.mktemp("installed")
    done = Installed()
    done.cwd, done.collections = root / "work", root / "collections"
    done.cwd.mkdir()
    done.env = environment(done.collections)
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", str(REPO_ROOT), "--output-path",
                    str(root / "dist")], cwd=done.cwd, env=done.env, capture_output=True, check=True, timeout=120)
    tarball, = (root / "dist").glob("hubfleet-jupyterhub-*.tar.gz")
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "--offline", "--no-deps",
                    "-p", str(done.collections), str(tarball)],
                   cwd=done.cwd, env=done.env, capture_output=True, check=True, timeout=120)
    done.root = done.collections / "ansible_collections" / "hubfleet" / "jupyterhub"
    return done


@pytest.fixture(scope="module")
def deployed(installed):
    """render, then site, against one emulated OpenShift cluster; the render must not have asked it anything."""
    emulators = Emulators(installed.cwd.parent)
    mirror_server = ChartMirror(DEFAULT_DIR)
    mirror = mirror_server.start()
    try:
        cluster = installed.cluster = emulators.start("cluster")
        inventory = write_inventory(installed.cwd.parent / "inventory.yml", cluster,
                                    [dict(DEMO, hub_chart_repo_url=mirror)])
        installed.render = installed.run("ansible-playbook", "hubfleet.jupyterhub.render", "-i", str(inventory),
                                         "-e", "render_dir=rendered")
        installed.render_requests = cluster.control.requests()["total"]
        code, stdout, stderr = installed.run("ansible-playbook", "hubfleet.jupyterhub.site", "-i", str(inventory),
                                             ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
        installed.site = code, json.loads(stdout) if stdout.startswith("{") else stdout + stderr
        installed.release = helm_status(cluster, NAMESPACE)
        installed.helm_secrets = sorted(secret["metadata"]["name"] for secret in cluster.objects("secrets", NAMESPACE)
                                        if secret.get("type") == "helm.sh/release.v1")
        installed.info = one(cluster, "configmaps", NAMESPACE, "hubfleet-hub-info")
        yield installed
    finally:
        emulators.stop()
        mirror_server.stop()


def test_the_commands_run_outside_the_checkout_without_its_link(installed):
    assert not installed.cwd.is_relative_to(REPO_ROOT)
    assert not list(installed.cwd.glob("ansible.cfg"))
    paths = installed.env["ANSIBLE_COLLECTIONS_PATH"].split(os.pathsep)
    assert paths == [str(installed.collections), str(BUNDLED)]
    assert not any(pathlib.Path(path).resolve().is_relative_to(CHECKOUT_LINK.resolve()) for path in paths)
    # Nothing on the path but the installed copy holds hubfleet.jupyterhub (the checkout's link would).
    assert [path for path in paths if (pathlib.Path(path) / "ansible_collections" / "hubfleet").exists()] == \
        [str(installed.collections)]


def test_ansible_finds_the_installed_copy_and_only_it(installed):
    code, stdout, stderr = installed.run("ansible-galaxy", "collection", "list", "hubfleet.jupyterhub",
                                         "--format", "json")
    assert code == 0, stderr
    version = yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text())["version"]
    found = {path: names for path, names in json.loads(stdout).items() if names}
    assert found == {str(installed.collections / "ansible_collections"): {"hubfleet.jupyterhub": {"version": version}}}
    assert json.loads((installed.root / "MANIFEST.json").read_text())["collection_info"]["version"] == version
    # Its dependency comes from the venv's bundled collections.
    code, stdout, stderr = installed.run("ansible-galaxy", "collection", "list", "kubernetes.core", "--format", "json")
    assert code == 0, stderr
    assert [path for path, names in json.loads(stdout).items() if names] == [str(BUNDLED / "ansible_collections")]


def test_the_installed_copy_carries_every_playbook_and_no_tests(installed):
    assert sorted(path.stem for path in (installed.root / "playbooks").glob("*.yml")) == PLAYBOOKS
    assert not (installed.root / "tests").exists()
    assert not (installed.root / "molecule").exists()


def test_every_playbook_passes_the_syntax_check_by_fqcn(installed):
    playbooks = sorted(path.stem for path in (REPO_ROOT / "playbooks").glob("*.yml"))
    assert {"site", "render"} <= set(playbooks)
    code, stdout, stderr = installed.run("ansible-playbook", "--syntax-check", "-i", "localhost,",
                                         *[f"hubfleet.jupyterhub.{name}" for name in playbooks])
    assert code == 0, stdout + stderr
    # ansible-playbook names each playbook it checked by the file it read: the installed one.
    checked = sorted(line.split(":", 1)[1].strip() for line in stdout.splitlines() if line.startswith("playbook:"))
    assert checked == sorted(str(installed.root / "playbooks" / f"{name}.yml") for name in playbooks), stdout


def test_render_writes_the_hubs_files_under_the_current_directory_without_asking_the_cluster(deployed):
    code, stdout, stderr = deployed.render
    assert code == 0, stdout[-3000:] + stderr[-3000:]
    assert deployed.render_requests == 0
    out = deployed.cwd / "rendered" / "local" / "demo"
    assert sorted(path.name for path in out.iterdir()) == RENDERED
    release = yaml.safe_load((out / "release.yaml").read_text())
    assert (release["name"], release["namespace"], release["chart_version"]) == ("jupyterhub", NAMESPACE, "4.4.0")
    values = yaml.safe_load((out / "values.yaml").read_text())
    assert values["hub"]["config"]["JupyterHub"]["authenticator_class"] == "dummy", values["hub"]["config"]
    kinds = [doc["kind"] for doc in yaml.safe_load_all((out / "route.yaml").read_text()) if doc]
    assert kinds == ["Route"]


def test_site_installs_the_hub_release(deployed):
    code, result = deployed.site
    assert code == 0, result if isinstance(result, str) else {h: host_messages(result, h)[-2:] for h in result["stats"]}
    stats = result["stats"]
    # The cluster, its hub, and localhost for the plays that run there (job checks, the summary).
    assert {"local", "local/demo"} <= set(stats) <= {"local", "local/demo", "localhost"}, stats
    assert all(stats[host]["failures"] == 0 and stats[host]["unreachable"] == 0 for host in stats), stats
    revision, status, chart_version, values = deployed.release
    assert (revision, status, chart_version) == (1, "deployed", "4.4.0")
    assert values["hub"]["config"]["JupyterHub"]["authenticator_class"] == "dummy"
    assert deployed.helm_secrets == ["sh.helm.release.v1.jupyterhub.v1"]
    assert deployed.info["data"]["url"] == f"https://jupyterhub-{NAMESPACE}.apps.emulator.local"


def test_site_writes_its_report_under_the_current_directory(deployed):
    """site_report_dir (default hubfleet-report) is relative to where ansible-playbook runs, not to the
    installed playbook."""
    report = deployed.cwd / "hubfleet-report"
    assert sorted(path.name for path in report.iterdir()) == ["summary.json", "summary.md"]
    url = f"https://jupyterhub-{NAMESPACE}.apps.emulator.local"
    assert url in (report / "summary.md").read_text()
    assert not (deployed.root / "playbooks" / "hubfleet-report").exists()
