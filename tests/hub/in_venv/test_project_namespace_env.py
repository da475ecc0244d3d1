"""PROJECT_NAMESPACE, as the hub role sets it (singleuser.extraEnv holding user_project's name template),
expanded by this chart line's real KubeSpawner to the names user_project gives the projects
(tests/hub/project_namespaces.json, kept equal to module_utils/naming.py by a unit test)."""
import json

import pytest

from hub_harness import CHART_VERSION, HUB_TESTS, make_user, spawn_pod

EXPECTED = json.loads((HUB_TESTS / "project_namespaces.json").read_text())[CHART_VERSION]


@pytest.mark.parametrize("template", sorted(EXPECTED))
def test_kubespawner_expands_the_template_as_user_project_names_projects(load_hub_config, template):
    config = load_hub_config({"singleuser": {"extraEnv": {"PROJECT_NAMESPACE": template}}})
    for user, project in EXPECTED[template].items():
        pod = spawn_pod(config, make_user(user, admin=False))
        env = {item["name"]: item.get("value") for item in pod["spec"]["containers"][0]["env"]}
        assert env["PROJECT_NAMESPACE"] == project, (user, template)
