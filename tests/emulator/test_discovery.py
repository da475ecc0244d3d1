"""Discovery: the API groups both flavours serve, seen by kubectl and by the dynamic client."""
import json
import urllib.error
import urllib.request

import pytest
from kubernetes.dynamic.exceptions import ResourceNotFoundError

KUBERNETES = [
    ("v1", "Namespace"), ("v1", "Pod"), ("v1", "PersistentVolumeClaim"), ("v1", "Secret"),
    ("apps/v1", "Deployment"), ("apps/v1", "StatefulSet"), ("batch/v1", "Job"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"), ("networking.k8s.io/v1", "NetworkPolicy"),
    ("policy/v1", "PodDisruptionBudget"), ("storage.k8s.io/v1", "StorageClass"),
    ("scheduling.k8s.io/v1", "PriorityClass"), ("snapshot.storage.k8s.io/v1", "VolumeSnapshot"),
]
OPENSHIFT = [
    ("route.openshift.io/v1", "Route"), ("build.openshift.io/v1", "BuildConfig"),
    ("build.openshift.io/v1", "Build"), ("image.openshift.io/v1", "ImageStream"),
    ("project.openshift.io/v1", "Project"), ("project.openshift.io/v1", "ProjectRequest"),
    ("user.openshift.io/v1", "User"),
]
OPENSHIFT_GROUPS = {"route.openshift.io", "build.openshift.io", "image.openshift.io", "project.openshift.io",
                    "user.openshift.io"}


def _api_resources(kubectl):
    """{apiVersion: {kind: namespaced}} from `kubectl api-resources`."""
    out = kubectl("api-resources", "--no-headers", "-o", "wide").stdout
    found = {}
    for line in out.splitlines():
        words = line.split()
        # NAME [SHORTNAMES] APIVERSION NAMESPACED KIND VERBS...: find the namespaced column.
        index = next(n for n, word in enumerate(words) if word in ("true", "false"))
        found.setdefault(words[index - 1], {})[words[index + 1]] = words[index] == "true"
    return found


@pytest.mark.parametrize("api_version,kind", KUBERNETES + OPENSHIFT)
def test_dynamic_client_finds_every_kind_on_openshift(dyn, api_version, kind):
    resource = dyn.resources.get(api_version=api_version, kind=kind)
    assert resource.kind == kind
    assert resource.group_version == api_version


@pytest.mark.parametrize("api_version,kind", KUBERNETES)
def test_vanilla_serves_the_kubernetes_kinds(vanilla_dyn, api_version, kind):
    resource = vanilla_dyn.resources.get(api_version=api_version, kind=kind)
    assert resource.kind == kind


@pytest.mark.parametrize("api_version,kind", OPENSHIFT)
def test_vanilla_serves_no_openshift_kind(vanilla_dyn, api_version, kind):
    with pytest.raises(ResourceNotFoundError):
        vanilla_dyn.resources.get(api_version=api_version, kind=kind)


def test_kubectl_lists_kubernetes_and_openshift_groups(kubectl):
    found = _api_resources(kubectl)
    for api_version, kind in KUBERNETES + OPENSHIFT:
        assert kind in found.get(api_version, {}), f"{api_version} {kind} missing from kubectl api-resources"
    assert found["v1"]["Namespace"] is False
    assert found["v1"]["Pod"] is True
    assert found["project.openshift.io/v1"]["Project"] is False
    assert found["user.openshift.io/v1"]["User"] is False
    assert found["route.openshift.io/v1"]["Route"] is True


def test_kubectl_on_vanilla_lists_no_openshift_group(vanilla_kubectl):
    found = _api_resources(vanilla_kubectl)
    assert "Deployment" in found["apps/v1"]
    assert "VolumeSnapshot" in found["snapshot.storage.k8s.io/v1"]
    assert not OPENSHIFT_GROUPS & {api_version.split("/")[0] for api_version in found}


def test_group_list_names_the_flavour_groups(emulator, vanilla):
    def groups(url):
        with urllib.request.urlopen(f"{url}/apis") as response:
            return {g["name"] for g in json.loads(response.read())["groups"]}

    assert OPENSHIFT_GROUPS <= groups(emulator.url)
    assert not OPENSHIFT_GROUPS & groups(vanilla.url)
    assert "snapshot.storage.k8s.io" in groups(vanilla.url)


def test_subresources_are_discoverable(dyn):
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    assert set(deployments.subresources) == {"status", "scale"}
    instantiate = dyn.resources.get(api_version="build.openshift.io/v1", kind="BuildConfig").subresources
    assert "instantiate" in instantiate


def test_unknown_group_version_is_404(emulator):
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(f"{emulator.url}/apis/route.openshift.io/v2")
    assert raised.value.code == 404
    assert json.loads(raised.value.read())["kind"] == "Status"


def test_version_is_the_pinned_kubectls_by_default(emulator, kubectl):
    assert {k: v for k, v in emulator.get_json("/version").items() if k in ("major", "minor", "gitVersion")} == \
        {"major": "1", "minor": "33", "gitVersion": "v1.33.0"}
    assert json.loads(kubectl("version", "-o", "json").stdout)["serverVersion"]["gitVersion"] == "v1.33.0"
