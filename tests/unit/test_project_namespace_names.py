"""tests/hub/project_namespaces.json: the project names user_project gives (module_utils/naming.py) for
the templates the hub role hands to user servers as PROJECT_NAMESPACE, per chart line's slug scheme.
tests/hub/in_venv/test_project_namespace_env.py checks that each line's real KubeSpawner expands the
variable to exactly these names; this test keeps the file in step with naming.py."""
import json

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import hub_values, naming
from tests.hub_settings import REPO

EXPECTED = REPO / "tests" / "hub" / "project_namespaces.json"
# Without {hubnamespace}: KubeSpawner reads that from the hub pod's service account files, which the
# hub-venv tests do not have.
TEMPLATES = ("{username}-workspace", "ws-{username}")
# Already lowercased, as JupyterHub hands names to KubeSpawner; some slug differently under the two schemes.
USERS = ("alice", "jo.smith", "jo_smith", "x" * 60)
HUB_NAMESPACE = "jhub"   # hub_harness.NAMESPACE


def expected():
    return {version: {template: {user: naming.expand(template, user, hub_namespace=HUB_NAMESPACE, scheme=scheme)
                                 for user in USERS} for template in TEMPLATES}
            for version, scheme in sorted(hub_values.SLUG_SCHEMES.items())}


def test_the_expected_names_are_those_of_naming_py():
    assert json.loads(EXPECTED.read_text()) == expected(), (
        "tests/hub/project_namespaces.json is stale: regenerate it from naming.expand (see this test)")


def test_the_schemes_differ_for_some_users():
    names = expected()
    assert names["3.3.8"]["{username}-workspace"]["jo.smith"] != names["4.4.0"]["{username}-workspace"]["jo.smith"]
