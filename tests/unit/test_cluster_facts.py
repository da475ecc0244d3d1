"""What cluster_facts makes of the API server's answers, and how access_review words a missing permission."""
import pytest

from ansible_collections.hubfleet.jupyterhub.plugins.modules import access_review, cluster_facts

DEFAULT = "storageclass.kubernetes.io/is-default-class"
VANILLA_GROUPS = ["apps", "batch", "networking.k8s.io", "rbac.authorization.k8s.io", "storage.k8s.io"]
OPENSHIFT_GROUPS = VANILLA_GROUPS + ["apps.openshift.io", "build.openshift.io", "image.openshift.io",
                                     "project.openshift.io", "route.openshift.io", "user.openshift.io",
                                     "snapshot.storage.k8s.io"]


def storage_class(name, default=None, annotations=None):
    meta = {"name": name}
    if default is not None or annotations:
        meta["annotations"] = dict(annotations or {})
        if default is not None:
            meta["annotations"][DEFAULT] = default
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": meta}


# --- release ----------------------------------------------------------------------------------

@pytest.mark.parametrize("git_version, expected", [
    ("v1.28.6+6216ea1", "1.28.6"),  # OpenShift
    ("v1.30.2-eks-1552ad0", "1.30.2"),  # EKS
    ("v1.29.4+k3s1", "1.29.4"),  # k3s
    ("v1.33.0", "1.33.0"),
    ("1.31.10", "1.31.10"),
    ("v1.27.3-gke.100", "1.27.3"),
])
def test_release_is_the_leading_version(git_version, expected):
    assert cluster_facts.release(git_version) == expected


@pytest.mark.parametrize("git_version", ["", None, "garbage", "v1.28", "version v1.28.6", "vv1.28.6", "v1.x.6"])
def test_release_of_garbage_is_none(git_version):
    assert cluster_facts.release(git_version) is None


# --- default_storage_class --------------------------------------------------------------------

def test_no_class_is_no_default():
    assert cluster_facts.default_storage_class([]) is None


def test_no_class_marked_is_no_default():
    classes = [storage_class("standard"), storage_class("fast", annotations={"team": "a"})]
    assert cluster_facts.default_storage_class(classes) is None


def test_the_one_class_marked_default():
    classes = [storage_class("fast"), storage_class("standard", "true"), storage_class("slow", "false")]
    assert cluster_facts.default_storage_class(classes) == "standard"


def test_two_classes_marked_default_are_no_default():
    classes = [storage_class("standard", "true"), storage_class("gp3", "true")]
    assert cluster_facts.default_storage_class(classes) is None


@pytest.mark.parametrize("value", ["false", "False", "", "yes"])
def test_only_the_value_true_marks_a_default(value):
    assert cluster_facts.default_storage_class([storage_class("standard", value)]) is None


def test_a_class_marked_false_does_not_count_against_the_default():
    classes = [storage_class("standard", "true"), storage_class("old", "false")]
    assert cluster_facts.default_storage_class(classes) == "standard"


def test_classes_without_metadata_fields_are_tolerated():
    classes = [{"metadata": {"name": "bare"}}, {"metadata": {"name": "null", "annotations": None}},
               storage_class("standard", "true")]
    assert cluster_facts.default_storage_class(classes) == "standard"


# --- describe ----------------------------------------------------------------------------------

def test_a_vanilla_cluster():
    facts = cluster_facts.describe("v1.33.0", VANILLA_GROUPS, [storage_class("standard", "true")])
    assert facts == {
        "kubernetes_version": "1.33.0", "git_version": "v1.33.0", "api_groups": sorted(VANILLA_GROUPS),
        "openshift": False, "routes": False, "builds": False, "openshift_login": False,
        "volume_snapshots": False, "default_storage_class": "standard",
    }


def test_an_openshift_cluster():
    facts = cluster_facts.describe("v1.28.6+6216ea1", OPENSHIFT_GROUPS, [])
    assert facts == {
        "kubernetes_version": "1.28.6", "git_version": "v1.28.6+6216ea1", "api_groups": sorted(OPENSHIFT_GROUPS),
        "openshift": True, "routes": True, "builds": True, "openshift_login": True,
        "volume_snapshots": True, "default_storage_class": None,
    }


@pytest.mark.parametrize("group, flag", [
    ("project.openshift.io", "openshift"),
    ("route.openshift.io", "routes"),
    ("user.openshift.io", "openshift_login"),
    ("snapshot.storage.k8s.io", "volume_snapshots"),
])
def test_each_flag_follows_its_group(group, flag):
    flags = ("openshift", "routes", "builds", "openshift_login", "volume_snapshots")
    facts = cluster_facts.describe("v1.30.0", VANILLA_GROUPS + [group], [])
    assert {name for name in flags if facts[name]} == {flag}


@pytest.mark.parametrize("groups, builds", [
    (["build.openshift.io"], False),
    (["image.openshift.io"], False),
    (["build.openshift.io", "image.openshift.io"], True),
])
def test_builds_need_both_build_and_image_groups(groups, builds):
    assert cluster_facts.describe("v1.30.0", VANILLA_GROUPS + groups, [])["builds"] is builds


def test_api_groups_are_sorted_and_unique():
    facts = cluster_facts.describe("v1.30.0", ["storage.k8s.io", "apps", "apps", "batch"], [])
    assert facts["api_groups"] == ["apps", "batch", "storage.k8s.io"]


def test_a_version_it_cannot_read_is_kept_as_reported():
    facts = cluster_facts.describe("custom-build", [], [])
    assert facts["kubernetes_version"] is None and facts["git_version"] == "custom-build"


# --- access_review.describe --------------------------------------------------------------------

@pytest.mark.parametrize("verb, permission, expected", [
    ("create", {"group": "", "resource": "resourcequotas", "cluster_scoped": False},
     "create resourcequotas in namespace jupyterhub-research"),
    ("patch", {"group": "route.openshift.io", "resource": "routes", "cluster_scoped": False},
     "patch routes.route.openshift.io in namespace jupyterhub-research"),
    ("create", {"group": "", "resource": "persistentvolumes", "cluster_scoped": True},
     "create persistentvolumes at the cluster scope"),
    ("list", {"group": "storage.k8s.io", "resource": "storageclasses", "cluster_scoped": True},
     "list storageclasses.storage.k8s.io at the cluster scope"),
])
def test_access_review_words_each_missing_permission(verb, permission, expected):
    assert access_review.describe(verb, permission, "jupyterhub-research") == expected
