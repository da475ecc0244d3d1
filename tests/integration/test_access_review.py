"""hubfleet.jupyterhub.access_review through main() against the emulator: one SelfSubjectRulesReview proves the
namespaced permissions its rules allow; access reviews answer for the rest (cluster-scoped ones, denials, and
everything when the rules review is unavailable), so the result is the same as asking one access review each."""
import pathlib

import pytest
import yaml

from ansible_collections.hubfleet.jupyterhub.plugins.modules import access_review

from .modules import run_module

VARS = pathlib.Path(__file__).resolve().parents[2] / "roles" / "preflight" / "vars" / "main.yml"
TABLE = yaml.safe_load(VARS.read_text())["__preflight_permissions"]
NAMESPACE = "jupyterhub-research"
RBAC = "rbac.authorization.k8s.io"
# The preflight role's default roles (route as an Ingress, so that both flavours serve every kind asked about).
PERMISSIONS = [p for role in ("namespace", "service_account", "quotas", "ingress", "nfs_home", "hub") for p in TABLE[role]]
ASKED = sum(len(p["verbs"]) for p in PERMISSIONS)
CLUSTER_SCOPED = sum(len(p["verbs"]) for p in PERMISSIONS if p.get("cluster_scoped"))
CLUSTER_SCOPED_WRITES = ["create namespaces at the cluster scope", "patch namespaces at the cluster scope",
                         "create persistentvolumes at the cluster scope", "patch persistentvolumes at the cluster scope",
                         "delete persistentvolumes at the cluster scope"]


def review(cluster, **auth):
    cluster.control.reset()
    result = run_module(access_review, cluster.kubeconfig, namespace=NAMESPACE, permissions=PERMISSIONS, **auth)
    assert not result.get("failed"), result
    counts = cluster.control.counts()
    return result, {key: counts[key] for key in counts if "reviews" in key}


def without_rules_review(cluster, status, **auth):
    """The module when the rules review is not served (404) or refused (403): what it did before the fast path."""
    cluster.control.fault(verb="create", resource="selfsubjectrulesreviews", status=status)
    return review(cluster, **auth)


def seed_restricted_user(cluster, user):
    """A user who may ask both reviews, and in the hub's namespace manage ConfigMaps and Services and create
    Deployments: everything else it may only read (the emulator's grant to any identity)."""
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
    role = {"apiVersion": RBAC + "/v1", "kind": "Role", "metadata": {"name": "some", "namespace": NAMESPACE},
            "rules": [{"apiGroups": [""], "resources": ["configmaps", "services"], "verbs": ["*"]},
                      {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["create"]}]}
    asking = {"apiVersion": RBAC + "/v1", "kind": "ClusterRole", "metadata": {"name": "asking"},
              "rules": [{"apiGroups": ["authorization.k8s.io"], "verbs": ["create"],
                         "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]}]}
    subjects = [{"kind": "User", "apiGroup": RBAC, "name": user}]
    bindings = [
        {"apiVersion": RBAC + "/v1", "kind": "RoleBinding", "metadata": {"name": "some", "namespace": NAMESPACE},
         "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "some"}, "subjects": subjects},
        {"apiVersion": RBAC + "/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "asking"},
         "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "asking"}, "subjects": subjects}]
    cluster.control.seed([namespace, role, asking] + bindings)


def test_the_admin_needs_one_rules_review_and_the_cluster_scoped_access_reviews(cluster):
    result, counts = review(cluster)
    assert result["missing"] == [] and result["checked"] == ASKED
    assert counts == {"create selfsubjectrulesreviews": 1, "create selfsubjectaccessreviews": CLUSTER_SCOPED}
    assert result["reviews"] == {"rules": 1, "access": CLUSTER_SCOPED}
    assert CLUSTER_SCOPED == 8 and ASKED > 80


def test_cluster_scoped_permissions_alone_need_no_rules_review(cluster):
    cluster.control.reset()
    result = run_module(access_review, cluster.kubeconfig, namespace=NAMESPACE,
                        permissions=[p for p in PERMISSIONS if p.get("cluster_scoped")])
    assert result["missing"] == [] and result["reviews"] == {"rules": 0, "access": CLUSTER_SCOPED}
    assert "create selfsubjectrulesreviews" not in cluster.control.counts()


def test_the_developer_lacks_the_cluster_scoped_writes_only_as_before(openshift):
    result, counts = review(openshift, context="emulator-developer")
    assert result["missing"] == CLUSTER_SCOPED_WRITES
    assert counts == {"create selfsubjectrulesreviews": 1, "create selfsubjectaccessreviews": CLUSTER_SCOPED}
    before, counts = without_rules_review(openshift, 404, context="emulator-developer")
    assert counts == {"create selfsubjectrulesreviews": 1, "create selfsubjectaccessreviews": ASKED}
    assert (before["missing"], before["checked"]) == (result["missing"], result["checked"])


def test_a_restricted_users_denials_are_confirmed_by_access_reviews(cluster):
    seed_restricted_user(cluster, "restricted")
    result, counts = review(cluster, impersonate_user="restricted")
    namespaced_missing = [m for m in result["missing"] if m.endswith("in namespace " + NAMESPACE)]
    # Reads are allowed to anyone; writes only where the Role says.
    assert "create deployments.apps in namespace jupyterhub-research" not in result["missing"]
    assert "patch deployments.apps in namespace jupyterhub-research" in namespaced_missing
    assert not any(" configmaps " in m or " services " in m for m in result["missing"])
    assert not any(m.startswith(("get ", "list ", "watch ")) for m in namespaced_missing)
    # Each refused namespaced permission, and each cluster-scoped one, was asked with an access review.
    access = CLUSTER_SCOPED + len(namespaced_missing)
    assert counts == {"create selfsubjectrulesreviews": 1, "create selfsubjectaccessreviews": access}
    before, counts = without_rules_review(cluster, 403, impersonate_user="restricted")
    assert counts["create selfsubjectaccessreviews"] == ASKED
    assert before["missing"] == result["missing"]


@pytest.mark.parametrize("status", [404, 403, 500])
def test_an_unavailable_rules_review_falls_back_to_access_reviews(openshift, status):
    openshift.control.fault(verb="create", resource="selfsubjectrulesreviews", status=status, count=5)
    result, counts = review(openshift)
    assert result["missing"] == [] and result["reviews"] == {"rules": 1, "access": ASKED}
    assert counts["create selfsubjectaccessreviews"] == ASKED
