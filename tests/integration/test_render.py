"""playbooks/render.yml: what site.yml would deploy, written as files, with no cluster contacted.

Two runs of render.yml, side by side:

1. inventory/example (OpenShift ocp-prod, Kubernetes k8s-lab, as their `cluster_platform` says; every auth
   method, NFS, GPU, image builds), with stand-ins for its vault variables and the OIDC endpoints (render
   asks no issuer) given with -e;
2. a small inventory of two clusters whose kubeconfigs (and $KUBECONFIG, for both runs) point at an
   emulator: its request count must stay 0. One hub there uses OIDC with only the issuer URL, which render
   refuses naming the variables to set; the other hubs are rendered all the same.

Every written values.yaml is then given to `helm template` with the real chart package."""
import json
import os
import pathlib
import subprocess
import sys

import pytest
import yaml

from tests.hub_settings import settings

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import hub_values

from .scenarios import Emulators

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
RENDER = REPO_ROOT / "playbooks" / "render.yml"
CHARTS = REPO_ROOT.parent / "shared" / "z2jh"
HELM = REPO_ROOT / ".tools" / "bin" / "helm"

# Stand-ins for the example inventory's vault: none of them may appear in a written file.
VAULT = {"vault_lab_github_client_secret": "S3cret-github-lab-0001", "vault_lab_db_password": "S3cret-db-lab-0002",
         "vault_datasci_oidc_client_secret": "S3cret-oidc-datasci-0003",
         "vault_teaching_shared_password": "S3cret-shared-teaching-0004",
         "vault_ocp_prod_api_token": "S3cret-api-token-0005"}
SMALL_SECRETS = ["S3cret-small-shared-0006", "S3cret-small-admin-0007", "S3cret-small-oidc-0008"]
OIDC_ENDPOINTS = {"hub_oidc_authorize_url": "https://sso.example.com/realms/company/protocol/openid-connect/auth",
                  "hub_oidc_token_url": "https://sso.example.com/realms/company/protocol/openid-connect/token",
                  "hub_oidc_userdata_url": "https://sso.example.com/realms/company/protocol/openid-connect/userinfo"}


def key_pair(where):
    """A throwaway certificate and key for the teaching hub's Route (route_tls_* must be PEM)."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=teaching",
                    "-keyout", str(where / "key.pem"), "-out", str(where / "crt.pem")],
                   check=True, capture_output=True, timeout=60)
    return (where / "crt.pem").read_text(), (where / "key.pem").read_text()


def small_inventory(path, kubeconfig):
    demo = {"name": "demo", "namespace": "jupyterhub-demo", "route_host": "demo.example.org",
            "quotas_requests_cpu": "4",
            "hub_auth_type": "dummy", "hub_allow_insecure_auth": True, "hub_allowed_users": ["alice"],
            "user_projects": {"users": ["alice", "Bob"], "name_template": "{hubnamespace}-{username}",
                              "quota": {"requests.cpu": "2"}, "limits": {"default": {"cpu": "1"}},
                              "spawner_access": True}}
    sso = {"name": "sso", "namespace": "jupyterhub-sso", "route_host": "sso.example.org",
           "hub_auth_type": "oidc", "hub_oidc_issuer_url": "https://issuer.invalid/realms/x",
           "hub_oidc_client_id": "hub", "hub_oidc_client_secret": SMALL_SECRETS[2]}
    course = {"name": "course", "namespace": "jupyterhub-course", "chart_version": "3.3.8",
              "route_tls_secret": "course-cert", "nfs_home_server": "nfs.example.org",
              "hub_chart_ref": "/charts/jupyterhub-3.3.8.tgz",
              "hub_auth_type": "shared_password", "hub_allowed_users": ["student1"], "hub_admin_users": ["teacher"],
              "hub_shared_password": SMALL_SECRETS[0], "hub_admin_password": SMALL_SECRETS[1]}
    common = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
              "cluster_kubeconfig": str(kubeconfig)}
    hosts = {"lab": dict(common, cluster_platform="kubernetes", hubs=[demo, sso]),
             "campus": dict(common, hubs=[course])}
    path.write_text(yaml.safe_dump({"clusters": {"hosts": hosts}}))
    return path


def start_render(inventory, out, kubeconfig, *extra):
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", KUBECONFIG=str(kubeconfig),
               ANSIBLE_COLLECTIONS_PATH=str(REPO_ROOT / ".build" / "collections"))
    command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), str(RENDER), "-i", str(inventory),
               "-e", "render_dir=" + str(out)] + list(extra)
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process):
    stdout, stderr = process.communicate(timeout=240)
    return process.returncode, stdout, stderr


def documents(path):
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def kinds(path):
    return sorted(doc["kind"] for doc in documents(path))


class Rendered:
    """Both runs' outcomes, written directories and the emulator's request count."""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    root = tmp_path_factory.mktemp("render")
    emulators = Emulators(root)
    done = Rendered()
    try:
        emulator = emulators.start("untouched", openshift=True)
        certificate, key = key_pair(root)
        done.secrets = list(VAULT.values()) + SMALL_SECRETS + [key.strip().splitlines()[1]]
        extra = dict(VAULT, vault_teaching_tls_certificate=certificate, vault_teaching_tls_key=key, **OIDC_ENDPOINTS)
        (root / "extra.json").write_text(json.dumps(extra))
        done.example, done.small = root / "example", root / "small"
        inventory = small_inventory(root / "small.yml", emulator.kubeconfig)
        runs = [start_render(REPO_ROOT / "inventory" / "example", done.example, emulator.kubeconfig,
                             "-e", "@" + str(root / "extra.json")),
                start_render(inventory, done.small, emulator.kubeconfig)]
        done.example_run, done.small_run = [finish(run) for run in runs]
        done.requests = emulator.control.requests()
    finally:
        emulators.stop()
    return done


def test_render_contacts_no_cluster(rendered):
    assert rendered.requests["total"] == 0, rendered.requests
    # Each run got as far as the end: ocp-prod's API host and k8s-lab's kubeconfig do not exist either.
    code, stdout, stderr = rendered.example_run
    assert code == 0, stdout[-3000:] + stderr[-3000:]
    stats = json.loads(stdout)["stats"]
    assert sorted(stats) == ["k8s-lab", "k8s-lab/datasci", "k8s-lab/lab", "k8s-lab/sandbox",
                             "ocp-prod", "ocp-prod/research", "ocp-prod/teaching"]


def test_example_hubs_get_every_file(rendered):
    out = rendered.example
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    base = ["namespace.yaml", "quotas.yaml", "release.yaml", "route.yaml", "service_account.yaml", "values.yaml"]
    others = ("ocp-prod/teaching", "k8s-lab/lab", "k8s-lab/datasci", "k8s-lab/sandbox")
    research = base + ["image_build.yaml", "nfs_home.yaml", "user_projects.yaml"]
    expected = sorted([f"ocp-prod/research/{name}" for name in research]
                      + [f"{hub}/{name}" for hub in others for name in base])
    assert written == expected


def test_openshift_hubs_get_routes_and_kubernetes_hubs_ingresses(rendered):
    out = rendered.example
    assert kinds(out / "ocp-prod/research/route.yaml") == ["Route"]
    assert kinds(out / "k8s-lab/lab/route.yaml") == ["Ingress"]
    teaching = documents(out / "ocp-prod/teaching/route.yaml")[0]
    assert teaching["spec"]["tls"]["key"] == "VALUE_HIDDEN"
    assert teaching["spec"]["tls"]["certificate"].startswith("-----BEGIN CERTIFICATE-----")
    namespace = documents(out / "ocp-prod/research/namespace.yaml")
    assert namespace == [{"apiVersion": "v1", "kind": "Namespace", "metadata": {
        "name": "jupyterhub-research",
        "labels": {"app.kubernetes.io/managed-by": "hubfleet", "hubfleet.io/hub": "research",
                   "app.kubernetes.io/component": "hub", "app.kubernetes.io/name": "jupyterhub",
                   "app.kubernetes.io/instance": "research", "app.kubernetes.io/part-of": "hubfleet"}}}]


def test_research_hub_has_nfs_images_and_the_values_that_use_them(rendered):
    hub = rendered.example / "ocp-prod/research"
    assert kinds(hub / "nfs_home.yaml") == [
        "Job", "PersistentVolume", "PersistentVolume", "PersistentVolumeClaim", "PersistentVolumeClaim"]
    job = [d for d in documents(hub / "nfs_home.yaml") if d["kind"] == "Job"][0]
    assert job["metadata"]["name"].startswith("hubfleet-nfs-home-")
    assert kinds(hub / "image_build.yaml") == ["BuildConfig", "ImageStream"]
    assert kinds(hub / "quotas.yaml") == ["LimitRange", "ResourceQuota"]
    values = yaml.safe_load((hub / "values.yaml").read_text())
    assert values["singleuser"]["image"] == {
        "name": "image-registry.openshift-image-registry.svc:5000/jupyterhub-research/research-notebook", "tag": "latest"}
    assert values["singleuser"]["storage"]["static"]["pvcName"] == "jupyterhub-home"
    assert values["hub"]["serviceAccount"] == {"create": False, "name": "jupyterhub-hub"}
    callback = "https://jupyterhub-jupyterhub-research.apps.ocp-prod.example.com/hub/oauth_callback"
    assert callback in (hub / "values.yaml").read_text()
    release = yaml.safe_load((hub / "release.yaml").read_text())
    assert release == {"name": "jupyterhub", "namespace": "jupyterhub-research", "state": "present", "chart": "jupyterhub",
                       "chart_version": "4.4.0", "source": {"repo_url": "https://charts.example.com/jupyterhub/"},
                       "url": "https://jupyterhub-jupyterhub-research.apps.ocp-prod.example.com"}
    teaching = yaml.safe_load((rendered.example / "ocp-prod/teaching/release.yaml").read_text())
    assert teaching["chart_version"] == "3.3.8"


def test_no_secret_is_written(rendered):
    for out in (rendered.example, rendered.small):
        for path in out.rglob("*.yaml"):
            text = path.read_text()
            leaked = [secret for secret in rendered.secrets if secret in text]
            assert leaked == [], path
    assert "VALUE_HIDDEN" in (rendered.example / "k8s-lab/lab/values.yaml").read_text()


def test_small_inventory_values_are_what_the_hub_role_composes(rendered):
    code, stdout, _stderr = rendered.small_run
    assert code != 0
    result = json.loads(stdout)
    assert result["stats"]["lab/sso"]["failures"] == 1
    assert result["stats"]["lab/demo"]["failures"] == 0 and result["stats"]["campus/course"]["failures"] == 0
    message = json.dumps([t["hosts"].get("lab/sso", {}).get("msg", "") for p in result["plays"] for t in p["tasks"]])
    assert "hub_oidc_authorize_url, hub_oidc_token_url and hub_oidc_userdata_url" in message
    assert not (rendered.small / "lab/sso/values.yaml").exists()

    # The hub role's composition (module_utils/hub_values.py) from the role's defaults and this hub's variables.
    expected, errors = hub_values.compose(settings(
        hub="demo", namespace="jupyterhub-demo", url="http://demo.example.org",
        fragments=[{"hub": {"serviceAccount": {"create": False, "name": "jupyterhub-hub"}}, "rbac": {"create": False}}]))
    assert errors == []
    written = yaml.safe_load((rendered.small / "lab/demo/values.yaml").read_text())
    assert written == hub_values.masked(expected)


def test_small_inventory_objects(rendered):
    demo, course = rendered.small / "lab/demo", rendered.small / "campus/course"
    assert kinds(demo / "route.yaml") == ["Ingress"]
    projects = documents(demo / "user_projects.yaml")
    assert [(d["kind"], d["metadata"].get("namespace", ""), d["metadata"]["name"]) for d in projects][:5] == [
        ("Namespace", "", "jupyterhub-demo-alice"),
        ("ResourceQuota", "jupyterhub-demo-alice", "hubfleet-user-quota"),
        ("LimitRange", "jupyterhub-demo-alice", "hubfleet-user-limits"),
        ("RoleBinding", "jupyterhub-demo-alice", "hubfleet-user-access-admin"),
        ("Role", "jupyterhub-demo-alice", "hubfleet-hub-spawner")]
    assert len([d for d in projects if d["kind"] == "Namespace"]) == 2
    assert "display-name" not in json.dumps(projects)  # not OpenShift: cluster_platform kubernetes
    route = documents(course / "route.yaml")
    assert [d["kind"] for d in route] == ["Route"]
    assert route[0]["spec"]["tls"]["key"] == "VALUE_HIDDEN"
    assert "course-cert" in route[0]["spec"]["tls"]["certificate"]
    assert yaml.safe_load((course / "release.yaml").read_text())["source"] == {"chart_ref": "/charts/jupyterhub-3.3.8.tgz"}
    job = [d for d in documents(course / "nfs_home.yaml") if d["kind"] == "Job"][0]
    # On OpenShift the restricted SCC picks the uid: the Job asks for none.
    assert "runAsUser" not in json.dumps(job["spec"]["template"]["spec"].get("securityContext", {}))


def test_helm_templates_every_values_file(rendered):
    values_files = sorted(list(rendered.example.rglob("values.yaml")) + list(rendered.small.rglob("values.yaml")))
    assert len(values_files) == 7
    runs = []
    for values in values_files:
        release = yaml.safe_load((values.parent / "release.yaml").read_text())
        chart = CHARTS / f"jupyterhub-{release['chart_version']}.tgz"
        runs.append((values, subprocess.Popen(
            [str(HELM), "template", release["name"], str(chart), "-n", release["namespace"], "-f", str(values)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    for values, run in runs:
        stdout, stderr = run.communicate(timeout=120)
        assert run.returncode == 0, f"{values}: {stderr}"
        assert "kind: Deployment" in stdout
