"""playbooks/build_images.yml, the job template that builds a hub's images again, on an emulated OpenShift.

One emulator and one module-scoped fixture carry every run: the first build, a second one (new builds though
the images exist), one image by name, an unknown name, a build that fails, and a job without a hub.

The emulator's builds finish as soon as they start (Complete, or Failed for a BuildConfig annotated
`emulator.hubfleet.io/outcome: Failed`) and tag the ImageStream (docs/emulator.md)."""
import json

import pytest

from .scenarios import Emulators, host_messages, namespace, one, stored_version
from .test_playbooks import play, write_inventory

BUILD_GROUP = "build.openshift.io"
REGISTRY = "image-registry.openshift-image-registry.svc:5000"
DOCKERFILE = "FROM quay.io/jupyter/base-notebook:latest\nRUN pip install --no-cache-dir pandas\n"
S2I = {"name": "datascience", "strategy": "source", "git_url": "https://git.example.org/lab/datascience.git",
       "builder_image": "registry.access.redhat.com/ubi9/python-311:latest"}
INLINE = {"name": "pandas", "strategy": "docker", "dockerfile": DOCKERFILE, "tag": "v1"}
REFERENCED = {"name": "minimal", "reference": "quay.io/jupyter/minimal-notebook:2024-05-27"}
OURS_BROKEN = {"app.kubernetes.io/managed-by": "hubfleet", "app.kubernetes.io/component": "image-build",
               "hubfleet.io/hub": "broken"}
HUBS = [{"name": "demo", "namespace": "jupyterhub-demo", "image_build_images": [S2I, INLINE, REFERENCED]},
        {"name": "broken", "namespace": "jupyterhub-broken", "image_build_log_lines": 2,
         "image_build_images": [{"name": "bad", "strategy": "docker", "dockerfile": DOCKERFILE}]},
        {"name": "plain", "namespace": "jupyterhub-plain", "image_build_images": [REFERENCED]}]


def builds(cluster, ns):
    return sorted(b["metadata"]["name"] for b in cluster.objects("builds", ns, BUILD_GROUP))


class Runs:
    """What the runs answered and what the emulator held after each."""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("build_images")
    done = Runs()
    with Emulators(root) as emulators:
        cluster = done.cluster = emulators.start("openshift")
        cluster.control.seed([namespace("jupyterhub-demo"), namespace("jupyterhub-broken"), {
            "apiVersion": "build.openshift.io/v1", "kind": "BuildConfig",
            "metadata": {"name": "bad", "namespace": "jupyterhub-broken", "labels": OURS_BROKEN,
                         "annotations": {"emulator.hubfleet.io/outcome": "Failed"}},
            "spec": {"source": {"type": "Dockerfile", "dockerfile": "FROM scratch\n"},
                     "strategy": {"type": "Docker", "dockerStrategy": {}},
                     "output": {"to": {"kind": "ImageStreamTag", "name": "bad:latest"}}}}])
        inventory = write_inventory(root / "hosts.yml", cluster, HUBS)

        def job(*extra):
            return play("build_images.yml", inventory, "-e", "cluster=local", *extra)

        done.first = job("-e", "hub=demo")
        done.first_builds = builds(cluster, "jupyterhub-demo")
        done.again = job("-e", "hub=demo")
        done.again_builds = builds(cluster, "jupyterhub-demo")
        done.one = job("-e", '{"hub": "demo", "build_images_names": ["pandas"]}')
        done.one_builds = builds(cluster, "jupyterhub-demo")
        version = stored_version(cluster)
        done.unknown = job("-e", '{"hub": "demo", "build_images_names": ["pandas", "nope", "minimal"]}')
        done.unknown_untouched = stored_version(cluster) == version
        done.failing = job("-e", "hub=broken")
        done.nothing = job("-e", "hub=plain")
        done.no_hub = play("build_images.yml", inventory, "-e", "cluster=local")
        yield done


def test_every_image_the_hub_builds_is_built_and_its_reference_reported(runs):
    code, result = runs.first
    assert code == 0, host_messages(result, "local/demo")[-3:]
    assert runs.first_builds == ["datascience-1", "pandas-1"]
    messages = host_messages(result, "local/demo")
    assert f"datascience: {REGISTRY}/jupyterhub-demo/datascience:latest" in messages
    assert f"pandas: {REGISTRY}/jupyterhub-demo/pandas:v1" in messages
    stream = one(runs.cluster, "imagestreams", "jupyterhub-demo", "pandas", "image.openshift.io")
    assert stream["metadata"]["labels"]["hubfleet.io/hub"] == "demo"


def test_a_second_job_builds_again_though_the_images_exist(runs):
    code, result = runs.again
    assert code == 0, host_messages(result, "local/demo")[-3:]
    assert runs.again_builds == ["datascience-1", "datascience-2", "pandas-1", "pandas-2"]


def test_only_the_images_named_are_built(runs):
    code, result = runs.one
    assert code == 0, host_messages(result, "local/demo")[-3:]
    assert runs.one_builds == ["datascience-1", "datascience-2", "pandas-1", "pandas-2", "pandas-3"]
    assert [m for m in host_messages(result, "local/demo") if m.startswith(("pandas:", "datascience:"))] == \
        [f"pandas: {REGISTRY}/jupyterhub-demo/pandas:v1"]


def test_a_name_the_hub_does_not_build_fails_naming_it_before_any_write(runs):
    code, result = runs.unknown
    assert code != 0
    failure = host_messages(result, "local/demo")[-1]
    assert "build_images_names: nope, minimal not among the images hub demo builds (datascience, pandas)" in failure
    assert runs.unknown_untouched


def test_a_failed_build_fails_the_job_with_the_end_of_its_log(runs):
    code, result = runs.failing
    assert code != 0
    failure = host_messages(result, "local/broken")[-1]
    assert "jupyterhub-broken/bad-1" in failure and "Failed" in failure, failure


def test_a_hub_without_images_to_build_fails_saying_so(runs):
    code, result = runs.nothing
    assert code != 0
    assert "hub plain builds no image" in host_messages(result, "local/plain")[-1]


def test_the_job_variables_are_checked_first(runs):
    code, result = runs.no_hub
    assert code != 0
    assert set(result["stats"]) == {"localhost"}
    assert "hub" in json.dumps(host_messages(result, "localhost"))
