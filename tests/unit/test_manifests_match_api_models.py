"""Every object our modules send has only fields the Kubernetes API knows.

The `kubernetes` client's models are generated from the API's OpenAPI schema: an object that
goes through a model and back unchanged has no misspelled or unknown field (a model drops those).
"""
import json

import pytest
from kubernetes.client import ApiClient

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import user_projects, user_storage

USER = {"name": "Bob.Smith@example.org", "namespace": "bob-workspace", "groups": ["physics"],
        "quota": {"requests.cpu": "2", "requests.memory": "4Gi"}, "role": "edit", "labels": {"team": "a"},
        "limits": {"default": {"cpu": "1"}, "default_request": {"cpu": "100m"}, "max": {"memory": "4Gi"},
                   "min": {"cpu": "10m"}}}
PVC = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
       "metadata": {"name": "claim-bob", "namespace": "jhub", "labels": {"component": "singleuser-storage"},
                    "annotations": {"hub.jupyter.org/username": "bob", "pv.kubernetes.io/bind-completed": "yes"}},
       "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "standard", "volumeName": "pv-1",
                "resources": {"requests": {"storage": "1Gi"}}}}
MODELS = {"Namespace": "V1Namespace", "ResourceQuota": "V1ResourceQuota", "LimitRange": "V1LimitRange",
          "RoleBinding": "V1RoleBinding", "Role": "V1Role", "PersistentVolumeClaim": "V1PersistentVolumeClaim",
          "Job": "V1Job"}


def objects():
    yield user_projects.namespace_object(USER, "jhub", openshift=True)
    yield from user_projects.namespaced_objects(USER, "jhub", {"name": "hub", "namespace": "jhub"}).values()
    yield user_storage.fresh_claim(PVC)
    yield user_storage.archive_job("hubfleet-reset-bob-1", "jhub", "home-nfs", "bob", "bob.reset-1", "bob", "ubi")


@pytest.mark.parametrize("obj", list(objects()), ids=lambda o: "%s/%s" % (o["kind"], o["metadata"]["name"]))
def test_object_survives_the_api_model(obj):
    api = ApiClient()
    model = api.deserialize(json.dumps(obj), MODELS[obj["kind"]], "application/json")
    assert api.sanitize_for_serialization(model) == obj
