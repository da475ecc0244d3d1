# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Zero-to-JupyterHub values of one hub, composed from the hub role's variables.

``compose(settings)`` returns ``(values, errors)``: the values dict for the pinned chart, or the
list of every problem found, each naming its variable. The keys of ``settings`` are the hub role's
variables without their ``hub_`` prefix (see roles/hub/vars/main.yml).

What the values must satisfy, and why it is here rather than in Jinja:
- the chart lines differ: 3.3.8 ships JupyterHub 4.1.6 (no SharedPasswordAuthenticator, no
  ``allow_all`` on DummyAuthenticator) and KubeSpawner 6.2.0 (legacy ``escape`` slugs), 4.4.0
  ships JupyterHub 5.5.0, oauthenticator 17.4.0 and KubeSpawner 7.0.0 (``safe`` slugs);
- JupyterHub 5 lets nobody in without an allow rule: every config emitted names one, and
  ``allow_all`` appears only when the inventory asked for it;
- every pod meets the "restricted" Pod Security Standard, and on OpenShift no UID, GID or
  fsGroup is fixed (the restricted-v2 SCC assigns them from the namespace's range).
Tests: tests/unit/test_hub_values.py (schema of both chart versions), tests/hub/in_venv (the real
hub code of each chart line).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import gzip
import json
import re

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import naming, validation

CHART_VERSIONS = ("3.3.8", "4.4.0")
AUTH_TYPES = ("dummy", "shared_password", "github", "oidc", "openshift")
# KubeSpawner's slug scheme in each chart line's hub image (6.2.0 knows only the legacy one).
SLUG_SCHEMES = {"3.3.8": "escape", "4.4.0": "safe"}
# The chart's pvcNameTemplate default in each line, as user_pvc_reset must find the claims.
PVC_NAME_TEMPLATES = {"3.3.8": "claim-{username}{servername}", "4.4.0": "claim-{user_server}"}
HOME_MOUNT_PATH = "/home/jovyan"
SHARED_PASSWORD_MIN = 8
ADMIN_PASSWORD_MIN = 32
# Scopes a service account may request as an OAuth client (OpenShift, "Using a service account as an
# OAuth client"): anything else is refused by the OAuth server at login.
_SA_SCOPE = re.compile(r"^(user:info|user:check-access|role:[^:]+:(?P<namespace>[^:]+)(:!)?)\Z")
# Keys whose text values are secrets, wherever they are (hub_values_overrides included): client
# secrets, passwords, tokens, and CryptKeeper's keys; not URLs such as an OAuth token_url. Masked in
# diffs and rendered files. hub.extraConfig holds code, not secrets: its snippets are shown as they are.
SECRET_KEY = re.compile(r"(?i)^(?!.*_url$).*(secret|password|token)|^keys$")
CODE_KEY = "extraConfig"
HIDDEN = "VALUE_HIDDEN"

_RESTRICTED_CONTAINER = {"runAsNonRoot": True, "allowPrivilegeEscalation": False,
                         "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}
_RESTRICTED_POD = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
_NO_FIXED_IDS = {"runAsUser": None, "runAsGroup": None}


def deep_merge(base, extra):
    """A copy of `base` with `extra` merged in, dicts key by key, anything else replaced."""
    merged = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def split_image(reference):
    """(name, tag) of an image reference such as quay.io/jupyter/scipy-notebook:2024-05-27."""
    problem = validation.image_reference_error(reference)
    if problem:
        raise ValueError(problem)
    if "@" in reference:
        raise ValueError("must name a tag, not a digest: the chart's image values take a tag")
    last = reference.rsplit("/", 1)[-1]
    if ":" not in last:
        return reference, "latest"
    name, tag = reference.rsplit(":", 1)
    return name, tag


def _hide(value):
    if isinstance(value, str) and value:
        return HIDDEN
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return [HIDDEN for _item in value]
    return value


def masked(values):
    """The values with the text under every secret key replaced by VALUE_HIDDEN (for diffs and files)."""
    if isinstance(values, dict):
        return {key: value if key == CODE_KEY else
                _hide(value) if SECRET_KEY.search(str(key)) and not isinstance(value, dict) else masked(value)
                for key, value in values.items()}
    if isinstance(values, list):
        return [masked(item) for item in values]
    return values


def _secrets(values, hidden):
    """The texts `masked` hid: where `hidden` (masked(values)) says VALUE_HIDDEN and `values` holds text."""
    if isinstance(values, dict):
        return [secret for key in values for secret in _secrets(values[key], hidden[key])]
    if isinstance(values, list):
        return [secret for item, shown in zip(values, hidden) for secret in _secrets(item, shown)]
    return [values] if hidden == HIDDEN and isinstance(values, str) and values != HIDDEN else []


def redacted(text, values):
    """`text` (a helm error, say) with every secret of `values` replaced by VALUE_HIDDEN."""
    for secret in sorted(set(_secrets(values, masked(values))), key=len, reverse=True):
        text = text.replace(secret, HIDDEN)
    return text


def _plain(values):
    """The values as helm stores and returns them (JSON types only)."""
    return json.loads(json.dumps(values or {}))


def installed_release(secrets):
    """The release helm stored in `secrets` (its Secrets, superseded revisions left out), as helm_info reports
    it: {"status": {"status", "chart", "values"}}; {} when there is none. The newest revision counts."""
    if not secrets:
        return {}
    newest = max(secrets, key=lambda secret: int(((secret.get("metadata") or {}).get("labels") or {}).get("version", 0)))
    # The Secret's base64 over helm's own: base64 of the gzipped JSON (plain JSON in old releases).
    stored = base64.b64decode(base64.b64decode((newest.get("data") or {}).get("release", "")))
    if stored[:2] == b"\x1f\x8b":
        stored = gzip.decompress(stored)
    release = json.loads(stored.decode("utf-8"))
    metadata = (release.get("chart") or {}).get("metadata") or {}
    return {"status": {"status": (release.get("info") or {}).get("status"),
                       "chart": "%s-%s" % (metadata.get("name"), metadata.get("version")),
                       "values": release.get("config") or {}}}


def foreign_release_error(installed, hub):
    """Why the release `installed` is not ours to change (another hub's, or not installed by us), or None."""
    if not installed:
        return None
    owner = ((installed.get("values") or {}).get("custom") or {}).get("hubfleet", {}).get("hub")
    if owner == hub:
        return None
    return "was not installed by hubfleet for hub %s (%s): it is left alone" % (
        hub, "its custom.hubfleet.hub is %s" % owner if owner else "it has no custom.hubfleet.hub value")


def release_reasons(installed, chart, values):
    """Why the release `installed` (helm_info's status, or {}) must be installed or upgraded; [] if not."""
    if not installed:
        return ["the release does not exist"]
    reasons = []
    if installed.get("status") != "deployed":
        reasons.append("the release is %s, not deployed" % installed.get("status"))
    if installed.get("chart") != chart:
        reasons.append("the chart is %s, not %s" % (installed.get("chart"), chart))
    if _plain(installed.get("values")) != _plain(values):
        reasons.append("the values differ")
    return reasons


# --- checks ---------------------------------------------------------------------------------------

def _names_errors(names, where):
    if not isinstance(names, list) or not all(isinstance(name, str) and name.strip() for name in names):
        return ["%s must be a list of non-empty names" % where]
    upper = [name for name in names if name != name.lower()]
    if upper:
        return ["%s: %s must be lower case: JupyterHub lowercases user names before checking them, "
                "so these could never match" % (where, ", ".join(upper))]
    return []


def _auth_errors(s):
    kind = s["auth_type"]
    errors = []
    if kind not in AUTH_TYPES:
        return ["hub_auth_type: %r must be one of %s" % (kind, ", ".join(AUTH_TYPES))]
    for key in ("admin_users", "allowed_users"):
        errors += _names_errors(s[key], "hub_" + key)
    for key in ("allowed_groups", "admin_groups"):
        if not isinstance(s[key], list) or not all(isinstance(g, str) and g for g in s[key]):
            errors.append("hub_%s must be a list of group names" % key)
    groups_allowed = kind in ("oidc", "openshift")
    if not groups_allowed and (s["allowed_groups"] or s["admin_groups"]):
        errors.append("hub_allowed_groups and hub_admin_groups apply to oidc and openshift authentication, "
                      "not %s (GitHub uses hub_github_organizations)" % kind)
    allow_rules = s["allow_all"] or s["allowed_users"] or (groups_allowed and s["allowed_groups"]) \
        or (kind == "github" and s["github_organizations"])
    if not allow_rules:
        errors.append("hub_auth_type %s: no allow rule, so nobody but admins could log in: set hub_allowed_users%s, "
                      "or hub_allow_all: true to let in everyone who can authenticate"
                      % (kind, {"github": " or hub_github_organizations", "oidc": " or hub_allowed_groups",
                                "openshift": " or hub_allowed_groups"}.get(kind, "")))
    if kind == "dummy" and not s["allow_insecure_auth"]:
        errors.append("hub_auth_type dummy lets anyone log in as anyone: it is for tests only and needs "
                      "hub_allow_insecure_auth: true")
    if kind == "shared_password":
        errors += _password_errors(s)
    if kind == "github":
        errors += _client_errors(s, "github")
        for org in s["github_organizations"]:
            if not isinstance(org, str) or not re.match(r"^[A-Za-z0-9-]+(:[A-Za-z0-9_.-]+)?\Z", org):
                errors.append("hub_github_organizations: %r must be an organization or org:team-slug" % (org,))
    if kind == "oidc":
        errors += _client_errors(s, "oidc") + _oidc_endpoint_errors(s)
    if kind == "openshift":
        errors += _openshift_errors(s)
    if kind in ("github", "oidc", "openshift") and not s["url"]:
        errors.append("hub_url: the hub's public URL is needed for the OAuth callback (the route role sets "
                      "route_hub_url; set hub_url when the hub is reached another way)")
    if s["url"]:
        errors += _url_errors(s["url"], "hub_url")
    return errors


def _url_errors(url, where):
    problem = validation.http_url_error(url)
    return ["%s: %r %s" % (where, url, problem)] if problem else []


def _password_errors(s):
    errors = []
    if len(s["shared_password"] or "") < SHARED_PASSWORD_MIN:
        errors.append("hub_shared_password must be at least %d characters" % SHARED_PASSWORD_MIN)
    admin = s["admin_password"] or ""
    if s["chart_version"] != "3.3.8" and s["admin_users"]:
        if len(admin) < ADMIN_PASSWORD_MIN:
            errors.append("hub_admin_password must be at least %d characters when hub_admin_users is set "
                          "(JupyterHub 5's SharedPasswordAuthenticator: admins log in with it)" % ADMIN_PASSWORD_MIN)
        elif admin == s["shared_password"]:
            errors.append("hub_admin_password must differ from hub_shared_password")
    return errors


def _client_errors(s, prefix):
    return ["hub_%s_%s must be set" % (prefix, key) for key in ("client_id", "client_secret")
            if not s["%s_%s" % (prefix, key)]]


def _oidc_endpoint_errors(s):
    errors = []
    for key in ("authorize_url", "token_url", "userdata_url"):
        value = s["oidc_" + key]
        if not value:
            errors.append("hub_oidc_%s is not set and the issuer's discovery document did not give it "
                          "(set hub_oidc_issuer_url or the endpoint)" % key)
        else:
            errors += _url_errors(value, "hub_oidc_" + key)
    return errors


def _openshift_errors(s):
    errors = []
    if not s["openshift"]:
        errors.append("hub_auth_type openshift needs an OpenShift cluster (its OAuth server)")
    for scope in s["openshift_scopes"]:
        match = _SA_SCOPE.match(scope) if isinstance(scope, str) else None
        if not match or (match.group("namespace") and match.group("namespace") != s["namespace"]):
            errors.append("hub_openshift_scopes: %r cannot be requested by a service account OAuth client: only "
                          "user:info, user:check-access and role:<role>:%s[:!] can" % (scope, s["namespace"]))
    for key in ("service_account", "openshift_token_secret"):
        problem = validation.dns_subdomain_error(s[key])
        if problem:
            errors.append("hub_%s: %r %s" % (key, s[key], problem))
    return errors


def _resource_errors(s):
    errors = []
    for key, resource in (("cpu_limit", "cpu"), ("cpu_guarantee", "cpu"),
                          ("mem_limit", "memory"), ("mem_guarantee", "memory")):
        value = s[key]
        if value not in (None, ""):
            problem = validation.quantity_value_error(resource, str(value))
            if problem:
                errors.append("hub_%s: %r %s" % (key, value, problem))
    for low, high, resource in (("cpu_guarantee", "cpu_limit", "cpu"), ("mem_guarantee", "mem_limit", "memory")):
        if not errors and s[low] not in (None, "") and s[high] not in (None, "") and \
                validation.quantity(str(s[low])) > validation.quantity(str(s[high])):
            errors.append("hub_%s must not exceed hub_%s (the API server refuses a %s request above its limit)"
                          % (low, high, resource))
    return errors


def _storage_errors(s):
    errors = []
    kind = s["storage_type"]
    if kind not in ("dynamic", "static", "none"):
        return ["hub_storage_type: %r must be dynamic, static or none" % (kind,)]
    if kind == "dynamic":
        problem = validation.quantity_value_error("storage", str(s["storage_capacity"]))
        if problem:
            errors.append("hub_storage_capacity: %r %s" % (s["storage_capacity"], problem))
        if s["storage_class"]:
            problem = validation.dns_subdomain_error(s["storage_class"])
            if problem:
                errors.append("hub_storage_class: %r %s" % (s["storage_class"], problem))
        modes = s["storage_access_modes"]
        if not modes or set(modes) - {"ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany", "ReadWriteOncePod"}:
            errors.append("hub_storage_access_modes: %r must be a non-empty list of ReadWriteOnce, ReadWriteMany, "
                          "ReadOnlyMany, ReadWriteOncePod" % (modes,))
    if kind == "static" and not s["storage_values"]:
        errors.append("hub_storage_type static needs the values of the nfs_home role (nfs_home_hub_values)")
    if kind == "none" and s["workspace_reset"]:
        errors.append("hub_workspace_reset needs per-user storage (hub_storage_type dynamic or static)")
    return errors


def _profile_errors(s):
    errors = []
    gpu = s["gpu_profile"]
    if gpu["enabled"]:
        if not isinstance(gpu["count"], int) or gpu["count"] < 1:
            errors.append("hub_gpu_profile.count must be a whole number of GPUs, at least 1")
        if not validation.is_extended_resource(gpu["resource"]):
            errors.append("hub_gpu_profile.resource: %r must be an extended resource such as nvidia.com/gpu"
                          % (gpu["resource"],))
        errors += validation.label_errors(gpu["node_selector"], "hub_gpu_profile.node_selector")
    images = [("hub_image", s["image"]), ("hub_gpu_profile.image", gpu["image"] if gpu["enabled"] else "")]
    for where, image in [(where, image) for where, image in images if image]:
        try:
            split_image(image)
        except ValueError as exc:
            errors.append("%s: %r %s" % (where, image, exc))
    return errors


def _template_errors(s):
    errors = []
    if s["project_namespace_template"]:
        problem = validation.template_error(s["project_namespace_template"], naming.TEMPLATE_FIELDS)
        if problem:
            errors.append("hub_project_namespace_template: %s" % problem)
    for key, value in s["extra_env"].items():
        if not re.match(r"^[-._a-zA-Z][-._a-zA-Z0-9]*\Z", key):
            errors.append("hub_extra_env: %r is not a valid environment variable name" % key)
        if not isinstance(value, str):
            errors.append("hub_extra_env.%s must be a string (quote numbers and booleans)" % key)
    return errors


def _database_errors(s):
    if s["db_type"] == "sqlite":
        return []
    if s["db_type"] != "postgres":
        return ["hub_db_type: %r must be sqlite or postgres" % (s["db_type"],)]
    errors = []
    if not re.match(r"^postgresql(\+[a-z0-9]+)?://[^/@:]+(:[^@/]*)?@?[^/]*/\S+\Z", s["db_url"] or ""):
        errors.append("hub_db_url must be a PostgreSQL URL such as postgresql+psycopg2://jupyterhub@db.example.org:5432/jupyterhub")
    elif re.match(r"^[^:]+://[^/@:]+:[^@/]+@", s["db_url"]):
        errors.append("hub_db_url must not hold the password: give it as hub_db_password")
    if not s["db_password"]:
        errors.append("hub_db_password must be set for postgres")
    return errors


def _cull_errors(s):
    return ["hub_cull_%s must be a whole number of seconds, %s" % (key, "at least 1" if key != "max_age" else "0 or more")
            for key in ("timeout", "every", "max_age")
            if not isinstance(s["cull_" + key], int) or s["cull_" + key] < (0 if key == "max_age" else 1)]


def errors(s):
    """Every problem with the settings, each message naming its variable."""
    if s["chart_version"] not in CHART_VERSIONS:
        return ["hub_chart_version: %r is not supported; supported: %s" % (s["chart_version"], ", ".join(CHART_VERSIONS))]
    found = []
    for check in (_auth_errors, _resource_errors, _storage_errors, _profile_errors, _template_errors,
                  _database_errors, _cull_errors):
        found += check(s)
    if not isinstance(s["overrides"], dict):
        found.append("hub_values_overrides must be a mapping of chart values")
    return found


# --- values ---------------------------------------------------------------------------------------

def _allow(s, cls):
    config = {}
    if s["admin_users"]:
        config["admin_users"] = sorted(s["admin_users"])
    # Admins are put on the allow list too, so that a group- or org-based rule can never lock them out.
    allowed = sorted(set(s["allowed_users"]) | set(s["admin_users"])) if s["allowed_users"] else []
    if allowed:
        config["allowed_users"] = allowed
    if s["allow_all"] and not (cls == "DummyAuthenticator" and s["chart_version"] == "3.3.8"):
        # JupyterHub 4's DummyAuthenticator has no allow_all: with no allow list it lets everyone in.
        config["allow_all"] = True
    return config


def _callback(s):
    return s["url"].rstrip("/") + "/hub/oauth_callback"


def _auth_values(s):
    kind = s["auth_type"]
    hub = {"config": {"JupyterHub": {}}}
    config = hub["config"]
    if kind == "dummy" or (kind == "shared_password" and s["chart_version"] == "3.3.8"):
        cls, authenticator = "DummyAuthenticator", "dummy"
        config[cls] = _allow(s, cls)
        if kind == "shared_password":
            config[cls]["password"] = s["shared_password"]
    elif kind == "shared_password":
        cls, authenticator = "SharedPasswordAuthenticator", "shared-password"
        config[cls] = dict(_allow(s, cls), user_password=s["shared_password"])
        if s["admin_users"]:
            config[cls]["admin_password"] = s["admin_password"]
    elif kind == "github":
        cls, authenticator = "GitHubOAuthenticator", "github"
        config[cls] = dict(_allow(s, cls), client_id=s["github_client_id"], client_secret=s["github_client_secret"],
                           oauth_callback_url=_callback(s))
        if s["github_organizations"]:
            config[cls]["allowed_organizations"] = sorted(s["github_organizations"])
            config[cls]["scope"] = ["read:org"]
    elif kind == "oidc":
        cls, authenticator = "GenericOAuthenticator", "generic-oauth"
        config[cls] = dict(_allow(s, cls), client_id=s["oidc_client_id"], client_secret=s["oidc_client_secret"],
                           oauth_callback_url=_callback(s), authorize_url=s["oidc_authorize_url"],
                           token_url=s["oidc_token_url"], userdata_url=s["oidc_userdata_url"],
                           scope=list(s["oidc_scopes"]), username_claim=s["oidc_username_claim"])
        config[cls].update(_group_values(s, s["oidc_groups_claim"]))
    else:
        cls, authenticator = "OpenShiftOAuthenticator", "openshift"
        config[cls] = dict(_allow(s, cls), client_id="system:serviceaccount:%s:%s" % (s["namespace"], s["service_account"]),
                           oauth_callback_url=_callback(s), scope=list(s["openshift_scopes"]))
        if s["openshift_url"]:
            config[cls]["openshift_url"] = s["openshift_url"]
        config[cls].update(_group_values(s, None))
        # The client secret is a token of the hub's service account: read from its Secret, never a value.
        hub["extraEnv"] = {"OAUTH_CLIENT_SECRET": {"valueFrom": {"secretKeyRef": {
            "name": s["openshift_token_secret"], "key": "token"}}}}
        if s["openshift_user_token"]:
            config[cls]["enable_auth_state"] = True
            hub["extraConfig"] = {"zz-hubfleet-user-token": s["user_token_hook"]}
    config["JupyterHub"]["authenticator_class"] = authenticator
    return {"hub": hub}


def _group_values(s, claim):
    config = {}
    if s["allowed_groups"]:
        config["allowed_groups"] = sorted(s["allowed_groups"])
    if s["admin_groups"]:
        config["admin_groups"] = sorted(s["admin_groups"])
    if s["chart_version"] != "3.3.8" and (s["allowed_groups"] or s["admin_groups"]):
        # oauthenticator 17 refuses group settings (the hub does not start) unless the authenticator
        # manages the users' groups: JupyterHub then sets them from the login at each login.
        config["manage_groups"] = True
    if claim and (s["allowed_groups"] or s["admin_groups"]):
        # oauthenticator 16 reads groups from the user info by claim_groups_key; 17 deprecates it for
        # auth_state_groups_key, a path into the auth state.
        if s["chart_version"] == "3.3.8":
            config["claim_groups_key"] = claim
        else:
            config["auth_state_groups_key"] = "oauth_user." + claim
    return config


def _storage_values(s):
    if s["storage_type"] == "none":
        return {"singleuser": {"storage": {"type": "none"}}}
    if s["storage_type"] == "static":
        return s["storage_values"]
    dynamic = {"storageAccessModes": list(s["storage_access_modes"])}
    if s["storage_class"]:
        dynamic["storageClass"] = s["storage_class"]
    return {"singleuser": {"storage": {"type": "dynamic", "capacity": str(s["storage_capacity"]), "dynamic": dynamic}}}


def _quantity_or_none(value):
    """The chart takes CPU as a number and memory as a string; an empty setting leaves the chart's default."""
    return None if value in (None, "") else value


def _cpu(value):
    amount = validation.quantity(str(value))
    return int(amount) if amount == int(amount) else float(amount)


def _profile_values(s):
    singleuser = {}
    if s["image"]:
        name, tag = split_image(s["image"])
        singleuser["image"] = {"name": name, "tag": tag}
    cpu = {k: _cpu(s["cpu_" + k]) for k in ("limit", "guarantee") if _quantity_or_none(s["cpu_" + k]) is not None}
    memory = {k: str(s["mem_" + k]) for k in ("limit", "guarantee") if _quantity_or_none(s["mem_" + k]) is not None}
    if cpu:
        singleuser["cpu"] = cpu
    if memory:
        singleuser["memory"] = memory
    if s["start_command"]:
        singleuser["cmd"] = list(s["start_command"])
    env = dict(s["extra_env"])
    if s["project_namespace_template"]:
        # KubeSpawner expands {username} and friends in environment values with the same slugs as
        # user_project names the projects (module_utils/naming.py; tested in the hub venvs).
        env["PROJECT_NAMESPACE"] = s["project_namespace_template"]
    if env:
        singleuser["extraEnv"] = env
    gpu = s["gpu_profile"]
    if gpu["enabled"]:
        override = {"extra_resource_limits": {gpu["resource"]: str(gpu["count"])}}
        if gpu["image"]:
            override["image"] = gpu["image"]
        if gpu["tolerations"]:
            override["tolerations"] = gpu["tolerations"]
        if gpu["node_selector"]:
            override["node_selector"] = gpu["node_selector"]
        singleuser["profileList"] = [
            {"display_name": "CPU", "slug": "cpu", "default": True,
             "description": "The default environment, without GPUs."},
            {"display_name": gpu["display_name"], "slug": "gpu",
             "description": "%d x %s" % (gpu["count"], gpu["resource"]), "kubespawner_override": override},
        ]
    return {"singleuser": singleuser}


def _cull_values(s):
    if not s["cull_enabled"]:
        return {"cull": {"enabled": False}}
    return {"cull": {"enabled": True, "timeout": s["cull_timeout"], "every": s["cull_every"],
                     "maxAge": s["cull_max_age"]}}


def _database_values(s):
    if s["db_type"] == "sqlite":
        return {}
    return {"hub": {"db": {"type": "postgres", "url": s["db_url"], "password": s["db_password"]}}}


def _security_values(s):
    """The restricted Pod Security Standard for hub, proxy and user pods; OpenShift's SCC picks the IDs."""
    hub_container = dict(_RESTRICTED_CONTAINER)
    chp_container = dict(_RESTRICTED_CONTAINER)
    hub_pod = dict(_RESTRICTED_POD)
    singleuser = {"allowPrivilegeEscalation": False, "cloudMetadata": {"blockWithIptables": False}}
    if s["openshift"]:
        hub_container.update(_NO_FIXED_IDS)
        chp_container.update(_NO_FIXED_IDS)
        hub_pod["fsGroup"] = None
        singleuser.update(uid=None, fsGid=None)
    kubespawner = {
        "container_security_context": dict(_RESTRICTED_CONTAINER),
        "pod_security_context": dict(_RESTRICTED_POD),
        # User servers act with the user's rights (or none), never with the namespace's service account.
        "automount_service_account_token": False,
    }
    return {
        "hub": {"containerSecurityContext": hub_container, "podSecurityContext": hub_pod,
                "config": {"KubeSpawner": kubespawner}},
        "proxy": {"service": {"type": s["proxy_service_type"]}, "chp": {"containerSecurityContext": chp_container}},
        "singleuser": singleuser,
        # Cluster-scoped or privileged parts, off unless asked (hub_values_overrides).
        "scheduling": {"userScheduler": {"enabled": False}, "userPlaceholder": {"enabled": False}},
        "prePuller": {"hook": {"enabled": False}, "continuous": {"enabled": False}},
    }


def _workspace_reset_values(s):
    if not s["workspace_reset"]:
        return {}
    return {"hub": {"extraConfig": {"zz-hubfleet-workspace-reset": s["workspace_reset_hook"]}},
            "custom": {"hubfleet": {"workspace_reset": {
                "source": s["workspace_source"], "marker": ".delete-volume",
                "security_context": dict(_RESTRICTED_CONTAINER)}}}}


def compose(s):
    """(values, []) for valid settings, else (None, [problem, ...])."""
    found = errors(s)
    if found:
        return None, found
    # Marks the release as ours: the role never upgrades or removes one without it.
    values = {"custom": {"hubfleet": {"hub": s["hub"]}}}
    for part in (_security_values, _auth_values, _storage_values, _profile_values, _cull_values,
                 _database_values, _workspace_reset_values):
        values = deep_merge(values, part(s))
    for fragment in s["fragments"]:
        values = deep_merge(values, fragment or {})
    return deep_merge(values, s["overrides"]), []


def pvc_name_template(values, chart_version):
    """The claim name template KubeSpawner uses under these values (for user_pvc_reset)."""
    dynamic = values.get("singleuser", {}).get("storage", {}).get("dynamic", {})
    return dynamic.get("pvcNameTemplate") or PVC_NAME_TEMPLATES[chart_version]
