"""Fixtures for the emulator's contract tests.

One OpenShift-flavoured and one vanilla emulator serve the whole session, in-process on
free ports; every test gets a fresh namespace so tests stay independent of each other.
"""
import json
import os
import pathlib
import secrets
import shutil
import subprocess
import threading
import urllib.error
import urllib.request

import pytest
from kubernetes import client, dynamic

from .__main__ import write_kubeconfig
from .control_client import ControlClient
from .server import EmulatorServer

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
TOOL_TIMEOUT = 60


class Emulator:
    """A running emulator: its server, URL, kubeconfig, control client and API clients."""

    def __init__(self, server, kubeconfig, cache_dir):
        self.server = server
        self.url = server.url
        self.kubeconfig = kubeconfig
        self.cache_dir = cache_dir
        self.control = ControlClient(self.url)

    def api_client(self, token=None):
        """A kubernetes ApiClient; without a token it acts as the admin, like client-go over plain HTTP."""
        api = client.ApiClient(client.Configuration(host=self.url))
        if token:
            api.set_default_header("Authorization", f"Bearer {token}")
        return api

    def http(self, method, path, body=None, headers=None):
        """A raw request as the admin, bypassing client-side decoding: (status code, parsed body or text).
        A body that is not bytes is sent as JSON."""
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                code, raw, kind = response.status, response.read(), response.headers.get_content_type()
        except urllib.error.HTTPError as exc:
            code, raw, kind = exc.code, exc.read(), exc.headers.get_content_type()
        return code, json.loads(raw) if kind == "application/json" and raw else raw.decode()

    def get_json(self, path):
        code, body = self.http("GET", path)
        assert code == 200, body
        return body

    def dynamic_client(self, token=None):
        # Discovery is cached per client in its own file, never shared between emulators.
        cache = self.cache_dir / f"discovery-{secrets.token_hex(4)}.json"
        return dynamic.DynamicClient(self.api_client(token), cache_file=str(cache))


def _serve(tmp_path_factory, openshift):
    server = EmulatorServer(port=0, openshift=openshift)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    home = tmp_path_factory.mktemp("openshift" if openshift else "vanilla")
    write_kubeconfig(home / "kubeconfig", server.url)
    try:
        yield Emulator(server, home / "kubeconfig", home)
    finally:
        server.stop()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    """The OpenShift-flavoured emulator."""
    yield from _serve(tmp_path_factory, openshift=True)


@pytest.fixture(scope="session")
def vanilla(tmp_path_factory):
    """The vanilla Kubernetes emulator (no OpenShift API groups)."""
    yield from _serve(tmp_path_factory, openshift=False)


@pytest.fixture(scope="session")
def api(emulator):
    return emulator.api_client()


@pytest.fixture(scope="session")
def core(api):
    return client.CoreV1Api(api)


@pytest.fixture(scope="session")
def apps(api):
    return client.AppsV1Api(api)


@pytest.fixture(scope="session")
def dyn(emulator):
    return emulator.dynamic_client()


@pytest.fixture(scope="session")
def vanilla_dyn(vanilla):
    return vanilla.dynamic_client()


@pytest.fixture(name="control")
def control_fixture(emulator):
    """The control client; no fault or Job outcome stays armed after the test. Reset the counts where they start
    to matter."""
    yield emulator.control
    emulator.control.clear_faults()
    emulator.control.clear_job_outcomes()


@pytest.fixture
def namespace(core):
    """A fresh namespace for one test, deleted (with everything in it) afterwards."""
    name = f"t-{secrets.token_hex(4)}"
    core.create_namespace({"metadata": {"name": name}})
    yield name
    try:
        core.delete_namespace(name)
    except client.ApiException as exc:
        if exc.status != 404:
            raise


def _tool(name):
    found = REPO_ROOT / ".tools" / "bin" / name
    if found.exists():
        return str(found)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} not found in .tools/bin or on PATH; run scripts/setup.sh")
    return found


class Tool:
    """Runs kubectl or helm against one emulator; `json` parses the output of `-o json` commands."""

    def __init__(self, binary, env):
        self.binary = binary
        self.env = env

    def __call__(self, *args, check=True, stdin=None):
        done = subprocess.run([self.binary, *args], env=self.env, input=stdin, capture_output=True, text=True,
                              timeout=TOOL_TIMEOUT, check=False)
        if check and done.returncode != 0:
            pytest.fail(f"{self.binary} {' '.join(args)} exited {done.returncode}:\n{done.stdout}{done.stderr}")
        return done

    def json(self, *args):
        return json.loads(self(*args, "-o", "json").stdout)


def _tool_env(emulator):
    home = emulator.cache_dir
    return {**os.environ, "KUBECONFIG": str(emulator.kubeconfig), "HOME": str(home),
            "HELM_CACHE_HOME": str(home / "helm-cache"), "HELM_CONFIG_HOME": str(home / "helm-config"),
            "HELM_DATA_HOME": str(home / "helm-data")}


@pytest.fixture(scope="session")
def kubectl(emulator):
    return Tool(_tool("kubectl"), _tool_env(emulator))


@pytest.fixture(scope="session")
def vanilla_kubectl(vanilla):
    return Tool(_tool("kubectl"), _tool_env(vanilla))


@pytest.fixture(scope="session")
def helm(emulator):
    return Tool(_tool("helm"), _tool_env(emulator))
