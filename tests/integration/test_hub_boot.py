"""Booting the hub for real: the hub role's values, installed with the real z2jh chart into the emulator, run
by the real JupyterHub and KubeSpawner of the chart line's hub image, which spawn users through admission.

For each chart line (3.3.8, 4.4.0), flavour (OpenShift with restricted-v2 SCC admission, vanilla with the
namespace labelled Pod Security `restricted`) and authentication method (tests/hub_settings.AUTH_CONFIGS;
openshift only on OpenShift), plus NFS-style static storage:

1. the settings go through the hub role's filter (`hub_values`: values, pvc_name_template, slug_scheme), plus
   TEST_FRAGMENT (test-only: a service with an admin API token), and `helm install --wait` installs the chart
   package with them into a fresh namespace (so the chart's schema, its hub and proxy pods' admission and the
   Deployments' readiness are all checked by the install);
2. the hub's ConfigMap and Secret are read back from the cluster and laid out as the hub pod mounts them
   (hub_harness.lay_out_objects); the hub container's command and environment come from the hub Deployment,
   its secretKeyRefs and fieldRefs resolved from the cluster;
3. configurable-http-proxy runs as the proxy pod would, and `jupyterhub --config <etc>/jupyterhub_config.py`
   runs in .venv-hub/<chart version>, as the `developer` identity of the emulator's kubeconfig (not the
   admin, whose own pods may use every SCC): only Service addresses and the listening address, which a pod
   gets from the cluster, are overridden (OVERRIDES, a jupyterhub_config.d file, the chart's own hook);
4. through the hub's REST API a user whose name slugs differently under the two slug schemes and an admin
   are spawned; their pods and claims must appear in the emulator, admitted, with the names
   module_utils/naming.py computes; then the hub is stopped (SIGTERM) and must exit 0.

The singleuser servers never answer (no container runs), so the spawns are never waited for.
Runtime: one namespace, release and hub per case (22 cases): 5-10 s each
(helm ~1 s, hub start ~3-4 s, spawns and stop ~2 s), so about 2 minutes with `-n 2` on 2 idle cores. A release
per case rather than `helm upgrade` of one per chart line and flavour: an upgrade costs as much as an install,
and a fresh namespace keeps the pods and claims of one case out of the next.
"""
import base64
import importlib.util
import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from ansible_collections.hubfleet.jupyterhub.plugins.filter.hub_values import hub_values
from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import naming
from tests.emulator.conftest import _tool_env, emulator, vanilla  # noqa: F401  pylint: disable=unused-import
from tests.hub_settings import AUTH_CONFIGS, CHART_VERSIONS, settings

REPO = Path(__file__).resolve().parents[2]
CHARTS = Path(os.environ.get("HUBFLEET_Z2JH_CHARTS", REPO.parent / "shared" / "z2jh"))
TOOLS = REPO / ".tools" / "bin"
ALLUSERS_HOOK = REPO / "roles" / "nfs_home" / "files" / "allusers_hook.py"

_spec = importlib.util.spec_from_file_location("hub_harness", REPO / "tests" / "hub" / "in_venv" / "hub_harness.py")
hub_harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hub_harness)

TOKEN = "hubfleet-boot-test-" + "0123456789abcdef" * 2
# Test-only values fragment (merged like any hub_values fragment): a service holding an API token with the
# scopes the test needs. The chart puts the token in its Secret and the service into JupyterHub.services.
TEST_FRAGMENT = {"hub": {
    "services": {"hubfleet-boot-test": {"apiToken": TOKEN}},
    "loadRoles": {"hubfleet-boot-test": {"services": ["hubfleet-boot-test"],
                                         "scopes": ["admin:users", "admin:servers", "read:hub"]}},
}}
# Test-only as well: the users here never logged in (there is no OpenShift OAuth server), so they have no
# auth state, and with auth state on, the hub refreshes it (oauthenticator 17 before each spawn too) and
# refuses the spawn ("403 ... auth has expired for jo.smith, login again"), as it should on a cluster.
# auth_refresh_age 0 turns every refresh off.
NO_LOGIN_REFRESH = {"hub": {"config": {"OpenShiftOAuthenticator": {"refresh_pre_spawn": False, "auth_refresh_age": 0}}}}
# The hub's overrides, loaded from <etc>/jupyterhub_config.d/ (z2jh's jupyterhub_config.py execs the files
# there after hub.config and before hub.extraConfig): only what a pod gets from the cluster around it.
OVERRIDES = '''\
import os
# A hub pod listens on its own pod IP, port 8081 (the chart's hub_bind_url "http://:8081"). Here every hub
# shares 127.0.0.1, so each listens on the port the test gave it, which is also its Service port.
c.JupyterHub.hub_bind_url = "http://127.0.0.1:" + os.environ["HUB_SERVICE_PORT"]
# The chart names the Services "hub" and "proxy-api", DNS names that resolve in the cluster only; Kubernetes
# also puts each Service's address in the environment (<NAME>_SERVICE_HOST), which the test sets.
c.JupyterHub.hub_connect_url = "http://%s:%s" % (os.environ["HUB_SERVICE_HOST"], os.environ["HUB_SERVICE_PORT"])
c.ConfigurableHTTPProxy.api_url = "http://%s:%s" % (os.environ["PROXY_API_SERVICE_HOST"],
                                                    os.environ["PROXY_API_SERVICE_PORT"])
'''
# KubeSpawner's default pod name in each chart line's hub image (6.2.0 and 7.0.0); the chart sets none.
POD_NAME_TEMPLATES = {"3.3.8": "jupyter-{username}--{servername}", "4.4.0": "jupyter-{user_server}"}
# What the hub reports as its authenticator, per auth method and chart line.
AUTHENTICATORS = {
    ("dummy", "3.3.8"): "jupyterhub.auth.DummyAuthenticator",
    ("dummy", "4.4.0"): "jupyterhub.auth.DummyAuthenticator",
    ("shared_password", "3.3.8"): "jupyterhub.auth.DummyAuthenticator",
    ("shared_password", "4.4.0"): "jupyterhub.authenticators.shared.SharedPasswordAuthenticator",
    ("github", "3.3.8"): "oauthenticator.github.GitHubOAuthenticator",
    ("github", "4.4.0"): "oauthenticator.github.GitHubOAuthenticator",
    ("oidc", "3.3.8"): "oauthenticator.generic.GenericOAuthenticator",
    ("oidc", "4.4.0"): "oauthenticator.generic.GenericOAuthenticator",
    ("openshift", "3.3.8"): "oauthenticator.openshift.OpenShiftOAuthenticator",
    ("openshift", "4.4.0"): "oauthenticator.openshift.OpenShiftOAuthenticator",
}
# JupyterHub lowercases names: "Jo.Smith" is "jo.smith", which is jo-2esmith under the escape scheme and
# jo-smith---<hash> under safe.
USER, USER_NAME, ADMIN = "Jo.Smith", "jo.smith", "root"
# The nfs_home role's nfs_home_hub_values with nfs_home_allusers: true (roles/nfs_home/vars/main.yml).
NFS_VALUES = {
    "singleuser": {"storage": {"type": "static", "static": {"pvcName": "jupyterhub-home", "subPath": "{username}"},
                               "homeMountPath": "/home/jovyan"}},
    "custom": {"hubfleet": {"allusers": {"mount_path": "/home/jovyan/allusers", "read_only": False}}},
    "hub": {"extraConfig": {"zz-hubfleet-allusers": ALLUSERS_HOOK.read_text()}},
}

# The flavour decides admission and the pods' security values, the login method the authenticator's config,
# each independent of the other: every login once (OpenShift's on OpenShift, the others on vanilla), and
# both flavours with the dummy login.
CASES = [(version, "openshift" if auth == "openshift" else "vanilla", auth, "dynamic")
         for version in CHART_VERSIONS for auth in AUTH_CONFIGS]
CASES += [(version, "openshift", "dummy", "dynamic") for version in CHART_VERSIONS]
CASES += [(version, flavour, "dummy", "static") for version in CHART_VERSIONS for flavour in ("openshift", "vanilla")]
CASES = [pytest.param(*case, id="-".join(case)) for case in CASES]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.2)


class Hub:
    """A JupyterHub process run from the objects of an installed release, with its proxy."""

    def __init__(self, folder, version, namespace, api, kubeconfig):
        self.folder, self.version, self.namespace = folder, version, namespace
        self.core, self.apps = client.CoreV1Api(api), client.AppsV1Api(api)
        self.kubeconfig = kubeconfig
        self.ports = {"hub": free_port(), "proxy-api": free_port(), "proxy-public": free_port()}
        self.processes = []
        self.log = folder / "jupyterhub.log"

    def _secret_value(self, name, key):
        return base64.b64decode(self.core.read_namespaced_secret(name, self.namespace).data[key]).decode()

    def _env_value(self, item):
        source = item.get("valueFrom")
        if source is None:
            return item.get("value", "")
        if "secretKeyRef" in source:
            return self._secret_value(source["secretKeyRef"]["name"], source["secretKeyRef"]["key"])
        if source.get("fieldRef", {}).get("fieldPath") == "metadata.namespace":
            return self.namespace
        raise AssertionError(f"the hub container's env {item} is not handled by the test")

    def start(self):
        api = self.core.api_client
        configmap = api.sanitize_for_serialization(self.core.read_namespaced_config_map("hub", self.namespace))
        secret = api.sanitize_for_serialization(self.core.read_namespaced_secret("hub", self.namespace))
        deployment = api.sanitize_for_serialization(self.apps.read_namespaced_deployment("hub", self.namespace))
        container = next(c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "hub")
        etc = self.folder / "etc"
        hub_harness.lay_out_objects(configmap, secret, etc)
        (etc / "jupyterhub_config.d").mkdir()
        (etc / "jupyterhub_config.d" / "zz-hubfleet-boot-test.py").write_text(OVERRIDES)
        srv = self.folder / "srv"   # the hub-db-dir volume, the image's working directory /srv/jupyterhub
        srv.mkdir()
        bin_dir = REPO / ".venv-hub" / self.version / "bin"
        env = {"PATH": os.pathsep.join([str(bin_dir), str(TOOLS), "/usr/bin", "/bin"]), "HOME": str(self.folder),
               "LANG": "C.UTF-8", "KUBECONFIG": str(self.kubeconfig)}
        env.update({item["name"]: self._env_value(item) for item in container.get("env") or []})
        # What Kubernetes puts in every container's environment for each Service of the namespace.
        for service in self.core.list_namespaced_service(self.namespace).items:
            prefix = service.metadata.name.upper().replace("-", "_")
            env[prefix + "_SERVICE_HOST"] = "127.0.0.1"
            env[prefix + "_SERVICE_PORT"] = str(self.ports[service.metadata.name])
        args = [arg.replace(hub_harness.MOUNT_POINT, str(etc)) for arg in (container.get("command") or [])
                + (container.get("args") or [])]
        assert args[:3] == ["jupyterhub", "--config", str(etc / "jupyterhub_config.py")], args
        log = open(self.log, "wb")  # pylint: disable=consider-using-with
        # The proxy pod: the chart's proxy command, its Service addresses being 127.0.0.1 here.
        hub_url = f"http://127.0.0.1:{self.ports['hub']}"
        self.processes.append(subprocess.Popen(
            [str(TOOLS / "configurable-http-proxy"), "--ip=127.0.0.1", f"--port={self.ports['proxy-public']}",
             "--api-ip=127.0.0.1", f"--api-port={self.ports['proxy-api']}", f"--default-target={hub_url}",
             f"--error-target={hub_url}/hub/error"],
            env={"PATH": env["PATH"], "CONFIGPROXY_AUTH_TOKEN": env["CONFIGPROXY_AUTH_TOKEN"]},
            stdout=log, stderr=subprocess.STDOUT))
        self.hub = subprocess.Popen([str(bin_dir / args[0]), *args[1:]], cwd=srv, env=env,
                                    stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(self.hub)
        log.close()
        # The hub is up when it says so (after its API answers it still loads users and checks the proxy).
        wait_for(lambda: "JupyterHub is now running" in self.log_text() or self.hub.poll() is not None, 90,
                 "the hub to start")
        assert self.hub.poll() is None, f"the hub exited {self.hub.returncode}:\n{self.log_text()}"

    def log_text(self):
        return self.log.read_text(errors="replace")

    def api(self, path, method="GET", body=None):
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.ports['hub']}/hub/api{path}", method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": "token " + TOKEN, "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")

    def stop(self):
        """SIGTERM, as Kubernetes stops a pod; returns the hub's exit code."""
        self.hub.send_signal(signal.SIGTERM)
        try:
            code = self.hub.wait(timeout=30)
        except subprocess.TimeoutExpired:
            code = "no exit within 30s"
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=10)
        return code

    def kill(self):
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()


def developer_kubeconfig(cluster, path):
    """The emulator's kubeconfig, with the developer (not cluster-admin) as the only identity, for the hub."""
    config = json.loads(Path(cluster.kubeconfig).read_text())
    config["users"] = [{"name": "emulator-developer", "user": {"token": "emulator-developer-token"}}]
    config["contexts"] = [c for c in config["contexts"] if c["name"] == "emulator-developer"]
    config["current-context"] = "emulator-developer"
    path.write_text(json.dumps(config))
    return path


def make_namespace(core, flavour, name):
    labels = {"pod-security.kubernetes.io/enforce": "restricted"} if flavour == "vanilla" else {}
    core.create_namespace({"metadata": {"name": name, "labels": labels}})


def assert_admission_refuses_an_unrestricted_pod(developer_core, namespace):
    """The control: this namespace's admission really refuses a pod that is not restricted."""
    pod = {"metadata": {"name": "control-root"}, "spec": {"containers": [{
        "name": "c", "image": "busybox", "securityContext": {"runAsUser": 0, "allowPrivilegeEscalation": True}}]}}
    with pytest.raises(client.ApiException) as refused:
        developer_core.create_namespaced_pod(namespace, pod)
    assert refused.value.status == 403, refused.value.body


def assert_restricted(pod, flavour):
    spec = pod["spec"]
    assert spec.get("automountServiceAccountToken") is False, spec
    assert not any("serviceaccount" in (m.get("mountPath") or "") for c in spec["containers"]
                   for m in c.get("volumeMounts") or []), spec
    pod_sc = spec.get("securityContext") or {}
    assert pod_sc.get("seccompProfile", {}).get("type") == "RuntimeDefault" or all(
        (c.get("securityContext") or {}).get("seccompProfile", {}).get("type") == "RuntimeDefault"
        for c in spec["containers"]), pod_sc
    for container in spec["containers"] + (spec.get("initContainers") or []):
        sc = container.get("securityContext") or {}
        assert sc.get("allowPrivilegeEscalation") is False, (container["name"], sc)
        assert "ALL" in (sc.get("capabilities") or {}).get("drop", []), (container["name"], sc)
        assert not (sc.get("capabilities") or {}).get("add"), (container["name"], sc)
        assert sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is True, (container["name"], sc, pod_sc)
        assert not sc.get("privileged"), (container["name"], sc)
    if flavour == "openshift":
        assert pod["metadata"]["annotations"].get("openshift.io/scc") == "restricted-v2", pod["metadata"]


def home_mount(pod):
    notebook = next(c for c in pod["spec"]["containers"] if c["name"] == "notebook")
    return next(m for m in notebook["volumeMounts"] if m["mountPath"] == "/home/jovyan")


@pytest.mark.parametrize("version, flavour, auth, storage", CASES)
def test_the_hub_boots_and_spawns_through_admission(request, tmp_path, version, flavour, auth, storage):
    cluster = request.getfixturevalue("emulator" if flavour == "openshift" else "vanilla")
    api = cluster.api_client()
    core = client.CoreV1Api(api)
    developer_core = client.CoreV1Api(cluster.api_client("emulator-developer-token"))
    namespace = f"boot-{secrets.token_hex(4)}"
    fragments = [TEST_FRAGMENT] + ([NO_LOGIN_REFRESH] if auth == "openshift" else [])
    overrides = dict(AUTH_CONFIGS[auth], chart_version=version, openshift=flavour == "openshift",
                     namespace=namespace, fragments=fragments)
    if storage == "static":
        overrides.update(storage_type="static", storage_values=NFS_VALUES)
    else:
        overrides.update(workspace_reset=True)
    composed = hub_values(settings(**overrides))
    assert composed["errors"] == []
    values = composed["values"]
    make_namespace(core, flavour, namespace)
    hub = None
    try:
        if auth == "openshift":
            # The hub role's service_account role makes the OAuth client's token Secret (hub.extraEnv reads it).
            account = values["hub"]["config"]["OpenShiftOAuthenticator"]["client_id"].rsplit(":", 1)[1]
            core.create_namespaced_service_account(namespace, {"metadata": {"name": account}})
            core.create_namespaced_secret(namespace, {
                "metadata": {"name": settings()["openshift_token_secret"],
                             "annotations": {"kubernetes.io/service-account.name": account}},
                "type": "kubernetes.io/service-account-token"})
        (tmp_path / "values.yaml").write_text(yaml.safe_dump(values))
        done = subprocess.run(
            [str(TOOLS / "helm"), "install", "hub", str(CHARTS / f"jupyterhub-{version}.tgz"), "-n", namespace,
             "-f", str(tmp_path / "values.yaml"), "--wait", "--timeout", "60s"],
            env=_tool_env(cluster), capture_output=True, text=True, timeout=90, check=False)
        assert done.returncode == 0, done.stderr
        assert_admission_refuses_an_unrestricted_pod(developer_core, namespace)

        hub = Hub(tmp_path, version, namespace, api, developer_kubeconfig(cluster, tmp_path / "kubeconfig"))
        hub.start()
        info = hub.api("/info")[1]
        assert info["authenticator"]["class"] == AUTHENTICATORS[auth, version], info
        assert info["spawner"]["class"] == "kubespawner.spawner.KubeSpawner", info
        status, created = hub.api("/users", "POST", {"usernames": [USER]})
        assert (status, [u["name"] for u in created]) == (201, [USER_NAME])
        admin = hub.api(f"/users/{ADMIN}")[1]   # made at the hub's start from admin_users
        assert admin["admin"] is True, admin
        assert hub.api(f"/users/{USER_NAME}")[1]["admin"] is False
        for name in (USER_NAME, ADMIN):
            assert hub.api(f"/users/{name}/server", "POST", {})[0] == 202

        scheme = composed["slug_scheme"]
        pod_names = {name: naming.expand(POD_NAME_TEMPLATES[version], name, scheme=scheme)
                     for name in (USER_NAME, ADMIN)}
        pvc_names = {name: naming.expand(composed["pvc_name_template"], name, scheme=scheme)
                     for name in (USER_NAME, ADMIN)}
        if USER_NAME == naming.expand("{username}", USER_NAME, scheme="safe" if scheme == "escape" else "escape"):
            pytest.fail("the user name should slug differently under the two schemes")

        def pods():
            # Raw JSON: the emulator keeps quantities as sent (KubeSpawner sends memory as a number of bytes),
            # which the typed client's models refuse.
            listed = cluster.get_json(f"/api/v1/namespaces/{namespace}/pods")["items"]
            found = {p["metadata"]["name"]: p for p in listed if p["metadata"]["name"] in pod_names.values()}
            return found if len(found) == 2 else None

        try:
            found = wait_for(pods, 30, f"the pods {sorted(pod_names.values())}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{hub.log_text()}") from None
        # hub-db-dir is the chart's own claim, for the hub's database.
        claims = sorted(p.metadata.name for p in core.list_namespaced_persistent_volume_claim(namespace).items
                        if p.metadata.name != "hub-db-dir")
        if storage == "dynamic":
            assert claims == sorted(pvc_names.values()), claims
        else:
            assert claims == [], claims
        code = hub.stop()
        assert code == 0, f"the hub exited {code}:\n{hub.log_text()}"
        # The start, up to "JupyterHub is now running", had no error. (After it, errors of the spawns that
        # can never finish, cut short by the stop, are expected.)
        started = hub.log_text().partition("JupyterHub is now running")
        assert started[1], hub.log_text()
        assert "Traceback" not in started[0] and "[E " not in started[0], started[0]

        for name in (USER_NAME, ADMIN):
            pod = found[pod_names[name]]
            assert_restricted(pod, flavour)
            volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
            home = home_mount(pod)
            if storage == "dynamic":
                assert volumes[home["name"]]["persistentVolumeClaim"]["claimName"] == pvc_names[name]
                init = {c["name"]: c for c in pod["spec"].get("initContainers") or []}
                assert list(init) == ["hubfleet-workspace"], init
                (seed_mount,) = init["hubfleet-workspace"]["volumeMounts"]
                assert (seed_mount["name"], seed_mount.get("subPath")) == (home["name"], home.get("subPath"))
                assert init["hubfleet-workspace"]["command"][:2] == ["/bin/sh", "-c"]
            else:
                assert volumes["home"]["persistentVolumeClaim"]["claimName"] == "jupyterhub-home"
                assert home["subPath"] == naming.expand("{username}", name, scheme=scheme)
                notebook = next(c for c in pod["spec"]["containers"] if c["name"] == "notebook")
                allusers = [m for m in notebook["volumeMounts"] if m["mountPath"] == "/home/jovyan/allusers"]
                if name == ADMIN:
                    assert allusers == [{"mountPath": "/home/jovyan/allusers", "name": "home", "readOnly": False}]
                else:
                    assert allusers == []
    finally:
        if hub is not None:
            hub.kill()
        subprocess.run([str(TOOLS / "helm"), "uninstall", "hub", "-n", namespace], env=_tool_env(cluster),
                       capture_output=True, timeout=60, check=False)
        core.delete_namespace(namespace)
