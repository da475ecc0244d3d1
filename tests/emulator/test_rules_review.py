"""SelfSubjectRulesReview (authorization.k8s.io/v1), after the API reference
https://kubernetes.io/docs/reference/kubernetes-api/authorization-resources/self-subject-rules-review-v1/
and the RBAC page: the rules the caller holds in spec.namespace, its identity's own and those RoleBindings
of that namespace and ClusterRoleBindings give it; always complete; a SelfSubjectAccessReview agrees."""
import secrets

import pytest
from kubernetes import client

from .expect import failure

DEVELOPER_TOKEN = "emulator-developer-token"
EVERYTHING = {"verbs": ["*"], "api_groups": ["*"], "resources": ["*"]}
RBAC = "rbac.authorization.k8s.io"


def review(api, namespace):
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview", "spec": {"namespace": namespace}}
    return client.AuthorizationV1Api(api).create_self_subject_rules_review(body).to_dict()


def rules(answer):
    return [{key: value for key, value in rule.items() if value} for rule in answer["status"]["resource_rules"]]


def may(api, verb, resource, namespace, group=""):
    attributes = {"verb": verb, "resource": resource, "group": group, "namespace": namespace}
    body = {"spec": {"resourceAttributes": attributes}}
    return client.AuthorizationV1Api(api).create_self_subject_access_review(body).status.allowed


def as_user(emulator, user):
    api = emulator.api_client()
    api.set_default_header("Impersonate-User", user)
    return api


@pytest.fixture(name="stranger")
def stranger_fixture(api, namespace):
    """A user of its own (impersonated by the admin) bound, in `namespace`, to a Role that may create and delete
    ConfigMaps, and cluster-wide to a ClusterRole that may ask both reviews and read /metrics."""
    user = "stranger-" + secrets.token_hex(3)
    rbac = client.RbacAuthorizationV1Api(api)
    rbac.create_namespaced_role(namespace, {"metadata": {"name": "configmaps"}, "rules": [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create", "delete"]},
        {"apiGroups": ["apps"], "resources": ["deployments/scale"], "verbs": ["update"], "resourceNames": ["web"]}]})
    rbac.create_namespaced_role_binding(namespace, {
        "metadata": {"name": "configmaps"}, "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "configmaps"},
        "subjects": [{"kind": "User", "apiGroup": RBAC, "name": user}]})
    rbac.create_cluster_role({"metadata": {"name": user}, "rules": [
        {"apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectrulesreviews", "selfsubjectaccessreviews"],
         "verbs": ["create"]},
        {"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]})
    rbac.create_cluster_role_binding({
        "metadata": {"name": user}, "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": user},
        "subjects": [{"kind": "User", "apiGroup": RBAC, "name": user}]})
    try:
        yield user
    finally:
        rbac.delete_cluster_role_binding(user)
        rbac.delete_cluster_role(user)


def test_the_admin_holds_every_rule(api, namespace, control):
    control.reset()
    answer = review(api, namespace)
    assert answer["kind"] == "SelfSubjectRulesReview" and answer["spec"] == {"namespace": namespace}
    assert answer["status"]["incomplete"] is False and answer["status"]["evaluation_error"] is None
    assert rules(answer) == [EVERYTHING]
    assert [{k: v for k, v in r.items() if v} for r in answer["status"]["non_resource_rules"]] == \
        [{"verbs": ["*"], "non_resource_urls": ["*"]}]
    # Asked with one create, stored nowhere.
    assert control.counts() == {"create selfsubjectrulesreviews": 1}


@pytest.mark.parametrize("flavour", ["openshift", "vanilla"])
def test_the_developer_may_read_everything_write_in_the_namespace_and_ask(request, flavour):
    emulator = request.getfixturevalue("emulator" if flavour == "openshift" else "vanilla")
    answer = review(emulator.api_client(DEVELOPER_TOKEN), "default")
    cluster_writes = [{"verbs": ["*"], "api_groups": ["authorization.k8s.io"], "resources": [plural]}
                      for plural in ("selfsubjectaccessreviews", "selfsubjectrulesreviews")]
    if flavour == "openshift":
        cluster_writes += [{"verbs": ["*"], "api_groups": ["project.openshift.io"], "resources": [plural]}
                           for plural in ("projects", "projectrequests")]
    found = rules(answer)
    assert {"verbs": ["get", "list", "watch"], "api_groups": ["*"], "resources": ["*"]} in found
    assert EVERYTHING in found
    assert sorted(found[2:], key=str) == sorted(cluster_writes, key=str)
    assert answer["status"]["incomplete"] is False
    # Discovery is open to everyone; nothing else outside the API.
    [non_resource] = answer["status"]["non_resource_rules"]
    assert non_resource["verbs"] == ["get"] and "/apis/*" in non_resource["non_resource_urls"]
    assert "/metrics" not in non_resource["non_resource_urls"]


def test_bound_rules_are_listed_in_their_namespace_only(emulator, namespace, core, stranger):
    stranger_api = as_user(emulator, stranger)
    found = rules(review(stranger_api, namespace))
    assert found == [
        {"verbs": ["get", "list", "watch"], "api_groups": ["*"], "resources": ["*"]},
        {"verbs": ["create", "delete"], "api_groups": [""], "resources": ["configmaps"]},
        {"verbs": ["update"], "api_groups": ["apps"], "resources": ["deployments/scale"], "resource_names": ["web"]},
        {"verbs": ["create"], "api_groups": ["authorization.k8s.io"],
         "resources": ["selfsubjectrulesreviews", "selfsubjectaccessreviews"]},
    ]
    other = core.create_namespace({"metadata": {"generateName": "elsewhere-"}}).metadata.name
    try:
        elsewhere = review(stranger_api, other)
        assert rules(elsewhere) == [found[0], found[3]]
        assert {"verbs": ["get"], "non_resource_urls": ["/metrics"]} in \
            [{k: v for k, v in r.items() if v} for r in elsewhere["status"]["non_resource_rules"]]
    finally:
        core.delete_namespace(other)


def test_an_access_review_and_the_request_agree_with_the_rules(emulator, namespace, stranger):
    """The RoleBinding is honoured by the authorizer too: in its namespace only."""
    stranger_api = as_user(emulator, stranger)
    assert may(stranger_api, "create", "configmaps", namespace) is True
    assert may(stranger_api, "create", "configmaps", "default") is False
    assert may(stranger_api, "create", "secrets", namespace) is False
    core = client.CoreV1Api(stranger_api)
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "mine"}})
    assert failure(core.create_namespaced_config_map, "default", {"metadata": {"name": "mine"}})["code"] == 403
    assert failure(core.create_namespaced_secret, namespace, {"metadata": {"name": "mine"}})["code"] == 403


def test_group_bindings_count_and_a_missing_role_is_an_evaluation_error(api, emulator, namespace):
    rbac = client.RbacAuthorizationV1Api(api)
    rbac.create_namespaced_role(namespace, {"metadata": {"name": "jobs"}, "rules": [
        {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["create"]}]})
    ref = {"apiGroup": RBAC, "kind": "Role", "name": "jobs"}
    rbac.create_namespaced_role_binding(namespace, {"metadata": {"name": "everyone"}, "roleRef": ref, "subjects": [
        {"kind": "Group", "apiGroup": RBAC, "name": "system:authenticated"}]})
    rbac.create_namespaced_role_binding(namespace, {"metadata": {"name": "someone-else"}, "roleRef": ref,
                                                    "subjects": [{"kind": "User", "name": "someone-else"}]})
    rbac.create_namespaced_role_binding(namespace, {
        "metadata": {"name": "dangling"}, "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "gone"},
        "subjects": [{"kind": "User", "name": "developer"}]})
    answer = review(emulator.api_client(DEVELOPER_TOKEN), namespace)
    assert rules(answer).count({"verbs": ["create"], "api_groups": ["batch"], "resources": ["jobs"]}) == 1
    assert answer["status"]["evaluation_error"] == 'clusterrole.rbac.authorization.k8s.io "gone" not found'
    assert answer["status"]["incomplete"] is False


def test_a_review_without_a_namespace_is_a_bad_request(api):
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview", "spec": {}}
    status = failure(client.AuthorizationV1Api(api).create_self_subject_rules_review, body)
    assert (status["code"], status["message"]) == (400, "no namespace on request")


def test_a_user_without_a_binding_may_not_ask(emulator, namespace):
    """As with access reviews, an identity other than the admin and the developer only reads."""
    status = failure(client.AuthorizationV1Api(as_user(emulator, "nobody-" + secrets.token_hex(3)))
                     .create_self_subject_rules_review, {"spec": {"namespace": namespace}})
    assert status["code"] == 403


def test_discovery_serves_rules_reviews_for_create(emulator):
    resources = emulator.get_json("/apis/authorization.k8s.io/v1")["resources"]
    entry = next(r for r in resources if r["name"] == "selfsubjectrulesreviews")
    assert (entry["kind"], entry["namespaced"], entry["verbs"]) == ("SelfSubjectRulesReview", False, ["create"])
