"""Tests of our hub config against the real JupyterHub, KubeSpawner and z2jh chart code.

They import the packages of one chart line's hub image, so they run in that line's venv,
.venv-hub/<chart version> (scripts/hub_venvs.sh): tests/unit/test_hub_config_in_real_kubespawner.py
and tests/hub/run.py start them there (docs/hub_config_tests.md). Collected from any other
interpreter, such as the main .venv, they are left out.
"""
import os
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml

import hub_harness

if not hub_harness.in_hub_venv():
    collect_ignore_glob = ["*"]  # pylint: disable=invalid-name  # a name pytest reads


def pytest_configure(config):
    """KubeSpawner loads a client configuration when it is created, though nothing here calls the
    API. kubernetes_asyncio reads KUBECONFIG when first imported: set it before the test modules are."""
    if not hub_harness.in_hub_venv():
        return
    folder = Path(tempfile.mkdtemp(prefix="hub-tests-"))
    config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
    (folder / "kubeconfig").write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "none",
        "clusters": [{"name": "none", "cluster": {"server": "https://127.0.0.1:9"}}],
        "users": [{"name": "none", "user": {"token": "unused"}}],
        "contexts": [{"name": "none", "context": {"cluster": "none", "user": "none",
                                                  "namespace": hub_harness.NAMESPACE}}],
    }))
    os.environ["KUBECONFIG"] = str(folder / "kubeconfig")


@pytest.fixture(name="load_hub_config")
def load_hub_config_fixture(tmp_path, monkeypatch):
    """load_hub_config(values) -> the Config the chart's jupyterhub_config.py builds from them."""
    count = 0

    def load(values):
        nonlocal count
        count += 1
        etc = tmp_path / f"hub{count}"
        names = hub_harness.lay_out_hub_files(values, etc)
        # What Kubernetes and the chart's hub Deployment put in the hub container's environment.
        monkeypatch.setenv("POD_NAMESPACE", hub_harness.NAMESPACE)
        for service, port in (("hub", "8081"), ("proxy-api", "8001")):
            monkeypatch.setenv(names[service].upper().replace("-", "_") + "_SERVICE_PORT", port)
        return hub_harness.load_config_file(etc)

    return load
