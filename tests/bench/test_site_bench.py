"""Benchmarks of site.yml against emulated clusters, with the real Zero-to-JupyterHub chart from the local mirror.

1. One hub, the inventory of `make site` (inventory/local: quotas, NFS home, route, dummy login): a first run
   on a fresh emulator, then a no-op re-run. Both are timed; the no-op's API requests are counted (reads and
   writes), and the callback of tests/bench/playbooks/callback_plugins/bench_stages.py times every task and
   counts its requests, so that the time and the requests can be split by stage (role).
2. A fleet of 8 emulated clusters, one hub each (the same hub entry): a first run and a no-op re-run with
   `--forks 1`, a no-op re-run with ansible's default forks, and a first run with the default forks on 8 fresh
   clusters. The speed-up is the time with one fork divided by the time with the default.

The figures are printed and written to .cache/bench/site.json; docs/benchmarks.md holds one run's figures.
Targets asserted (functional targets, not speed): a no-op run writes nothing, reports changed=0 for every
host and sends at most 50 API requests per hub.
"""
import collections
import json
import os
import pathlib
import platform
import re
import shutil
import subprocess
import sys
import time

import yaml
from ansible.release import __version__ as ansible_version

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
SITE = REPO_ROOT / "site.yml"
LOCAL_INVENTORY = REPO_ROOT / "inventory" / "local"
CALLBACKS = REPO_ROOT / "tests" / "bench" / "playbooks" / "callback_plugins"
RESULTS = REPO_ROOT / ".cache" / "bench" / "site.json"
ANSIBLE_BIN = pathlib.Path(sys.executable).parent
PLAY_TIMEOUT = 3600
CLUSTERS = 8
MAX_NOOP_REQUESTS_PER_HUB = 50
WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection"}


def is_write(key):
    """Whether an emulator counter key ("<verb> <resource>") is a write, as the emulator counts them:
    dry runs ("dry-run-<verb>") and access reviews are not."""
    verb, resource = key.split(" ", 1) if " " in key else (key, "")
    return verb in WRITE_VERBS and not resource.endswith("reviews")


def split(counts):
    """(reads, writes) of emulator counters."""
    writes = sum(number for key, number in counts.items() if is_write(key))
    return sum(counts.values()) - writes, writes


def site(inventory, kubeconfig, mirror, *extra, stages=None):
    """Run site.yml: (wall seconds, JSON callback result). `stages`: (file, emulator URL) for bench_stages."""
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=str(REPO_ROOT / ".build" / "collections"),
               KUBECONFIG=str(kubeconfig), HUBFLEET_CHART_REPO_URL=mirror,
               PATH=os.pathsep.join([str(ANSIBLE_BIN), str(REPO_ROOT / ".tools" / "bin"), os.environ["PATH"]]))
    if stages:
        env.update(ANSIBLE_CALLBACK_PLUGINS=str(CALLBACKS), ANSIBLE_CALLBACKS_ENABLED="bench_stages",
                   BENCH_STAGES_FILE=str(stages[0]), BENCH_EMULATOR_URL=stages[1])
    command = [str(ANSIBLE_BIN / "ansible-playbook"), str(SITE), "-i", str(inventory)] + list(extra)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=PLAY_TIMEOUT,
                          check=False)
    seconds = time.perf_counter() - started
    try:
        result = json.loads(done.stdout)
    except ValueError:
        result = None
    assert done.returncode == 0 and result, "site.yml %s failed:\n%s\n%s" % (
        " ".join(extra), failures(result) if result else done.stdout[-5000:], done.stderr[-3000:])
    return seconds, result


def failures(result):
    """The failed task results of a JSON callback result, by host (for assertion messages)."""
    return dict((host, (task["task"]["name"], answer.get("msg")))
                for play in result["plays"] for task in play["tasks"]
                for host, answer in task["hosts"].items() if answer.get("failed") and not answer.get("ignore_errors"))


def changed(result):
    return dict((host, stats["changed"]) for host, stats in result["stats"].items())


def stage_of(record):
    """The stage of a bench_stages record: its role, else its tasks file under playbooks/tasks, else the task."""
    if record["role"]:
        return record["role"]
    found = re.search(r"/playbooks/tasks/([^/:]+)\.ya?ml:", record["path"] or "")
    return found.group(1) if found else record["task"]


def stages(records):
    """Per (play, stage), in order of first appearance: seconds, tasks, requests by verb and resource."""
    grouped = collections.OrderedDict()
    for record in records:
        stage = grouped.setdefault((record["play"], stage_of(record)),
                                   {"seconds": 0.0, "tasks": 0, "requests": collections.Counter()})
        stage["seconds"] += record["seconds"]
        stage["tasks"] += 1
        stage["requests"].update(record["requests"])
    return [dict(play=play, stage=stage, seconds=round(values["seconds"], 2), tasks=values["tasks"],
                 reads=split(values["requests"])[0], writes=split(values["requests"])[1],
                 requests=dict(values["requests"].most_common()))
            for (play, stage), values in grouped.items()]


def heavy_tasks(records, count=5):
    """The tasks that sent the most requests: (play, stage, task, file:line, requests)."""
    ranked = sorted(records, key=lambda record: -sum(record["requests"].values()))[:count]
    return [dict(play=record["play"], stage=stage_of(record), task=record["task"],
                 path=re.sub(r"^.*/ansible_collections/hubfleet/jupyterhub/", "", record["path"] or ""),
                 requests=record["requests"]) for record in ranked if record["requests"]]


def fleet_inventory(directory, emulators):
    """inventory/local with its cluster copied once per emulator (c1 … cN), each host with its own kubeconfig."""
    directory.mkdir(parents=True)
    shutil.copytree(LOCAL_INVENTORY / "group_vars", directory / "group_vars")
    local = yaml.safe_load((LOCAL_INVENTORY / "hosts.yml").read_text())["clusters"]["hosts"]["local"]
    hosts = dict(("c%d" % number, dict(local, cluster_kubeconfig=str(emulator.kubeconfig)))
                 for number, emulator in enumerate(emulators, 1))
    (directory / "hosts.yml").write_text(yaml.safe_dump({"clusters": {"hosts": hosts}}))
    return directory


def default_forks():
    """The forks ansible-playbook uses without -f, from `ansible-config dump` (ansible.cfg, environment, default)."""
    dump = subprocess.run([str(ANSIBLE_BIN / "ansible-config"), "dump"], cwd=REPO_ROOT, capture_output=True,
                          text=True, check=True, timeout=120).stdout
    found = re.search(r"^DEFAULT_FORKS\(([^)]*)\) = (\d+)$", dump, re.MULTILINE)
    return int(found.group(2)), found.group(1)


def machine():
    model = re.search(r"^model name\s*:\s*(.*)$", pathlib.Path("/proc/cpuinfo").read_text(), re.MULTILINE)
    return {"date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(), "cpu": model.group(1) if model else "?",
            "python": platform.python_version(), "ansible_core": ansible_version}


def save(section, results):
    """Write one section of .cache/bench/site.json, keeping the other's."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    saved = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    saved[section] = results
    RESULTS.write_text(json.dumps(saved, indent=2) + "\n")


def stage_table(rows):
    lines = ["  %-28s %-48s %7s %6s %6s  %s" % ("play", "stage", "seconds", "reads", "writes", "top requests")]
    for row in rows:
        top = ", ".join("%s %d" % item for item in list(row["requests"].items())[:3])
        cells = (row["play"], row["stage"], row["seconds"], row["reads"], row["writes"], top)
        lines.append("  %-28.28s %-48.48s %7.2f %6d %6d  %s" % cells)
    return "\n".join(lines)


def test_one_hub_first_run_and_noop_rerun(start_emulator, chart_mirror, tmp_path, capsys):
    cluster = start_emulator("one")
    first_seconds, first = site(LOCAL_INVENTORY, cluster.kubeconfig, chart_mirror,
                                stages=(tmp_path / "first.json", cluster.url))
    first_requests = cluster.control.requests()
    assert changed(first)["local/demo"] > 0

    cluster.control.reset()
    noop_seconds, noop = site(LOCAL_INVENTORY, cluster.kubeconfig, chart_mirror,
                              stages=(tmp_path / "noop.json", cluster.url))
    requests = cluster.control.requests()
    records = json.loads((tmp_path / "noop.json").read_text())
    noop_stages = stages(records)
    first_stages = stages(json.loads((tmp_path / "first.json").read_text()))
    hubs = [host for host in noop["stats"] if "/" in host]
    reads, writes = split(requests["counts"])

    results = dict(machine(), hubs=len(hubs), first_seconds=round(first_seconds, 2),
                   first_requests=first_requests["total"], first_writes=first_requests["writes"],
                   noop_seconds=round(noop_seconds, 2), noop_changed=changed(noop),
                   noop_requests=requests["total"], noop_reads=reads, noop_writes=writes,
                   noop_emulator_writes=requests["writes"], noop_requests_per_hub=requests["total"] / len(hubs),
                   noop_request_counts=dict(sorted(requests["counts"].items(), key=lambda item: -item[1])),
                   noop_slowest_stage=max(noop_stages, key=lambda row: row["seconds"]),
                   first_slowest_stage=max(first_stages, key=lambda row: row["seconds"]),
                   noop_stages=noop_stages, first_stages=first_stages, noop_heaviest_tasks=heavy_tasks(records))
    save("one_hub", results)
    with capsys.disabled():
        print("\nsite.yml, one hub (inventory/local), %s, %d CPUs" % (results["date"], results["cpus"]))
        print("  first run: %.1f s, %d requests (%d writes)" % (
            first_seconds, first_requests["total"], first_requests["writes"]))
        print("  no-op re-run: %.1f s, %d requests per hub: %d reads, %d writes (target <= %d, 0 writes)" % (
            noop_seconds, results["noop_requests_per_hub"], reads, writes, MAX_NOOP_REQUESTS_PER_HUB))
        print("  no-op slowest stage: %(stage)s, %(seconds).2f s" % results["noop_slowest_stage"])
        print("  first run slowest stage: %(stage)s, %(seconds).2f s" % results["first_slowest_stage"])
        print("no-op re-run by stage (bench_stages callback):\n" + stage_table(noop_stages))
        print("first run by stage:\n" + stage_table(first_stages))
        print("no-op tasks with the most requests:")
        for task in results["noop_heaviest_tasks"]:
            print("  %(stage)s: %(task)s (%(path)s): %(requests)s" % task)
        print("(written to %s)" % RESULTS)

    assert set(changed(noop).values()) == {0}, changed(noop)
    assert writes == 0 and requests["writes"] == 0, requests["counts"]
    assert requests["total"] / len(hubs) <= MAX_NOOP_REQUESTS_PER_HUB, "%d requests per hub; the most by:\n%s" % (
        requests["total"] / len(hubs),
        "\n".join("%(path)s (%(stage)s): %(requests)s" % task for task in results["noop_heaviest_tasks"]))


def test_fleet_of_8_clusters_forks(start_emulator, chart_mirror, tmp_path, capsys):
    forks, forks_origin = default_forks()
    fleet = [start_emulator("one-fork-%d" % number) for number in range(1, CLUSTERS + 1)]
    inventory = fleet_inventory(tmp_path / "one-fork", fleet)
    first_serial, first = site(inventory, "/nonexistent/kubeconfig", chart_mirror, "--forks", "1")
    assert len([host for host in first["stats"] if "/" in host]) == CLUSTERS

    noop = {}
    for label, extra in (("serial", ["--forks", "1"]), ("default", [])):
        for cluster in fleet:
            cluster.control.reset()
        seconds, result = site(inventory, "/nonexistent/kubeconfig", chart_mirror, *extra)
        counts = collections.Counter()
        for cluster in fleet:
            counts.update(cluster.control.counts())
        noop[label] = {"seconds": round(seconds, 2), "changed": changed(result), "requests": sum(counts.values()),
                       "writes": split(counts)[1], "requests_per_hub": sum(counts.values()) / CLUSTERS}
    for cluster in fleet:
        cluster.stop()  # idle, but no need to keep 16 emulators running

    fresh = [start_emulator("default-forks-%d" % number) for number in range(1, CLUSTERS + 1)]
    first_default = site(fleet_inventory(tmp_path / "default-forks", fresh), "/nonexistent/kubeconfig",
                         chart_mirror)[0]

    results = dict(machine(), clusters=CLUSTERS, default_forks=forks, default_forks_origin=forks_origin,
                   first_seconds_forks_1=round(first_serial, 2), first_seconds_default=round(first_default, 2),
                   first_speedup=round(first_serial / first_default, 2),
                   noop_seconds_forks_1=noop["serial"]["seconds"], noop_seconds_default=noop["default"]["seconds"],
                   noop_speedup=round(noop["serial"]["seconds"] / noop["default"]["seconds"], 2), noop=noop)
    save("fleet", results)
    with capsys.disabled():
        print("\nsite.yml, %d clusters of one hub each, %s, %d CPUs; default forks %d (%s)" % (
            CLUSTERS, results["date"], results["cpus"], forks, forks_origin))
        print("  first run:    --forks 1 %6.1f s, default %6.1f s, speed-up %.2f" % (
            first_serial, first_default, results["first_speedup"]))
        print("  no-op re-run: --forks 1 %6.1f s, default %6.1f s, speed-up %.2f" % (
            noop["serial"]["seconds"], noop["default"]["seconds"], results["noop_speedup"]))
        for label in ("serial", "default"):
            print("  no-op (%s): %d requests per hub, %d writes" % (
                label, noop[label]["requests_per_hub"], noop[label]["writes"]))
        print("(written to %s)" % RESULTS)

    for label in ("serial", "default"):
        assert set(noop[label]["changed"].values()) == {0}, noop[label]["changed"]
        assert noop[label]["writes"] == 0, label
