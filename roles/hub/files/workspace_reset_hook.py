# hubfleet.jupyterhub: seed and self-service reset of each user's home
# (tested under each chart line's real hub packages: tests/hub/in_venv/test_workspace_reset.py).
#
# Put verbatim into the z2jh value hub.extraConfig (key zz-hubfleet-workspace-reset, after the
# allusers hook, which it chains). With the values
#   custom.hubfleet.workspace_reset: {source: /home/jovyan, marker: .delete-volume,
#                                     security_context: {...}}
# every user pod gets an init container, from the pod's own notebook image, that mounts the
# user's home volume (same volume, same subPath) and:
# - when the home holds the marker file the user created, empties the home;
# - when the home was never seeded (or was just emptied), copies the image's files from `source`
#   into it, never overwriting a file that is there, and records that it did.
# It runs as the pod's user under the restricted security context given (no root, no capabilities).
#
# The init container's script, also run on its own by the tests.
_HUBFLEET_SEED_SCRIPT = r"""
set -eu
home=/hubfleet/home
if [ -e "$home/$MARKER" ]; then
  echo "$MARKER found: emptying the home directory"
  find "$home" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
fi
if [ ! -e "$home/.hubfleet-seeded" ]; then
  echo "copying $SOURCE into the home directory"
  cp -R -n "$SOURCE/." "$home/"
  date -u +%Y-%m-%dT%H:%M:%SZ > "$home/.hubfleet-seeded"
fi
"""


def _hubfleet_workspace_reset_setup(config):
    import inspect

    from kubernetes_asyncio.client import V1Container, V1VolumeMount
    from z2jh import get_config

    settings = get_config("custom.hubfleet.workspace_reset", None)
    if settings is None:
        return
    source = settings.get("source")
    marker = settings.get("marker", ".delete-volume")
    if not isinstance(source, str) or not source.startswith("/"):
        raise ValueError(f"custom.hubfleet.workspace_reset.source must be an absolute path, not {source!r}")
    home_path = get_config("singleuser.storage.homeMountPath", "/home/jovyan")

    def add_init_container(spawner, pod):
        container = next((c for c in pod.spec.containers if c.name == "notebook"), pod.spec.containers[0])
        home = next((m for m in container.volume_mounts or [] if m.mount_path == home_path), None)
        if home is None:
            spawner.log.warning("workspace reset: no volume at %s in the pod of %s", home_path, spawner.user.name)
            return pod
        if any(each.name == "hubfleet-workspace" for each in pod.spec.init_containers or []):
            return pod
        seed = V1Container(
            name="hubfleet-workspace",
            image=container.image,
            image_pull_policy=container.image_pull_policy,
            command=["/bin/sh", "-c", _HUBFLEET_SEED_SCRIPT],
            env=[{"name": "SOURCE", "value": source}, {"name": "MARKER", "value": marker}],
            volume_mounts=[V1VolumeMount(name=home.name, sub_path=home.sub_path, mount_path="/hubfleet/home")],
            security_context=settings.get("security_context"),
            resources=container.resources,
        )
        pod.spec.init_containers = list(pod.spec.init_containers or []) + [seed]
        return pod

    previous = config.KubeSpawner.get("modify_pod_hook")

    def workspace_reset_modify_pod_hook(spawner, pod):
        if previous is not None:
            pod = previous(spawner, pod)
            if inspect.isawaitable(pod):
                async def finish(pending):
                    return add_init_container(spawner, await pending)

                return finish(pod)
        return add_init_container(spawner, pod)

    config.KubeSpawner.modify_pod_hook = workspace_reset_modify_pod_hook


_hubfleet_workspace_reset_setup(c)  # noqa: F821  pylint: disable=undefined-variable
del _hubfleet_workspace_reset_setup
