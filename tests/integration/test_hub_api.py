"""The hub API path of user_pvc_reset, against a real JupyterHub whose KubeSpawner uses the emulator.

JupyterHub (with configurable-http-proxy) spawns alice's server through KubeSpawner into the
emulated cluster; the module then stops it through the hub's REST API, so the hub knows.
"""
import http.server
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from ansible_collections.hubfleet.jupyterhub.plugins.modules import user_pvc_reset

from .kubespawner_objects import user_objects
from .modules import run_module

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
PROXY = REPO_ROOT / ".tools" / "bin" / "configurable-http-proxy"
TOKEN = "hubfleet-test-token-0123456789abcdef"
CONFIG = """
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {proxy_port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.JupyterHub.db_url = "sqlite:///{home}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{home}/cookie_secret"
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.services = [{{"name": "hubfleet", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [{{"name": "hubfleet-reset", "scopes": ["admin:users", "admin:servers"],
                             "services": ["hubfleet"]}}]
c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
c.KubeSpawner.namespace = "jhub"
c.KubeSpawner.storage_pvc_ensure = True
c.KubeSpawner.storage_capacity = "1Gi"
c.KubeSpawner.volumes = [{{"name": "home", "persistentVolumeClaim": {{"claimName": "{{pvc_name}}"}}}}]
c.KubeSpawner.volume_mounts = [{{"name": "home", "mountPath": "/home/jovyan"}}]
# No container runs in the emulator: the hub reaches a stand-in server on this machine instead.
c.KubeSpawner.pod_connect_ip = "127.0.0.1"
c.KubeSpawner.port = {singleuser_port}
c.KubeSpawner.start_timeout = 60
c.KubeSpawner.http_timeout = 60
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StandInServer(http.server.BaseHTTPRequestHandler):
    """Answers like a single-user server is up; the hub only checks that something responds."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass


def api(url, method="GET", body=None):
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": "token " + TOKEN})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def wait(check, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.fixture
def hub(openshift, tmp_path):
    """A running JupyterHub spawning with KubeSpawner into the emulated cluster; yields its API URL."""
    if not PROXY.exists():
        pytest.fail("configurable-http-proxy is missing: run `make setup`")
    openshift.control.seed([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "jhub"}}])
    stand_in = http.server.ThreadingHTTPServer(("127.0.0.1", 0), StandInServer)
    threading.Thread(target=stand_in.serve_forever, daemon=True).start()
    ports = dict(proxy_port=free_port(), hub_port=free_port(), proxy_api_port=free_port())
    (tmp_path / "jupyterhub_config.py").write_text(CONFIG.format(
        proxy=str(PROXY), home=tmp_path, token=TOKEN, singleuser_port=stand_in.server_address[1], **ports))
    env = dict(os.environ, KUBECONFIG=str(openshift.kubeconfig),
               PATH="%s:%s" % (pathlib.Path(sys.executable).parent, os.environ["PATH"]))
    log = open(tmp_path / "jupyterhub.log", "wb")  # pylint: disable=consider-using-with
    process = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(tmp_path / "jupyterhub_config.py")],
                               cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = "http://127.0.0.1:%d/hub/api" % ports["proxy_port"]
    try:
        wait(lambda: _answers(url) or process.poll() is not None)
        assert process.poll() is None, (tmp_path / "jupyterhub.log").read_text()
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
        stand_in.shutdown()
        shutil.rmtree(tmp_path / "jupyterhub.sqlite", ignore_errors=True)


def _answers(url):
    try:
        return api(url + "/") is not None
    except OSError:
        return False


def test_the_server_is_stopped_through_the_hub(hub, openshift):
    api(hub + "/users/alice", "POST", {})
    api(hub + "/users/alice/server", "POST", {})
    wait(lambda: (api(hub + "/users/alice")["servers"].get("") or {}).get("ready"))
    assert [p["metadata"]["name"] for p in openshift.objects("pods", "jhub")] == ["jupyter-alice"]

    result = run_module(user_pvc_reset, openshift.kubeconfig, namespace="jhub", users=["alice"], stop_server=True,
                        hub_api_url=hub, hub_api_token=TOKEN, wait_sleep=1, wait_timeout=60)
    entry = result["users"][0]
    assert (entry["pvc"], entry["action"], entry["server_stopped"]) == ("claim-alice", "deleted", True)
    assert api(hub + "/users/alice")["servers"] == {}
    assert openshift.objects("pods", "jhub") == []
    assert openshift.objects("persistentvolumeclaims", "jhub") == []


def test_a_pod_the_hub_does_not_run_is_deleted_directly(hub, openshift):
    api(hub + "/users/bob", "POST", {})
    openshift.control.seed(list(user_objects("bob")))
    result = run_module(user_pvc_reset, openshift.kubeconfig, namespace="jhub", users=["bob"], stop_server=True,
                        hub_api_url=hub, hub_api_token=TOKEN, wait_sleep=1, wait_timeout=10)
    assert result["users"][0]["server_stopped"] is True
    assert openshift.control.counts()["delete pods"] == 1
    assert openshift.objects("pods", "jhub") == []
