"""Benchmark: hubfleet.jupyterhub.user_project for 200 users against loops of kubernetes.core.k8s tasks.

Each approach runs as `ansible-playbook` against its own fresh emulator (OpenShift flavour); the wall
time of the playbook run is measured. Then the module's playbook runs again on its cluster: a no-op,
whose API requests are counted. Run with `make bench`; the figures go to .cache/bench/user_project.json,
and by hand into docs/benchmarks.md.
"""
import json
import os
import pathlib
import re
import subprocess
import time

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]

USERS = 200
TARGET_RATIO = 30
MAX_NOOP_REQUESTS = 10
PLAYBOOKS = REPO_ROOT / "tests" / "bench" / "playbooks"
RESULTS = REPO_ROOT / ".cache" / "bench" / "user_project.json"
PLAY_TIMEOUT = 3 * 3600
BENCH_VARS = {
    "bench_users": ["user%03d" % number for number in range(1, USERS + 1)],
    "bench_hub": "jhub",
    "bench_quota": {"requests.cpu": "2", "requests.memory": "4Gi", "persistentvolumeclaims": "5"},
    "bench_limits": {"default": {"cpu": "1", "memory": "2Gi"}, "default_request": {"cpu": "100m", "memory": "512Mi"}},
    "bench_hub_account": {"name": "hub", "namespace": "jhub"},
}
SELECTOR = "?labelSelector=app.kubernetes.io/managed-by%3Dhubfleet,hubfleet.io/hub%3Djhub"
KINDS = {
    "Namespace": "/api/v1/namespaces",
    "ResourceQuota": "/api/v1/resourcequotas",
    "LimitRange": "/api/v1/limitranges",
    "Role": "/apis/rbac.authorization.k8s.io/v1/roles",
    "RoleBinding": "/apis/rbac.authorization.k8s.io/v1/rolebindings",
}
# Per user: a namespace, a quota, limits, the spawner role, and two bindings (user access, spawner).
EXPECTED = {"Namespace": USERS, "ResourceQuota": USERS, "LimitRange": USERS, "Role": USERS, "RoleBinding": 2 * USERS}
CONTENT = ("spec", "rules", "roleRef", "subjects")


def play(playbook, emulator, vars_file):
    """Run a playbook against an emulator: (wall seconds, PLAY RECAP counters of localhost)."""
    env = dict(os.environ, K8S_AUTH_KUBECONFIG=str(emulator.kubeconfig), ANSIBLE_NOCOLOR="1")
    command = ["ansible-playbook", "-i", "localhost,", str(PLAYBOOKS / playbook), "-e", "@%s" % vars_file]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=PLAY_TIMEOUT,
                          check=False)
    seconds = time.perf_counter() - started
    assert done.returncode == 0, "%s failed:\n%s%s" % (playbook, done.stdout[-5000:], done.stderr[-5000:])
    recap = re.search(r"^localhost\s*:\s*(.*)$", done.stdout, re.MULTILINE).group(1)
    return seconds, dict((key, int(value)) for key, value in re.findall(r"(\w+)=(\d+)", recap))


def managed_objects(emulator):
    """The managed objects of hub jhub by kind: names, labels, annotations and content, comparable."""
    found = {}
    for kind, path in KINDS.items():
        items = emulator.get(path + SELECTOR)["items"]
        found[kind] = sorted(json.dumps(dict(
            dict((field, item[field]) for field in CONTENT if field in item),
            namespace=item["metadata"].get("namespace"), name=item["metadata"]["name"],
            labels=item["metadata"].get("labels"), annotations=item["metadata"].get("annotations")),
            sort_keys=True) for item in items)
    return found


def report(results):
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    rows = [("users", results["users"]),
            ("user_project, wall time (s)", "%.1f" % results["module_seconds"]),
            ("k8s loops, wall time (s)", "%.1f" % results["k8s_loop_seconds"]),
            ("ratio (target >= %d)" % TARGET_RATIO, "%.1f" % results["ratio"]),
            ("no-op re-run, wall time (s)", "%.1f" % results["noop_seconds"]),
            ("no-op re-run, API requests (target <= %d)" % MAX_NOOP_REQUESTS, results["noop_requests"]),
            ("no-op re-run, API writes", results["noop_writes"])]
    return "\n".join("%-44s %s" % row for row in rows) + "\n(written to %s)" % RESULTS


def test_user_project_is_30x_faster_than_k8s_loops(start_emulator, tmp_path, capsys):
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps(BENCH_VARS))

    module_cluster = start_emulator("module")
    module_seconds, module_recap = play("user_project.yml", module_cluster, vars_file)
    loop_cluster = start_emulator("k8s_loop")
    loop_seconds, loop_recap = play("k8s_loop.yml", loop_cluster, vars_file)

    made = managed_objects(module_cluster)
    assert dict((kind, len(items)) for kind, items in made.items()) == EXPECTED
    assert made == managed_objects(loop_cluster), "the two approaches made different objects"
    assert module_recap["changed"] == 1 and loop_recap["changed"] == 6  # one per task

    module_cluster.control.reset()
    noop_seconds, noop_recap = play("user_project.yml", module_cluster, vars_file)
    requests = module_cluster.control.requests()

    results = {"users": USERS, "date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(),
               "module_seconds": round(module_seconds, 2), "k8s_loop_seconds": round(loop_seconds, 2),
               "ratio": round(loop_seconds / module_seconds, 1), "noop_seconds": round(noop_seconds, 2),
               "noop_requests": requests["total"], "noop_writes": requests["writes"],
               "noop_request_counts": requests["counts"]}
    with capsys.disabled():
        print("\n" + report(results))

    assert noop_recap["changed"] == 0
    assert requests["writes"] == 0, requests["counts"]
    assert requests["total"] <= MAX_NOOP_REQUESTS, requests["counts"]
    assert loop_seconds / module_seconds >= TARGET_RATIO
