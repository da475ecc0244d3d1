"""The image_build role on its own (tests/integration/playbooks/roles_b/image_build.yml) against emulated clusters.

Three ansible-playbook runs carry every scenario, one inventory host per scenario, each host reaching its
own emulator through the collection's auth block (`cluster_kubeconfig`; KUBECONFIG points nowhere):

1. converge: S2I, Docker (repository and inline Dockerfile) and referenced images; a build that fails;
   bad input; vanilla Kubernetes with an image to build and with references only; a hub to change later;
2. the converged hub again (no build, nothing written), a hub removed (its objects seeded), and one with
   an image dropped and image_build_start;
3. check mode on a fresh cluster.

The emulator's builds finish as soon as they start (Complete, or Failed for a BuildConfig annotated
`emulator.hubfleet.io/outcome: Failed`), push nothing and tag the ImageStream. "Nothing written" is both
the emulator's count of write requests (dry runs are counted apart) and its resourceVersion counter
standing still."""
import pytest

from .scenarios import Emulators, host_messages, host_results, namespace, one, stored_version
from .test_role_route import last_value, local_inventory, reported, run_role, stats

REGISTRY = "image-registry.openshift-image-registry.svc:5000"  # the emulator's internal registry
BUILD_GROUP = "build.openshift.io"
IMAGE_GROUP = "image.openshift.io"
BUILDER = "registry.access.redhat.com/ubi9/python-311:latest"
MINIMAL = "quay.io/jupyter/minimal-notebook:2024-05-27"
DOCKERFILE = "FROM quay.io/jupyter/base-notebook:latest\nRUN pip install --no-cache-dir pandas\n"

S2I = {"name": "datascience", "strategy": "source", "git_url": "https://git.example.org/lab/datascience.git",
       "git_ref": "v2", "context_dir": "images/datascience", "builder_image": BUILDER}
DOCKER_REPO = {"name": "gpu", "strategy": "docker", "git_url": "https://git.example.org/lab/gpu.git",
               "from_image": "quay.io/jupyter/pytorch-notebook:cuda12-latest"}
DOCKER_INLINE = {"name": "pandas", "strategy": "docker", "dockerfile": DOCKERFILE, "tag": "v1"}
REFERENCED = {"name": "minimal", "reference": MINIMAL}


def labels(hub):
    return {"app.kubernetes.io/managed-by": "hubfleet", "app.kubernetes.io/component": "image-build",
            "hubfleet.io/hub": hub}


def hub(name, cluster, images, **role_vars):
    return dict({"cluster": cluster, "image_build_hub": name, "image_build_namespace": f"jupyterhub-{name}",
                 "image_build_images": images}, **role_vars)


def build_config_of(name, ns):
    return {"apiVersion": "build.openshift.io/v1", "kind": "BuildConfig", "metadata": {"name": name, "namespace": ns},
            "spec": {"source": {"type": "Dockerfile", "dockerfile": DOCKERFILE},
                     "strategy": {"type": "Docker", "dockerStrategy": {}},
                     "output": {"to": {"kind": "ImageStreamTag", "name": f"{name}:latest"}}}}


def build_config(cluster, ns, name):
    return one(cluster, "buildconfigs", ns, name, BUILD_GROUP)


def image_stream(cluster, ns, name):
    return one(cluster, "imagestreams", ns, name, IMAGE_GROUP)


def builds(cluster, ns):
    return sorted(b["metadata"]["name"] for b in cluster.objects("builds", ns, BUILD_GROUP))


def instantiations(cluster):
    return sum(count for key, count in cluster.control.counts().items() if "instantiate" in key)


class Runs:
    """What the runs answered and what the emulators held after each."""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("image_build")
    emulators = Emulators(root)
    done = Runs()
    try:
        cluster = done.cluster = emulators.start("builds")
        refusing = done.refusing = emulators.start("refusing")
        vanilla = done.vanilla = emulators.start("vanilla", openshift=False)
        fresh = done.fresh = emulators.start("fresh")
        cluster.control.seed(
            [namespace(f"jupyterhub-{name}") for name in ("built", "failing", "gone", "shrink")]
            # Ours from an earlier run (our labels), which the emulator makes fail when it builds.
            + [{"apiVersion": "build.openshift.io/v1", "kind": "BuildConfig",
                "metadata": {"name": "broken", "namespace": "jupyterhub-failing", "labels": labels("failing"),
                             "annotations": {"emulator.hubfleet.io/outcome": "Failed"}},
                "spec": {"source": {"type": "Dockerfile", "dockerfile": "FROM scratch\n"},
                         "strategy": {"type": "Docker", "dockerStrategy": {}},
                         "output": {"to": {"kind": "ImageStreamTag", "name": "broken:latest"}}}},
               # Ours from an earlier run for the hub to remove, and someone else's stream next to them.
               {"apiVersion": "image.openshift.io/v1", "kind": "ImageStream",
                "metadata": {"name": "pandas", "namespace": "jupyterhub-gone", "labels": labels("gone")}},
               dict(build_config_of("pandas", "jupyterhub-gone"), metadata={
                   "name": "pandas", "namespace": "jupyterhub-gone", "labels": labels("gone")}),
               {"apiVersion": "image.openshift.io/v1", "kind": "ImageStream",
                "metadata": {"name": "theirs", "namespace": "jupyterhub-gone"}}])
        refusing.control.seed([namespace("jupyterhub-bad")])
        vanilla.control.seed([namespace("jupyterhub-plain"), namespace("jupyterhub-needs")])
        fresh.control.seed([namespace("jupyterhub-check")])
        for each in (cluster, refusing, vanilla, fresh):
            each.control.reset()
        done.refusing_version, done.vanilla_version = stored_version(refusing), stored_version(vanilla)
        built = hub("built", cluster, [S2I, DOCKER_REPO, DOCKER_INLINE, REFERENCED])
        inventory = local_inventory(
            root / "converge.yml", built=built,
            failing=hub("failing", cluster, [{"name": "broken", "strategy": "docker", "dockerfile": DOCKERFILE}],
                        image_build_log_lines=2),
            shrink=hub("shrink", cluster, [S2I, DOCKER_INLINE]),
            bad=hub("bad", refusing, [
                S2I, {"name": "Bad_Name", "reference": MINIMAL},
                {"name": "both", "reference": MINIMAL, "git_url": "https://git.example.org/x.git"},
                {"name": "s2i-docker", "git_url": "ftp://git.example.org/x.git", "builder_image": BUILDER,
                 "dockerfile": DOCKERFILE},
                {"name": "nothing", "strategy": "docker", "context_dir": "../up"},
                {"name": "s2i-nobuilder", "git_url": "https://git.example.org/x.git", "tag": "-bad"},
                {"name": "badref", "reference": "Quay.io/Jupyter Notebook"},
                dict(DOCKER_INLINE, name="datascience")]),
            strange=hub("strange", refusing, [dict(S2I, strategy="s2i")]),
            needs=hub("needs", vanilla, [REFERENCED, S2I, DOCKER_INLINE]),
            plain=hub("plain", vanilla, [REFERENCED, {"name": "base", "reference": "quay.io/jupyter/base-notebook"}]))
        done.converge = run_role("image_build.yml", inventory)
        done.refusing_writes, done.vanilla_writes = refusing.writes(), vanilla.writes()
        done.built_builds = builds(cluster, "jupyterhub-built")
        done.converged_version = stored_version(cluster)
        done.converged_configs = cluster.objects("buildconfigs", "jupyterhub-built", BUILD_GROUP)

        cluster.control.reset()
        inventory = local_inventory(
            root / "again.yml", built=built, gone=hub("gone", cluster, [DOCKER_INLINE], image_build_state="absent"),
            # From a survey, a boolean arrives as a string.
            shrink=hub("shrink", cluster, [DOCKER_INLINE], image_build_start="true"))
        done.again = run_role("image_build.yml", inventory)
        done.again_built_builds = builds(cluster, "jupyterhub-built")
        done.again_configs = cluster.objects("buildconfigs", "jupyterhub-built", BUILD_GROUP)

        inventory = local_inventory(root / "check.yml", check=hub("check", fresh, [S2I, REFERENCED]))
        done.check = run_role("image_build.yml", inventory, "--check")
        done.check_writes = fresh.writes()
        yield done
    finally:
        emulators.stop()


# --- builds --------------------------------------------------------------------------------------------

def test_s2i_and_docker_images_are_built_and_the_fact_holds_their_registry_references(runs):
    _code, result = runs.converge
    assert stats(result, "built")["failures"] == 0, host_messages(result, "built")
    assert runs.built_builds == ["datascience-1", "gpu-1", "pandas-1"]
    for name in runs.built_builds:
        build = one(runs.cluster, "builds", "jupyterhub-built", name, BUILD_GROUP)
        assert build["status"]["phase"] == "Complete", build["status"]
    assert last_value(result, "built", "image_build_refs") == {
        "datascience": f"{REGISTRY}/jupyterhub-built/datascience:latest",
        "gpu": f"{REGISTRY}/jupyterhub-built/gpu:latest",
        "pandas": f"{REGISTRY}/jupyterhub-built/pandas:v1",
        "minimal": MINIMAL}
    # The tag the build pushed is in the stream (a reference to it can be pulled).
    tags = image_stream(runs.cluster, "jupyterhub-built", "pandas")["status"]["tags"]
    assert [tag["tag"] for tag in tags] == ["v1"]
    # Nothing is made for an image given by reference.
    assert image_stream(runs.cluster, "jupyterhub-built", "minimal") is None
    assert build_config(runs.cluster, "jupyterhub-built", "minimal") is None


def test_the_s2i_build_config(runs):
    made = build_config(runs.cluster, "jupyterhub-built", "datascience")
    assert made["metadata"]["labels"] == labels("built")
    spec = made["spec"]
    assert spec["source"] == {"type": "Git", "git": {"uri": S2I["git_url"], "ref": "v2"},
                              "contextDir": "images/datascience"}
    assert spec["strategy"] == {"type": "Source", "sourceStrategy": {"from": {"kind": "DockerImage", "name": BUILDER}}}
    assert spec["output"] == {"to": {"kind": "ImageStreamTag", "name": "datascience:latest"}}
    assert not spec.get("triggers")
    assert image_stream(runs.cluster, "jupyterhub-built", "datascience")["metadata"]["labels"] == labels("built")


def test_the_docker_build_configs(runs):
    repo = build_config(runs.cluster, "jupyterhub-built", "gpu")["spec"]
    assert repo["source"] == {"type": "Git", "git": {"uri": DOCKER_REPO["git_url"]}}
    assert repo["strategy"] == {"type": "Docker", "dockerStrategy": {"from": {
        "kind": "DockerImage", "name": DOCKER_REPO["from_image"]}}}
    inline = build_config(runs.cluster, "jupyterhub-built", "pandas")["spec"]
    assert inline["source"] == {"type": "Dockerfile", "dockerfile": DOCKERFILE}
    assert inline["strategy"] == {"type": "Docker", "dockerStrategy": {}}
    assert inline["output"] == {"to": {"kind": "ImageStreamTag", "name": "pandas:v1"}}


def test_a_second_run_changes_nothing_and_starts_no_build(runs):
    code, result = runs.again
    assert code == 0, {host: host_messages(result, host)[-2:] for host in result["stats"]}
    assert stats(result, "built")["changed"] == 0, reported(result, "built")
    assert runs.again_built_builds == runs.built_builds
    assert runs.again_configs == runs.converged_configs
    assert last_value(result, "built", "image_build_refs")["pandas"] == f"{REGISTRY}/jupyterhub-built/pandas:v1"


def test_image_build_start_starts_a_build_on_every_run(runs):
    _code, result = runs.again
    assert stats(result, "shrink")["failures"] == 0, host_messages(result, "shrink")
    assert builds(runs.cluster, "jupyterhub-shrink") == ["pandas-1", "pandas-2"]
    # The only build started in the second run: the one image_build_start asked for.
    assert instantiations(runs.cluster) == 1, runs.cluster.control.counts()


def test_a_failed_build_fails_with_its_name_phase_reason_and_log_tail(runs):
    code, result = runs.converge
    assert code != 0
    assert stats(result, "failing")["failures"] == 1
    failure = host_messages(result, "failing")[-1]
    assert "Build jupyterhub-failing/broken-1 ended Failed" in failure, failure
    assert "GenericBuildFailed" in failure, failure
    # image_build_log_lines: 2, the last two lines of the emulator's build log.
    assert "end of its log: Pushing image ... / error: build error" in failure, failure
    assert "(Docker strategy)" not in failure, failure
    assert not [item for _name, item in host_results(result, "failing") if "image_build_refs" in item]
    assert build_config(runs.cluster, "jupyterhub-failing", "broken")["spec"]["source"]["dockerfile"] == DOCKERFILE


def test_absent_removes_our_streams_and_build_configs(runs):
    _code, result = runs.again
    assert stats(result, "gone")["failures"] == 0 and stats(result, "gone")["changed"] > 0
    assert "BuildConfig jupyterhub-gone/pandas: deleted" in reported(result, "gone")
    assert runs.cluster.objects("buildconfigs", "jupyterhub-gone", BUILD_GROUP) == []
    # Only ours: the stream without our labels stays.
    assert [o["metadata"]["name"] for o in runs.cluster.objects("imagestreams", "jupyterhub-gone", IMAGE_GROUP)] \
        == ["theirs"]


def test_an_image_dropped_from_the_list_is_removed(runs):
    _code, result = runs.again
    assert stats(result, "shrink")["failures"] == 0, host_messages(result, "shrink")
    assert "BuildConfig jupyterhub-shrink/datascience: deleted" in reported(result, "shrink")
    assert [o["metadata"]["name"] for o in runs.cluster.objects("buildconfigs", "jupyterhub-shrink", BUILD_GROUP)] \
        == ["pandas"]
    assert [o["metadata"]["name"] for o in runs.cluster.objects("imagestreams", "jupyterhub-shrink", IMAGE_GROUP)] \
        == ["pandas"]
    assert last_value(result, "shrink", "image_build_refs") == {"pandas": f"{REGISTRY}/jupyterhub-shrink/pandas:v1"}


# --- refusals ------------------------------------------------------------------------------------------

def test_bad_input_names_every_field_and_writes_nothing(runs):
    _code, result = runs.converge
    assert stats(result, "bad")["failures"] == 1
    refused = host_messages(result, "bad")[-1]
    for fragment in (
            "image_build_images[1].name: 'Bad_Name' must be a DNS-1123 label",
            "image_build_images[2]: reference excludes git_url",
            "image_build_images[3].git_url: 'ftp://git.example.org/x.git' must be an http(s) URL",
            "image_build_images[3]: strategy source takes no dockerfile",
            "image_build_images[4]: strategy docker needs git_url or dockerfile",
            "image_build_images[4]: context_dir need git_url",
            "image_build_images[4].context_dir: '../up'",
            "image_build_images[5]: strategy source needs builder_image",
            "image_build_images[5].tag: '-bad' must be an image tag",
            "image_build_images[6].reference: 'Quay.io/Jupyter Notebook' must be an image reference",
            "the names datascience are given more than once"):
        assert fragment in refused, (fragment, refused)
    assert "image_build_images[0]" not in refused, refused
    strange = host_messages(result, "strange")[-1]
    assert "strategy" in strange and "s2i" in strange, strange
    assert runs.refusing_writes == 0, runs.refusing.control.counts()
    assert stored_version(runs.refusing) == runs.refusing_version


def test_vanilla_refuses_images_to_build_naming_them(runs):
    _code, result = runs.converge
    assert stats(result, "needs")["failures"] == 1
    refused = host_messages(result, "needs")[-1]
    assert "does not serve OpenShift builds" in refused and "datascience, pandas cannot be built" in refused, refused
    assert "minimal" not in refused


def test_vanilla_with_references_only_sets_the_fact_and_writes_nothing(runs):
    _code, result = runs.converge
    assert stats(result, "plain")["failures"] == 0, host_messages(result, "plain")
    assert stats(result, "plain")["changed"] == 0
    assert last_value(result, "plain", "image_build_refs") == {"minimal": MINIMAL,
                                                               "base": "quay.io/jupyter/base-notebook"}
    assert runs.vanilla_writes == 0, runs.vanilla.control.counts()
    assert stored_version(runs.vanilla) == runs.vanilla_version


def test_check_mode_reports_what_it_would_do_and_writes_nothing(runs):
    code, result = runs.check
    assert code == 0, host_messages(result, "check")
    assert stats(result, "check")["changed"] > 0
    told = reported(result, "check")
    assert "BuildConfig jupyterhub-check/datascience: would create" in told, told
    started = [item for _name, item in host_results(result, "check") if "builds" in item]
    assert started and started[-1]["builds"][0]["phase"] == "would start", started
    assert runs.check_writes == 0, runs.fresh.control.counts()
    assert runs.fresh.objects("buildconfigs", None, BUILD_GROUP) == []
    assert runs.fresh.objects("builds", None, BUILD_GROUP) == []
    # A stream not created yet has no registry repository: its reference is empty in check mode.
    assert last_value(result, "check", "image_build_refs") == {"datascience": "", "minimal": MINIMAL}
