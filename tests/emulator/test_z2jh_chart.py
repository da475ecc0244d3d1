"""The real Zero-to-JupyterHub chart from a local chart mirror, installed with `helm install --wait` in both flavours.

The chart packages and their repository index are in ../shared/z2jh (see chart_mirror.py); the test fails, never
skips, when they are missing.
"""
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import yaml
from kubernetes import client

from .chart_mirror import DEFAULT_DIR, ChartMirror, rewrite_index
from .conftest import REPO_ROOT, TOOL_TIMEOUT, Tool, _tool, _tool_env

VERSIONS = ("3.3.8", "4.4.0")

# OpenShift: what a restricted-v2 SCC and no privileged pods imply. The user-scheduler (a kube-scheduler with
# cluster-wide RBAC), the image pullers (a DaemonSet on every node, plus a pre-install/pre-upgrade hook), the
# iptables init container of singleuser pods (NET_ADMIN, runs as root) and a LoadBalancer Service (a Route is
# used instead) are turned off; fixed UIDs/GIDs are dropped so that the namespace's range assigns them.
OPENSHIFT_VALUES = {
    "scheduling": {"userScheduler": {"enabled": False}, "userPlaceholder": {"enabled": False}},
    "prePuller": {"hook": {"enabled": False}, "continuous": {"enabled": False}},
    "proxy": {"service": {"type": "ClusterIP"},
              "chp": {"containerSecurityContext": {"runAsUser": None, "runAsGroup": None}}},
    "hub": {"podSecurityContext": {"fsGroup": None},
            "containerSecurityContext": {"runAsUser": None, "runAsGroup": None}},
    "singleuser": {"cloudMetadata": {"blockWithIptables": False}, "uid": None, "fsGid": None},
}
# Vanilla: the chart's defaults (LoadBalancer proxy-public, user-scheduler, both image pullers, network policies).
VANILLA_VALUES = {}


@pytest.fixture(scope="module")
def mirror():
    assert (DEFAULT_DIR / "index.yaml").is_file(), f"no chart repository at {DEFAULT_DIR}"
    with ChartMirror(DEFAULT_DIR) as url:
        yield url


def _helm_homes(tmp_path):
    return {**os.environ, "HELM_CACHE_HOME": str(tmp_path / "c"), "HELM_CONFIG_HOME": str(tmp_path / "g"),
            "HELM_DATA_HOME": str(tmp_path / "d"), "HOME": str(tmp_path)}


def test_mirror_serves_a_helm_repository(mirror, tmp_path):
    helm = Tool(_tool("helm"), _helm_homes(tmp_path))
    helm("repo", "add", "z2jh", mirror)
    found = yaml.safe_load(helm("search", "repo", "z2jh/jupyterhub", "--versions", "-o", "yaml").stdout)
    assert sorted(entry["version"] for entry in found) == sorted(VERSIONS)
    (tmp_path / "out").mkdir()
    helm("pull", "jupyterhub", "--repo", mirror, "--version", "4.4.0", "-d", str(tmp_path / "out"))
    pulled = tmp_path / "out" / "jupyterhub-4.4.0.tgz"
    assert pulled.read_bytes() == (DEFAULT_DIR / "jupyterhub-4.4.0.tgz").read_bytes()
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(mirror + "/missing-1.0.0.tgz", timeout=5)
    assert missing.value.code == 404


def test_mirror_rewrites_absolute_urls_in_memory(tmp_path):
    shutil.copy(DEFAULT_DIR / "jupyterhub-4.4.0.tgz", tmp_path)
    index = yaml.safe_load((DEFAULT_DIR / "index.yaml").read_text())
    index["entries"]["jupyterhub"] = [e for e in index["entries"]["jupyterhub"] if e["version"] == "4.4.0"]
    index["entries"]["jupyterhub"][0]["urls"] = ["https://hub.jupyter.org/helm-chart/jupyterhub-4.4.0.tgz"]
    original = yaml.safe_dump(index)
    (tmp_path / "index.yaml").write_text(original)
    with ChartMirror(tmp_path) as url:
        with urllib.request.urlopen(url + "/index.yaml", timeout=5) as response:
            served = yaml.safe_load(response.read())
        assert served["entries"]["jupyterhub"][0]["urls"] == [url + "/jupyterhub-4.4.0.tgz"]
        helm = Tool(_tool("helm"), _helm_homes(tmp_path / "helm"))
        (tmp_path / "out").mkdir()
        helm("pull", "jupyterhub", "--repo", url, "--version", "4.4.0", "-d", str(tmp_path / "out"))
    assert (tmp_path / "out" / "jupyterhub-4.4.0.tgz").is_file()
    assert (tmp_path / "index.yaml").read_text() == original
    # Relative URLs, and absolute ones to files the mirror lacks, are left alone.
    relative = yaml.safe_dump({"apiVersion": "v1", "entries": {"c": [{"version": "1", "urls": ["c-1.tgz"]}]}})
    assert rewrite_index(relative, "http://127.0.0.1:1", {"c-1.tgz"}) == relative
    elsewhere = relative.replace("c-1.tgz", "https://example.org/c-1.tgz")
    assert rewrite_index(elsewhere, "http://127.0.0.1:1", {"d-1.tgz"}) == elsewhere


def test_mirror_command_line_writes_its_url_and_stops_on_sigterm(tmp_path):
    url_file = tmp_path / "url"
    proc = subprocess.Popen([sys.executable, "-m", "tests.emulator.chart_mirror", "serve", "--dir", str(DEFAULT_DIR),
                             "--url-file", str(url_file)], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while not (url_file.exists() and url_file.read_text().endswith("\n")):
            assert time.monotonic() < deadline, "no URL file"
            time.sleep(0.05)
        url = url_file.read_text().strip()
        with urllib.request.urlopen(url + "/index.yaml", timeout=5) as response:
            assert "jupyterhub" in yaml.safe_load(response.read())["entries"]
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=10)[0]
    assert proc.returncode == 0
    assert out.strip() == url


def _values_file(tmp_path, values):
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    return str(path)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("flavour", ("openshift", "vanilla"))
def test_install_upgrade_uninstall_the_real_chart(request, flavour, version, mirror, tmp_path):
    cluster = request.getfixturevalue("emulator" if flavour == "openshift" else "vanilla")
    helm = Tool(_tool("helm"), _tool_env(cluster))
    api = cluster.api_client()
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    values = _values_file(tmp_path, OPENSHIFT_VALUES if flavour == "openshift" else VANILLA_VALUES)
    namespace = f"z2jh-{flavour[0]}-{version.replace('.', '')}"
    chart = ("jupyterhub", "--repo", mirror, "--version", version, "-n", namespace, "-f", values,
             "--wait", "--timeout", "2m")
    cluster.control.reset()
    try:
        started = time.monotonic()
        helm("install", "hub", *chart, "--create-namespace")
        _assert_hub_running(core, apps, namespace)
        counts = cluster.control.counts()
        if flavour == "vanilla":
            # The pre-install hook: the image-puller DaemonSet and the awaiter Job, deleted once they succeed.
            assert counts.get("create daemonsets") == 2, counts   # hook-image-puller, continuous-image-puller
            assert counts.get("create jobs") == 1, counts
            assert [d.metadata.name for d in apps.list_namespaced_daemon_set(namespace).items] == [
                "continuous-image-puller"]
            assert client.BatchV1Api(api).list_namespaced_job(namespace).items == []
            assert apps.read_namespaced_deployment("user-scheduler", namespace).status.ready_replicas == 2
            lb = core.read_namespaced_service("proxy-public", namespace)
            assert lb.spec.type == "LoadBalancer" and lb.status.load_balancer.ingress
        else:
            assert "create daemonsets" not in counts and "create jobs" not in counts, counts
            assert core.read_namespaced_service("proxy-public", namespace).spec.type == "ClusterIP"
            assert [d.metadata.name for d in apps.list_namespaced_deployment(namespace).items] == ["hub", "proxy"]
            hub_pod = apps.read_namespaced_deployment("hub", namespace).spec.template.spec
            assert hub_pod.containers[0].security_context.run_as_user is None
            assert (hub_pod.security_context.fs_group if hub_pod.security_context else None) is None

        helm("upgrade", "hub", *chart)
        _assert_hub_running(core, apps, namespace)
        status = yaml.safe_load(helm("status", "hub", "-n", namespace, "-o", "yaml").stdout)
        assert (status["version"], status["info"]["status"]) == (2, "deployed")

        helm("uninstall", "hub", "-n", namespace, "--wait", "--timeout", "2m")
        assert apps.list_namespaced_deployment(namespace).items == []
        assert [s.metadata.name for s in core.list_namespaced_service(namespace).items] == []
        assert core.list_namespaced_pod(namespace).items == []
        assert core.list_namespaced_persistent_volume_claim(namespace).items == []   # hub-db-dir
        assert [c.metadata.name for c in core.list_namespaced_config_map(namespace).items] == ["kube-root-ca.crt"]
        leftover = [s.metadata.name for s in core.list_namespaced_secret(namespace).items]
        assert leftover == [], leftover
        assert time.monotonic() - started < TOOL_TIMEOUT
    finally:
        helm("uninstall", "hub", "-n", namespace, check=False)
        try:
            core.delete_namespace(namespace)
        except client.ApiException as exc:
            if exc.status != 404:
                raise


def _assert_hub_running(core, apps, namespace):
    for name in ("hub", "proxy"):
        deployment = apps.read_namespaced_deployment(name, namespace)
        available = {c.type: c.status for c in deployment.status.conditions or []}.get("Available")
        assert available == "True", (name, deployment.status)
        assert deployment.status.ready_replicas == 1
    for name in ("hub", "proxy-api", "proxy-public"):
        assert core.read_namespaced_service(name, namespace).spec.cluster_ip
