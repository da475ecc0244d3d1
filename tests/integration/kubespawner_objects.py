"""PVCs and pods exactly as KubeSpawner makes them, built by KubeSpawner itself."""
import asyncio
from types import SimpleNamespace
from unittest import mock

from kubernetes_asyncio.client import ApiClient
from kubespawner import KubeSpawner

HOME = {"name": "home", "persistentVolumeClaim": {"claimName": "{pvc_name}"}}


def user_objects(username, server_name="", namespace="jhub", slug_scheme="safe", volumes=None,
                 storage_class="standard"):
    """(pvc, pod) manifests of one user's server, as KubeSpawner 7 would create them."""

    async def build():
        spawner = KubeSpawner(
            _mock=True, namespace=namespace, slug_scheme=slug_scheme, storage_capacity="1Gi",
            storage_class=storage_class, volumes=volumes or [HOME],
            volume_mounts=[{"name": "home", "mountPath": "/home/jovyan"}],
            user=SimpleNamespace(name=username, id=1, url="/user/%s/" % username),
            orm_spawner=SimpleNamespace(name=server_name, server=None, state=None, user_options=None))
        pvc, pod = spawner.get_pvc_manifest(), await spawner.get_pod_manifest()
        async with ApiClient() as api:
            return api.sanitize_for_serialization(pvc), api.sanitize_for_serialization(pod)

    # KubeSpawner loads a cluster config when it is made; building manifests needs none.
    with mock.patch("kubespawner.spawner.load_config"):
        pvc, pod = asyncio.run(build())
    for obj in (pvc, pod):
        obj["metadata"]["namespace"] = namespace
    return pvc, pod
