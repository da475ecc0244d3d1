"""roles/hub/files/workspace_reset_hook.py in hub.extraConfig, run by the chart's own jupyterhub_config.py,
and the init container's script it carries, run with /bin/sh on local folders."""
import ast
import os
import subprocess

import pytest

from hub_harness import ALLUSERS_HOOK, REPO, deep_merge, make_user, spawn_pod

HOOK = REPO / "roles" / "hub" / "files" / "workspace_reset_hook.py"
HOME_LINE = "home=/hubfleet/home"
RESTRICTED = {"runAsNonRoot": True, "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
              "seccompProfile": {"type": "RuntimeDefault"}}
# What module_utils/hub_values.py composes for hub_workspace_reset: true (tests/unit checks that side).
RESET = {"hub": {"extraConfig": {"zz-hubfleet-workspace-reset": HOOK.read_text()}},
         "custom": {"hubfleet": {"workspace_reset": {"source": "/home/jovyan", "marker": ".delete-volume",
                                                     "security_context": RESTRICTED}}}}
# hub_values turns the chart's iptables init container off (it needs root and NET_ADMIN), as here.
NO_IPTABLES = {"singleuser": {"cloudMetadata": {"blockWithIptables": False}}}
DYNAMIC = deep_merge(NO_IPTABLES, {"singleuser": {"storage": {"type": "dynamic", "homeMountPath": "/home/jovyan"}}})
STATIC = deep_merge(NO_IPTABLES, {"singleuser": {"storage": {
    "type": "static", "homeMountPath": "/home/jovyan",
    "static": {"pvcName": "jupyterhub-home", "subPath": "{username}"}}}})


def seed_script():
    """The value of _HUBFLEET_SEED_SCRIPT, read from the hook file without running it."""
    tree = ast.parse(HOOK.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets] == ["_HUBFLEET_SEED_SCRIPT"]:
            return ast.literal_eval(node.value)
    raise AssertionError(f"no _HUBFLEET_SEED_SCRIPT in {HOOK}")


def run_script(home, source, marker=".delete-volume"):
    script = seed_script()
    # The init container mounts the home at /hubfleet/home: the only change is that folder.
    assert script.count(HOME_LINE) == 1, script
    done = subprocess.run(["/bin/sh", "-c", script.replace(HOME_LINE, f"home={home}")],
                          env={"PATH": os.environ["PATH"], "SOURCE": str(source), "MARKER": marker},
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(name="image_home")
def image_home_fixture(tmp_path):
    """The notebook image's own /home/jovyan: a file, a dotfile and a folder."""
    source = tmp_path / "image-home"
    (source / ".jupyter").mkdir(parents=True)
    (source / ".jupyter" / "settings.json").write_text("image settings")
    (source / "README.md").write_text("image readme")
    (source / ".bashrc").write_text("image bashrc")
    return source


def test_first_start_copies_the_image_home(tmp_path, image_home):
    home = tmp_path / "home"
    home.mkdir()
    out = run_script(home, image_home)
    assert "copying" in out
    assert (home / "README.md").read_text() == "image readme"
    assert (home / ".bashrc").read_text() == "image bashrc"
    assert (home / ".jupyter" / "settings.json").read_text() == "image settings"
    assert (home / ".hubfleet-seeded").is_file()


def test_user_files_are_never_overwritten(tmp_path, image_home):
    home = tmp_path / "home"
    home.mkdir()
    (home / "README.md").write_text("mine")            # there before the first seed
    run_script(home, image_home)
    assert (home / "README.md").read_text() == "mine"
    assert (home / ".bashrc").read_text() == "image bashrc"
    (home / ".bashrc").write_text("my bashrc")           # edited after the seed
    (home / ".jupyter" / "settings.json").unlink()        # deleted after the seed
    out = run_script(home, image_home)
    assert "copying" not in out
    assert (home / ".bashrc").read_text() == "my bashrc"
    assert not (home / ".jupyter" / "settings.json").exists()


def test_the_marker_empties_then_reseeds(tmp_path, image_home):
    home = tmp_path / "home"
    home.mkdir()
    run_script(home, image_home)
    (home / "README.md").write_text("mine")
    (home / "work").mkdir()
    (home / "work" / "data.csv").write_text("1,2")
    (home / ".hidden").write_text("x")
    (home / ".delete-volume").touch()
    out = run_script(home, image_home)
    assert "emptying" in out and "copying" in out
    assert sorted(p.name for p in home.iterdir()) == sorted([".bashrc", ".jupyter", ".hubfleet-seeded", "README.md"])
    assert (home / "README.md").read_text() == "image readme"


def test_a_marker_of_another_name_is_the_one_obeyed(tmp_path, image_home):
    home = tmp_path / "home"
    home.mkdir()
    run_script(home, image_home)
    (home / "keep.txt").write_text("mine")
    (home / ".delete-volume").touch()
    run_script(home, image_home, marker=".reset-me")
    assert (home / "keep.txt").read_text() == "mine"


def init_container(pod):
    init = {c["name"]: c for c in pod["spec"].get("initContainers") or []}
    assert list(init) == ["hubfleet-workspace"], init
    return init["hubfleet-workspace"]


def notebook_home(pod):
    notebook = pod["spec"]["containers"][0]
    return notebook, next(m for m in notebook["volumeMounts"] if m["mountPath"] == "/home/jovyan")


@pytest.mark.parametrize("storage", [DYNAMIC, STATIC], ids=["dynamic", "static"])
def test_the_pod_gets_the_init_container_on_the_home_volume(load_hub_config, storage):
    pod = spawn_pod(load_hub_config(deep_merge(storage, RESET)), make_user("jo.smith", admin=False))
    seed = init_container(pod)
    notebook, home = notebook_home(pod)
    (mount,) = seed["volumeMounts"]
    assert (mount["name"], mount.get("subPath"), mount["mountPath"]) == (home["name"], home.get("subPath"),
                                                                         "/hubfleet/home")
    if storage is STATIC:   # the user's own directory of the shared claim, {username} expanded
        assert home["subPath"] in ("jo-2esmith", "jo-smith---5fa41263"), home
    assert seed["image"] == notebook["image"]
    assert seed["command"] == ["/bin/sh", "-c", seed_script()]
    assert {e["name"]: e["value"] for e in seed["env"]} == {"SOURCE": "/home/jovyan", "MARKER": ".delete-volume"}
    assert seed["securityContext"] == RESTRICTED


def test_without_the_values_nothing_is_added(load_hub_config):
    values = deep_merge(DYNAMIC, {"hub": RESET["hub"]})
    pod = spawn_pod(load_hub_config(values), make_user("jo.smith", admin=False))
    assert not pod["spec"].get("initContainers")


def test_it_chains_the_allusers_hook(load_hub_config):
    values = deep_merge(deep_merge(STATIC, RESET), {
        "custom": {"hubfleet": {"allusers": {"mount_path": "/home/jovyan/allusers", "read_only": True}}},
        "hub": {"extraConfig": {"zz-hubfleet-allusers": ALLUSERS_HOOK.read_text()}}})
    pod = spawn_pod(load_hub_config(values), make_user("root", admin=True), hook_runs=2)
    init_container(pod)   # once, though the hook ran twice
    notebook, _home = notebook_home(pod)
    assert [m for m in notebook["volumeMounts"] if m["mountPath"] == "/home/jovyan/allusers"] == [
        {"mountPath": "/home/jovyan/allusers", "name": "home", "readOnly": True}]
