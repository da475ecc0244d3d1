"""Fixtures for module tests against the local Kubernetes API emulator (tests/emulator).

This conftest imports nothing from ansible_collections: pytest loads it before pytest-ansible
makes the collection importable (see modules.py for running a module).
"""
import threading

import pytest

from tests.emulator.__main__ import write_kubeconfig
from tests.emulator.control_client import ControlClient
from tests.emulator.server import EmulatorServer


class Cluster:
    """A fresh emulator for one test: its kubeconfig, control client and the server itself."""

    def __init__(self, tmp_path, openshift):
        self.server = EmulatorServer(port=0, openshift=openshift)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.kubeconfig = tmp_path / "kubeconfig"
        write_kubeconfig(self.kubeconfig, self.server.url)
        self.control = ControlClient(self.server.url)
        self.store = self.server.cluster.store

    def objects(self, plural, namespace=None, group=""):
        res = self.server.cluster.res(plural, group)
        with self.server.cluster.lock:
            return self.store.items(res, namespace)

    def writes(self):
        return self.control.requests()["writes"]

    def stop(self):
        self.server.stop()
        self.thread.join(timeout=5)


@pytest.fixture(params=[True, False], ids=["openshift", "vanilla"])
def cluster(request, tmp_path):
    """An emulated cluster, once as OpenShift and once as vanilla Kubernetes."""
    emulated = Cluster(tmp_path, openshift=request.param)
    yield emulated
    emulated.stop()


@pytest.fixture
def openshift(tmp_path):
    emulated = Cluster(tmp_path, openshift=True)
    yield emulated
    emulated.stop()
