# hubfleet.jupyterhub: the "allusers" mount for hub admins
# (tested under each chart line's real hub packages: tests/hub/in_venv/test_allusers_hook.py).
#
# Meant to be put verbatim into the z2jh value hub.extraConfig: z2jh's jupyterhub_config.py
# exec()s it, so `c` is the traitlets config being built and z2jh's get_config reads the chart
# values. With `singleuser.storage.type: static` every user's home is a subPath of the one
# shared PVC, in the volume z2jh names `home`. This gives admin users only a second mount of that
# whole volume (no subPath), so they can reach every home, as set by the values
#   custom.hubfleet.allusers: {mount_path: /home/jovyan/allusers, read_only: false}
# Without those values the snippet changes nothing.
#
# z2jh runs the hub.extraConfig entries in the order of their keys, and an entry that sets
# modify_pod_hook after this one would replace it: give this one a key that sorts last, such as
# zz-hubfleet-allusers. A hook set before is kept and runs first.
#
# Everything lives inside one function: extraConfig snippets share the globals of
# jupyterhub_config.py, and a top-level name here could clash with another snippet's.


def _hubfleet_allusers_setup(config):
    import inspect

    from kubernetes_asyncio.client import V1VolumeMount
    from z2jh import get_config

    settings = get_config("custom.hubfleet.allusers", None)
    if settings is None:
        return

    # Fail the hub's start on a bad setting rather than guess: a misspelt "readOnly" would
    # otherwise silently give admins a writable view of every home directory.
    if not isinstance(settings, dict) or set(settings) - {"mount_path", "read_only"}:
        raise ValueError(
            "custom.hubfleet.allusers must be a mapping with the keys mount_path and"
            f" read_only only, not {settings!r}"
        )
    mount_path = settings.get("mount_path")
    read_only = settings.get("read_only", False)
    if not isinstance(mount_path, str) or not mount_path.startswith("/"):
        raise ValueError(
            f"custom.hubfleet.allusers.mount_path must be an absolute path, not {mount_path!r}"
        )
    if not isinstance(read_only, bool):
        raise ValueError(
            f"custom.hubfleet.allusers.read_only must be true or false, not {read_only!r}"
        )

    def add_mount(spawner, pod):
        # spawner.user is the owner of the server (not whoever pressed start) and its .admin
        # is the hub's admin flag, kept in step with the "admin" role at each login and hub start.
        if not spawner.user.admin:
            return pod
        if not any(volume.name == "home" for volume in pod.spec.volumes or []):
            spawner.log.warning(
                "allusers: no volume named home in the pod of %s (is singleuser.storage.type"
                " static?), not mounting %s",
                spawner.user.name,
                mount_path,
            )
            return pod
        # KubeSpawner names the user's container "notebook" and puts it first.
        container = next(
            (each for each in pod.spec.containers if each.name == "notebook"),
            pod.spec.containers[0],
        )
        mounts = container.volume_mounts or []
        taken = [mount for mount in mounts if mount.mount_path == mount_path]
        if taken:
            # Already there: the hook ran twice on this pod, or an earlier hook added it.
            if taken[0].name != "home" or taken[0].sub_path:
                spawner.log.warning(
                    "allusers: %s is already a mount point in the pod of %s, not mounting"
                    " the home volume there",
                    mount_path,
                    spawner.user.name,
                )
            return pod
        mounts.append(V1VolumeMount(name="home", mount_path=mount_path, read_only=read_only))
        container.volume_mounts = mounts
        spawner.log.info("allusers: mounting every home at %s for admin %s", mount_path, spawner.user.name)
        return pod

    # dict.get, not attribute access: reading an unset name on a traitlets Config section
    # stores a LazyConfigValue there, which would then be handed to KubeSpawner as the hook.
    previous = config.KubeSpawner.get("modify_pod_hook")

    def allusers_modify_pod_hook(spawner, pod):
        # Run a hook configured before this one first, then add the mount to what it returns.
        # Stay synchronous when it is, so that a hook chained after this one need not await.
        if previous is not None:
            pod = previous(spawner, pod)
            if inspect.isawaitable(pod):
                async def finish(pending):
                    return add_mount(spawner, await pending)

                return finish(pod)
        return add_mount(spawner, pod)

    # modify_pod_hook rather than pre_spawn_hook: it edits the pod built afresh for this very
    # spawn, the same V1Pod object in KubeSpawner 6 and 7. A pre_spawn_hook would have to edit
    # spawner.volume_mounts (a list under z2jh 3, a dict under z2jh 4) on a Spawner object the hub
    # keeps between spawns, adding the mount for admins and taking it away again for ex-admins.
    config.KubeSpawner.modify_pod_hook = allusers_modify_pod_hook


_hubfleet_allusers_setup(c)  # noqa: F821  pylint: disable=undefined-variable
del _hubfleet_allusers_setup
