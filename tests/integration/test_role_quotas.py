"""The quotas role on its own (tests/integration/playbooks/roles/quotas.yml) against emulated clusters.

Three ansible-playbook runs carry every scenario, one inventory host per scenario: a converge run (the
hub on both flavours, quotas the hub's pods do not fit, removals, refused input, a foreign quota), a
second run of the two hubs (unchanged, once spelled differently), and a run in check mode with --diff.
The tests below read those runs and what the emulated clusters held after each."""
import json
import types

import pytest

from .scenarios import Emulators, host_messages, host_results, namespace, stored_version
from .test_role_preflight import OWNED_BY_RESEARCH, failure, named, reaching, run_playbook, write_inventory

NAMESPACE = "jupyterhub-research"
QUOTA, LIMITS = "jupyterhub-quota", "jupyterhub-limits"
LABELS = dict(OWNED_BY_RESEARCH, **{"app.kubernetes.io/component": "quotas"})
HUB = {
    "quotas_hub": "research",
    "quotas_namespace": NAMESPACE,
    "quotas_requests_cpu": "8",
    "quotas_requests_memory": "16Gi",
    "quotas_requests_storage": "1Gi",
    "quotas_persistentvolumeclaims": "10",
    "quotas_hard": {"count/services": "20"},
    "quotas_container_limits": {"default": {"cpu": "1", "memory": "2Gi"},
                                "default_request": {"cpu": "100m", "memory": "512Mi"},
                                "max": {"cpu": "2", "memory": "4Gi"}},
    "quotas_pvc_size": {"min": "1Gi", "max": "50Gi"},
}
# The same amounts, spelled as a user might on another day.
HUB_RESPELLED = {**HUB, **{
    "quotas_requests_memory": "16384Mi", "quotas_requests_storage": "1024Mi",
    "quotas_container_limits": {"default": {"cpu": "1000m", "memory": "2048Mi"},
                                "default_request": {"cpu": "0.1", "memory": "512Mi"},
                                "max": {"cpu": "2", "memory": "4096Mi"}},
    "quotas_pvc_size": {"min": "1024Mi", "max": "50Gi"}}}
HARD = {"requests.cpu": "8", "requests.memory": "16Gi", "requests.storage": "1Gi", "persistentvolumeclaims": "10",
        "count/services": "20"}
LIMIT_ITEMS = [
    {"type": "Container", "default": {"cpu": "1", "memory": "2Gi"}, "defaultRequest": {"cpu": "100m", "memory": "512Mi"},
     "max": {"cpu": "2", "memory": "4Gi"}},
    {"type": "PersistentVolumeClaim", "min": {"storage": "1Gi"}, "max": {"storage": "50Gi"}},
]


def quota(namespace_name, hard, labels=None):
    metadata = {"name": QUOTA, "namespace": namespace_name}
    if labels:
        metadata["labels"] = labels
    return {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": metadata, "spec": {"hard": hard}}


def limit_range(namespace_name, labels):
    return {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": LIMITS, "namespace": namespace_name,
                                                                   "labels": labels},
            "spec": {"limits": [{"type": "Container", "default": {"cpu": "1"}, "defaultRequest": {"cpu": "1"}}]}}


def reported(result, host, *words):
    """Whether one task result of `host` says all of `words` (a message, or a module's report of an object)."""
    return any(all(word in json.dumps(item) for word in words) for _name, item in host_results(result, host))


def held(cluster, namespace_name):
    """The quota and limits a namespace holds, by name."""
    return named(cluster.objects("resourcequotas", namespace_name) + cluster.objects("limitranges", namespace_name))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The three runs: what they answered, and what the clusters held after each."""
    root = tmp_path_factory.mktemp("quotas")
    emulators = Emulators(root)
    done = types.SimpleNamespace()
    try:
        done.openshift = emulators.start("openshift")
        done.vanilla = emulators.start("vanilla", openshift=False)
        done.refusing = emulators.start("refusing")
        done.fresh = emulators.start("fresh", openshift=False)
        # Made before by this role, as their labels say.
        done.openshift.control.seed([namespace(NAMESPACE), namespace("too-small"), namespace("removed"),
                                     quota("removed", {"pods": "3"}, LABELS), limit_range("removed", LABELS)])
        done.vanilla.control.seed([namespace(NAMESPACE), namespace("unspecified"), namespace("nothing-asked"),
                                   quota("nothing-asked", {"pods": "3"}, LABELS)])
        done.foreign = done.refusing.control.seed([namespace(NAMESPACE), quota(NAMESPACE, {"pods": "3"})])[1]
        refused = {"quotas_hub": "research", "quotas_namespace": NAMESPACE}
        hosts = {
            "openshift_hub": reaching(done.openshift, **HUB),
            "vanilla_hub": reaching(done.vanilla, **HUB),
            # 3 containers with the LimitRange's default request of 100m ask for 300m.
            "too_small": reaching(done.openshift, quotas_hub="research", quotas_namespace="too-small",
                                  quotas_requests_cpu="200m",
                                  quotas_container_limits={"default_request": {"cpu": "100m"}}),
            # A quota on cpu and no LimitRange to give the containers a cpu request.
            "unspecified": reaching(done.vanilla, quotas_hub="research", quotas_namespace="unspecified",
                                    quotas_requests_cpu="4"),
            "absent": reaching(done.openshift, quotas_hub="research", quotas_namespace="removed",
                               quotas_state="absent", quotas_pods="5"),
            "nothing_asked": reaching(done.vanilla, quotas_hub="research", quotas_namespace="nothing-asked"),
            "bad_amount": reaching(done.refusing, quotas_requests_memory="2 Gi", **refused),
            "bad_resource": reaching(done.refusing, quotas_hard={"cpus": "2"}, **refused),
            "bad_limits_key": reaching(done.refusing, quotas_container_limits={"defaults": {"cpu": "1"}}, **refused),
            "set_twice": reaching(done.refusing, quotas_requests_cpu="2", quotas_hard={"requests.cpu": "2"},
                                  **refused),
            "foreign": reaching(done.refusing, quotas_pods="5", **refused),
        }
        done.converge = run_playbook("quotas.yml", write_inventory(root / "converge.yml", hosts), root, hosts=len(hosts))
        done.after_converge = {"openshift": held(done.openshift, NAMESPACE), "vanilla": held(done.vanilla, NAMESPACE)}

        before = {"openshift": stored_version(done.openshift), "vanilla": stored_version(done.vanilla)}
        again = {"openshift_hub": hosts["openshift_hub"], "vanilla_hub": reaching(done.vanilla, **HUB_RESPELLED)}
        done.again = run_playbook("quotas.yml", write_inventory(root / "again.yml", again), root, hosts=2)
        done.again_stored = {"openshift": stored_version(done.openshift) - before["openshift"],
                             "vanilla": stored_version(done.vanilla) - before["vanilla"]}
        done.after_again = {"openshift": held(done.openshift, NAMESPACE), "vanilla": held(done.vanilla, NAMESPACE)}

        checked = {"new_namespace": reaching(done.fresh, **{**HUB, "quotas_namespace": "jupyterhub-new"}),
                   "changed_amount": reaching(done.openshift, **{**HUB, "quotas_requests_cpu": "6"})}
        before = stored_version(done.openshift)
        done.check = run_playbook("quotas.yml", write_inventory(root / "check.yml", checked), root, "--check", "--diff",
                                  hosts=2)
        done.check_stored = stored_version(done.openshift) - before
        yield done
    finally:
        emulators.stop()


@pytest.mark.parametrize("flavour", ["openshift", "vanilla"])
def test_converge_makes_the_quota_and_limits_the_hub_asked_for(runs, flavour):
    code, result = runs.converge
    assert code != 0  # the scenarios that must fail do
    assert result["stats"][flavour + "_hub"]["failures"] == 0, host_messages(result, flavour + "_hub")
    assert result["stats"][flavour + "_hub"]["changed"] > 0
    objects = runs.after_converge[flavour]
    assert set(objects) == {QUOTA, LIMITS}
    assert objects[QUOTA]["spec"] == {"hard": HARD}
    assert objects[LIMITS]["spec"] == {"limits": LIMIT_ITEMS}
    assert objects[QUOTA]["metadata"]["labels"] == LABELS and objects[LIMITS]["metadata"]["labels"] == LABELS
    # The fit check was a dry run: no pod stays behind.
    assert getattr(runs, flavour).objects("pods", NAMESPACE) == []


def test_a_second_run_changes_nothing_and_writes_nothing(runs):
    code, result = runs.again
    assert code == 0, host_messages(result, "openshift_hub")
    assert result["stats"]["openshift_hub"]["changed"] == 0
    # Not a write stored anywhere in the cluster (the fit check's pod and any comparison are dry runs).
    assert runs.again_stored["openshift"] == 0
    assert runs.after_again["openshift"] == runs.after_converge["openshift"]


def test_equal_amounts_spelled_differently_are_no_change(runs):
    _code, result = runs.again
    assert result["stats"]["vanilla_hub"]["failures"] == 0, host_messages(result, "vanilla_hub")
    assert result["stats"]["vanilla_hub"]["changed"] == 0
    assert runs.again_stored["vanilla"] == 0
    assert runs.after_again["vanilla"] == runs.after_converge["vanilla"]
    assert runs.after_again["vanilla"][QUOTA]["spec"]["hard"]["requests.storage"] == "1Gi"


def test_check_mode_in_a_namespace_that_does_not_exist_reports_would_create_and_writes_nothing(runs):
    code, result = runs.check
    assert code == 0, host_messages(result, "new_namespace") + host_messages(result, "changed_amount")
    assert result["stats"]["new_namespace"]["changed"] > 0
    for ref in ("ResourceQuota jupyterhub-new/jupyterhub-quota", "LimitRange jupyterhub-new/jupyterhub-limits"):
        assert reported(result, "new_namespace", ref, "would create", "namespace is new"), ref
    assert runs.fresh.writes() == 0
    assert "jupyterhub-new" not in named(runs.fresh.objects("namespaces"))
    assert runs.fresh.objects("resourcequotas") == [] and runs.fresh.objects("limitranges") == []


def test_check_mode_reports_a_changed_amount_with_its_diff_and_changes_nothing(runs):
    _code, result = runs.check
    assert result["stats"]["changed_amount"]["changed"] > 0
    diffs = [diff for _name, item in host_results(result, "changed_amount") if item.get("changed")
             for diff in (item["diff"] if isinstance(item.get("diff"), list) else [item.get("diff") or {}])]
    hard = [(diff["before"]["spec"]["hard"].get("requests.cpu"), diff["after"]["spec"]["hard"].get("requests.cpu"))
            for diff in diffs if "hard" in (diff.get("after") or {}).get("spec", {})]
    assert hard == [("8", "6")], diffs
    assert runs.check_stored == 0
    now = held(runs.openshift, NAMESPACE)
    assert now[QUOTA]["spec"]["hard"]["requests.cpu"] == "8"
    assert now[QUOTA]["metadata"]["resourceVersion"] == runs.after_again["openshift"][QUOTA]["metadata"]["resourceVersion"]


@pytest.mark.parametrize("host, server_words", [
    ("too_small", "pods \"hubfleet-quota-check\" is forbidden: exceeded quota: jupyterhub-quota, requested: "
                  "requests.cpu=300m, used: requests.cpu=0, limited: requests.cpu=200m"),
    ("unspecified", "pods \"hubfleet-quota-check\" is forbidden: failed quota: jupyterhub-quota: must specify "
                    "requests.cpu for: hub,proxy,user"),
])
def test_a_quota_the_hubs_pods_do_not_fit_fails_the_run_in_the_servers_words(runs, host, server_words):
    _code, result = runs.converge
    message = failure(result, host)
    assert server_words in message and "namespace %s" % host.replace("_", "-") in message, message
    assert runs.openshift.objects("pods") == [] and runs.vanilla.objects("pods") == []


@pytest.mark.parametrize("host, named_in_message", [
    ("bad_amount", ("quotas_requests_memory", "'2 Gi'")),
    ("bad_resource", ("quotas_hard.cpus",)),
    ("bad_limits_key", ("quotas_container_limits", "defaults")),  # the role's argument spec
    ("set_twice", ("quotas_hard", "quotas_requests_cpu", "requests.cpu")),
])
def test_bad_input_fails_naming_the_variable(runs, host, named_in_message):
    _code, result = runs.converge
    message = failure(result, host)
    assert all(name in message for name in named_in_message), message


def test_refused_scenarios_wrote_nothing(runs):
    """Bad input and a foreign quota: the cluster they point at saw no write at all."""
    assert runs.refusing.writes() == 0
    assert runs.refusing.objects("limitranges", NAMESPACE) == []


def test_a_foreign_quota_of_the_same_name_is_refused_and_left_alone(runs):
    _code, result = runs.converge
    message = failure(result, "foreign")
    assert "ResourceQuota %s/%s: not managed by hubfleet" % (NAMESPACE, QUOTA) in message, message
    now = held(runs.refusing, NAMESPACE)[QUOTA]
    assert now["spec"] == {"hard": {"pods": "3"}} and not now["metadata"].get("labels")
    assert now["metadata"]["resourceVersion"] == runs.foreign["metadata"]["resourceVersion"]


def test_absent_removes_the_quota_and_limits(runs):
    _code, result = runs.converge
    assert result["stats"]["absent"]["failures"] == 0, host_messages(result, "absent")
    assert result["stats"]["absent"]["changed"] > 0
    assert held(runs.openshift, "removed") == {}


def test_a_run_asking_for_no_quota_removes_the_one_made_before(runs):
    _code, result = runs.converge
    assert result["stats"]["nothing_asked"]["failures"] == 0, host_messages(result, "nothing_asked")
    assert held(runs.vanilla, "nothing-asked") == {}
