"""The hub role's values (module_utils/hub_values.py): checked against each chart version's own schema
(../shared/z2jh/values.schema-<version>.json, over the chart's defaults as helm merges them), and what each
setting must and must not produce. The values' behaviour inside the real hub is tested in tests/hub/in_venv
and tests/integration/test_hub_boot.py."""
import base64
import copy
import gzip
import json

import jsonschema
import pytest
import yaml

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import hub_values, naming
from tests.hub_settings import ADMIN_PASSWORD, AUTH_CONFIGS, CHART_VERSIONS, CLIENT_SECRET, REPO, SHARED_PASSWORD, settings

CHARTS = REPO.parent / "shared" / "z2jh"
FLAVOURS = (False, True)   # openshift


def coalesce(defaults, values):
    """What helm validates: the chart's defaults with the user's values merged in, a null deleting the key."""
    merged = copy.deepcopy(defaults)
    for key, value in values.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = coalesce(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def schema_errors(values, version):
    schema = json.loads((CHARTS / f"values.schema-{version}.json").read_text())
    defaults = yaml.safe_load((CHARTS / f"values-{version}.yaml").read_text())
    validator = jsonschema.Draft7Validator(schema)
    return ["%s: %s" % ("/".join(map(str, e.path)), e.message) for e in validator.iter_errors(coalesce(defaults, values))]


def composed(**overrides):
    values, errors = hub_values.compose(settings(**overrides))
    assert errors == [], errors
    return values


def problems(**overrides):
    values, errors = hub_values.compose(settings(**overrides))
    assert values is None
    return " | ".join(errors)


NFS_VALUES = {"singleuser": {"storage": {"type": "static", "static": {"pvcName": "jupyterhub-home", "subPath": "{username}"}}},
              "custom": {"hubfleet": {"allusers": {"mount_path": "/home/jovyan/allusers", "read_only": False}}},
              "hub": {"extraConfig": {"zz-hubfleet-allusers": "pass\n"}}}
RICH = dict(storage_class="fast", mem_limit="2G", mem_guarantee="1G", cpu_limit="2", cpu_guarantee="500m",
            image="quay.io/jupyter/scipy-notebook:2024-05-27", start_command=["jupyterhub-singleuser", "--debug"],
            extra_env={"TEAM": "data"}, project_namespace_template="{username}-workspace",
            gpu_profile={"enabled": True, "count": 2, "resource": "nvidia.com/gpu", "display_name": "GPU",
                         "image": "quay.io/jupyter/pytorch-notebook:cuda12-2024-05-27",
                         "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
                         "node_selector": {"nvidia.com/gpu.present": "true"}},
            cull_timeout=1800, cull_every=300, cull_max_age=86400, workspace_reset=True,
            db_type="postgres", db_url="postgresql+psycopg2://jupyterhub@db.example.org:5432/jupyterhub",
            db_password="db-Pa55word")


@pytest.mark.parametrize("version", CHART_VERSIONS)
@pytest.mark.parametrize("openshift", FLAVOURS, ids=("vanilla", "openshift"))
@pytest.mark.parametrize("auth", sorted(AUTH_CONFIGS))
def test_every_auth_method_validates_against_the_chart_schema(version, openshift, auth):
    config = dict(AUTH_CONFIGS[auth], openshift=openshift or AUTH_CONFIGS[auth].get("openshift", False))
    if config["openshift"] is False and auth == "openshift":
        pytest.skip("OpenShift login needs OpenShift")
    assert schema_errors(composed(chart_version=version, **config), version) == []


@pytest.mark.parametrize("version", CHART_VERSIONS)
@pytest.mark.parametrize("extra", [RICH, {"storage_type": "static", "storage_values": NFS_VALUES}, {"storage_type": "none"},
                                   {"cull_enabled": False}], ids=("rich", "nfs", "no-storage", "no-cull"))
def test_every_setting_validates_against_the_chart_schema(version, extra):
    assert schema_errors(composed(chart_version=version, **extra), version) == []


@pytest.mark.parametrize("version", CHART_VERSIONS)
def test_the_schema_check_catches_a_bad_value(version):
    # The check above can fail: a wrong type where the chart wants a number.
    values = composed(chart_version=version, overrides={"cull": {"timeout": "an hour"}})
    assert any(error.startswith("cull/timeout") for error in schema_errors(values, version))
    values = composed(chart_version=version, overrides={"singleuser": {"podSecurityContext": {"runAsUser": 1000}}})
    assert any("podSecurityContext" in error for error in schema_errors(values, version))


def test_restricted_pod_security_everywhere_and_no_fixed_ids_on_openshift():
    vanilla, openshift = composed(openshift=False), composed(openshift=True)
    for values in (vanilla, openshift):
        for context in (values["hub"]["containerSecurityContext"], values["proxy"]["chp"]["containerSecurityContext"],
                        values["hub"]["config"]["KubeSpawner"]["container_security_context"]):
            assert context["runAsNonRoot"] is True and context["allowPrivilegeEscalation"] is False
            assert context["capabilities"] == {"drop": ["ALL"]}
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}
        assert values["hub"]["config"]["KubeSpawner"]["automount_service_account_token"] is False
        assert values["singleuser"]["cloudMetadata"] == {"blockWithIptables": False}
        assert values["scheduling"]["userScheduler"]["enabled"] is False
        assert values["prePuller"]["hook"]["enabled"] is False and values["prePuller"]["continuous"]["enabled"] is False
        assert values["proxy"]["service"]["type"] == "ClusterIP"
    assert "uid" not in vanilla["singleuser"] and "runAsUser" not in vanilla["hub"]["containerSecurityContext"]
    assert openshift["singleuser"]["uid"] is None and openshift["singleuser"]["fsGid"] is None
    assert openshift["hub"]["podSecurityContext"]["fsGroup"] is None
    for context in (openshift["hub"]["containerSecurityContext"], openshift["proxy"]["chp"]["containerSecurityContext"]):
        assert context["runAsUser"] is None and context["runAsGroup"] is None


def _auth(values, cls):
    return values["hub"]["config"][cls]


def test_dummy_needs_the_insecure_flag_and_never_allows_all_unasked():
    assert "hub_allow_insecure_auth" in problems(allow_insecure_auth=False)
    assert "no allow rule" in problems(allowed_users=[])
    config = _auth(composed(chart_version="4.4.0", admin_users=["root"]), "DummyAuthenticator")
    assert config == {"admin_users": ["root"], "allowed_users": ["alice", "root"]}
    assert _auth(composed(chart_version="4.4.0", allowed_users=[], allow_all=True), "DummyAuthenticator") == {"allow_all": True}
    # JupyterHub 4.1.6's DummyAuthenticator has no allow_all: an empty allow list is what lets everyone in there.
    assert _auth(composed(chart_version="3.3.8", allowed_users=[], allow_all=True), "DummyAuthenticator") == {}


@pytest.mark.parametrize("version", CHART_VERSIONS)
def test_no_config_without_an_allow_rule(version):
    for auth, config in AUTH_CONFIGS.items():
        bare = dict(config, allowed_users=[], allowed_groups=[], github_organizations=[])
        assert "no allow rule, so nobody but admins could log in" in problems(chart_version=version, **bare), auth
        values = composed(chart_version=version, **dict(bare, allow_all=True))
        assert "allow_all" in json.dumps(values) or (auth in ("dummy", "shared_password") and version == "3.3.8")


def test_shared_password_per_chart_line():
    config = AUTH_CONFIGS["shared_password"]
    new = composed(chart_version="4.4.0", **config)["hub"]["config"]
    assert new["JupyterHub"]["authenticator_class"] == "shared-password"
    assert new["SharedPasswordAuthenticator"] == {"admin_users": ["root"], "allowed_users": ["alice", "root"],
                                                  "user_password": SHARED_PASSWORD, "admin_password": ADMIN_PASSWORD}
    old = composed(chart_version="3.3.8", **config)["hub"]["config"]
    assert old["JupyterHub"]["authenticator_class"] == "dummy"
    assert old["DummyAuthenticator"]["password"] == SHARED_PASSWORD
    assert "at least 8" in problems(**dict(config, shared_password="short"))
    assert "at least 32" in problems(chart_version="4.4.0", **dict(config, admin_password="short"))
    assert "must differ" in problems(chart_version="4.4.0", **dict(config, shared_password=ADMIN_PASSWORD))


def test_github_orgs_teams_and_callback():
    config = _auth(composed(**AUTH_CONFIGS["github"]), "GitHubOAuthenticator")
    assert config["allowed_organizations"] == ["example-org", "example-org:data-team"]
    assert config["scope"] == ["read:org"]
    assert config["oauth_callback_url"] == "https://hub.example.org/hub/oauth_callback"
    assert config["client_secret"] == CLIENT_SECRET
    assert "hub_url" in problems(**dict(AUTH_CONFIGS["github"], url=""))
    assert "hub_github_client_secret must be set" in problems(**dict(AUTH_CONFIGS["github"], github_client_secret=""))
    assert "org:team-slug" in problems(**dict(AUTH_CONFIGS["github"], github_organizations=["a b"]))
    assert "hub_allowed_groups" in problems(**dict(AUTH_CONFIGS["github"], allowed_groups=["x"]))


@pytest.mark.parametrize("version,key,value", [("3.3.8", "claim_groups_key", "groups"),
                                               ("4.4.0", "auth_state_groups_key", "oauth_user.groups")])
def test_oidc_groups_per_oauthenticator_version(version, key, value):
    config = _auth(composed(chart_version=version, **AUTH_CONFIGS["oidc"]), "GenericOAuthenticator")
    assert config[key] == value
    # oauthenticator 17 starts only with manage_groups when groups are configured; 16 has no such rule.
    assert config.get("manage_groups", False) is (version == "4.4.0")
    assert config["allowed_groups"] == ["data-science"] and config["admin_groups"] == ["hub-admins"]
    assert config["username_claim"] == "preferred_username"
    assert "hub_oidc_token_url is not set" in problems(**dict(AUTH_CONFIGS["oidc"], oidc_token_url=""))


def test_openshift_login_uses_the_service_account_and_its_token_secret():
    values = composed(**AUTH_CONFIGS["openshift"])
    config = _auth(values, "OpenShiftOAuthenticator")
    assert config["client_id"] == "system:serviceaccount:jhub:jupyterhub-hub"
    assert "client_secret" not in config
    assert values["hub"]["extraEnv"]["OAUTH_CLIENT_SECRET"] == {
        "valueFrom": {"secretKeyRef": {"name": "jupyterhub-hub-token", "key": "token"}}}
    assert config["enable_auth_state"] is True and "zz-hubfleet-user-token" in values["hub"]["extraConfig"]
    assert "enable_auth_state" not in _auth(composed(**dict(AUTH_CONFIGS["openshift"], openshift_user_token=False)),
                                            "OpenShiftOAuthenticator")
    assert "user:full" in problems(**dict(AUTH_CONFIGS["openshift"], openshift_scopes=["user:full"]))
    assert "role:edit:other" in problems(**dict(AUTH_CONFIGS["openshift"], openshift_scopes=["role:edit:other"]))
    composed(**dict(AUTH_CONFIGS["openshift"], openshift_scopes=["user:info", "role:edit:jhub:!"]))
    assert "needs an OpenShift cluster" in problems(**dict(AUTH_CONFIGS["openshift"], openshift=False))


def test_upper_case_names_are_refused():
    assert "must be lower case" in problems(allowed_users=["Alice"])


def test_storage_dynamic_static_and_pvc_naming():
    storage = composed()["singleuser"]["storage"]
    assert storage == {"type": "dynamic", "capacity": "2Gi", "dynamic": {"storageAccessModes": ["ReadWriteOnce"]}}
    assert composed(storage_type="static", storage_values=NFS_VALUES)["singleuser"]["storage"]["static"]["pvcName"] == \
        "jupyterhub-home"
    assert "nfs_home_hub_values" in problems(storage_type="static")
    assert "hub_storage_capacity" in problems(storage_capacity="lots")
    assert hub_values.pvc_name_template(composed(), "4.4.0") == "claim-{user_server}"
    assert hub_values.pvc_name_template(composed(chart_version="3.3.8"), "3.3.8") == "claim-{username}{servername}"
    # The names KubeSpawner gives "jo.smith" in each line (checked against the real KubeSpawners in tests/hub).
    assert naming.expand("claim-{username}{servername}", "jo.smith", scheme=hub_values.SLUG_SCHEMES["3.3.8"]) == \
        "claim-jo-2esmith"
    assert naming.expand("claim-{user_server}", "jo.smith", scheme=hub_values.SLUG_SCHEMES["4.4.0"]) == "claim-jo-smith---5fa41263"


def test_profiles_resources_env_and_images():
    singleuser = composed(**RICH)["singleuser"]
    assert singleuser["image"] == {"name": "quay.io/jupyter/scipy-notebook", "tag": "2024-05-27"}
    assert singleuser["cpu"] == {"limit": 2, "guarantee": 0.5}
    assert singleuser["memory"] == {"limit": "2G", "guarantee": "1G"}
    assert singleuser["extraEnv"] == {"TEAM": "data", "PROJECT_NAMESPACE": "{username}-workspace"}
    cpu, gpu = singleuser["profileList"]
    assert cpu["default"] is True and "kubespawner_override" not in cpu
    assert gpu["kubespawner_override"]["extra_resource_limits"] == {"nvidia.com/gpu": "2"}
    assert gpu["kubespawner_override"]["node_selector"] == {"nvidia.com/gpu.present": "true"}
    assert gpu["kubespawner_override"]["image"] == "quay.io/jupyter/pytorch-notebook:cuda12-2024-05-27"
    assert "profileList" not in composed()["singleuser"] and "image" not in composed()["singleuser"]
    assert "must not exceed hub_mem_limit" in problems(mem_limit="1G", mem_guarantee="2G")
    assert "hub_image" in problems(image="quay.io/x@sha256:abc")
    assert "extended resource" in problems(gpu_profile=dict(RICH["gpu_profile"], resource="memory"))
    assert "unknown field" in problems(project_namespace_template="{user}-ws") or \
        "hub_project_namespace_template" in problems(project_namespace_template="{user}-ws")


def test_cull_database_overrides_and_ownership_mark():
    values = composed(**RICH)
    assert values["cull"] == {"enabled": True, "timeout": 1800, "every": 300, "maxAge": 86400}
    assert composed(cull_enabled=False)["cull"] == {"enabled": False}
    assert values["hub"]["db"] == {"type": "postgres", "url": RICH["db_url"], "password": "db-Pa55word"}
    in_url = problems(db_type="postgres", db_password="x", db_url="postgresql://hub:secret@db/hub")
    assert "must not hold the password" in in_url
    assert "hub_db_password must be set" in problems(db_type="postgres", db_url=RICH["db_url"])
    merged = composed(overrides={"cull": {"timeout": 60}, "hub": {"config": {"JupyterHub": {"admin_access": True}}}})
    assert merged["cull"]["timeout"] == 60 and merged["cull"]["every"] == 600
    assert merged["hub"]["config"]["JupyterHub"] == {"authenticator_class": "dummy", "admin_access": True}
    assert merged["custom"]["hubfleet"]["hub"] == "demo"


def test_secrets_are_masked_and_redacted():
    values = composed(**dict(AUTH_CONFIGS["github"], overrides={"hub": {"config": {"X": {"api_token": "tok-123456"}}}}))
    hidden = hub_values.masked(values)
    text = json.dumps(hidden)
    assert CLIENT_SECRET not in text and "tok-123456" not in text
    assert hidden["hub"]["config"]["GitHubOAuthenticator"]["client_id"] == "github-client"
    oidc = hub_values.masked(composed(**AUTH_CONFIGS["oidc"]))["hub"]["config"]["GenericOAuthenticator"]
    assert oidc["token_url"] == "https://sso.example.org/token" and oidc["client_secret"] == hub_values.HIDDEN
    openshift = hub_values.masked(composed(**AUTH_CONFIGS["openshift"]))
    assert openshift["hub"]["extraConfig"]["zz-hubfleet-user-token"].startswith("# hubfleet.jupyterhub")
    assert openshift["hub"]["extraEnv"]["OAUTH_CLIENT_SECRET"]["valueFrom"]["secretKeyRef"]["name"] == "jupyterhub-hub-token"
    message = hub_values.redacted("bad value %s in hub.config" % CLIENT_SECRET, values)
    assert CLIENT_SECRET not in message and hub_values.HIDDEN in message


def test_release_plan():
    values = composed()
    chart = "jupyterhub-4.4.0"
    installed = {"status": "deployed", "chart": chart, "values": json.loads(json.dumps(values))}
    assert hub_values.foreign_release_error(installed, "demo") is None
    assert hub_values.release_reasons(installed, chart, values) == []
    assert hub_values.release_reasons({}, chart, values) == ["the release does not exist"]
    assert hub_values.release_reasons(dict(installed, status="failed"), chart, values) == [
        "the release is failed, not deployed"]
    assert hub_values.release_reasons(installed, "jupyterhub-3.3.8", values) == [
        "the chart is jupyterhub-4.4.0, not jupyterhub-3.3.8"]
    assert hub_values.release_reasons(installed, chart, composed(cull_timeout=60)) == ["the values differ"]
    assert "for hub other" in hub_values.foreign_release_error(installed, "other")
    assert "no custom.hubfleet.hub" in hub_values.foreign_release_error(dict(installed, values={}), "demo")


def helm_secret(version, status, chart_version, config, gzipped=True):
    """A release Secret as helm's storage writes it: the JSON release, gzipped, base64, then the Secret's base64."""
    release = json.dumps({"name": "jupyterhub", "version": version, "info": {"status": status},
                          "chart": {"metadata": {"name": "jupyterhub", "version": chart_version}}, "config": config})
    stored = gzip.compress(release.encode()) if gzipped else release.encode()
    return {"metadata": {"name": "sh.helm.release.v1.jupyterhub.v%d" % version,
                         "labels": {"owner": "helm", "name": "jupyterhub", "status": status, "version": str(version)}},
            "data": {"release": base64.b64encode(base64.b64encode(stored)).decode()}}


def test_the_installed_release_is_the_newest_revision_as_helm_info_reports_it():
    assert hub_values.installed_release([]) == {}
    secrets = [helm_secret(2, "failed", "4.4.0", {"custom": {"hubfleet": {"hub": "demo"}}}),
               helm_secret(10, "deployed", "4.4.0", {"hub": {"db": {"type": "sqlite-pvc"}}}),
               helm_secret(9, "deployed", "3.3.8", {}, gzipped=False)]
    assert hub_values.installed_release(secrets) == {"status": {
        "status": "deployed", "chart": "jupyterhub-4.4.0", "values": {"hub": {"db": {"type": "sqlite-pvc"}}}}}
    assert hub_values.installed_release(secrets[2:])["status"]["chart"] == "jupyterhub-3.3.8"
