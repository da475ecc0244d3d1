# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenShift builds: the request that starts one, its phases, and how a build that did not complete is told.

Pure functions over dicts; the module build_run starts, waits and reads logs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

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
