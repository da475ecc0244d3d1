# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenShift builds: the image_build role's image list, the request that starts a build, its phases, and
how a build that did not complete is told.

Pure functions over dicts; the module build_run starts, waits and reads logs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import validation

IMAGE_KEYS = ("name", "reference", "strategy", "git_url", "git_ref", "context_dir", "builder_image", "dockerfile",
              "from_image", "tag")
BUILD_KEYS = IMAGE_KEYS[2:]

API_VERSION = "build.openshift.io/v1"
# A build in one of these phases will not change again (openshift/api build/v1 BuildPhase).
DONE = frozenset(["Complete", "Failed", "Error", "Cancelled"])
TRIGGERED_BY = "Started by hubfleet.jupyterhub.build_run"


def build_request(build_config, message=TRIGGERED_BY):
    """The BuildRequest POSTed to buildconfigs/<name>/instantiate."""
    return {"apiVersion": API_VERSION, "kind": "BuildRequest", "metadata": {"name": build_config},
            "triggeredBy": [{"message": message}]}


def phase(build):
    """The build's phase; a build the server has not looked at yet has none, which means New."""
    return ((build or {}).get("status") or {}).get("phase") or "New"


def finished(build):
    return phase(build) in DONE


def summary(build):
    """What build_run returns about one build."""
    meta = (build or {}).get("metadata") or {}
    status = (build or {}).get("status") or {}
    return dict(
        build_config=(meta.get("annotations") or {}).get("openshift.io/build-config.name")
        or (status.get("config") or {}).get("name") or "",
        name=meta.get("name") or "",
        phase=phase(build),
        reason=status.get("reason") or "",
        message=status.get("message") or "",
        output_image=status.get("outputDockerImageReference") or "",
    )


def log_tail(text, lines):
    """The last `lines` lines of a log, without empty trailing ones."""
    kept = (text or "").rstrip("\n").splitlines()
    return kept[-lines:] if lines > 0 else []


def failure(build, namespace, log_lines, timeout=None):
    """One sentence about a build that did not complete: its name, phase, reason and the end of its log.
    `timeout` says the wait ran out while the build was still in that phase."""
    about = summary(build)
    if timeout is not None:
        what = "did not finish within %ss (phase %s)" % (timeout, about["phase"])
    else:
        what = "ended %s" % about["phase"]
    reason = ": ".join(part for part in (about["reason"], about["message"]) if part)
    text = "Build %s/%s %s%s" % (namespace, about["name"], what, " (%s)" % reason if reason else "")
    return "%s; end of its log: %s" % (text, " / ".join(log_lines) if log_lines else "(empty)")


def _given(image):
    """The keys of `image` that are set (an empty string or null counts as not set)."""
    return {key: value for key, value in image.items() if value not in ("", None)}


def _check(where, problem):
    return ["%s %s" % (where, problem)] if problem else []


def _reference_errors(image, where):
    extra = [key for key in BUILD_KEYS if key in image]
    errors = ["%s: reference excludes %s (an image given by reference is not built)" % (where, ", ".join(extra))] \
        if extra else []
    return errors + _check("%s.reference: %r" % (where, image["reference"]),
                           validation.image_reference_error(image["reference"]))


def _build_errors(image, where):
    strategy = image.get("strategy", "source")
    errors = []
    if strategy not in ("source", "docker"):
        errors.append("%s.strategy: %r must be source (S2I) or docker" % (where, strategy))
    if strategy == "source":
        if "git_url" not in image:
            errors.append("%s: strategy source needs git_url, the repository S2I builds from" % where)
        if "builder_image" not in image:
            errors.append("%s: strategy source needs builder_image, the S2I builder image" % where)
        docker_only = [key for key in ("dockerfile", "from_image") if key in image]
        if docker_only:
            errors.append("%s: strategy source takes no %s (those are for strategy docker)" % (where, ", ".join(docker_only)))
    if strategy == "docker":
        if "git_url" not in image and "dockerfile" not in image:
            errors.append("%s: strategy docker needs git_url or dockerfile (or give a reference to an image built "
                          "elsewhere)" % where)
        if "builder_image" in image:
            errors.append("%s: strategy docker takes no builder_image (use from_image to replace the FROM image)" % where)
    needs_git = [key for key in ("git_ref", "context_dir") if key in image]
    if needs_git and "git_url" not in image:
        errors.append("%s: %s need git_url" % (where, " and ".join(needs_git)))
    for key, check in (("git_url", validation.http_url_error), ("git_ref", validation.git_ref_error),
                       ("context_dir", validation.subpath_error), ("builder_image", validation.image_reference_error),
                       ("from_image", validation.image_reference_error)):
        if key in image:
            errors += _check("%s.%s: %r" % (where, key, image[key]), check(image[key]))
    if "dockerfile" in image and not isinstance(image["dockerfile"], str):
        errors.append("%s.dockerfile must be the Dockerfile text" % where)
    tag = image.get("tag", "latest")
    return errors + _check("%s.tag: %r" % (where, tag), validation.image_tag_error(tag))


def image_errors(images, where):
    """Messages for the image_build role's image list, each naming the image (`<where>[i].<key>`)."""
    if not isinstance(images, list):
        return ["%s must be a list of images (mappings with a name)" % where]
    errors = []
    for index, image in enumerate(images):
        item = "%s[%d]" % (where, index)
        if not isinstance(image, dict):
            errors.append("%s: must be a mapping with a name and a reference, git_url or dockerfile" % item)
            continue
        unknown = sorted(set(image) - set(IMAGE_KEYS))
        if unknown:
            errors.append("%s: unknown keys %s (known: %s)" % (item, ", ".join(unknown), ", ".join(IMAGE_KEYS)))
        image = _given(image)
        if "name" in image:
            errors += _check("%s.name: %r" % (item, image["name"]), validation.dns_label_error(image["name"]))
        else:
            errors.append("%s.name is required (the ImageStream and BuildConfig name)" % item)
        errors += _reference_errors(image, item) if "reference" in image else _build_errors(image, item)
    names = [image.get("name") for image in images if isinstance(image, dict) and image.get("name")]
    twice = sorted(set(name for name in names if names.count(name) > 1))
    if twice:
        errors.append("%s: the names %s are given more than once (each names an ImageStream)" % (where, ", ".join(twice)))
    return errors
