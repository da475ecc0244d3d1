"""A hub as the z2jh chart configures it, for the tests in this folder (see conftest.py).

Nothing of z2jh is faked:
- `helm template` renders the chart package's hub ConfigMap and Secret from the test's values
  (so helm also checks them against the chart's schema and merges in the chart's defaults);
- their keys are laid out as files as the hub pod mounts them under /usr/local/etc/jupyterhub,
  beside the chart's own jupyterhub_config.py and z2jh.py; the only change to those two files
  is that mount point, which they name literally and which is a temporary directory here;
- traitlets' PyFileConfigLoader, the loader of `jupyterhub --config`, runs jupyterhub_config.py,
  which reads the values through z2jh.get_config and executes hub.extraConfig;
- a KubeSpawner gets the resulting config, as the hub gives it to each user's spawner.
"""
import asyncio
import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from unittest.mock import Mock

import pytest
import yaml

HUB_TESTS = Path(__file__).resolve().parents[1]
REPO = HUB_TESTS.parents[1]
CHARTS = Path(os.environ.get("HUBFLEET_Z2JH_CHARTS", REPO.parent / "shared" / "z2jh"))
# scripts/hub_venvs.sh names each venv after the chart version whose hub image it mirrors.
CHART_VERSION = Path(sys.prefix).name
PINS = HUB_TESTS / f"requirements-{CHART_VERSION}.txt"
ALLUSERS_HOOK = REPO / "roles" / "nfs_home" / "files" / "allusers_hook.py"
MOUNT_POINT = "/usr/local/etc/jupyterhub"
NAMESPACE = "jhub"


def in_hub_venv():
    return PINS.is_file()


def pinned_versions():
    """{distribution: version} of the pins the running venv was built from."""
    pins = {}
    for line in PINS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[name] = version
    return pins


def deep_merge(base, extra):
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _helm():
    search = os.pathsep.join([str(REPO / ".tools" / "bin"), os.environ.get("PATH", "")])
    found = shutil.which("helm", path=search)
    if not found:
        pytest.fail("no helm in .tools/bin or on PATH: run `make setup`")
    return found


_RENDERED = {}


def render_hub_objects(values):
    """The chart's hub ConfigMap and Secret for these values, as `helm template` renders them."""
    key = json.dumps(values, sort_keys=True)
    if key not in _RENDERED:
        chart = CHARTS / f"jupyterhub-{CHART_VERSION}.tgz"
        if not chart.is_file():
            pytest.fail(f"no chart package {chart} (HUBFLEET_Z2JH_CHARTS names the folder that holds it)")
        result = subprocess.run(
            [_helm(), "template", "hub", str(chart), "--namespace", NAMESPACE, "--values", "-",
             "--show-only", "templates/hub/configmap.yaml", "--show-only", "templates/hub/secret.yaml"],
            input=json.dumps(values), capture_output=True, text=True, check=False, timeout=60,
        )
        if result.returncode:
            pytest.fail(f"helm template of chart {CHART_VERSION} failed:\n{result.stderr}")
        # libyaml's loader when there is one: the pure Python one takes a tenth of a second here.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        objects = {obj["kind"]: obj for obj in yaml.load_all(result.stdout, Loader=loader) if obj}
        _RENDERED[key] = objects["ConfigMap"], objects["Secret"]
    return _RENDERED[key]


def lay_out_hub_files(values, etc):
    """Write the hub pod's view of its ConfigMap and Secret into `etc`, standing for MOUNT_POINT.

    Returns the ConfigMap's data (resource names, among others)."""
    configmap, secret = render_hub_objects(values)
    return lay_out_objects(configmap, secret, etc)


def lay_out_objects(configmap, secret, etc):
    """Write the hub pod's view of these ConfigMap and Secret objects (as rendered, or as read from
    a cluster) into `etc`, standing for MOUNT_POINT. Returns the ConfigMap's data.

    Also used from the main venv by tests/integration/test_hub_boot.py, on the objects of a
    release installed in the emulator: nothing here needs the hub's packages."""
    (etc / "config").mkdir(parents=True)
    (etc / "secret").mkdir()
    for name, text in configmap["data"].items():
        (etc / "config" / name).write_text(text)
    for name, text in (secret.get("data") or {}).items():
        (etc / "secret" / name).write_bytes(base64.b64decode(text))
    for name, text in (secret.get("stringData") or {}).items():
        (etc / "secret" / name).write_text(text)
    for name in ("jupyterhub_config.py", "z2jh.py"):
        text = configmap["data"][name]
        if name == "z2jh.py" and MOUNT_POINT not in text:
            pytest.fail(f"the chart's z2jh.py no longer reads its values under {MOUNT_POINT}: update hub_harness.py")
        (etc / name).write_text(text.replace(MOUNT_POINT, str(etc)))
    return configmap["data"]


def load_config_file(etc):
    """Run etc/jupyterhub_config.py as `jupyterhub --config` does; return the Config it builds."""
    from traitlets.config.loader import PyFileConfigLoader

    # jupyterhub_config.py puts its folder first on sys.path to import z2jh, whose reads of the
    # values are cached: each hub gets a fresh import of its own z2jh.py.
    saved_path = list(sys.path)
    sys.modules.pop("z2jh", None)
    try:
        return PyFileConfigLoader("jupyterhub_config.py", path=str(etc)).load_config()
    finally:
        sys.path[:] = saved_path
        sys.modules.pop("z2jh", None)


def make_user(name, admin):
    """A user as KubeSpawner's own tests make one (MockUser), with the hub User's admin flag."""
    from jupyterhub.objects import Server

    class MockUser(Mock):
        @property
        def escaped_name(self):
            return self.name

        @property
        def url(self):
            return self.server.url

    user = MockUser()
    user.name = name
    user.server = Server()
    user.admin = admin  # always set: an unset Mock attribute would be truthy
    return user


def spawn_pod(config, user, hook_runs=1):
    """The pod KubeSpawner would create for the user, as the API server would receive it
    (camelCase keys, unset fields left out): get_pod_manifest(), then, as KubeSpawner._start()
    does (test_allusers_hook checks that source), its modify_pod_hook. hook_runs=2 applies the
    hook twice to the same pod."""
    from jupyterhub.objects import Hub
    from jupyterhub.utils import maybe_future
    from kubespawner import KubeSpawner

    async def spawn():
        # A fixed address: Hub() would pick a random port, which ends up in the pod's environment.
        spawner = KubeSpawner(config=config, user=user, hub=Hub(ip="hub", port=8081, base_url="/hub/"))
        pod = await spawner.get_pod_manifest()
        for _run in range(hook_runs):
            if spawner.modify_pod_hook:
                pod = await maybe_future(spawner.modify_pod_hook(spawner, pod))
        return spawner.api.api_client.sanitize_for_serialization(pod)

    return asyncio.run(spawn())
