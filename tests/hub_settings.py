"""Settings for module_utils/hub_values.compose, as the hub role builds them (roles/hub/vars/main.yml):
the role's defaults without their hub_ prefix, plus what the role derives. Shared by the unit tests of
the values and the tests that install and boot them (tests/integration/test_hub_boot.py).

AUTH_CONFIGS holds one valid configuration per authentication method."""
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
ROLE = REPO / "roles" / "hub"
CHART_VERSIONS = ("3.3.8", "4.4.0")

# Long enough for JupyterHub 5's SharedPasswordAuthenticator (8 and 32 characters).
SHARED_PASSWORD = "shared-Pa55word-for-tests"
ADMIN_PASSWORD = "admin-Pa55word-for-tests-0123456789abcdef"
CLIENT_SECRET = "client-5ecret-for-tests-0123456789"

AUTH_CONFIGS = {
    "dummy": {"auth_type": "dummy", "allow_insecure_auth": True, "allowed_users": ["alice"], "admin_users": ["root"]},
    "shared_password": {"auth_type": "shared_password", "allowed_users": ["alice"], "admin_users": ["root"],
                        "shared_password": SHARED_PASSWORD, "admin_password": ADMIN_PASSWORD},
    "github": {"auth_type": "github", "admin_users": ["root"], "github_client_id": "github-client",
               "github_client_secret": CLIENT_SECRET, "github_organizations": ["example-org", "example-org:data-team"],
               "url": "https://hub.example.org"},
    "oidc": {"auth_type": "oidc", "admin_users": ["root"], "oidc_client_id": "hub", "oidc_client_secret": CLIENT_SECRET,
             "oidc_authorize_url": "https://sso.example.org/auth", "oidc_token_url": "https://sso.example.org/token",
             "oidc_userdata_url": "https://sso.example.org/userinfo", "allowed_groups": ["data-science"],
             "admin_groups": ["hub-admins"], "url": "https://hub.example.org"},
    "openshift": {"auth_type": "openshift", "openshift": True, "admin_users": ["root"], "allowed_groups": ["data-science"],
                  "admin_groups": ["hub-admins"], "url": "https://hub.apps.example.org"},
}


def defaults():
    return {name[len("hub_"):]: value
            for name, value in yaml.safe_load((ROLE / "defaults" / "main.yml").read_text()).items()}


def settings(**overrides):
    """The settings of hub `demo` in namespace `jhub`, with `overrides`."""
    d = defaults()
    s = dict(d)
    for key in [key for key in s if key.startswith("gpu_")]:
        del s[key]
    s.update(
        hub="demo", namespace="jhub", chart_version=str(d["chart_version"]), openshift=False,
        auth_type="dummy", allow_insecure_auth=True, allowed_users=["alice"],
        openshift_token_secret=d["openshift_token_secret"] or d["service_account"] + "-token",
        user_token_hook=(ROLE / "files" / "user_token_hook.py").read_text(),
        workspace_reset_hook=(ROLE / "files" / "workspace_reset_hook.py").read_text(),
        storage_type="dynamic" if d["storage_type"] == "auto" else d["storage_type"], storage_values={},
        gpu_profile={"enabled": d["gpu_profile"], "count": d["gpu_count"], "resource": d["gpu_resource"],
                     "display_name": d["gpu_display_name"], "image": d["gpu_image"],
                     "tolerations": d["gpu_tolerations"], "node_selector": d["gpu_node_selector"]},
        fragments=[], overrides=d["values_overrides"],
    )
    for key in ("state", "release_name", "chart_repo_url", "chart_ref", "helm_timeout", "image_build",
                "values_overrides", "oidc_issuer_url"):
        del s[key]
    s.update(overrides)
    return s
