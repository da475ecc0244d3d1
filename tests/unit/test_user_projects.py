"""Per-user project planning: what the module asks the server for, compared as the server stores it."""
from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import limits, user_projects


def test_limits_are_defaulted_like_the_api_server():
    limit = limits.with_server_defaults({"type": "Container", "max": {"cpu": "2", "memory": "4Gi"},
                                         "min": {"cpu": "10m", "ephemeral-storage": "1Gi"},
                                         "default": {"memory": "1Gi"}})
    assert limit["default"] == {"memory": "1Gi", "cpu": "2"}
    assert limit["defaultRequest"] == {"memory": "1Gi", "cpu": "2", "ephemeral-storage": "1Gi"}


def test_a_limit_range_the_server_defaulted_is_not_a_difference():
    user = {"name": "alice", "namespace": "alice-workspace", "groups": [], "quota": {}, "role": "admin",
            "labels": {}, "limits": {"max": {"cpu": "2"}}}
    desired = user_projects.namespaced_objects(user, "jhub", None)[("LimitRange", user_projects.LIMITS)]
    live = {"metadata": dict(desired["metadata"]),
            "spec": {"limits": [{"type": "Container", "max": {"cpu": "2"}, "default": {"cpu": "2000m"},
                                 "defaultRequest": {"cpu": "2"}}]}}
    assert not user_projects.differs(desired, live)
    live["spec"]["limits"][0]["defaultRequest"] = {"cpu": "1"}
    assert user_projects.differs(desired, live)
