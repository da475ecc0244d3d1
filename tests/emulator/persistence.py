"""Keeping an emulated cluster between runs, in a file of a state directory.

A tooling feature, not Kubernetes behaviour (docs/emulator.md): the objects, the resourceVersion
counter, the flavour and the Kubernetes version are saved; the event log, control counters, faults and
armed Job outcomes are not.
"""
import json
import os
import pathlib

from .resources import DEFAULT_KUBE_VERSION, kube_version

STATE_FILE = "cluster.json"
FLAVOURS = {"openshift": "an OpenShift", "vanilla": "a vanilla Kubernetes"}


class StateError(Exception):
    """A state file this emulator cannot load. The message is one line, meant for the user."""


def flavour(openshift):
    return "openshift" if openshift else "vanilla"


def state_file(state_dir):
    return pathlib.Path(state_dir) / STATE_FILE


def saved_version(saved):
    """The Kubernetes version of a saved cluster; files saved before versions were chosen served the default."""
    return saved.get("kubeVersion", DEFAULT_KUBE_VERSION)


def read(state_dir, openshift, wanted_version=None):
    """The cluster saved in `state_dir`, or None when there is none. A cluster of the other flavour
    is refused: its objects would be served without the API groups they belong to, or the other way round.
    So is one saved with another Kubernetes version than `wanted_version`, when given: a cluster does not
    change version on a restart."""
    path = state_file(state_dir)
    try:
        saved = json.loads(path.read_text())
        found = saved["flavour"]
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StateError(f"cannot read the saved cluster {path}: {exc!r}") from exc
    if found != flavour(openshift):
        hint = "add --vanilla" if found == "vanilla" else "drop --vanilla"
        raise StateError(f"{path} holds {FLAVOURS.get(found, repr(found))} cluster, not {FLAVOURS[flavour(openshift)]} "
                         f"one: {hint}, or use another state directory")
    if wanted_version and kube_version(wanted_version) != saved_version(saved):
        raise StateError(f"{path} holds a Kubernetes {saved_version(saved)} cluster, not "
                         f"{kube_version(wanted_version)}: drop --kube-version, or use another state directory")
    return saved


def write(state_dir, saved):
    """Replace the state file at once (never half written), readable by its owner only: it holds Secrets."""
    path = state_file(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as out:
        json.dump(saved, out)
    partial.replace(path)


def forget(state_dir):
    state_file(state_dir).unlink(missing_ok=True)
