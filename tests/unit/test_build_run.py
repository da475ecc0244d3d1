"""The pure parts of build_run: the BuildRequest, phases, and how a build that did not complete is told."""
from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import builds
from ansible_collections.hubfleet.jupyterhub.plugins.modules.build_run import input_errors

FAILED = {"metadata": {"name": "notebook-3", "annotations": {"openshift.io/build-config.name": "notebook"}},
          "status": {"phase": "Failed", "reason": "GenericBuildFailed", "message": "Generic Build failure",
                     "outputDockerImageReference": "registry:5000/ns/notebook:latest"}}


def test_build_request_names_the_build_config():
    assert builds.build_request("notebook") == {
        "apiVersion": "build.openshift.io/v1", "kind": "BuildRequest", "metadata": {"name": "notebook"},
        "triggeredBy": [{"message": "Started by hubfleet.jupyterhub.build_run"}]}


def test_phase_tolerates_a_missing_status():
    assert builds.phase({"metadata": {"name": "x-1"}}) == "New"
    assert builds.phase({"status": None}) == "New"
    assert builds.phase(None) == "New"
    assert not builds.finished({"status": {"phase": "Running"}})
    assert all(builds.finished({"status": {"phase": p}}) for p in ("Complete", "Failed", "Error", "Cancelled"))


def test_summary():
    assert builds.summary(FAILED) == {"build_config": "notebook", "name": "notebook-3", "phase": "Failed",
                                      "reason": "GenericBuildFailed", "message": "Generic Build failure",
                                      "output_image": "registry:5000/ns/notebook:latest"}
    assert builds.summary({"metadata": {"name": "x-1"}})["phase"] == "New"


def test_log_tail_keeps_the_last_lines():
    assert builds.log_tail("a\nb\nc\n\n", 2) == ["b", "c"]
    assert builds.log_tail("a\nb\n", 5) == ["a", "b"]
    assert builds.log_tail("a\nb\n", 0) == []
    assert builds.log_tail(None, 3) == []


def test_failure_names_build_phase_reason_and_log():
    text = builds.failure(FAILED, "ns", ["Pushing image ...", "error: build error"])
    assert text == ("Build ns/notebook-3 ended Failed (GenericBuildFailed: Generic Build failure); "
                    "end of its log: Pushing image ... / error: build error")


def test_failure_on_timeout_says_so():
    running = {"metadata": {"name": "notebook-4"}, "status": {"phase": "Running"}}
    assert builds.failure(running, "ns", [], timeout=60) == \
        "Build ns/notebook-4 did not finish within 60s (phase Running); end of its log: (empty)"


def test_input_errors_name_the_option():
    params = {"namespace": "Bad_NS", "build_configs": ["ok", "Not_OK"], "wait_timeout": 0, "wait_sleep": 5,
              "log_lines": -1}
    errors = input_errors(params)
    assert errors[0].startswith("namespace: 'Bad_NS'")
    assert errors[1].startswith("build_configs[1]: 'Not_OK'")
    assert "wait_timeout: must be at least 1, not 0" in errors
    assert "log_lines: must be 0 or more, not -1" in errors
    assert input_errors(dict(params, namespace="ns", build_configs=["a"], wait_timeout=1, log_lines=0)) == []


# --- the image list (builds.image_errors, the validation_errors rule build_images) -----------------

def test_image_errors_name_each_image_and_rule():
    from ansible_collections.hubfleet.jupyterhub.plugins.module_utils.builds import image_errors
    good = {"name": "notebook", "git_url": "https://git.example.org/nb.git", "builder_image": "quay.io/jupyter/base:1"}
    assert image_errors([good, {"name": "plain", "reference": "quay.io/jupyter/minimal-notebook:2024-05-27"},
                         {"name": "inline", "strategy": "docker", "dockerfile": "FROM x\n", "from_image": "",
                          "git_ref": ""}], "images") == []
    errors = image_errors([good, {"name": "notebook", "reference": "x:1", "git_url": "https://g/x.git", "colour": 1},
                           {"name": "d", "strategy": "docker", "builder_image": "b:1", "git_ref": "-x"}, "text"],
                          "images")
    assert errors == [
        "images[1]: unknown keys colour (known: name, reference, strategy, git_url, git_ref, context_dir, "
        "builder_image, dockerfile, from_image, tag)",
        "images[1]: reference excludes git_url (an image given by reference is not built)",
        "images[2]: strategy docker needs git_url or dockerfile (or give a reference to an image built elsewhere)",
        "images[2]: strategy docker takes no builder_image (use from_image to replace the FROM image)",
        "images[2]: git_ref need git_url",
        "images[2].git_ref: '-x' must be a git branch, tag or commit (no whitespace, no leading -, none of ~^:?*[\\)",
        "images[3]: must be a mapping with a name and a reference, git_url or dockerfile",
        "images: the names notebook are given more than once (each names an ImageStream)",
    ]
    assert image_errors("notebook", "images") == ["images must be a list of images (mappings with a name)"]
