"""hubfleet.jupyterhub.owned_objects, the roles' one writer, through main() against the emulator."""
from ansible_collections.hubfleet.jupyterhub.plugins.modules import owned_objects

from .modules import failed, run_module

OURS = {"app.kubernetes.io/managed-by": "hubfleet", "hubfleet.io/hub": "demo", "app.kubernetes.io/component": "quotas"}


def quota(namespace="hub", **hard):
    return {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "jupyterhub-quota", "namespace": namespace},
            "spec": {"hard": hard or {"requests.cpu": "2"}}}


def namespace(name="hub"):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def apply(cluster, *definitions, wanted=True, **options):
    objects = [{"definition": d, "wanted": wanted} for d in definitions]
    return run_module(owned_objects, cluster.kubeconfig, hub="demo", component="quotas", objects=objects, **options)


def stored(cluster, plural, name, namespace=None):
    found = [o for o in cluster.objects(plural, namespace) if o["metadata"]["name"] == name]
    return found[0] if found else None


def test_applies_with_our_labels_then_changes_nothing(cluster):
    first = apply(cluster, namespace(), quota())
    assert first["changed"] is True
    assert [o["action"] for o in first["objects"]] == ["created", "created"]
    assert stored(cluster, "resourcequotas", "jupyterhub-quota", "hub")["metadata"]["labels"] == OURS
    cluster.control.reset()
    again = apply(cluster, namespace(), quota())
    assert again["changed"] is False
    assert [o["action"] for o in again["objects"]] == ["unchanged", "unchanged"]
    assert cluster.writes() == 0


def test_an_amount_spelled_differently_is_no_change(cluster):
    apply(cluster, namespace(), quota(**{"requests.memory": "1Gi"}))
    cluster.control.reset()
    again = apply(cluster, namespace(), quota(**{"requests.memory": "1024Mi"}))
    assert again["changed"] is False
    assert cluster.writes() == 0
    assert stored(cluster, "resourcequotas", "jupyterhub-quota", "hub")["spec"]["hard"] == {"requests.memory": "1Gi"}


def test_a_field_we_stop_setting_is_removed(cluster):
    apply(cluster, namespace(), quota(**{"requests.cpu": "2", "pods": "10"}))
    changed = apply(cluster, namespace(), quota(**{"requests.cpu": "2"}), diff=True)
    assert changed["changed"] is True
    assert stored(cluster, "resourcequotas", "jupyterhub-quota", "hub")["spec"]["hard"] == {"requests.cpu": "2"}
    assert changed["diff"][0]["before"]["spec"]["hard"] == {"requests.cpu": "2", "pods": "10"}
    assert changed["diff"][0]["after"]["spec"]["hard"] == {"requests.cpu": "2"}


def test_an_object_that_is_not_ours_is_refused_and_nothing_is_written(cluster):
    cluster.control.seed([namespace(), dict(quota(), metadata={"name": "jupyterhub-quota", "namespace": "hub",
                                                               "labels": {"team": "ops"}})])
    cluster.control.reset()
    result = apply(cluster, quota(**{"requests.cpu": "8"}),
                   {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "l", "namespace": "hub"},
                    "spec": {"limits": []}})
    assert failed(result, "ResourceQuota hub/jupyterhub-quota", "not managed by hubfleet as quotas of hub demo")
    assert cluster.writes() == 0
    assert stored(cluster, "resourcequotas", "jupyterhub-quota", "hub")["spec"]["hard"] == {"requests.cpu": "2"}
    assert stored(cluster, "limitranges", "l", "hub") is None


def test_another_hubs_object_is_not_ours_either(cluster):
    run_module(owned_objects, cluster.kubeconfig, hub="other", component="quotas",
               objects=[{"definition": namespace()}, {"definition": quota()}])
    assert failed(apply(cluster, quota()), "ResourceQuota hub/jupyterhub-quota")


def test_unwanted_objects_of_ours_are_deleted_after_the_wanted_are_applied(cluster):
    apply(cluster, namespace(), quota())
    limit = {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "jupyterhub-limits", "namespace": "hub"},
             "spec": {"limits": [{"type": "Container", "default": {"cpu": "1"}}]}}
    result = run_module(owned_objects, cluster.kubeconfig, hub="demo", component="quotas",
                        objects=[{"definition": quota(), "wanted": False}, {"definition": limit}])
    assert [o["action"] for o in result["objects"]] == ["deleted", "created"]
    assert stored(cluster, "resourcequotas", "jupyterhub-quota", "hub") is None
    again = run_module(owned_objects, cluster.kubeconfig, hub="demo", component="quotas",
                       objects=[{"definition": quota(), "wanted": False}, {"definition": limit}])
    assert [o["action"] for o in again["objects"]] == ["absent", "unchanged"]
    assert again["changed"] is False


def test_check_mode_reports_objects_in_a_new_namespace_and_writes_nothing(cluster):
    cluster.control.reset()
    result = apply(cluster, namespace("fresh"), quota("fresh"), check_mode=True)
    assert result["changed"] is True
    assert [o["action"] for o in result["objects"]] == ["would create", "would create (its namespace is new)"]
    assert cluster.writes() == 0
    assert stored(cluster, "namespaces", "fresh") is None


def test_check_mode_dry_runs_a_change_and_tells_it(cluster):
    apply(cluster, namespace(), quota())
    cluster.control.reset()
    result = apply(cluster, namespace(), quota(**{"requests.cpu": "4"}), check_mode=True)
    assert [o["action"] for o in result["objects"]] == ["unchanged", "would update"]
    assert result["objects"][1]["object"]["spec"]["hard"] == {"requests.cpu": "4"}
    assert cluster.writes() == 0
    assert stored(cluster, "resourcequotas", "jupyterhub-quota", "hub")["spec"]["hard"] == {"requests.cpu": "2"}


def test_a_secrets_values_are_never_returned(openshift):
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "hub", "namespace": "hub"}}
    token = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
             "metadata": {"name": "hub-token", "namespace": "hub",
                          "annotations": {"kubernetes.io/service-account.name": "hub"}}}
    first = apply(openshift, namespace(), account, token, diff=True)
    second = apply(openshift, namespace(), account, token, diff=True)
    secret = stored(openshift, "secrets", "hub-token", "hub")
    assert secret["data"]["token"]
    for result in (first, second):
        assert secret["data"]["token"] not in str(result)
    assert second["objects"][2]["object"]["data"]["token"] == "VALUE_HIDDEN"


def test_a_bound_volume_keeps_the_claim_the_binder_completed(cluster):
    volume = {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "hubfleet-home-x-demo"},
              "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteMany"], "storageClassName": "",
                       "nfs": {"server": "nfs.example.org", "path": "/homes/demo"},
                       "claimRef": {"namespace": "hub", "name": "home"}}}
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "home", "namespace": "hub"},
             "spec": {"accessModes": ["ReadWriteMany"], "storageClassName": "", "volumeName": "hubfleet-home-x-demo",
                      "resources": {"requests": {"storage": "1Gi"}}}}
    apply(cluster, namespace(), volume, claim)
    bound = stored(cluster, "persistentvolumes", "hubfleet-home-x-demo")
    assert bound["spec"]["claimRef"].get("uid"), bound["spec"]["claimRef"]
    cluster.control.reset()
    again = apply(cluster, namespace(), volume, claim)
    assert again["changed"] is False
    assert cluster.writes() == 0
    assert stored(cluster, "persistentvolumes", "hubfleet-home-x-demo")["spec"]["claimRef"] == bound["spec"]["claimRef"]


def test_bad_definitions_fail_before_any_request(cluster):
    cluster.control.reset()
    bad_name = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name", "namespace": "hub"}}
    no_version = {"kind": "ConfigMap",
                  "metadata": {"name": "x", "namespace": "hub", "labels": {"hubfleet.io/hub": "other"}}}
    result = apply(cluster, bad_name, no_version)
    assert failed(result, "objects[0]: metadata.name 'Bad_Name'", "objects[1]: apiVersion is required",
                  "objects[1]: metadata.labels hubfleet.io/hub=other contradicts")
    assert cluster.control.requests()["total"] == 0
