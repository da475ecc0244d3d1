"""roles/nfs_home/files/allusers_hook.py in hub.extraConfig, run by the chart's own jupyterhub_config.py."""
import inspect
from importlib.metadata import version

import pytest
from kubespawner import KubeSpawner

from hub_harness import ALLUSERS_HOOK, deep_merge, make_user, pinned_versions, spawn_pod

ALLUSERS_PATH = "/home/jovyan/allusers"
# Sorts after "00-site-hook": z2jh executes hub.extraConfig in the order of its keys.
SNIPPET_KEY = "zz-hubfleet-allusers"

# Homes on one shared PVC, each user's a subPath of it (the nfs_home layout).
SHARED_HOMES = {"singleuser": {"storage": {
    "type": "static",
    "homeMountPath": "/home/jovyan",
    "static": {"pvcName": "hub-homes", "subPath": "{username}"},
}}}
WITH_SNIPPET = deep_merge(SHARED_HOMES, {"hub": {"extraConfig": {SNIPPET_KEY: ALLUSERS_HOOK.read_text()}}})

# A hook a site already had, set by an earlier extraConfig entry.
EARLIER_HOOKS = {
    "sync": (
        "def _site_hook(spawner, pod):\n"
        "    pod.metadata.annotations = dict(pod.metadata.annotations or {}, site='was-here')\n"
        "    return pod\n"
        "c.KubeSpawner.modify_pod_hook = _site_hook\n"
    ),
    "async": (
        "async def _site_hook(spawner, pod):\n"
        "    pod.metadata.annotations = dict(pod.metadata.annotations or {}, site='was-here')\n"
        "    return pod\n"
        "c.KubeSpawner.modify_pod_hook = _site_hook\n"
    ),
}


def allusers(read_only=False, **extra):
    return {"custom": {"hubfleet": {"allusers": dict({"mount_path": ALLUSERS_PATH, "read_only": read_only}, **extra)}}}


def mounts(pod):
    return pod["spec"]["containers"][0]["volumeMounts"]


def home_volume_mounts(pod):
    return [mount for mount in mounts(pod) if mount["name"] == "home"]


def test_the_venv_has_the_hub_image_packages():
    assert {name: version(name) for name in pinned_versions()} == pinned_versions()


def test_kubespawner_applies_modify_pod_hook_to_the_manifest_it_creates():
    """spawn_pod repeats these lines of KubeSpawner._start(): they must still be there, in order."""
    source = inspect.getsource(KubeSpawner._start)  # pylint: disable=protected-access
    manifest = source.index("pod = await self.get_pod_manifest()")
    hook = source.index("pod = await maybe_future(self.modify_pod_hook(self, pod))")
    create = source.index("self._make_create_pod_request, pod")
    assert manifest < hook < create


@pytest.mark.parametrize("read_only", [False, True])
def test_an_admin_gets_the_whole_home_volume_too(load_hub_config, read_only):
    config = load_hub_config(deep_merge(WITH_SNIPPET, allusers(read_only)))
    pod = spawn_pod(config, make_user("alice", admin=True))
    assert home_volume_mounts(pod) == [
        {"name": "home", "mountPath": "/home/jovyan", "subPath": "alice"},
        {"name": "home", "mountPath": ALLUSERS_PATH, "readOnly": read_only},
    ]
    assert {"name": "home", "persistentVolumeClaim": {"claimName": "hub-homes"}} in pod["spec"]["volumes"]


def test_a_user_who_is_no_admin_gets_only_their_home(load_hub_config):
    config = load_hub_config(deep_merge(WITH_SNIPPET, allusers()))
    pod = spawn_pod(config, make_user("bob", admin=False))
    assert home_volume_mounts(pod) == [{"name": "home", "mountPath": "/home/jovyan", "subPath": "bob"}]
    assert ALLUSERS_PATH not in [mount["mountPath"] for mount in mounts(pod)]


def test_the_hook_run_twice_mounts_once(load_hub_config):
    config = load_hub_config(deep_merge(WITH_SNIPPET, allusers()))
    pod = spawn_pod(config, make_user("alice", admin=True), hook_runs=2)
    assert [mount["mountPath"] for mount in mounts(pod)].count(ALLUSERS_PATH) == 1


@pytest.mark.parametrize("kind", sorted(EARLIER_HOOKS))
@pytest.mark.parametrize("admin", [True, False])
def test_a_hook_set_before_still_runs(load_hub_config, kind, admin):
    values = deep_merge(WITH_SNIPPET, {"hub": {"extraConfig": {"00-site-hook": EARLIER_HOOKS[kind]}}})
    config = load_hub_config(deep_merge(values, allusers()))
    pod = spawn_pod(config, make_user("carol", admin=admin))
    assert pod["metadata"]["annotations"]["site"] == "was-here"
    assert (ALLUSERS_PATH in [mount["mountPath"] for mount in mounts(pod)]) is admin


def test_without_the_setting_the_hub_is_left_as_it_was(load_hub_config):
    config = load_hub_config(WITH_SNIPPET)
    assert "modify_pod_hook" not in config.KubeSpawner
    plain = load_hub_config(SHARED_HOMES)
    admin = make_user("alice", admin=True)
    assert spawn_pod(config, admin) == spawn_pod(plain, admin)


def test_without_the_setting_a_hook_set_before_is_kept_as_it_is(load_hub_config):
    values = deep_merge(WITH_SNIPPET, {"hub": {"extraConfig": {"00-site-hook": EARLIER_HOOKS["sync"]}}})
    config = load_hub_config(values)
    assert config.KubeSpawner.modify_pod_hook.__name__ == "_site_hook"


def test_without_a_home_volume_nothing_is_mounted(load_hub_config):
    values = deep_merge(WITH_SNIPPET, {"singleuser": {"storage": {"type": "none"}}})
    pod = spawn_pod(load_hub_config(deep_merge(values, allusers())), make_user("alice", admin=True))
    assert ALLUSERS_PATH not in [mount["mountPath"] for mount in mounts(pod)]


@pytest.mark.parametrize("setting", [
    allusers(read_only="yes"),
    allusers(readOnly=True),
    {"custom": {"hubfleet": {"allusers": {"mount_path": "allusers"}}}},
])
def test_a_bad_setting_stops_the_hub(load_hub_config, setting):
    with pytest.raises(ValueError, match="custom.hubfleet.allusers"):
        load_hub_config(deep_merge(WITH_SNIPPET, setting))
