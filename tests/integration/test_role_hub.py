"""The hub role on its own (tests/integration/playbooks/roles_b/hub.yml) with the real chart, served from a
local mirror of ../shared/z2jh, against emulated clusters: one inventory host per scenario.

1. converge: chart 4.4.0 on OpenShift (restricted-v2 SCC) with shared-password login, chart 3.3.8 on vanilla
   Kubernetes under enforced restricted Pod Security with GitHub login, a chart package instead of a
   repository, a release someone else installed, and bad input;
2. the converged hubs again: nothing changes and helm never runs;
3. check mode with --diff after a change of the culler's timeout: the diff shows it, hides the secrets,
   and nothing is written;
4. removal."""
import json
import os
import re
import subprocess

import pytest

from tests.emulator.chart_mirror import DEFAULT_DIR, ChartMirror
from tests.hub_settings import ADMIN_PASSWORD, CLIENT_SECRET, SHARED_PASSWORD

from .scenarios import Emulators, host_messages, host_results, namespace, stored_version
from .test_role_route import last_value, local_inventory, run_role, run_text, stats

RESTRICTED = {"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest"}


def hub(name, cluster, mirror, **role_vars):
    return dict({"cluster": cluster, "hub_name": name, "hub_namespace": f"jupyterhub-{name}",
                 "hub_chart_repo_url": mirror, "hub_helm_timeout": "2m"}, **role_vars)


SHARED = {"hub_auth_type": "shared_password", "hub_allowed_users": ["alice"], "hub_admin_users": ["root"],
          "hub_shared_password": SHARED_PASSWORD, "hub_admin_password": ADMIN_PASSWORD}
GITHUB = {"hub_auth_type": "github", "hub_github_client_id": "github-client", "hub_github_client_secret": CLIENT_SECRET,
          "hub_github_organizations": ["example-org"], "hub_url": "https://hub.example.org", "hub_chart_version": "3.3.8"}


def helm(cluster, *args):
    """Run helm against the cluster (its caches beside the cluster's kubeconfig); returns its stdout."""
    home = cluster.kubeconfig.parent
    env = dict(os.environ, KUBECONFIG=str(cluster.kubeconfig), HELM_CACHE_HOME=str(home / "helm-cache"),
               HELM_CONFIG_HOME=str(home / "helm-config"))
    return subprocess.run(["helm", *args], env=env, capture_output=True, text=True, timeout=120, check=True).stdout


def helm_status(cluster, ns, release="jupyterhub"):
    """helm's own view of the release: (revision, status, chart, user-supplied values)."""
    found = [r for r in json.loads(helm(cluster, "list", "-n", ns, "-o", "json", "--all")) if r["name"] == release]
    if not found:
        return None
    values = json.loads(helm(cluster, "get", "values", release, "-n", ns, "-o", "json"))
    return int(found[0]["revision"]), found[0]["status"], found[0]["chart"].rsplit("-", 1)[1], values


class Runs:
    """What the runs answered and what the emulators held after each."""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("hub")
    emulators = Emulators(root)
    done = Runs()
    try:
        with ChartMirror(DEFAULT_DIR) as mirror:
            done.openshift = emulators.start("openshift")
            done.vanilla = emulators.start("vanilla", openshift=False)
            done.foreign = emulators.start("foreign", openshift=False)
            done.bad = emulators.start("bad", openshift=False)
            done.openshift.control.seed([namespace("jupyterhub-shared")])
            done.vanilla.control.seed([dict(namespace("jupyterhub-github"), metadata={
                "name": "jupyterhub-github", "labels": RESTRICTED})])
            done.foreign.control.seed([namespace("jupyterhub-theirs"), namespace("jupyterhub-packaged")])
            done.bad.control.seed([namespace("jupyterhub-bad")])
            # A release of the same name someone installed by hand.
            helm(done.foreign, "install", "jupyterhub", "jupyterhub", "--repo", mirror, "--version", "4.4.0",
                 "-n", "jupyterhub-theirs", "--set", "proxy.service.type=ClusterIP",
                 "--set", "prePuller.hook.enabled=false", "--set", "scheduling.userScheduler.enabled=false")
            hosts = {
                "shared": hub("shared", done.openshift, mirror, **SHARED),
                "github": hub("github", done.vanilla, mirror, **GITHUB),
                "theirs": hub("theirs", done.foreign, mirror, **SHARED),
                # A chart package instead of a repository (an OCI reference takes the same path).
                "packaged": hub("packaged", done.foreign, mirror, hub_chart_ref=str(DEFAULT_DIR / "jupyterhub-4.4.0.tgz"),
                                hub_chart_repo_url="http://127.0.0.1:9/unused", hub_auth_type="dummy",
                                hub_allow_insecure_auth=True, hub_allowed_users=["alice"]),
                "bad": hub("bad", done.bad, mirror, hub_auth_type="dummy", hub_allowed_users=["alice"]),
            }
            inventory = local_inventory(root / "hosts.yml", **hosts)
            done.bad_before = stored_version(done.bad)
            done.converge = run_role("hub.yml", inventory, "-f", "5")
            done.after_converge = {name: helm_status(c, f"jupyterhub-{name}") for name, c in
                                   (("shared", done.openshift), ("github", done.vanilla), ("packaged", done.foreign))}
            done.pods = {name: {p["metadata"]["labels"].get("component"): p for p in c.objects("pods", f"jupyterhub-{name}")}
                         for name, c in (("shared", done.openshift), ("github", done.vanilla))}
            done.writes_before_rerun = (stored_version(done.openshift), stored_version(done.vanilla))
            done.rerun = run_role("hub.yml", inventory, "--limit", "shared,github")
            done.writes_after_rerun = (stored_version(done.openshift), stored_version(done.vanilla))
            done.check = run_text("hub.yml", inventory, "--limit", "shared", "--check", "--diff",
                                  "-e", "hub_cull_timeout=120")
            done.writes_after_check = stored_version(done.openshift)
            done.removal = run_role("hub.yml", inventory, "--limit", "shared,theirs", "-e", "hub_state=absent")
            done.after_removal = {"shared": helm_status(done.openshift, "jupyterhub-shared"),
                                  "theirs": helm_status(done.foreign, "jupyterhub-theirs")}
        yield done
    finally:
        emulators.stop()


def test_installs_the_pinned_chart_and_waits_for_it(runs):
    code, result = runs.converge
    assert code == 2, result["stats"]   # theirs and bad fail on purpose
    for name, version in (("shared", "4.4.0"), ("github", "3.3.8"), ("packaged", "4.4.0")):
        assert stats(result, name)["failures"] == 0, host_messages(result, name)
        revision, status, chart, values = runs.after_converge[name]
        assert (revision, status, chart) == (1, "deployed", version)
        assert values["custom"]["hubfleet"]["hub"] == name
        release = last_value(result, name, "hub_release")
        assert release["chart_version"] == version and release["state"] == "present"
    assert last_value(result, "shared", "hub_release")["pvc_name_template"] == "claim-{user_server}"
    assert last_value(result, "github", "hub_release")["slug_scheme"] == "escape"
    shared = runs.after_converge["shared"][3]
    assert shared["hub"]["config"]["SharedPasswordAuthenticator"]["user_password"] == SHARED_PASSWORD
    assert shared["singleuser"]["uid"] is None   # OpenShift: the SCC picks the uid
    github = runs.after_converge["github"][3]
    assert github["hub"]["config"]["GitHubOAuthenticator"]["oauth_callback_url"] == \
        "https://hub.example.org/hub/oauth_callback"
    # The hub and proxy pods were admitted and became ready (helm --wait), under each flavour's admission.
    for pods in runs.pods.values():
        assert {"hub", "proxy"} <= set(pods), sorted(pods)
        for pod in (pods["hub"], pods["proxy"]):
            assert pod["status"]["phase"] == "Running"
            container = pod["spec"]["containers"][0]["securityContext"]
            assert container["capabilities"] == {"drop": ["ALL"]} and container["allowPrivilegeEscalation"] is False


def test_secrets_never_reach_the_output(runs):
    for name in ("shared", "github"):
        text = json.dumps(host_results(runs.converge[1], name))
        for secret in (SHARED_PASSWORD, ADMIN_PASSWORD, CLIENT_SECRET):
            assert secret not in text


def test_refuses_a_release_it_did_not_install_and_leaves_it(runs):
    messages = " ".join(host_messages(runs.converge[1], "theirs"))
    assert "The release jupyterhub in jupyterhub-theirs was not installed by hubfleet for hub theirs" in messages
    # Removal refuses too, and the release is still there, at its first revision.
    assert "was not installed by hubfleet" in " ".join(host_messages(runs.removal[1], "theirs"))
    assert runs.after_removal["theirs"][:2] == (1, "deployed")


def test_bad_input_names_the_variable_and_writes_nothing(runs):
    messages = " ".join(host_messages(runs.converge[1], "bad"))
    assert "hub_allow_insecure_auth: true" in messages
    assert stored_version(runs.bad) == runs.bad_before


def test_a_rerun_changes_nothing_and_runs_no_helm(runs):
    code, result = runs.rerun
    assert code == 0
    for name in ("shared", "github"):
        assert stats(result, name)["changed"] == 0
        assert "Install or upgrade the release" not in [n for n, item in host_results(result, name)
                                                        if not item.get("skipped")]
    assert runs.writes_after_rerun == runs.writes_before_rerun


def test_check_mode_diff_shows_the_change_hides_secrets_and_writes_nothing(runs):
    code, out, err = runs.check
    assert code == 0, out + err
    assert re.search(r"-\s+timeout: 3600\n\+\s+timeout: 120", out), out
    for secret in (SHARED_PASSWORD, ADMIN_PASSWORD):
        assert secret not in out + err
    assert re.search(r"shared\s+: ok=\d+\s+changed=1 ", out), out
    assert runs.writes_after_check == runs.writes_before_rerun[0]


def test_removal_uninstalls_our_release(runs):
    code, result = runs.removal
    assert stats(result, "shared")["failures"] == 0, host_messages(result, "shared")
    assert runs.after_removal["shared"] is None
    assert [d["metadata"]["name"] for d in runs.openshift.objects("deployments", "jupyterhub-shared", "apps")] == []
    assert code == 2
