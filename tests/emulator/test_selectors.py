"""Label selectors (equality and set-based) and field selectors on list and deletecollection."""
import pytest

from .expect import failure

LABELS = {
    "web": {"app": "hub", "tier": "front"},
    "api": {"app": "hub", "tier": "back"},
    "db": {"app": "store", "tier": "back", "critical": "yes"},
    "bare": {},
}


@pytest.fixture(name="labelled")
def labelled_fixture(core, namespace):
    for name, labels in LABELS.items():
        core.create_namespaced_config_map(namespace, {"metadata": {"name": name, "labels": labels}})
    return namespace


def _names(core, namespace, **selectors):
    return {i.metadata.name for i in core.list_namespaced_config_map(namespace, **selectors).items} - \
        {"kube-root-ca.crt"}


@pytest.mark.parametrize("selector,expected", [
    ("app=hub", {"web", "api"}),
    ("app==hub", {"web", "api"}),
    ("app!=hub", {"db", "bare"}),
    ("app=hub,tier=back", {"api"}),
    ("tier in (front, back)", {"web", "api", "db"}),
    ("app in (store)", {"db"}),
    ("tier notin (back)", {"web", "bare"}),
    ("critical", {"db"}),
    ("!critical", {"web", "api", "bare"}),
    ("app,!critical,tier notin (front)", {"api"}),
    ("", {"web", "api", "db", "bare"}),
])
def test_label_selector(core, labelled, selector, expected):
    assert _names(core, labelled, label_selector=selector) == expected


def test_malformed_label_selector_is_400(core, labelled):
    status = failure(core.list_namespaced_config_map, labelled, label_selector="app in hub")
    assert status["code"] == 400


def test_field_selector_on_metadata_name(core, labelled):
    assert _names(core, labelled, field_selector="metadata.name=db") == {"db"}
    assert _names(core, labelled, field_selector="metadata.name!=db") == {"web", "api", "bare"}


def test_field_and_label_selectors_combine(core, labelled):
    assert _names(core, labelled, label_selector="app=hub", field_selector="metadata.name!=web") == {"api"}


def test_field_selector_on_metadata_namespace_across_namespaces(core, labelled):
    found = core.list_config_map_for_all_namespaces(field_selector=f"metadata.namespace={labelled}",
                                                    label_selector="app")
    assert {(i.metadata.namespace, i.metadata.name) for i in found.items} == {
        (labelled, "web"), (labelled, "api"), (labelled, "db")}


def test_field_selector_on_pod_status_phase(core, namespace):
    pod = {"metadata": {"name": "running"}, "spec": {"containers": [{"name": "main", "image": "busybox"}]}}
    core.create_namespaced_pod(namespace, pod)
    core.create_namespaced_pod(namespace, {**pod, "metadata": {"name": "done"}})
    core.patch_namespaced_pod_status("done", namespace, {"status": {"phase": "Succeeded"}})
    running = core.list_namespaced_pod(namespace, field_selector="status.phase=Running")
    assert [p.metadata.name for p in running.items] == ["running"]
    finished = core.list_namespaced_pod(namespace, field_selector="status.phase!=Running")
    assert [p.metadata.name for p in finished.items] == ["done"]


def test_deletecollection_honours_set_based_selectors(core, labelled):
    core.delete_collection_namespaced_config_map(labelled, label_selector="tier in (back),!critical")
    assert _names(core, labelled) == {"web", "db", "bare"}
