"""One ownership label scheme: the modules' objects, the filter and site.yml agree."""
import pathlib

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.hubfleet.jupyterhub.plugins.filter.ownership import ownership_labels
from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import ownership, user_projects, user_storage

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
SCHEME = {"app.kubernetes.io/managed-by": "hubfleet", "hubfleet.io/hub": "demo", "app.kubernetes.io/component": "hub"}


def test_the_filter_gives_the_scheme():
    assert ownership_labels("demo", "hub") == SCHEME


@pytest.mark.parametrize("hub, component", [("", "hub"), ("my hub", "hub"), ("demo", "")])
def test_the_filter_refuses_what_is_no_label_value(hub, component):
    with pytest.raises(AnsibleFilterError, match="ownership_labels"):
        ownership_labels(hub, component)


def test_the_selector_finds_what_the_labels_mark():
    marked = {"metadata": {"labels": dict(ownership.labels("demo", "user-project"), extra="x")}}
    assert ownership.owned(marked, "demo", "user-project")
    assert not ownership.owned(marked, "other", "user-project")
    assert ownership.selector("demo", "user-project") == \
        "app.kubernetes.io/component=user-project,app.kubernetes.io/managed-by=hubfleet,hubfleet.io/hub=demo"


def test_the_modules_objects_carry_the_scheme():
    user = {"name": "alice", "namespace": "alice-workspace", "labels": {}, "quota": {}, "limits": {}, "groups": [],
            "role": "admin"}
    namespace = user_projects.namespace_object(user, "demo", openshift=False)
    assert ownership.owned(namespace, "demo", "user-project")
    for obj in user_projects.namespaced_objects(user, "demo", None).values():
        assert ownership.owned(obj, "demo", "user-project")
    claim = {"metadata": {"name": "claim-alice", "namespace": "jhub"}, "spec": {}}
    record = user_storage.reset_record(claim, "alice", "")
    assert record["metadata"]["labels"] == ownership.labels(None, "user-storage-reset")


def test_site_yml_labels_hubs_with_the_filter():
    hub_play = [p for p in yaml.safe_load((REPO_ROOT / "playbooks" / "site.yml").read_text()) if p["hosts"] == "hubs"]
    assert "hubfleet.jupyterhub.ownership_labels('hub')" in hub_play[0]["vars"]["__site_hub_labels"]
