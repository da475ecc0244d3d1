"""Pure helpers of the storage reset: the recreated claim and the move-aside Job."""
from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import user_storage

BOUND = {
    "apiVersion": "v1", "kind": "PersistentVolumeClaim",
    "metadata": {"name": "claim-bob", "namespace": "jhub", "uid": "u1", "resourceVersion": "7",
                 "finalizers": ["kubernetes.io/pvc-protection"], "labels": {"component": "singleuser-storage"},
                 "annotations": {"hub.jupyter.org/username": "bob", "pv.kubernetes.io/bind-completed": "yes",
                                 "volume.kubernetes.io/storage-provisioner": "csi.example"}},
    "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "fast", "volumeName": "pvc-u1",
             "volumeMode": "Filesystem", "resources": {"requests": {"storage": "5Gi"}}},
    "status": {"phase": "Bound"},
}


def test_fresh_claim_keeps_what_the_user_chose_and_drops_what_binding_set():
    fresh = user_storage.fresh_claim(BOUND)
    assert fresh["metadata"] == {"name": "claim-bob", "namespace": "jhub", "labels": {"component": "singleuser-storage"},
                                 "annotations": {"hub.jupyter.org/username": "bob"}}
    assert fresh["spec"] == {"accessModes": ["ReadWriteOnce"], "storageClassName": "fast", "volumeMode": "Filesystem",
                             "resources": {"requests": {"storage": "5Gi"}}}
    assert "status" not in fresh


def test_archive_job_moves_with_environment_not_string_building():
    job = user_storage.archive_job("hubfleet-reset-bob-1", "jhub", "home-nfs", "home/bob; rm -rf /",
                                   "home/bob.reset-1", "bob", "ubi")
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert "rm -rf" not in " ".join(container["command"])
    assert {"name": "HOME_DIR", "value": "home/bob; rm -rf /"} in container["env"]
    assert job["spec"]["backoffLimit"] == 0
    assert container["securityContext"]["runAsNonRoot"] is True
