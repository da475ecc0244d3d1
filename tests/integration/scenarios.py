"""Helpers of the role and site.yml tests: many scenarios per ansible-playbook run, one inventory host
per scenario, each on an emulated cluster of its own, and ways to read one host's part of the run."""
import threading

from tests.emulator.__main__ import write_kubeconfig
from tests.emulator.control_client import ControlClient
from tests.emulator.server import EmulatorServer

from .conftest import Cluster


class VersionedCluster(Cluster):
    """An emulated cluster that reports another Kubernetes version at /version."""

    def __init__(self, tmp_path, openshift, kube_version):  # pylint: disable=super-init-not-called
        self.server = EmulatorServer(port=0, openshift=openshift, kube_version=kube_version)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.kubeconfig = tmp_path / "kubeconfig"
        write_kubeconfig(self.kubeconfig, self.server.url)
        self.control = ControlClient(self.server.url)
        self.store = self.server.cluster.store


class Emulators:
    """The emulated clusters of one test module, each in a directory of its own, all stopped at the end."""

    def __init__(self, root):
        self.root = root
        self.started = []

    def start(self, name, openshift=True, kube_version=None):
        where = self.root / name
        where.mkdir()
        cluster = VersionedCluster(where, openshift, kube_version) if kube_version else Cluster(where, openshift)
        self.started.append(cluster)
        return cluster

    def stop(self):
        for cluster in self.started:
            if not cluster.server.stopping.is_set():
                cluster.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()


def host_results(result, host):
    """(task name, result) of every task that ran on `host`, loop items flattened."""
    found = []
    for task in (t for p in result["plays"] for t in p["tasks"]):
        outcome = task["hosts"].get(host)
        if outcome is not None:
            found.extend((task["task"]["name"], item) for item in outcome.get("results", [outcome]))
    return found


def host_messages(result, host):
    return [str(item["msg"]) for _name, item in host_results(result, host) if item.get("msg")]


def namespace(name):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def one(cluster, plural, ns, name, group=""):
    """The object of that name the cluster holds, or None."""
    found = [o for o in cluster.objects(plural, ns, group) if o["metadata"]["name"] == name]
    return found[0] if found else None


def stored_version(cluster):
    """The emulator's resourceVersion counter: every stored write advances it; dry runs and reads do not."""
    with cluster.server.cluster.lock:
        return cluster.store.resource_version
