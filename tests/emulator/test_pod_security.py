"""Pod Security admission: namespace labels choose a level of the Pod Security Standards, enforced on pods."""
import json
import secrets

import pytest
from kubernetes import client

from .expect import failure

LABEL = "pod-security.kubernetes.io/"


@pytest.fixture(name="vcore")
def vcore_fixture(vanilla):
    return client.CoreV1Api(vanilla.api_client())


@pytest.fixture(name="labelled")
def labelled_fixture(vcore):
    """Make namespaces on the vanilla emulator with the given Pod Security labels; deleted afterwards."""
    made = []

    def make(**labels):
        name = f"psa-{secrets.token_hex(4)}"
        vcore.create_namespace({"metadata": {"name": name, "labels": {
            LABEL + key.replace("_", "-"): value for key, value in labels.items()}}})
        made.append(name)
        return name

    yield make
    for name in made:
        vcore.delete_namespace(name)


def _pod(name="web", pod_sc=None, **container):
    spec = {"containers": [{"name": "c", "image": "busybox:1", **container}]}
    if pod_sc is not None:
        spec["securityContext"] = pod_sc
    return {"metadata": {"name": name}, "spec": spec}


RESTRICTED_SC = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
RESTRICTED_POD_SC = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}


def _forbidden(call, *args):
    status = failure(call, *args)
    assert (status["code"], status["reason"]) == (403, "Forbidden")
    return status["message"]


def test_restricted_refuses_a_plain_pod_with_every_reason(vcore, labelled):
    namespace = labelled(enforce="restricted")
    message = _forbidden(vcore.create_namespaced_pod, namespace, _pod())
    assert message == (
        'pods "web" is forbidden: violates PodSecurity "restricted:latest": '
        'allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), '
        'unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), '
        'runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), '
        'seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" '
        'or "Localhost")')
    assert failure(vcore.read_namespaced_pod, "web", namespace)["code"] == 404


def test_restricted_admits_a_conforming_pod_and_dry_run_is_checked_too(vcore, labelled):
    namespace = labelled(enforce="restricted", enforce_version="v1.30")
    root = _pod(pod_sc={**RESTRICTED_POD_SC, "runAsUser": 0},
                securityContext={**RESTRICTED_SC, "capabilities": {"drop": ["ALL"], "add": ["NET_ADMIN"]}})
    message = _forbidden(vcore.create_namespaced_pod, namespace, root)
    assert message == ('pods "web" is forbidden: violates PodSecurity "restricted:v1.30": unrestricted capabilities '
                       '(container "c" must not include "NET_ADMIN" in securityContext.capabilities.add), '
                       "runAsUser=0 (pod must not set runAsUser=0)")
    ok = _pod(pod_sc=RESTRICTED_POD_SC, securityContext={**RESTRICTED_SC, "capabilities": {
        "drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}})
    status = failure(vcore.create_namespaced_pod, namespace, _pod(name="dry"), dry_run="All")
    assert status["code"] == 403 and status["message"].startswith('pods "dry" is forbidden: violates PodSecurity')
    assert vcore.create_namespaced_pod(namespace, ok).status.phase == "Running"


def test_baseline_refuses_host_access_and_allows_what_restricted_would_not(vcore, labelled):
    namespace = labelled(enforce="baseline")
    pod = _pod(securityContext={"privileged": True, "capabilities": {"add": ["CHOWN", "SYS_ADMIN"]}},
               ports=[{"containerPort": 80, "hostPort": 8080}])
    pod["spec"].update(hostNetwork=True, hostPID=True, volumes=[{"name": "root", "hostPath": {"path": "/"}}],
                       securityContext={"sysctls": [{"name": "kernel.msgmax", "value": "1"}]})
    message = _forbidden(vcore.create_namespaced_pod, namespace, pod)
    assert message == (
        'pods "web" is forbidden: violates PodSecurity "baseline:latest": '
        'non-default capabilities (container "c" must not include "SYS_ADMIN" in securityContext.capabilities.add), '
        "host namespaces (hostNetwork=true, hostPID=true), "
        'hostPath volumes (volume "root"), '
        'hostPort (container "c" uses hostPort 8080), '
        'privileged (container "c" must not set securityContext.privileged=true), '
        "forbidden sysctls (kernel.msgmax)")
    unconfined = _pod(name="unconfined", pod_sc={"seccompProfile": {"type": "Unconfined"}})
    assert 'seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")' in \
        _forbidden(vcore.create_namespaced_pod, namespace, unconfined)
    # Root, escalation and an allowed capability are baseline.
    vcore.create_namespaced_pod(namespace, _pod(name="root", securityContext={
        "runAsUser": 0, "allowPrivilegeEscalation": True, "capabilities": {"add": ["NET_BIND_SERVICE", "CHOWN"]}}))


def test_namespaces_without_labels_are_privileged(vcore, labelled):
    namespace = labelled()
    pod = _pod(securityContext={"privileged": True})
    pod["spec"]["hostNetwork"] = True
    vcore.create_namespaced_pod(namespace, pod)


def test_restricted_lists_restricted_volume_types_and_every_container(vcore, labelled):
    namespace = labelled(enforce="restricted")
    pod = _pod(pod_sc=RESTRICTED_POD_SC, securityContext=RESTRICTED_SC)
    pod["spec"]["containers"].append({"name": "d", "image": "busybox:1"})
    pod["spec"]["volumes"] = [{"name": "share", "nfs": {"server": "nfs", "path": "/"}}, {"name": "tmp", "emptyDir": {}}]
    message = _forbidden(vcore.create_namespaced_pod, namespace, pod)
    assert message == (
        'pods "web" is forbidden: violates PodSecurity "restricted:latest": '
        'allowPrivilegeEscalation != false (container "d" must set securityContext.allowPrivilegeEscalation=false), '
        'unrestricted capabilities (container "d" must set securityContext.capabilities.drop=["ALL"]), '
        'restricted volume types (volume "share" uses restricted volume type "nfs")')


def _deployment(name, pod_spec):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}, "spec": {
        "replicas": 1, "selector": {"matchLabels": {"app": name}},
        "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec}}}


def test_workloads_are_only_warned_and_their_pods_are_refused(vanilla, vanilla_kubectl, labelled):
    namespace = labelled(enforce="restricted", warn="baseline")
    manifest = _deployment("web", _pod(securityContext={"privileged": True})["spec"])
    done = vanilla_kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps(manifest))
    assert "deployment.apps/web created" in done.stdout
    # One warning per level that the template breaks: baseline (warn) and restricted (enforce).
    assert 'Warning: would violate PodSecurity "baseline:latest": privileged (container "c" must not set ' \
           'securityContext.privileged=true)' in done.stderr
    assert 'Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false' in done.stderr
    apps = client.AppsV1Api(vanilla.api_client())
    status = apps.read_namespaced_deployment("web", namespace).status
    assert not status.ready_replicas
    rs = apps.list_namespaced_replica_set(namespace).items[0]
    failed = {c.type: c for c in rs.status.conditions}["ReplicaFailure"]
    assert failed.reason == "FailedCreate"
    assert failed.message.startswith(f'pods "{rs.metadata.name}-')
    assert 'is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false' in failed.message
    assert client.CoreV1Api(vanilla.api_client()).list_namespaced_pod(namespace).items == []


def test_warn_label_warns_on_an_admitted_pod(vanilla_kubectl, labelled):
    namespace = labelled(warn="restricted", warn_version="v1.29")
    pod = json.dumps({"apiVersion": "v1", "kind": "Pod", **_pod()})
    done = vanilla_kubectl("apply", "-n", namespace, "-f", "-", stdin=pod)
    assert "pod/web created" in done.stdout
    assert 'Warning: would violate PodSecurity "restricted:v1.29": allowPrivilegeEscalation != false ' \
           '(container "c" must set securityContext.allowPrivilegeEscalation=false)' in done.stderr
