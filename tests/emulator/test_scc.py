"""OpenShift SecurityContextConstraints: namespace UID ranges, restricted-v2 defaults and refusals, anyuid grants."""
import secrets

import pytest
from kubernetes import client

from .expect import failure

UID_RANGE = "openshift.io/sa.scc.uid-range"
NOT_USABLE = 'provider "{}": Forbidden: not usable by user or serviceaccount'


@pytest.fixture(name="developer_core")
def developer_core_fixture(emulator):
    return client.CoreV1Api(emulator.api_client("emulator-developer-token"))


def _pod(name="web", pod_sc=None, account=None, **container):
    spec = {"containers": [{"name": "c", "image": "busybox:1", **container}]}
    if pod_sc is not None:
        spec["securityContext"] = pod_sc
    if account:
        spec["serviceAccountName"] = account
    return {"metadata": {"name": name}, "spec": spec}


def _first_uid(core, namespace):
    return int(core.read_namespace(namespace).metadata.annotations[UID_RANGE].split("/")[0])


def test_namespaces_get_distinct_ranges(core, namespace):
    other = f"t-{secrets.token_hex(4)}"
    core.create_namespace({"metadata": {"name": other}})
    try:
        mine, theirs = (core.read_namespace(n).metadata.annotations for n in (namespace, other))
        for annotations in (mine, theirs):
            start, size = annotations[UID_RANGE].split("/")
            assert size == "10000" and int(start) >= 1000000000 and int(start) % 10000 == 0
            assert annotations["openshift.io/sa.scc.supplemental-groups"] == annotations[UID_RANGE]
            assert annotations["openshift.io/sa.scc.mcs"].startswith("s0:c")
        assert mine[UID_RANGE] != theirs[UID_RANGE]
        assert mine["openshift.io/sa.scc.mcs"] != theirs["openshift.io/sa.scc.mcs"]
    finally:
        core.delete_namespace(other)


def test_vanilla_namespaces_get_no_range(vanilla):
    vcore = client.CoreV1Api(vanilla.api_client())
    name = f"t-{secrets.token_hex(4)}"
    vcore.create_namespace({"metadata": {"name": name}})
    try:
        assert UID_RANGE not in (vcore.read_namespace(name).metadata.annotations or {})
        vcore.create_namespaced_pod(name, _pod(securityContext={"runAsUser": 0}))
        assert "openshift.io/scc" not in (vcore.read_namespaced_pod("web", name).metadata.annotations or {})
    finally:
        vcore.delete_namespace(name)


def test_restricted_v2_runs_a_pod_in_the_namespace_range(core, developer_core, namespace):
    first = _first_uid(core, namespace)
    created = developer_core.create_namespaced_pod(namespace, _pod())
    assert created.metadata.annotations["openshift.io/scc"] == "restricted-v2"
    sc = created.spec.containers[0].security_context
    assert sc.run_as_user == first
    assert sc.allow_privilege_escalation is False
    assert sc.capabilities.drop == ["ALL"]
    assert created.spec.security_context.fs_group == first
    assert created.spec.security_context.se_linux_options.level == \
        core.read_namespace(namespace).metadata.annotations["openshift.io/sa.scc.mcs"]
    # A UID inside the range is kept.
    chosen = developer_core.create_namespaced_pod(namespace, _pod("chosen", securityContext={"runAsUser": first + 5}))
    assert chosen.spec.containers[0].security_context.run_as_user == first + 5


def test_restricted_v2_refuses_with_every_provider(core, developer_core, namespace):
    first = _first_uid(core, namespace)
    pod = _pod(pod_sc={"fsGroup": 1000}, securityContext={
        "runAsUser": 1000, "privileged": True, "allowPrivilegeEscalation": True,
        "capabilities": {"add": ["NET_BIND_SERVICE", "NET_ADMIN"]}})
    pod["spec"]["volumes"] = [{"name": "root", "hostPath": {"path": "/"}}]
    status = failure(developer_core.create_namespaced_pod, namespace, pod)
    assert (status["code"], status["reason"]) == (403, "Forbidden")
    assert status["message"] == (
        'pods "web" is forbidden: unable to validate against any security context constraint: ['
        + NOT_USABLE.format("anyuid") + ", "
        "provider restricted-v2: .spec.securityContext.fsGroup: Invalid value: []int64{1000}: 1000 is not an "
        "allowed group, "
        'provider restricted-v2: .spec.volumes[0]: Invalid value: "hostPath": hostPath volumes are not allowed to '
        "be used, "
        f"provider restricted-v2: .containers[0].runAsUser: Invalid value: 1000: must be in the ranges: "
        f"[{first}, {first + 9999}], "
        "provider restricted-v2: .containers[0].privileged: Invalid value: true: Privileged containers are not "
        "allowed, "
        'provider restricted-v2: .containers[0].capabilities.add: Invalid value: "NET_ADMIN": capability may not '
        "be added, "
        "provider restricted-v2: .containers[0].allowPrivilegeEscalation: Invalid value: true: Allowing privilege "
        "escalation for containers is not allowed, "
        + NOT_USABLE.format("privileged") + "]")
    assert failure(core.read_namespaced_pod, "web", namespace)["code"] == 404


def _deployment(name, pod_spec):
    return {"metadata": {"name": name}, "spec": {
        "replicas": 1, "selector": {"matchLabels": {"app": name}},
        "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec}}}


def test_workload_pods_are_judged_by_their_service_account(apps, core, namespace):
    """The admin may use every SCC, but the ReplicaSet controller creates the pods: only restricted-v2 applies."""
    apps.create_namespaced_deployment(namespace, _deployment("hub", _pod(pod_sc={"runAsUser": 1000})["spec"]))
    assert not apps.read_namespaced_deployment("hub", namespace).status.ready_replicas
    rs = apps.list_namespaced_replica_set(namespace).items[0]
    failed = {c.type: c for c in rs.status.conditions}["ReplicaFailure"]
    assert failed.reason == "FailedCreate"
    assert "is forbidden: unable to validate against any security context constraint: [" in failed.message
    assert "provider restricted-v2: .spec.securityContext.runAsUser: Invalid value: 1000: must be in the ranges" \
        in failed.message
    # The admin's own pod may run as root: anyuid (priority 10) admits it first.
    root = core.create_namespaced_pod(namespace, _pod("root", securityContext={"runAsUser": 0}))
    assert root.metadata.annotations["openshift.io/scc"] == "anyuid"
    assert root.spec.containers[0].security_context.run_as_user == 0


def test_anyuid_grant_lets_a_service_account_run_as_any_uid(api, apps, core, developer_core, namespace):
    rbac = client.RbacAuthorizationV1Api(api)
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "hub"}})
    # What `oc adm policy add-scc-to-user anyuid -z hub -n <namespace>` writes.
    binding = f"anyuid-{namespace}"
    rbac.create_cluster_role_binding({
        "metadata": {"name": binding},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": "system:openshift:scc:anyuid"},
        "subjects": [{"kind": "ServiceAccount", "name": "hub", "namespace": namespace}]})
    try:
        root = developer_core.create_namespaced_pod(namespace, _pod("root", account="hub", pod_sc={"fsGroup": 0},
                                                                    securityContext={"runAsUser": 0}))
        assert root.metadata.annotations["openshift.io/scc"] == "anyuid"
        assert root.spec.containers[0].security_context.run_as_user == 0
        # Other accounts are still held to restricted-v2.
        status = failure(developer_core.create_namespaced_pod, namespace,
                         _pod("other", securityContext={"runAsUser": 0}))
        assert NOT_USABLE.format("anyuid") in status["message"]
        # The other restrictions stay under anyuid.
        status = failure(developer_core.create_namespaced_pod, namespace,
                         _pod("priv", account="hub", securityContext={"privileged": True}))
        assert "provider anyuid: .containers[0].privileged: Invalid value: true: Privileged containers are not " \
               "allowed" in status["message"]
        # Deployments of that account run as 0 too.
        spec = _pod(account="hub", pod_sc={"runAsUser": 0})["spec"]
        apps.create_namespaced_deployment(namespace, _deployment("hub", spec))
        assert apps.read_namespaced_deployment("hub", namespace).status.ready_replicas == 1
    finally:
        rbac.delete_cluster_role_binding(binding)


def test_anyuid_grant_by_role_binding_in_the_namespace(api, developer_core, namespace):
    client.RbacAuthorizationV1Api(api).create_namespaced_role_binding(namespace, {
        "metadata": {"name": "system:openshift:scc:anyuid"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": "system:openshift:scc:anyuid"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": namespace}]})
    created = developer_core.create_namespaced_pod(namespace, _pod(securityContext={"runAsUser": 1000}))
    assert created.metadata.annotations["openshift.io/scc"] == "anyuid"


def test_a_role_that_may_use_the_scc_grants_it(api, developer_core, namespace):
    """What `oc create role <name> --verb=use --resource=scc --resource-name=anyuid` and a RoleBinding write."""
    rbac = client.RbacAuthorizationV1Api(api)
    rbac.create_namespaced_role(namespace, {"metadata": {"name": "use-anyuid"}, "rules": [{
        "apiGroups": ["security.openshift.io"], "resources": ["securitycontextconstraints"],
        "resourceNames": ["anyuid"], "verbs": ["use"]}]})
    refused = failure(developer_core.create_namespaced_pod, namespace, _pod(securityContext={"runAsUser": 0}))
    assert NOT_USABLE.format("anyuid") in refused["message"]
    rbac.create_namespaced_role_binding(namespace, {
        "metadata": {"name": "use-anyuid"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "use-anyuid"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": namespace}]})
    created = developer_core.create_namespaced_pod(namespace, _pod(securityContext={"runAsUser": 0}))
    assert created.metadata.annotations["openshift.io/scc"] == "anyuid"
