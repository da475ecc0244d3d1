"""The Kubernetes objects and chart values the roles render, and what their validate.yml refuses, without a cluster.

Each role keeps the objects it owns in vars/main.yml (``__<role>_objects``, a list of ``{wanted,
definition}``). One ansible-playbook run per role (the four run side by side) has an inventory host
per case, the case's variables as its host vars, and one play over them all: ``include_role`` of the
role's ``validate.yml`` (``public: true``, so the role's defaults and vars are visible afterwards),
then a debug task that prints the role's internal variables. A refusal is caught by ``rescue`` and
its messages printed instead.

The roles' templates are looked up by relative name (``lookup('ansible.builtin.template',
'resourcequota.yaml.j2')``), which ansible-core resolves against the calling task's search path. The
debug task runs in the play, not in the role, so each playbook is written into a directory whose
``templates`` and ``files`` are links to the role's own: the same files the role uses.
"""
import base64
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from ansible_collections.hubfleet.jupyterhub.plugins.lookup.spawner_rules import LookupModule

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLES_DIR = REPO_ROOT / "roles"
COLLECTION = "hubfleet.jupyterhub"

OPENSHIFT = {"openshift": True, "routes": True, "builds": True, "openshift_login": True, "volume_snapshots": True,
             "default_storage_class": "standard", "kubernetes_version": "1.33.0", "git_version": "v1.33.0",
             "api_groups": []}
VANILLA = dict(OPENSHIFT, openshift=False, routes=False, builds=False, openshift_login=False, volume_snapshots=False)

CERT = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUcert\n-----END CERTIFICATE-----\n"
CA = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUca\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0key\n-----END PRIVATE KEY-----\n"
# Not PEM (no END line); the marker must never be printed.
SECRET_MARKER = "s3cr3t-k3y-m4rker"
BAD_KEY = "-----BEGIN PRIVATE KEY-----\n" + SECRET_MARKER + "\n"

OWNED_BY = {"app.kubernetes.io/managed-by": "hubfleet", "hubfleet.io/hub": "research"}


def labels(component):
    return dict(OWNED_BY, **{"app.kubernetes.io/component": component})


def readme_vars(role):
    """The variables of the example play at the top of the role's README."""
    text = (ROLES_DIR / role / "README.md").read_text()
    play = yaml.safe_load(re.search(r"```yaml\n(.*?)```", text, re.S).group(1))[0]
    entry = dict(play["roles"][0])
    assert entry.pop("role") == "%s.%s" % (COLLECTION, role)
    return entry


def hub_values_expression(role):
    """The expression tasks/main.yml sets the role's output fact `<role>_hub_values` with."""
    for task in yaml.safe_load((ROLES_DIR / role / "tasks" / "main.yml").read_text()):
        facts = task.get("ansible.builtin.set_fact") or {}
        if role + "_hub_values" in facts:
            return facts[role + "_hub_values"]
    raise AssertionError("roles/%s/tasks/main.yml sets no %s_hub_values" % (role, role))


# --- the cases ------------------------------------------------------------------------------

QUOTAS_BASE = {"quotas_hub": "research", "quotas_namespace": "jupyterhub-research"}
QUOTAS_CASES = {
    "plain": dict(QUOTAS_BASE, quotas_requests_cpu=8, quotas_requests_memory="32Gi", quotas_limits_cpu="16",
                  quotas_limits_memory="64Gi", quotas_requests_gpu=2, quotas_persistentvolumeclaims=50,
                  quotas_requests_storage="500Gi", quotas_pods=0, quotas_hard={"count/services": 20},
                  quotas_container_limits={"default": {"cpu": "2", "memory": "4Gi"}, "default_request": {"cpu": "100m"},
                                           "max": {"cpu": 4, "memory": "16Gi"}},
                  quotas_pvc_size={"min": "1Gi", "max": "50Gi"},
                  quotas_check_pods=[{"name": "hub", "requests": {"cpu": "200m"}, "limits": {"memory": "1Gi"}},
                                     {"name": "user"}]),
    "nothing": dict(QUOTAS_BASE),
    "absent": dict(QUOTAS_BASE, quotas_state="absent", quotas_requests_cpu="8", quotas_pvc_size={"max": "10Gi"}),
    "only_hard": dict(QUOTAS_BASE, quotas_hard={"requests.ephemeral-storage": "10Gi"}),
    "only_pvc_max": dict(QUOTAS_BASE, quotas_pvc_size={"max": "10Gi"}),
    "only_container_max": dict(QUOTAS_BASE, quotas_container_limits={"max": {"memory": "2Gi"}}),
    "empty_limit_parts": dict(QUOTAS_BASE, quotas_container_limits={"default": {}, "max": {}}),
    "readme": readme_vars("quotas"),
    # refused
    "spaced_memory": dict(QUOTAS_BASE, quotas_requests_memory="2 Gi"),
    "fraction_of_pods": dict(QUOTAS_BASE, quotas_pods="1.5"),
    "negative_cpu": dict(QUOTAS_BASE, quotas_limits_cpu="-1"),
    "twice": dict(QUOTAS_BASE, quotas_requests_cpu="2", quotas_hard={"requests.cpu": "1"}),
    "limits_out_of_order": dict(QUOTAS_BASE, quotas_container_limits={"default": {"cpu": "2"}, "max": {"cpu": "1"}}),
    "unknown_hard_key": dict(QUOTAS_BASE, quotas_hard={"requests.cpus": "1"}),
    "spaced_pvc_max": dict(QUOTAS_BASE, quotas_pvc_size={"max": "50 Gi"}),
    "empty_pvc_max": dict(QUOTAS_BASE, quotas_pvc_size={"max": ""}),
    "bad_namespace": dict(QUOTAS_BASE, quotas_namespace="Jupyter_Research"),
    "bad_check_pod": dict(QUOTAS_BASE, quotas_check_pods=[{"name": "Hub", "requests": {"cpu": "lots"}}]),
}

SA_BASE = {"service_account_hub": "research", "service_account_namespace": "jupyterhub-research"}
SA_CASES = {
    "least_privilege": dict(SA_BASE),
    "edit": dict(SA_BASE, service_account_role="edit", service_account_name="hub-sa"),
    "oauth": dict(SA_BASE, service_account_oauth_redirect_routes=["jupyterhub", "jupyterhub-alt"],
                  service_account_oauth_redirect_uris=["https://hub.example.org/hub/oauth_callback",
                                                       "http://localhost:8000/hub/oauth_callback"],
                  service_account_token_secret="true"),
    "absent": dict(SA_BASE, service_account_state="absent", service_account_token_secret=True),
    "token_false_string": dict(SA_BASE, service_account_token_secret="false"),
    "readme": readme_vars("service_account"),
    # refused
    "ftp_redirect": dict(SA_BASE, service_account_oauth_redirect_uris=["ftp://x"]),
    "bad_route_name": dict(SA_BASE, service_account_oauth_redirect_routes=["Jupyter_Hub"]),
    "bad_name": dict(SA_BASE, service_account_name="Hub"),
}

ROUTE_BASE = {"route_hub": "research", "route_namespace": "jupyterhub-research", "preflight_cluster": OPENSHIFT}
ROUTE_VANILLA = dict(ROUTE_BASE, preflight_cluster=VANILLA, route_host="research.example.org")
ROUTE_CASES = {
    "openshift": dict(ROUTE_BASE),
    "openshift_cert": dict(ROUTE_BASE, route_host="research.apps.example.org", route_tls_certificate=CERT,
                           route_tls_key=KEY, route_tls_ca_certificate=CA,
                           route_annotations={"haproxy.router.openshift.io/timeout": "1h"}),
    "openshift_secret": dict(ROUTE_BASE, route_tls_secret="research-tls", __route_tls_lookup={"resources": [
        {"data": {"tls.crt": base64.b64encode(CERT.encode()).decode(),
                  "tls.key": base64.b64encode(KEY.encode()).decode()}}]}),
    "openshift_ingress": dict(ROUTE_BASE, route_kind="ingress", route_host="research.apps.example.org"),
    "openshift_absent": dict(ROUTE_BASE, route_state="absent"),
    "vanilla": dict(ROUTE_VANILLA),
    "vanilla_cluster_issuer": dict(ROUTE_VANILLA, route_name="hub", route_ingress_class="nginx",
                                   route_cert_manager_issuer="letsencrypt",
                                   route_annotations={"nginx.ingress.kubernetes.io/proxy-body-size": "64m"}),
    "vanilla_issuer": dict(ROUTE_VANILLA, route_cert_manager_issuer="local-ca", route_cert_manager_issuer_kind="Issuer"),
    "vanilla_secret": dict(ROUTE_VANILLA, route_tls_secret="research-tls"),
    "readme_openshift": dict(readme_vars("route"), preflight_cluster=OPENSHIFT),
    "readme_vanilla": dict(readme_vars("route"), preflight_cluster=VANILLA),
    # refused
    "bad_host": dict(ROUTE_BASE, route_host="Bad_Host"),
    "cert_without_key": dict(ROUTE_BASE, route_tls_certificate=CERT),
    "bad_key": dict(ROUTE_BASE, route_tls_certificate=CERT, route_tls_key=BAD_KEY),
    "secret_and_cert": dict(ROUTE_BASE, route_tls_secret="research-tls", route_tls_certificate=CERT, route_tls_key=KEY),
    "vanilla_without_host": dict(ROUTE_BASE, preflight_cluster=VANILLA),
    "route_on_vanilla": dict(ROUTE_VANILLA, route_kind="route"),
}

# Each case is an inventory host named after it (unless it says `host`), so the cluster part of the
# volume's name is the case's name: "vanilla" makes hubfleet-home-vanilla-research.
NFS_BASE = {"nfs_home_hub": "research", "nfs_home_namespace": "jupyterhub-research",
            "nfs_home_server": "nfs.example.org", "preflight_cluster": VANILLA}
NFS_CASES = {
    "vanilla": dict(NFS_BASE),
    "vanilla_again": dict(NFS_BASE),
    "openshift": dict(NFS_BASE, preflight_cluster=OPENSHIFT),
    "root": dict(NFS_BASE, nfs_home_job_as_root="true"),
    "root_openshift": dict(NFS_BASE, nfs_home_job_as_root=True, preflight_cluster=OPENSHIFT),
    "root_false_string": dict(NFS_BASE, nfs_home_job_as_root="false"),
    "root_owner": dict(NFS_BASE, nfs_home_owner_uid=0, nfs_home_owner_gid=0),
    "other_mode": dict(NFS_BASE, nfs_home_mode="0770"),
    "other_server": dict(NFS_BASE, nfs_home_server="10.0.0.12"),
    "other_owner": dict(NFS_BASE, nfs_home_owner_uid=1001),
    # Neither the size nor the mount options are the Job's business.
    "other_volume": dict(NFS_BASE, nfs_home_capacity="10Gi", nfs_home_mount_options=["hard", "vers=4.1"]),
    "odd_host": dict(NFS_BASE, host="Prod_East.Example"),
    "cluster_var": dict(NFS_BASE, nfs_home_cluster="east"),
    "directory": dict(NFS_BASE, nfs_home_base_path="/exports/homes/", nfs_home_hub_directory="groups/research",
                      nfs_home_pvc_name="homes", nfs_home_mount_path="/home/user"),
    "allusers": dict(NFS_BASE, nfs_home_allusers="yes", nfs_home_allusers_read_only="yes",
                     nfs_home_allusers_mount_path="/home/jovyan/everyone"),
    "allusers_false_string": dict(NFS_BASE, nfs_home_allusers="false"),
    "absent_without_server": dict(NFS_BASE, nfs_home_state="absent", nfs_home_server=""),
    "readme": dict(readme_vars("nfs_home"), preflight_cluster=VANILLA),
    # refused
    "no_server": dict(NFS_BASE, nfs_home_server=""),
    "bad_server": dict(NFS_BASE, nfs_home_server="Bad_Host"),
    "mode_999": dict(NFS_BASE, nfs_home_mode="999"),
    "mode_int": dict(NFS_BASE, nfs_home_mode=775),
    "relative_base": dict(NFS_BASE, nfs_home_base_path="homes"),
    "dotdot_directory": dict(NFS_BASE, nfs_home_hub_directory="../other"),
    "comma_mount_options": dict(NFS_BASE, nfs_home_mount_options=["soft,noatime"]),
    "spaced_capacity": dict(NFS_BASE, nfs_home_capacity="1 Gi"),
    "negative_uid": dict(NFS_BASE, nfs_home_owner_uid=-1),
    # Cleaned up like a host name, but still too long for a volume's name.
    "bad_cluster": dict(NFS_BASE, nfs_home_cluster="C" * 240),
    "odd_cluster_var": dict(NFS_BASE, nfs_home_cluster="East_1"),
}

# Per role: the task files to include, the cases, and what to print when they pass.
ROLES = {
    "quotas": (["validate.yml"], QUOTAS_CASES, {
        "objects": "{{ __quotas_objects }}",
        "check_pod": "{{ lookup('ansible.builtin.template', 'check-pod.yaml.j2') | from_yaml }}",
    }),
    "service_account": (["validate.yml"], SA_CASES, {
        "objects": "{{ __service_account_objects }}",
        "hub_values": hub_values_expression("service_account"),
    }),
    # url.yml asks the cluster for the host a router assigned, unless route_host is set.
    "route": (["validate.yml", "check_kind.yml", ("url.yml", "route_host != '' and route_state == 'present'")],
              ROUTE_CASES, {
        "objects": "{{ __route_objects }}",
        "hub_url": "{{ route_hub_url | default('(not set)') }}",
    }),
    "nfs_home": (["validate.yml"], NFS_CASES, {
        "objects": "{{ __nfs_home_objects }}",
        "job": "{{ lookup('ansible.builtin.template', 'share-creator-job.yaml.j2') | from_yaml }}",
        "job_name": "{{ __nfs_home_job_name }}",
        "storage_values": "{{ __nfs_home_storage_values }}",
        "allusers_values": "{{ __nfs_home_allusers_values }}",
        "hub_values": hub_values_expression("nfs_home"),
    }),
}


# --- running them -----------------------------------------------------------------------------

def _include(role, task_file):
    """An include_role task of `task_file`, or of (task_file, condition)."""
    task_file, condition = task_file if isinstance(task_file, tuple) else (task_file, None)
    task = {"name": "Include %s" % task_file, "ansible.builtin.include_role": {
        "name": "%s.%s" % (COLLECTION, role), "tasks_from": task_file, "public": True}}
    if condition:
        task["when"] = condition
    return task


def _play(role, task_files, dump):
    includes = [_include(role, task_file) for task_file in task_files]
    return {
        "name": role, "hosts": "all", "gather_facts": False,
        "tasks": [{"block": includes + [{"name": "hubfleet-dump", "ansible.builtin.debug": {"msg": dump}}],
                   "rescue": [{"name": "hubfleet-refused", "ansible.builtin.debug": {"msg": {
                       "task": "{{ ansible_failed_task.name }}",
                       "msgs": "{{ [ansible_failed_result.msg | default('')] + (ansible_failed_result.results"
                               " | default([]) | selectattr('failed', 'defined') | selectattr('failed')"
                               " | map(attribute='msg') | list) }}"}}}]}],
    }


def _host(name, case):
    """The inventory host of a case: the case's name, unless it says otherwise."""
    return case.get("host", name)


def _start(role, workdir):
    """One host per case (its variables as host vars), one play over all of them: cheaper than a play each."""
    task_files, cases, dump = ROLES[role]
    workdir.mkdir()
    for part in ("templates", "files"):
        if (ROLES_DIR / role / part).is_dir():
            (workdir / part).symlink_to(ROLES_DIR / role / part)
    hosts = dict((_host(name, case), dict(dict((key, value) for key, value in case.items() if key != "host"),
                                          ansible_connection="local", ansible_python_interpreter=sys.executable))
                 for name, case in cases.items())
    (workdir / "inventory.yml").write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    playbook = workdir / "render.yml"
    playbook.write_text(yaml.safe_dump([_play(role, task_files, dump)], sort_keys=False))
    executable = pathlib.Path(sys.executable).with_name("ansible-playbook")
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1",
               ANSIBLE_RETRY_FILES_ENABLED="false", ANSIBLE_LOCAL_TEMP=str(workdir / "tmp"), ANSIBLE_FORKS="10",
               ANSIBLE_COLLECTIONS_PATH=os.pathsep.join(
                   [str(REPO_ROOT / ".build" / "collections")] + [path for path in os.environ.get(
                       "ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep) if path]))
    env.pop("ANSIBLE_CONFIG", None)
    command = [str(executable) if executable.exists() else shutil.which("ansible-playbook"),
               "-i", str(workdir / "inventory.yml"), str(playbook)]
    return subprocess.Popen(command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _results(role, process):
    stdout, stderr = process.communicate(timeout=300)
    try:
        report = json.loads(stdout)
    except ValueError:
        raise AssertionError("ansible-playbook for %s printed no JSON (rc %s): %s %s" % (
            role, process.returncode, stdout[-2000:], stderr[-2000:]))
    case_of = dict((_host(name, case), name) for name, case in ROLES[role][1].items())
    results = {}
    for play in report["plays"]:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                if task["task"]["name"] == "hubfleet-dump" and not result.get("failed"):
                    results[case_of[host]] = {"rendered": result["msg"]}
                elif task["task"]["name"] == "hubfleet-refused":
                    results[case_of[host]] = {"refused": result["msg"]}
    missing = set(ROLES[role][1]) - set(results)
    assert not missing, "no result for %s cases %s: %s" % (role, sorted(missing), stderr[-2000:])
    return {"results": results, "output": stdout + stderr}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("role_objects")
    processes = dict((role, _start(role, base / role)) for role in ROLES)
    return dict((role, _results(role, process)) for role, process in processes.items())


@pytest.fixture(scope="module")
def render(runs):
    def rendered(role, case):
        result = runs[role]["results"][case]
        assert "rendered" in result, "%s case %s was refused: %s" % (role, case, result.get("refused"))
        return result["rendered"]
    return rendered


@pytest.fixture(scope="module")
def refusal(runs):
    def refused(role, case, task="Check"):
        result = runs[role]["results"][case]
        assert "refused" in result, "%s case %s was not refused" % (role, case)
        assert result["refused"]["task"].startswith(task), result["refused"]
        return " ".join(msg for msg in result["refused"]["msgs"] if msg)
    return refused


def objects_by_kind(rendered):
    """{kind or kind/name-suffix: {wanted, definition}}; two RoleBindings are told apart by name."""
    found = {}
    for entry in rendered["objects"]:
        definition = entry["definition"]
        key = definition["kind"]
        if key in found:
            key = "%s/%s" % (key, definition["metadata"]["name"])
        found[key] = entry
    return found


# --- quotas ----------------------------------------------------------------------------------

def test_quotas_plain_variables_and_quotas_hard_make_spec_hard_in_text(render):
    quota, limits = render("quotas", "plain")["objects"]
    assert quota["wanted"] is True
    assert quota["definition"] == {
        "apiVersion": "v1", "kind": "ResourceQuota",
        "metadata": {"name": "jupyterhub-quota", "namespace": "jupyterhub-research", "labels": labels("quotas")},
        "spec": {"hard": {
            "requests.cpu": "8", "requests.memory": "32Gi", "limits.cpu": "16", "limits.memory": "64Gi",
            "requests.nvidia.com/gpu": "2", "persistentvolumeclaims": "50", "requests.storage": "500Gi",
            "pods": "0", "count/services": "20"}},
    }


def test_quotas_limit_range_has_the_container_item_with_server_defaults_then_the_claim_item(render):
    quota, limits = render("quotas", "plain")["objects"]
    assert limits["wanted"] is True
    assert limits["definition"]["kind"] == "LimitRange"
    assert limits["definition"]["metadata"] == {
        "name": "jupyterhub-limits", "namespace": "jupyterhub-research", "labels": labels("quotas")}
    assert limits["definition"]["spec"]["limits"] == [
        {"type": "Container", "default": {"cpu": "2", "memory": "4Gi"},
         "defaultRequest": {"cpu": "100m", "memory": "4Gi"}, "max": {"cpu": "4", "memory": "16Gi"}},
        {"type": "PersistentVolumeClaim", "min": {"storage": "1Gi"}, "max": {"storage": "50Gi"}},
    ]


def test_quotas_nothing_asked_for_wants_no_quota_and_no_limits(render):
    assert [entry["wanted"] for entry in render("quotas", "nothing")["objects"]] == [False, False]


def test_quotas_absent_wants_nothing_even_with_amounts_set(render):
    assert [entry["wanted"] for entry in render("quotas", "absent")["objects"]] == [False, False]


def test_quotas_hard_alone_makes_a_quota_and_no_limits(render):
    quota, limits = render("quotas", "only_hard")["objects"]
    assert (quota["wanted"], limits["wanted"]) == (True, False)
    assert quota["definition"]["spec"]["hard"] == {"requests.ephemeral-storage": "10Gi"}


def test_quotas_claim_bound_alone_makes_only_the_claim_item(render):
    quota, limits = render("quotas", "only_pvc_max")["objects"]
    assert (quota["wanted"], limits["wanted"]) == (False, True)
    assert limits["definition"]["spec"]["limits"] == [{"type": "PersistentVolumeClaim", "max": {"storage": "10Gi"}}]


def test_quotas_container_max_alone_is_filled_as_the_server_fills_it(render):
    limits = render("quotas", "only_container_max")["objects"][1]
    assert limits["wanted"] is True
    assert limits["definition"]["spec"]["limits"] == [{"type": "Container", "max": {"memory": "2Gi"},
                                                       "default": {"memory": "2Gi"},
                                                       "defaultRequest": {"memory": "2Gi"}}]


def test_quotas_empty_container_limit_parts_make_no_limit_range(render):
    assert render("quotas", "empty_limit_parts")["objects"][1]["wanted"] is False


def test_quotas_check_pod_has_a_restricted_container_per_hub_pod(render):
    pod = render("quotas", "plain")["check_pod"]
    assert pod["metadata"] == {"name": "hubfleet-quota-check", "namespace": "jupyterhub-research",
                               "labels": labels("quotas")}
    assert pod["spec"]["securityContext"] == {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    assert [(c["name"], c["resources"]) for c in pod["spec"]["containers"]] == [
        ("hub", {"requests": {"cpu": "200m"}, "limits": {"memory": "1Gi"}}),
        ("user", {"requests": {}, "limits": {}}),
    ]
    for container in pod["spec"]["containers"]:
        assert container["securityContext"] == {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}


def test_quotas_check_pod_defaults_to_the_charts_pods(render):
    pod = render("quotas", "nothing")["check_pod"]
    assert [(c["name"], c["resources"]["requests"]) for c in pod["spec"]["containers"]] == [
        ("hub", {}), ("proxy", {}), ("user", {"memory": "1G"})]


def test_quotas_readme_example_renders(render):
    quota, limits = render("quotas", "readme")["objects"]
    assert quota["definition"]["spec"]["hard"] == {
        "requests.cpu": "8", "requests.memory": "32Gi", "requests.nvidia.com/gpu": "2",
        "persistentvolumeclaims": "50", "requests.storage": "500Gi", "count/services": "20"}
    assert limits["definition"]["spec"]["limits"][0]["defaultRequest"] == {"cpu": "100m", "memory": "1Gi"}


@pytest.mark.parametrize("case, fragments", [
    ("spaced_memory", ["quotas_requests_memory: '2 Gi' is not a Kubernetes quantity"]),
    ("fraction_of_pods", ["quotas_pods: '1.5' must be an integer"]),
    ("negative_cpu", ["quotas_limits_cpu: '-1' must be greater than or equal to 0"]),
    ("twice", ["quotas_hard sets requests.cpu", "keep one"]),
    ("limits_out_of_order", ["quotas_container_limits.default.cpu: 2 is greater than quotas_container_limits.max.cpu: 1"]),
    ("unknown_hard_key", ["quotas_hard.requests.cpus: must be a standard resource for quota"]),
    ("spaced_pvc_max", ["quotas_pvc_size.max: '50 Gi' is not a Kubernetes quantity"]),
    ("bad_namespace", ["quotas_namespace: 'Jupyter_Research' must be a DNS-1123 label"]),
    ("bad_check_pod", ["quotas_check_pods[].name: 'Hub'", "quotas_check_pods[].requests.cpu: 'lots'"]),
])
def test_quotas_validate_refuses(refusal, case, fragments):
    message = refusal("quotas", case)
    for fragment in fragments:
        assert fragment in message


def test_quotas_an_empty_claim_bound_is_refused(refusal):
    assert "quotas_pvc_size.max" in refusal("quotas", "empty_pvc_max")


def test_quotas_twice_names_the_plain_variable_too(refusal):
    assert "quotas_requests_cpu" in refusal("quotas", "twice")


# --- service_account ---------------------------------------------------------------------------

def test_service_account_least_privilege_makes_role_and_binding(render):
    objects = objects_by_kind(render("service_account", "least_privilege"))
    assert {key: entry["wanted"] for key, entry in objects.items()} == {
        "ServiceAccount": True, "Role": True, "RoleBinding": True, "RoleBinding/jupyterhub-hub-edit": False,
        "Secret": False}
    assert objects["ServiceAccount"]["definition"] == {
        "apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": "jupyterhub-hub", "namespace": "jupyterhub-research", "labels": labels("service-account")}}
    role = objects["Role"]["definition"]
    assert role["metadata"]["name"] == "jupyterhub-hub"
    assert role["rules"] == LookupModule().run([]) and role["rules"]
    binding = objects["RoleBinding"]["definition"]
    assert binding["metadata"] == {"name": "jupyterhub-hub", "namespace": "jupyterhub-research",
                                   "labels": labels("service-account")}
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "jupyterhub-hub"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "jupyterhub-hub",
                                    "namespace": "jupyterhub-research"}]


def test_service_account_edit_binds_the_cluster_role_edit_instead(render):
    objects = objects_by_kind(render("service_account", "edit"))
    assert {key: entry["wanted"] for key, entry in objects.items()} == {
        "ServiceAccount": True, "Role": False, "RoleBinding": False, "RoleBinding/hub-sa-edit": True, "Secret": False}
    binding = objects["RoleBinding/hub-sa-edit"]["definition"]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "hub-sa", "namespace": "jupyterhub-research"}]
    assert objects["RoleBinding"]["definition"]["metadata"]["name"] == "hub-sa"


def test_service_account_oauth_redirect_annotations(render):
    account = objects_by_kind(render("service_account", "oauth"))["ServiceAccount"]["definition"]
    reference = '{"kind":"OAuthRedirectReference","apiVersion":"v1","reference":{"kind":"Route","name":"%s"}}'
    assert account["metadata"]["annotations"] == {
        "serviceaccounts.openshift.io/oauth-redirectreference.jupyterhub": reference % "jupyterhub",
        "serviceaccounts.openshift.io/oauth-redirectreference.jupyterhub-alt": reference % "jupyterhub-alt",
        "serviceaccounts.openshift.io/oauth-redirecturi.1": "https://hub.example.org/hub/oauth_callback",
        "serviceaccounts.openshift.io/oauth-redirecturi.2": "http://localhost:8000/hub/oauth_callback",
    }
    value = json.loads(account["metadata"]["annotations"]["serviceaccounts.openshift.io/oauth-redirectreference.jupyterhub"])
    assert value["reference"] == {"kind": "Route", "name": "jupyterhub"}


def test_service_account_token_secret_from_a_survey_string(render):
    secret = objects_by_kind(render("service_account", "oauth"))["Secret"]
    assert secret["wanted"] is True
    assert secret["definition"] == {
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
        "metadata": {"name": "jupyterhub-hub-token", "namespace": "jupyterhub-research",
                     "labels": labels("service-account"),
                     "annotations": {"kubernetes.io/service-account.name": "jupyterhub-hub"}}}


def test_service_account_token_secret_false_from_a_survey(render):
    assert objects_by_kind(render("service_account", "token_false_string"))["Secret"]["wanted"] is False


def test_service_account_absent_wants_nothing(render):
    assert [entry["wanted"] for entry in render("service_account", "absent")["objects"]] == [False] * 5


def test_service_account_hub_values(render):
    assert render("service_account", "edit")["hub_values"] == {
        "hub": {"serviceAccount": {"create": False, "name": "hub-sa"}}, "rbac": {"create": False}}
    assert render("service_account", "readme")["hub_values"]["hub"]["serviceAccount"]["name"] == "jupyterhub-hub"


@pytest.mark.parametrize("case, fragment", [
    ("ftp_redirect", "service_account_oauth_redirect_uris[]: 'ftp://x' must be an http(s) URL"),
    ("bad_route_name", "service_account_oauth_redirect_routes[]: 'Jupyter_Hub' must be a DNS-1123 subdomain"),
    ("bad_name", "service_account_name: 'Hub' must be a DNS-1123 subdomain"),
])
def test_service_account_validate_refuses(refusal, case, fragment):
    assert fragment in refusal("service_account", case)


# --- route ---------------------------------------------------------------------------------

def test_route_on_openshift_is_a_route_with_edge_tls(render):
    route, ingress = render("route", "openshift")["objects"]
    assert (route["wanted"], ingress["wanted"]) == (True, False)
    assert ingress["definition"]["kind"] == "Ingress"
    assert route["definition"] == {
        "apiVersion": "route.openshift.io/v1", "kind": "Route",
        "metadata": {"name": "jupyterhub", "namespace": "jupyterhub-research", "labels": labels("route")},
        "spec": {"to": {"kind": "Service", "name": "proxy-public", "weight": 100}, "port": {"targetPort": "http"},
                 "wildcardPolicy": "None", "tls": {"termination": "edge", "insecureEdgeTerminationPolicy": "Redirect"}},
    }


def test_route_with_host_certificate_and_annotations(render):
    route = render("route", "openshift_cert")["objects"][0]["definition"]
    assert route["spec"]["host"] == "research.apps.example.org"
    assert route["spec"]["tls"] == {"termination": "edge", "insecureEdgeTerminationPolicy": "Redirect",
                                    "certificate": CERT, "key": KEY, "caCertificate": CA}
    assert route["metadata"]["annotations"] == {"haproxy.router.openshift.io/timeout": "1h"}


def test_route_takes_the_certificate_from_the_tls_secret(render):
    tls = render("route", "openshift_secret")["objects"][0]["definition"]["spec"]["tls"]
    assert tls == {"termination": "edge", "insecureEdgeTerminationPolicy": "Redirect", "certificate": CERT, "key": KEY}


def test_route_kind_ingress_on_openshift(render):
    route, ingress = render("route", "openshift_ingress")["objects"]
    assert (route["wanted"], ingress["wanted"]) == (False, True)


def test_route_absent_wants_neither(render):
    assert [entry["wanted"] for entry in render("route", "openshift_absent")["objects"]] == [False, False]


def test_route_on_vanilla_is_only_an_ingress(render):
    (ingress,) = render("route", "vanilla")["objects"]
    assert ingress["wanted"] is True
    assert ingress["definition"] == {
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "jupyterhub", "namespace": "jupyterhub-research", "labels": labels("route")},
        "spec": {"rules": [{"host": "research.example.org", "http": {"paths": [{
            "path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": "proxy-public", "port": {"name": "http"}}}}]}}]},
    }


def test_route_ingress_with_class_and_cluster_issuer(render):
    (ingress,) = render("route", "vanilla_cluster_issuer")["objects"]
    definition = ingress["definition"]
    assert definition["metadata"]["name"] == "hub"
    assert definition["metadata"]["annotations"] == {"cert-manager.io/cluster-issuer": "letsencrypt",
                                                     "nginx.ingress.kubernetes.io/proxy-body-size": "64m"}
    assert definition["spec"]["ingressClassName"] == "nginx"
    assert definition["spec"]["tls"] == [{"hosts": ["research.example.org"], "secretName": "hub-tls"}]


def test_route_ingress_with_a_namespaced_issuer(render):
    definition = render("route", "vanilla_issuer")["objects"][0]["definition"]
    assert definition["metadata"]["annotations"] == {"cert-manager.io/issuer": "local-ca"}
    assert definition["spec"]["tls"] == [{"hosts": ["research.example.org"], "secretName": "jupyterhub-tls"}]
    assert "ingressClassName" not in definition["spec"]


def test_route_ingress_with_a_tls_secret_and_no_issuer(render):
    definition = render("route", "vanilla_secret")["objects"][0]["definition"]
    assert definition["spec"]["tls"] == [{"hosts": ["research.example.org"], "secretName": "research-tls"}]
    assert "annotations" not in definition["metadata"]


def test_route_readme_example_on_both_kinds_of_cluster(render):
    route = render("route", "readme_openshift")["objects"][0]
    assert route["wanted"] and route["definition"]["spec"]["host"] == "research.apps.example.org"
    (ingress,) = render("route", "readme_vanilla")["objects"]
    assert ingress["definition"]["spec"]["rules"][0]["host"] == "research.apps.example.org"


@pytest.mark.parametrize("case, task, fragment", [
    ("bad_host", "Check the names", "route_host: 'Bad_Host' must be a DNS-1123 subdomain"),
    ("cert_without_key", "Check the names", "route_tls_certificate and route_tls_key go together"),
    ("bad_key", "Check the PEM", "route_tls_key: must be PEM text"),
    ("secret_and_cert", "Check the names", "route_tls_secret and route_tls_certificate exclude each other"),
    ("vanilla_without_host", "Check that the cluster serves", "an Ingress needs a host: set route_host"),
    ("route_on_vanilla", "Check that the cluster serves", "this cluster does not serve Routes"),
])
def test_route_validate_refuses(refusal, case, task, fragment):
    assert fragment in refusal("route", case, task)


@pytest.mark.parametrize("case, url", [
    ("openshift_cert", "https://research.apps.example.org"),
    ("readme_openshift", "https://research.apps.example.org"),
    ("openshift_ingress", "http://research.apps.example.org"),
    ("vanilla", "http://research.example.org"),
    ("vanilla_cluster_issuer", "https://research.example.org"),
    ("vanilla_secret", "https://research.example.org"),
])
def test_route_hub_url_scheme_follows_tls(render, case, url):
    assert render("route", case)["hub_url"] == url


def test_route_a_bad_key_is_never_printed(runs, refusal):
    assert "route_tls_key" in refusal("route", "bad_key", "Check the PEM")
    assert SECRET_MARKER not in runs["route"]["output"]


# --- nfs_home -------------------------------------------------------------------------------

def test_nfs_home_volume_for_the_hub_directory(render):
    volume, claim, share_volume, share_claim = render("nfs_home", "vanilla")["objects"]
    assert (volume["wanted"], claim["wanted"]) == (True, True)
    # The base share's volume and claim are for the share-creator Job only: never left behind.
    assert (share_volume["wanted"], share_claim["wanted"]) == (False, False)
    assert share_volume["definition"]["metadata"]["name"] == "hubfleet-share-vanilla-research"
    assert share_volume["definition"]["spec"]["nfs"] == {"server": "nfs.example.org", "path": "/homes"}
    assert share_volume["definition"]["spec"]["claimRef"] == {"namespace": "jupyterhub-research",
                                                              "name": "jupyterhub-home-share"}
    assert share_claim["definition"]["spec"]["volumeName"] == "hubfleet-share-vanilla-research"
    assert volume["definition"] == {
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": "hubfleet-home-vanilla-research", "labels": labels("nfs-home")},
        "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteMany"], "volumeMode": "Filesystem",
                 "persistentVolumeReclaimPolicy": "Retain", "storageClassName": "",
                 "mountOptions": ["soft", "noatime", "vers=4.2"],
                 "nfs": {"server": "nfs.example.org", "path": "/homes/research"},
                 "claimRef": {"namespace": "jupyterhub-research", "name": "jupyterhub-home"}},
    }


def test_nfs_home_claim_is_bound_to_the_volume(render):
    claim = render("nfs_home", "vanilla")["objects"][1]["definition"]
    assert claim == {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "jupyterhub-home", "namespace": "jupyterhub-research", "labels": labels("nfs-home")},
        "spec": {"accessModes": ["ReadWriteMany"], "volumeMode": "Filesystem", "storageClassName": "",
                 "volumeName": "hubfleet-home-vanilla-research", "resources": {"requests": {"storage": "1Gi"}}},
    }


@pytest.mark.parametrize("case, name", [
    ("odd_host", "hubfleet-home-prod-east.example-research"),
    ("cluster_var", "hubfleet-home-east-research"),
    ("odd_cluster_var", "hubfleet-home-east-1-research"),
    ("other_mode", "hubfleet-home-other-mode-research"),
])
def test_nfs_home_volume_name_carries_the_cluster(render, case, name):
    volume, claim, _share_volume, _share_claim = render("nfs_home", case)["objects"]
    assert volume["definition"]["metadata"]["name"] == name
    assert claim["definition"]["spec"]["volumeName"] == name


def test_nfs_home_directory_base_and_claim_name(render):
    rendered = render("nfs_home", "directory")
    volume, claim, share_volume, _share_claim = rendered["objects"]
    assert volume["definition"]["spec"]["nfs"] == {"server": "nfs.example.org", "path": "/exports/homes/groups/research"}
    assert volume["definition"]["spec"]["claimRef"] == {"namespace": "jupyterhub-research", "name": "homes"}
    assert claim["definition"]["metadata"]["name"] == "homes"
    container = rendered["job"]["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "HUB_DIRECTORY", "value": "groups/research"} in container["env"]
    # Pod Security "restricted" and OpenShift's restricted-v2 refuse inline nfs volumes: a claim.
    assert rendered["job"]["spec"]["template"]["spec"]["volumes"] == [
        {"name": "share", "persistentVolumeClaim": {"claimName": "homes-share"}}]
    assert share_volume["definition"]["spec"]["nfs"] == {"server": "nfs.example.org", "path": "/exports/homes/"}
    assert rendered["storage_values"]["singleuser"]["storage"]["static"]["pvcName"] == "homes"
    assert rendered["storage_values"]["singleuser"]["storage"]["homeMountPath"] == "/home/user"


def test_nfs_home_job_runs_as_the_owner_on_vanilla(render):
    rendered = render("nfs_home", "vanilla")
    job = rendered["job"]
    assert job["metadata"] == {"name": rendered["job_name"], "namespace": "jupyterhub-research",
                               "labels": labels("nfs-home")}
    assert re.fullmatch(r"hubfleet-nfs-home-[0-9a-f]{10}", rendered["job_name"])
    pod = job["spec"]["template"]["spec"]
    assert pod["securityContext"] == {"runAsNonRoot": True, "runAsUser": 1000, "runAsGroup": 100,
                                      "seccompProfile": {"type": "RuntimeDefault"}}
    container = pod["containers"][0]
    assert container["securityContext"] == {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
    assert container["env"] == [{"name": "HUB_DIRECTORY", "value": "research"}, {"name": "OWNER_UID", "value": "1000"},
                                {"name": "OWNER_GID", "value": "100"}, {"name": "MODE", "value": "0775"}]
    assert pod["automountServiceAccountToken"] is False and pod["restartPolicy"] == "Never"


def test_nfs_home_job_leaves_the_uid_to_openshift(render):
    pod = render("nfs_home", "openshift")["job"]["spec"]["template"]["spec"]
    assert pod["securityContext"] == {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}


@pytest.mark.parametrize("case", ["root", "root_openshift"])
def test_nfs_home_job_as_root_keeps_the_runtimes_default_capabilities(render, case):
    # chown and chmod need CHOWN, FOWNER, DAC_OVERRIDE: the runtime's defaults, which the baseline level
    # allows and the anyuid SCC does not let a pod add back after dropping them.
    pod = render("nfs_home", case)["job"]["spec"]["template"]["spec"]
    assert pod["securityContext"] == {"runAsUser": 0, "seccompProfile": {"type": "RuntimeDefault"}}
    assert pod["containers"][0]["securityContext"] == {"allowPrivilegeEscalation": False}


def test_nfs_home_job_as_root_false_from_a_survey_is_not_root(render):
    assert render("nfs_home", "root_false_string")["job"] == render("nfs_home", "vanilla")["job"]


def test_nfs_home_owner_root_without_job_as_root_is_refused_or_consistent(runs):
    result = runs["nfs_home"]["results"]["root_owner"]
    if "refused" in result:
        assert "nfs_home_owner_uid" in " ".join(result["refused"]["msgs"])
    else:
        context = result["rendered"]["job"]["spec"]["template"]["spec"]["securityContext"]
        assert not (context.get("runAsNonRoot") and context.get("runAsUser") == 0), context


def test_nfs_home_job_name_follows_the_jobs_settings(render):
    name = dict((case, render("nfs_home", case)["job_name"]) for case in (
        "vanilla", "vanilla_again", "other_volume", "other_mode", "other_server", "other_owner", "root"))
    assert name["vanilla_again"] == name["vanilla"]
    assert name["other_volume"] == name["vanilla"]
    changed = [name[case] for case in ("vanilla", "other_mode", "other_server", "other_owner", "root")]
    assert len(set(changed)) == len(changed), name
    assert render("nfs_home", "vanilla_again")["job"] == render("nfs_home", "vanilla")["job"]
    assert {"name": "MODE", "value": "0770"} in render("nfs_home", "other_mode")["job"]["spec"]["template"]["spec"][
        "containers"][0]["env"]


def test_nfs_home_storage_values(render):
    rendered = render("nfs_home", "vanilla")
    storage = {"singleuser": {"storage": {"type": "static",
                                          "static": {"pvcName": "jupyterhub-home", "subPath": "{username}"},
                                          "homeMountPath": "/home/jovyan"}}}
    assert rendered["storage_values"] == storage
    assert rendered["hub_values"] == storage


def test_nfs_home_allusers_values_carry_the_hook(render):
    rendered = render("nfs_home", "allusers")
    hook = (ROLES_DIR / "nfs_home" / "files" / "allusers_hook.py").read_text()
    assert rendered["allusers_values"] == {
        "custom": {"hubfleet": {"allusers": {"mount_path": "/home/jovyan/everyone", "read_only": True}}},
        "hub": {"extraConfig": {"zz-hubfleet-allusers": hook.rstrip("\n")}},
    }
    assert rendered["hub_values"]["singleuser"] == rendered["storage_values"]["singleuser"]
    assert rendered["hub_values"]["custom"] == rendered["allusers_values"]["custom"]
    assert rendered["hub_values"]["hub"]["extraConfig"]["zz-hubfleet-allusers"].endswith("del _hubfleet_allusers_setup")


def test_nfs_home_allusers_false_from_a_survey_adds_nothing(render):
    rendered = render("nfs_home", "allusers_false_string")
    assert rendered["hub_values"] == rendered["storage_values"]


def test_nfs_home_readme_example(render):
    rendered = render("nfs_home", "readme")
    assert rendered["hub_values"]["custom"]["hubfleet"]["allusers"] == {
        "mount_path": "/home/jovyan/allusers", "read_only": True}
    assert rendered["objects"][0]["definition"]["spec"]["nfs"] == {
        "server": "nfs.example.org", "path": "/homes/research"}


def test_nfs_home_absent_needs_no_server_and_wants_nothing(render):
    assert [entry["wanted"] for entry in render("nfs_home", "absent_without_server")["objects"]] == [False] * 4


@pytest.mark.parametrize("case, fragment", [
    ("no_server", "nfs_home_server must be set"),
    ("bad_server", "nfs_home_server: 'Bad_Host' must be a DNS-1123 subdomain"),
    ("mode_999", "nfs_home_mode: '999' must be an octal file mode"),
    ("mode_int", "nfs_home_mode: 775 must be an octal file mode in quotes"),
    ("relative_base", "nfs_home_base_path: 'homes' must be an absolute path"),
    ("dotdot_directory", "nfs_home_hub_directory: '../other' must not contain a '..' path element"),
    ("comma_mount_options", "nfs_home_mount_options must not be empty strings or contain commas"),
    ("spaced_capacity", "nfs_home_capacity: '1 Gi' is not a Kubernetes quantity"),
    ("negative_uid", "nfs_home_owner_uid and nfs_home_owner_gid must be 0 or more"),
    ("bad_cluster", "nfs_home_cluster (in the volume name): 'hubfleet-home-" + "c" * 240 + "-research'"),
])
def test_nfs_home_validate_refuses(refusal, case, fragment):
    assert fragment in refusal("nfs_home", case)
