"""How the collection treats objects it applies for a role (module_utils/owned.py, used by the module
owned_objects, which replaced the filters keep_live_quantities and foreign_objects): quantities of the same
amount keep the live spelling (no change for 1024Mi against a live 1Gi), and objects of our names that
are not ours for this hub and component are refused, each named as 'Kind namespace/name'."""
import copy

import pytest

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import ownership
from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.owned import keep_live_quantities, ref, to_apply

# --- keep_live_quantities -------------------------------------------------------------------


@pytest.mark.parametrize("desired, live", [
    ("1024Mi", "1Gi"), ("1Gi", "1024Mi"), ("1000m", "1"), ("0.5", "500m"), ("1e3", "1k"), ("1G", "1000M"),
    (1024, "1Ki"), (0.5, "500m"),
])
def test_the_same_amount_keeps_the_live_spelling(desired, live):
    assert keep_live_quantities(desired, live) == live


@pytest.mark.parametrize("desired, live", [
    ("2Gi", "1Gi"), ("1G", "1Gi"), ("100m", "1"), (2, "1"), ("1Gi", "1"),
])
def test_a_different_amount_keeps_the_desired_one(desired, live):
    assert keep_live_quantities(desired, live) == desired


def test_the_same_text_of_an_int_stays_the_desired_int():
    # str(2) == "2": nothing to respell, the desired value goes out unchanged (an int, as given).
    kept = keep_live_quantities(2, "2")
    assert kept == 2 and isinstance(kept, int)


def test_an_int_of_the_same_amount_spelt_otherwise_takes_the_live_text():
    assert keep_live_quantities({"pods": 10}, {"pods": "1e1"}) == {"pods": "1e1"}


@pytest.mark.parametrize("desired, live", [(True, "1"), (False, "0"), (True, "True")])
def test_booleans_are_never_quantities(desired, live):
    assert keep_live_quantities(desired, live) is desired


@pytest.mark.parametrize("desired, live", [
    ("ReadWriteMany", "ReadWriteOnce"), ("Retain", "1"), ("", "0"), ("1Gi", None), ("1Gi", 1073741824),
    ("1Gi", ["1Gi"]), ("proxy-public", "proxy-public"),
])
def test_what_is_not_two_quantities_stays_as_desired(desired, live):
    kept = keep_live_quantities(desired, live)
    assert kept == desired and type(kept) is type(desired)


def test_no_live_object_keeps_everything():
    desired = {"hard": {"requests.memory": "1024Mi"}, "limits": [{"type": "Container", "max": {"cpu": "1000m"}}]}
    assert keep_live_quantities(desired, None) == desired


def test_a_quota_spec_is_walked_key_by_key():
    desired = {"hard": {"requests.memory": "1024Mi", "requests.cpu": "8", "pods": "20", "limits.cpu": "2000m"}}
    live = {"hard": {"requests.memory": "1Gi", "requests.cpu": "4", "pods": "20", "limits.cpu": "2"},
            "scopes": ["NotTerminating"]}
    assert keep_live_quantities(desired, live) == {
        "hard": {"requests.memory": "1Gi", "requests.cpu": "8", "pods": "20", "limits.cpu": "2"}}


def test_keys_only_the_live_object_has_are_not_added():
    desired = {"capacity": {"storage": "1024Mi"}}
    live = {"capacity": {"storage": "1Gi"}, "claimRef": {"uid": "123"}, "storageClassName": "standard"}
    assert keep_live_quantities(desired, live) == {"capacity": {"storage": "1Gi"}}


def test_lists_of_the_same_length_are_walked_item_by_item():
    desired = {"limits": [{"type": "Container", "max": {"memory": "1024Mi"}, "min": {"cpu": "0.1"}},
                          {"type": "PersistentVolumeClaim", "max": {"storage": "50Gi"}}]}
    live = {"limits": [{"type": "Container", "max": {"memory": "1Gi"}, "min": {"cpu": "100m"}},
                       {"type": "PersistentVolumeClaim", "max": {"storage": "10Gi"}}]}
    assert keep_live_quantities(desired, live) == {
        "limits": [{"type": "Container", "max": {"memory": "1Gi"}, "min": {"cpu": "100m"}},
                   {"type": "PersistentVolumeClaim", "max": {"storage": "50Gi"}}]}


def test_lists_of_another_length_are_taken_as_desired():
    desired = {"limits": [{"max": {"memory": "1024Mi"}}, {"max": {"storage": "1Gi"}}]}
    live = {"limits": [{"max": {"memory": "1Gi"}}]}
    assert keep_live_quantities(desired, live) == desired


def test_the_desired_object_is_not_changed_in_place():
    desired = {"hard": {"requests.memory": "1024Mi"}, "items": ["1000m"]}
    before = copy.deepcopy(desired)
    kept = keep_live_quantities(desired, {"hard": {"requests.memory": "1Gi"}, "items": ["1"]})
    assert kept == {"hard": {"requests.memory": "1Gi"}, "items": ["1"]}
    assert desired == before


# --- to_apply -----------------------------------------------------------------------------------

def test_to_apply_keeps_live_quantities_in_spec_only():
    definition = {"apiVersion": "v1", "kind": "ResourceQuota",
                  "metadata": {"name": "jupyterhub-quota", "namespace": "jupyterhub-research",
                               "annotations": {"note": "1024Mi"}},
                  "spec": {"hard": {"requests.memory": "1024Mi", "requests.cpu": "8"}}}
    live = {"metadata": {"name": "jupyterhub-quota", "annotations": {"note": "1Gi"}},
            "spec": {"hard": {"requests.memory": "1Gi", "requests.cpu": "4"}}}
    body = to_apply(definition, live)
    assert body["spec"] == {"hard": {"requests.memory": "1Gi", "requests.cpu": "8"}}
    assert body["metadata"]["annotations"] == {"note": "1024Mi"}
    assert definition["spec"]["hard"]["requests.memory"] == "1024Mi"


def test_to_apply_without_a_live_object_sends_the_definition():
    definition = {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "l", "namespace": "n"},
                  "spec": {"limits": [{"type": "Container", "max": {"memory": "1024Mi"}}]}}
    assert to_apply(definition, None) == definition


# --- what is ours, and how a foreign object is named --------------------------------------------

OURS = {"app.kubernetes.io/managed-by": "hubfleet", "hubfleet.io/hub": "research",
        "app.kubernetes.io/component": "quotas"}


def obj(kind, name, labels, namespace="jupyterhub-research"):
    meta = {"name": name, "labels": labels}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": "v1", "kind": kind, "metadata": meta}


def test_objects_with_our_labels_are_ours():
    assert ownership.owned(obj("ResourceQuota", "jupyterhub-quota", OURS), "research", "quotas")
    assert ownership.owned(obj("LimitRange", "jupyterhub-limits", dict(OURS, team="x")), "research", "quotas")


@pytest.mark.parametrize("labels", [
    dict(OURS, **{"hubfleet.io/hub": "teaching"}),
    dict(OURS, **{"app.kubernetes.io/component": "route"}),
    dict(OURS, **{"app.kubernetes.io/managed-by": "Helm"}),
    {key: value for key, value in OURS.items() if key != "hubfleet.io/hub"},
    {key: value for key, value in OURS.items() if key != "app.kubernetes.io/managed-by"},
    {},
    None,
], ids=["other-hub", "other-component", "other-manager", "no-hub-label", "no-manager-label", "no-labels",
        "labels-null"])
def test_anything_short_of_our_labels_is_foreign(labels):
    assert not ownership.owned(obj("ResourceQuota", "jupyterhub-quota", labels), "research", "quotas")


def test_an_object_without_metadata_is_foreign():
    assert not ownership.owned({"kind": "ResourceQuota"}, "research", "quotas")


def test_a_role_may_own_a_cluster_scoped_object():
    volume = obj("PersistentVolume", "hubfleet-home-prod-research",
                 dict(OURS, **{"app.kubernetes.io/component": "nfs-home"}), namespace=None)
    assert ownership.owned(volume, "research", "nfs-home")
    assert not ownership.owned(volume, "teaching", "nfs-home")


@pytest.mark.parametrize("definition, expected", [
    (obj("PersistentVolumeClaim", "other-home", {}), "PersistentVolumeClaim jupyterhub-research/other-home"),
    (obj("PersistentVolume", "hubfleet-home-prod-research", {}, namespace=None),
     "PersistentVolume hubfleet-home-prod-research"),
])
def test_objects_are_named_kind_namespace_slash_name(definition, expected):
    assert ref(definition) == expected
