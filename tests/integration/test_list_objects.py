"""hubfleet.jupyterhub.list_objects: every kind with one request, namespaced kinds in the namespace, cluster-scoped
ones across the cluster, a kind the cluster does not serve reported as such."""
from ansible_collections.hubfleet.jupyterhub.plugins.modules import list_objects

from .modules import run_module

LABELS = {"app.kubernetes.io/managed-by": "hubfleet", "hubfleet.io/hub": "demo"}
KINDS = [{"api_version": "v1", "kind": "ConfigMap"}, {"api_version": "v1", "kind": "PersistentVolume"},
         {"api_version": "route.openshift.io/v1", "kind": "Route"}]


def config_map(name, namespace, labels=None):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace,
                                                                  "labels": labels or {}}}


def test_each_kind_is_listed_once_where_it_lives_and_by_label(cluster):
    cluster.control.seed([
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "hub"}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "elsewhere"}},
        config_map("ours", "hub", LABELS), config_map("theirs", "hub"), config_map("ours-too", "elsewhere", LABELS),
        {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "home", "labels": LABELS},
         "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteMany"],
                  "nfs": {"server": "nfs.example.org", "path": "/homes/demo"}}}])
    cluster.control.reset()
    result = run_module(list_objects, cluster.kubeconfig, kinds=KINDS, namespace="hub",
                        label_selectors=["app.kubernetes.io/managed-by=hubfleet", "hubfleet.io/hub=demo"])
    assert result["changed"] is False
    found = {entry["kind"]: entry for entry in result["kinds"]}
    assert [entry["kind"] for entry in result["kinds"]] == ["ConfigMap", "PersistentVolume", "Route"]
    assert [o["metadata"]["name"] for o in found["ConfigMap"]["resources"]] == ["ours"]
    assert found["ConfigMap"]["resources"][0]["kind"] == "ConfigMap" and found["ConfigMap"]["namespaced"]
    assert [o["metadata"]["name"] for o in found["PersistentVolume"]["resources"]] == ["home"]
    assert found["PersistentVolume"]["namespaced"] is False
    served_routes = cluster.server.cluster.openshift
    assert found["Route"]["served"] is served_routes and found["Route"]["resources"] == []
    lists = {key: count for key, count in cluster.control.requests()["counts"].items() if key.startswith("list ")}
    assert sum(lists.values()) == (3 if served_routes else 2), lists
    assert cluster.control.requests()["writes"] == 0
