"""The preflight role on its own (tests/integration/playbooks/roles/preflight.yml) against emulated clusters.

One ansible-playbook run carries every scenario: one local inventory host per scenario, each with its
own emulated cluster (so that request counts belong to one scenario) and its own role variables. The
tests below read that one run.

The helpers at the top are shared with test_role_quotas.py and test_role_service_account.py; those of
every role test are in scenarios.py."""
import json
import socket
import sys

import pytest
import yaml

from tests.emulator.__main__ import write_kubeconfig

from .scenarios import Emulators, host_messages, host_results
from .test_playbooks import REPO_ROOT, play

PLAYBOOKS = REPO_ROOT / "tests" / "integration" / "playbooks" / "roles"
# The labels by which the collection knows its objects (hubfleet.jupyterhub.ownership_labels).
OWNED_BY_RESEARCH = {"app.kubernetes.io/managed-by": "hubfleet", "hubfleet.io/hub": "research"}


# --- helpers shared with the other test_role_* files of this set --------------------------------------

def reaching(cluster, **host_vars):
    """Host variables for a scenario whose plays reach `cluster` (see the playbooks' module_defaults)."""
    return dict({"emulator_kubeconfig": str(cluster.kubeconfig)}, **host_vars)


def write_inventory(path, hosts):
    """A YAML inventory of local hosts, one per scenario, each with its own variables."""
    base = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    path.write_text(yaml.safe_dump({"all": {"hosts": {name: dict(base, **host_vars)
                                                      for name, host_vars in hosts.items()}}}))
    return path


def run_playbook(playbook, inventory, tmp, *extra, hosts=1):
    """One of our playbooks, with the JSON callback and a fork per scenario. TMPDIR holds kubernetes.core's
    discovery cache: one of this run's own, so that request counts do not depend on earlier runs."""
    return play(PLAYBOOKS / playbook, inventory, "--forks", str(max(hosts, 1)), *extra, env={"TMPDIR": str(tmp)})


def failure(result, host):
    """The message of the failure that ended `host`'s run (when a rescue failed it, the rescue's)."""
    assert result["stats"][host]["failures"] == 1, (host, result["stats"][host], host_messages(result, host))
    failed = [item for _name, item in host_results(result, host) if item.get("failed")]
    return str(failed[-1]["msg"])


def shown(result, host, var):
    """The value a debug task showed for `var` on `host` (the last one)."""
    values = [item[var] for _name, item in host_results(result, host) if var in item]
    assert values, (host, var, host_messages(result, host))
    return values[-1]


def named(objects):
    return {obj["metadata"]["name"]: obj for obj in objects}


# --- the preflight run ---------------------------------------------------------------------------------

NAMESPACE = "jupyterhub-research"
# Everything the default preflight_roles need at the cluster scope that the emulator's developer may not do.
DEVELOPER_LACKS = [
    "create namespaces at the cluster scope",
    "patch namespaces at the cluster scope",
    "create persistentvolumes at the cluster scope",
    "patch persistentvolumes at the cluster scope",
    "delete persistentvolumes at the cluster scope",
]


def token_kubeconfig(cluster, path, token):
    """A copy of the cluster's kubeconfig whose admin user presents another token."""
    config = json.loads(cluster.kubeconfig.read_text())
    for user in config["users"]:
        if user["name"] == "emulator":
            user["user"]["token"] = token
    path.write_text(json.dumps(config))
    return path


@pytest.fixture(scope="module")
def preflight(tmp_path_factory):
    """Run every preflight scenario in one ansible-playbook run; yields (exit code, JSON result, clusters)."""
    root = tmp_path_factory.mktemp("preflight")
    emulators = Emulators(root)
    # Accepts connections (into the kernel's backlog) and never answers them.
    with socket.socket() as silent:
        try:
            silent.bind(("127.0.0.1", 0))
            silent.listen(16)
            write_kubeconfig(root / "silent.kubeconfig", "http://127.0.0.1:%d" % silent.getsockname()[1])
            clusters = {
                "gone": emulators.start("gone"),
                "old": emulators.start("old", kube_version="1.27.3"),
                "vanilla": emulators.start("vanilla", openshift=False),
                "developer": emulators.start("developer"),
                "openshift_once": emulators.start("openshift_once"),
                "openshift_twice": emulators.start("openshift_twice"),
                "vanilla_once": emulators.start("vanilla_once", openshift=False),
                "vanilla_twice": emulators.start("vanilla_twice", openshift=False),
            }
            clusters["gone"].stop()  # its kubeconfig now names a closed port
            features = {"preflight_openshift_features": ["routes", "openshift_login"]}
            wrong_token = token_kubeconfig(clusters["vanilla"], root / "wrong.kubeconfig", "wrong")
            hosts = {
                "unreachable": reaching(clusters["gone"], preflight_request_timeout=2),
                "silent": {"emulator_kubeconfig": str(root / "silent.kubeconfig"), "preflight_request_timeout": 2},
                "refused_token": {"emulator_kubeconfig": str(wrong_token)},
                "kube127_chart440": reaching(clusters["old"], preflight_chart_version="4.4.0"),
                "kube127_chart338": reaching(clusters["old"], preflight_chart_version="3.3.8"),
                "vanilla_features": reaching(clusters["vanilla"], **features),
                "vanilla_route_kind": reaching(clusters["vanilla"], preflight_route_kind="route"),
                "developer": reaching(clusters["developer"], emulator_context="emulator-developer"),
                "openshift_once": reaching(clusters["openshift_once"], **features),
                "openshift_twice": reaching(clusters["openshift_twice"], scenario_twice=True, **features),
                "vanilla_once": reaching(clusters["vanilla_once"]),
                "vanilla_twice": reaching(clusters["vanilla_twice"], scenario_twice=True),
            }
            for host_vars in hosts.values():
                host_vars.setdefault("preflight_namespace", NAMESPACE)
            code, result = run_playbook("preflight.yml", write_inventory(root / "hosts.yml", hosts), root,
                                        hosts=len(hosts))
            yield code, result, clusters
        finally:
            emulators.stop()


def test_an_unreachable_api_fails_the_cluster_with_one_message_naming_it(preflight):
    code, result, clusters = preflight
    assert code != 0
    port = clusters["gone"].server.server_address[1]
    message = failure(result, "unreachable")
    assert message.startswith("unreachable: ") and "cannot be reached" in message, message
    assert str(port) in message and "Connection refused" in message, message
    assert [m for m in host_messages(result, "unreachable") if "cannot be reached" in m] == [message]


def test_a_server_that_never_answers_fails_within_the_request_timeout(preflight):
    """Without preflight_request_timeout the client would wait for ever (play() gives up after 300 s)."""
    _code, result, _clusters = preflight
    message = failure(result, "silent")
    assert message.startswith("silent: ") and "cannot be reached" in message, message
    assert "request_timeout=2s" in message, message


def test_refused_credentials_fail_the_cluster_naming_them(preflight):
    _code, result, _clusters = preflight
    message = failure(result, "refused_token")
    assert message.startswith("refused_token: ") and "credentials" in message and "401" in message, message
    assert [m for m in host_messages(result, "refused_token") if "credentials" in m] == [message]


def test_a_server_older_than_the_chart_fails_naming_both_versions(preflight):
    _code, result, _clusters = preflight
    message = failure(result, "kube127_chart440")
    assert message.startswith("kube127_chart440: ") and all(v in message for v in ("v1.27.3", "4.4.0", "1.28.0")), \
        message
    assert result["stats"]["kube127_chart338"]["failures"] == 0, host_messages(result, "kube127_chart338")
    assert shown(result, "kube127_chart338", "preflight_cluster")["kubernetes_version"] == "1.27.3"


def test_openshift_features_fail_on_vanilla_kubernetes_only(preflight):
    _code, result, _clusters = preflight
    message = failure(result, "vanilla_features")
    assert message.startswith("vanilla_features: ") and "routes" in message and "openshift_login" in message, message
    assert result["stats"]["openshift_once"]["failures"] == 0, host_messages(result, "openshift_once")
    message = failure(result, "vanilla_route_kind")
    assert message.startswith("vanilla_route_kind: ") and "routes" in message, message
    assert "openshift_login" not in message


def test_missing_permissions_are_listed_all_and_only(preflight):
    """The developer may write in any namespace but not namespaces or persistentvolumes (cluster-scoped),
    which the hub namespace and nfs_home need: those, and nothing of the namespaced permissions."""
    _code, result, _clusters = preflight
    message = failure(result, "developer")
    assert message.startswith("developer: ") and NAMESPACE in message, message
    assert all(lacking in message for lacking in DEVELOPER_LACKS), message
    # A namespaced permission would be listed as "<verb> <resource> in namespace jupyterhub-research".
    assert "in namespace" not in message, message
    # The admin holds them all (the default preflight_roles, both flavours).
    assert result["stats"]["vanilla_once"]["failures"] == 0, host_messages(result, "vanilla_once")
    assert result["stats"]["openshift_once"]["failures"] == 0, host_messages(result, "openshift_once")


@pytest.mark.parametrize("host, openshift", [("openshift_twice", True), ("vanilla_twice", False)])
def test_the_fact_says_what_the_cluster_is(preflight, host, openshift):
    _code, result, _clusters = preflight
    assert result["stats"][host]["failures"] == 0, host_messages(result, host)
    fact = shown(result, host, "preflight_cluster")
    openshift_groups = {"route.openshift.io", "build.openshift.io", "image.openshift.io", "project.openshift.io",
                        "user.openshift.io"}
    assert {key: fact[key] for key in ("openshift", "routes", "builds", "openshift_login")} == \
        dict.fromkeys(("openshift", "routes", "builds", "openshift_login"), openshift)
    assert fact["kubernetes_version"] == "1.33.0" and fact["git_version"] == "v1.33.0"
    assert fact["default_storage_class"] == "standard" and fact["volume_snapshots"] is True
    assert openshift_groups & set(fact["api_groups"]) == (openshift_groups if openshift else set())
    assert {"apps", "batch", "rbac.authorization.k8s.io"} <= set(fact["api_groups"])


@pytest.mark.parametrize("flavour", ["openshift", "vanilla"])
def test_the_cluster_is_discovered_once_per_host_however_often_the_role_runs(preflight, flavour):
    """Discovery (/version, /apis, the StorageClasses) costs the same whether the role runs once or twice;
    only the access reviews, asked per hub, double."""
    _code, result, clusters = preflight
    once, twice = clusters[flavour + "_once"].control.counts(), clusters[flavour + "_twice"].control.counts()
    assert result["stats"][flavour + "_twice"]["failures"] == 0
    discovery = ("discovery /version", "discovery /apis", "list storageclasses")
    assert {key: twice.get(key) for key in discovery} == {key: once.get(key) for key in discovery}
    assert twice["list storageclasses"] == 1
    assert twice["create selfsubjectaccessreviews"] == 2 * once["create selfsubjectaccessreviews"] > 0


def test_preflight_reads_only(preflight):
    _code, result, clusters = preflight
    for name in ("old", "vanilla", "developer", "openshift_once", "openshift_twice", "vanilla_once", "vanilla_twice"):
        assert clusters[name].writes() == 0, (name, clusters[name].control.counts())
    assert all(stats["changed"] == 0 for stats in result["stats"].values())
