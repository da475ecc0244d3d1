"""The route role on its own (tests/integration/playbooks/roles_b/route.yml) against emulated clusters.

Four ansible-playbook runs carry every scenario, one inventory host per scenario, each host reaching its
own emulator through the collection's auth block (`cluster_kubeconfig`; KUBECONFIG points nowhere):

1. converge: Routes with an assigned and a given host, a host another namespace holds, a foreign Route,
   a certificate from a Secret, a private key; Ingresses; an Ingress without host and a Route asked of
   vanilla Kubernetes;
2. the converged hubs again (nothing changes), and one hub removed;
3. the hub with a private key changed, with -v --diff and the default output a user reads;
4. check mode in a namespace that does not exist.

The tests below read those runs and what the emulators held after each. "Nothing written" is both the
emulator's count of write requests (dry runs are counted apart) and its resourceVersion counter standing
still (every stored write advances it)."""
import base64
import os
import re
import subprocess
import sys

import pytest
import yaml

from .scenarios import Emulators, host_messages, host_results, namespace, one, stored_version
from .test_playbooks import REPO_ROOT, play

PLAYBOOKS = REPO_ROOT / "tests" / "integration" / "playbooks" / "roles_b"

# PEM-shaped, not real: the role checks the shape only, and the emulator validates no certificate.
CERTIFICATE = "-----BEGIN CERTIFICATE-----\nMIIBfakeCERTIFICATEbody0123456789\n-----END CERTIFICATE-----\n"
KEY_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCsecretKEYbody"
KEY = f"-----BEGIN PRIVATE KEY-----\n{KEY_BODY}\n-----END PRIVATE KEY-----\n"
CA = "-----BEGIN CERTIFICATE-----\nMIIBfakeCAchainBODY9876543210\n-----END CERTIFICATE-----\n"
TIMEOUT_ANNOTATION = {"haproxy.router.openshift.io/timeout": "120s"}
ASSIGNED_URL = "https://jupyterhub-jupyterhub-assigned.apps.emulator.local"  # <route name>-<namespace>.<apps domain>


# --- helpers, shared with test_role_nfs_home.py and test_site_hubs.py ------------------------------------

def local_inventory(path, **hosts):
    """A YAML inventory of local hosts, each with its own variables: one scenario per host.
    A host's `cluster` (an emulator) becomes its cluster_kubeconfig."""
    base = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    inventory = {}
    for name, host_vars in hosts.items():
        host_vars = dict(host_vars)
        cluster = host_vars.pop("cluster", None)
        if cluster is not None:
            host_vars["cluster_kubeconfig"] = str(cluster.kubeconfig)
        inventory[name] = dict(base, **host_vars)
    path.write_text(yaml.safe_dump({"all": {"hosts": inventory}}))
    return path


def run_role(playbook, inventory, *extra):
    """Run one of our playbooks (JSON output); every host reaches its cluster by its inventory variables."""
    return play(PLAYBOOKS / playbook, inventory, "-f", "16", *extra)


def run_text(playbook, inventory, *extra):
    """Run with the default output; returns (exit code, stdout, stderr): everything a user would read."""
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default", ANSIBLE_NOCOLOR="1",
               KUBECONFIG="/nonexistent/kubeconfig", ANSIBLE_COLLECTIONS_PATH=str(REPO_ROOT / ".build" / "collections"))
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), str(PLAYBOOKS / playbook),
               "-i", str(inventory)] + list(extra)
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    return done.returncode, done.stdout, done.stderr


def reported(result, host):
    """What the host's tasks told: every msg, and `<ref>: <action>` for each object owned_objects reports."""
    lines = host_messages(result, host)
    for _name, item in host_results(result, host):
        for report in item.get("objects") or []:
            if isinstance(report, dict) and "ref" in report:
                lines.append(f"{report['ref']}: {report.get('action')}")
    return lines


def last_value(result, host, key):
    """The value of `key` in the last task result of `host` that has it (the debug of a fact)."""
    values = [item[key] for _name, item in host_results(result, host) if key in item]
    assert values, (host, key, [name for name, _item in host_results(result, host)])
    return values[-1]


def stats(result, host):
    return result["stats"][host]


# --- the runs ------------------------------------------------------------------------------------------

def route(cluster, ns, name="jupyterhub"):
    return one(cluster, "routes", ns, name, "route.openshift.io")


def ingress(cluster, ns, name="jupyterhub"):
    return one(cluster, "ingresses", ns, name, "networking.k8s.io")


def hub(name, cluster, **role_vars):
    return dict({"cluster": cluster, "route_hub": name, "route_namespace": f"jupyterhub-{name}"}, **role_vars)


def b64(text):
    return base64.b64encode(text.encode()).decode()


class Runs:
    """What the runs answered and what the emulators held after each."""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("route")
    emulators = Emulators(root)
    done = Runs()
    try:
        routes = done.routes = emulators.start("routes")
        ingresses = done.ingresses = emulators.start("ingresses", openshift=False)
        refusing = done.refusing = emulators.start("refusing", openshift=False)
        removal = done.removal = emulators.start("removal")
        keys = done.keys = emulators.start("keys")
        fresh = done.fresh = emulators.start("fresh")
        routes.control.seed(
            [namespace(f"jupyterhub-{name}") for name in ("assigned", "named", "conflict", "foreign", "secret")]
            + [namespace("other"),
               # An older route of another namespace, holding the host the hub "conflict" asks for.
               {"apiVersion": "route.openshift.io/v1", "kind": "Route",
                "metadata": {"name": "holder", "namespace": "other"},
                "spec": {"host": "hub.example.org", "to": {"kind": "Service", "name": "web"}}},
               # Someone else's Route with our name, without our labels.
               {"apiVersion": "route.openshift.io/v1", "kind": "Route",
                "metadata": {"name": "jupyterhub", "namespace": "jupyterhub-foreign"},
                "spec": {"host": "theirs.example.org", "to": {"kind": "Service", "name": "their-app"}}},
               {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                "metadata": {"name": "hub-cert", "namespace": "jupyterhub-secret"},
                "data": {"tls.crt": b64(CERTIFICATE), "tls.key": b64(KEY), "ca.crt": b64(CA)}}])
        done.holder = route(routes, "other", "holder")
        done.foreign_before = route(routes, "jupyterhub-foreign")
        ingresses.control.seed([namespace(f"jupyterhub-{name}") for name in ("classy", "issued", "plain")])
        refusing.control.seed([namespace("jupyterhub-hostless"), namespace("jupyterhub-routed")])
        removal.control.seed([namespace("jupyterhub-gone")])
        keys.control.seed([namespace("jupyterhub-keyed")])
        for cluster in (routes, ingresses, refusing, removal, keys, fresh):
            cluster.control.reset()
        done.refusing_version = stored_version(refusing)
        keyed = hub("keyed", keys, route_host="keyed.example.org", route_tls_certificate=CERTIFICATE,
                    route_tls_key=KEY, route_tls_ca_certificate=CA)
        converged = dict(
            assigned=hub("assigned", routes), named=hub("named", routes, route_host="named.example.org"),
            secret=hub("secret", routes, route_host="secret.example.org", route_tls_secret="hub-cert"),
            classy=hub("classy", ingresses, route_host="classy.example.org", route_ingress_class="nginx",
                       route_tls_secret="classy-tls"),
            issued=hub("issued", ingresses, route_host="issued.example.org", route_cert_manager_issuer="letsencrypt"),
            plain=hub("plain", ingresses, route_host="plain.example.org"))
        inventory = local_inventory(
            root / "converge.yml", **converged, keyed=keyed, gone=hub("gone", removal),
            conflict=hub("conflict", routes, route_host="hub.example.org"), foreign=hub("foreign", routes),
            hostless=hub("hostless", refusing),
            routed=hub("routed", refusing, route_kind="route", route_host="routed.example.org"))
        done.converge = run_role("route.yml", inventory)
        done.refusing_writes = refusing.writes()
        done.after_converge = {"routes": routes.objects("routes", None, "route.openshift.io"),
                               "ingresses": ingresses.objects("ingresses", None, "networking.k8s.io")}
        done.converged_versions = {"routes": stored_version(routes), "ingresses": stored_version(ingresses)}
        done.keyed_converged = route(keys, "jupyterhub-keyed")

        routes.control.reset()
        ingresses.control.reset()
        inventory = local_inventory(root / "again.yml", **converged,
                                    gone=hub("gone", removal, route_state="absent"))
        done.again = run_role("route.yml", inventory)
        done.after_again = {"routes": routes.objects("routes", None, "route.openshift.io"),
                            "ingresses": ingresses.objects("ingresses", None, "networking.k8s.io")}
        done.again_versions = {"routes": stored_version(routes), "ingresses": stored_version(ingresses)}
        done.again_writes = {"routes": routes.control.requests(), "ingresses": ingresses.control.requests()}

        inventory = local_inventory(root / "keyed.yml", keyed=dict(keyed, route_annotations=TIMEOUT_ANNOTATION))
        done.keyed = run_text("route.yml", inventory, "-v", "--diff")

        inventory = local_inventory(root / "check.yml", check=hub("check", fresh, route_host="check.example.org"))
        done.check = run_role("route.yml", inventory, "--check")
        done.check_writes = fresh.writes()
        yield done
    finally:
        emulators.stop()


# --- Routes --------------------------------------------------------------------------------------------

def test_a_route_without_host_gets_the_assigned_one_with_edge_tls_and_is_admitted(runs):
    _code, result = runs.converge
    assert stats(result, "assigned")["failures"] == 0, host_messages(result, "assigned")
    assert stats(result, "assigned")["changed"] > 0
    made = route(runs.routes, "jupyterhub-assigned")
    assert made["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "hubfleet",
                                          "app.kubernetes.io/component": "route", "hubfleet.io/hub": "assigned"}
    assert made["spec"]["to"] == {"kind": "Service", "name": "proxy-public", "weight": 100}
    assert made["spec"]["port"] == {"targetPort": "http"}
    assert made["spec"]["tls"] == {"termination": "edge", "insecureEdgeTerminationPolicy": "Redirect"}
    assert made["spec"]["host"] == "jupyterhub-jupyterhub-assigned.apps.emulator.local"
    assert made["status"]["ingress"][0]["conditions"][0]["status"] == "True"
    assert last_value(result, "assigned", "route_hub_url") == ASSIGNED_URL


def test_a_route_with_a_host_serves_it(runs):
    _code, result = runs.converge
    assert stats(result, "named")["failures"] == 0, host_messages(result, "named")
    made = route(runs.routes, "jupyterhub-named")
    assert made["spec"]["host"] == "named.example.org"
    assert made["status"]["ingress"][0]["conditions"][0]["status"] == "True"
    assert last_value(result, "named", "route_hub_url") == "https://named.example.org"


def test_a_host_another_namespace_holds_fails_with_the_routers_reason(runs):
    code, result = runs.converge
    assert code != 0
    assert runs.holder["status"]["ingress"][0]["conditions"][0]["status"] == "True"
    assert stats(result, "conflict")["failures"] == 1
    verdict = route(runs.routes, "jupyterhub-conflict")["status"]["ingress"][0]["conditions"][0]
    assert (verdict["status"], verdict["reason"]) == ("False", "HostAlreadyClaimed")
    assert "a route in another namespace holds hub.example.org" in verdict["message"]
    failure = host_messages(result, "conflict")[-1]
    assert "HostAlreadyClaimed" in failure and verdict["message"] in failure, failure
    assert route(runs.routes, "other", "holder") == runs.holder


def test_a_foreign_route_of_our_name_is_refused_by_name_and_left_alone(runs):
    _code, result = runs.converge
    assert stats(result, "foreign")["failures"] == 1
    assert any("Route jupyterhub-foreign/jupyterhub" in m and "not managed by hubfleet" in m
               for m in host_messages(result, "foreign")), host_messages(result, "foreign")
    assert route(runs.routes, "jupyterhub-foreign") == runs.foreign_before


def test_a_route_gets_the_contents_of_route_tls_secret(runs):
    _code, result = runs.converge
    assert stats(result, "secret")["failures"] == 0, host_messages(result, "secret")
    tls = route(runs.routes, "jupyterhub-secret")["spec"]["tls"]
    assert (tls["termination"], tls["insecureEdgeTerminationPolicy"]) == ("edge", "Redirect")
    assert (tls["certificate"], tls["key"], tls["caCertificate"]) == (CERTIFICATE, KEY, CA)
    assert last_value(result, "secret", "route_hub_url") == "https://secret.example.org"


def test_a_second_run_changes_nothing_and_writes_nothing(runs):
    code, result = runs.again
    assert code == 0, {host: host_messages(result, host)[-2:] for host in result["stats"]}
    for host in ("assigned", "named", "secret", "classy", "issued", "plain"):
        assert stats(result, host)["changed"] == 0, (host, reported(result, host))
    assert {name: requests["writes"] for name, requests in runs.again_writes.items()} == \
        {"routes": 0, "ingresses": 0}, runs.again_writes
    assert runs.again_versions == runs.converged_versions
    assert runs.after_again == runs.after_converge
    assert last_value(result, "assigned", "route_hub_url") == ASSIGNED_URL
    assert last_value(result, "classy", "route_hub_url") == "https://classy.example.org"


def test_absent_removes_the_route(runs):
    _code, result = runs.again
    assert stats(result, "gone")["failures"] == 0 and stats(result, "gone")["changed"] > 0
    assert route(runs.removal, "jupyterhub-gone") is None
    assert runs.removal.objects("routes", None, "route.openshift.io") == []


def test_the_private_key_reaches_the_route_and_never_the_output(runs):
    assert runs.keyed_converged["spec"]["tls"]["key"] == KEY
    code, stdout, stderr = runs.keyed
    assert code == 0, stdout[-3000:] + stderr
    changed = route(runs.keys, "jupyterhub-keyed")
    assert changed["metadata"]["annotations"]["haproxy.router.openshift.io/timeout"] == "120s"
    assert changed["spec"]["tls"] == {"termination": "edge", "insecureEdgeTerminationPolicy": "Redirect",
                                      "certificate": CERTIFICATE, "key": KEY, "caCertificate": CA}
    # The run was verbose and did change the Route: its output had every chance to show the key.
    assert re.search(r"^keyed\s+: ok=\d+\s+changed=1\s", stdout, re.M), stdout[-1500:]
    assert "route_hub_url: https://keyed.example.org" in stdout
    assert KEY_BODY not in stdout and KEY_BODY not in stderr, \
        [line for line in (stdout + stderr).splitlines() if KEY_BODY in line or "TASK [" in line][-12:]


def test_check_mode_in_a_missing_namespace_reports_would_create_and_writes_nothing(runs):
    code, result = runs.check
    assert code == 0, host_messages(result, "check")
    assert stats(result, "check")["changed"] > 0
    told = reported(result, "check")
    assert any("would create" in line and "Route jupyterhub-check/jupyterhub" in line for line in told), told
    assert runs.check_writes == 0, runs.fresh.control.counts()
    assert runs.fresh.objects("routes", None, "route.openshift.io") == []


# --- Ingresses -----------------------------------------------------------------------------------------

def test_an_ingress_with_class_host_and_tls_secret(runs):
    _code, result = runs.converge
    assert stats(result, "classy")["failures"] == 0, host_messages(result, "classy")
    made = ingress(runs.ingresses, "jupyterhub-classy")
    assert made["metadata"]["labels"]["app.kubernetes.io/component"] == "route"
    assert made["spec"]["ingressClassName"] == "nginx"
    assert made["spec"]["tls"] == [{"hosts": ["classy.example.org"], "secretName": "classy-tls"}]
    assert made["spec"]["rules"][0]["host"] == "classy.example.org"
    assert made["spec"]["rules"][0]["http"]["paths"][0]["backend"] == \
        {"service": {"name": "proxy-public", "port": {"name": "http"}}}
    assert not [key for key in made["metadata"].get("annotations", {}) if key.startswith("cert-manager.io/")]
    assert last_value(result, "classy", "route_hub_url") == "https://classy.example.org"


def test_an_ingress_with_a_cert_manager_issuer(runs):
    _code, result = runs.converge
    assert stats(result, "issued")["failures"] == 0, host_messages(result, "issued")
    made = ingress(runs.ingresses, "jupyterhub-issued")
    assert made["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt"
    assert made["spec"]["tls"] == [{"hosts": ["issued.example.org"], "secretName": "jupyterhub-tls"}]
    assert "ingressClassName" not in made["spec"]
    assert last_value(result, "issued", "route_hub_url") == "https://issued.example.org"


def test_an_ingress_without_tls_is_served_over_http(runs):
    _code, result = runs.converge
    made = ingress(runs.ingresses, "jupyterhub-plain")
    assert "tls" not in made["spec"] and made["spec"]["rules"][0]["host"] == "plain.example.org"
    assert last_value(result, "plain", "route_hub_url") == "http://plain.example.org"


def test_vanilla_refuses_an_ingress_without_host_and_a_route_and_writes_nothing(runs):
    _code, result = runs.converge
    assert stats(result, "hostless")["failures"] == 1 and stats(result, "routed")["failures"] == 1
    hostless = host_messages(result, "hostless")
    assert any("route_host" in m and "Ingress" in m for m in hostless), hostless
    routed = host_messages(result, "routed")
    assert any("route_kind is route" in m and "does not serve Routes" in m for m in routed), routed
    assert runs.refusing_writes == 0, runs.refusing.control.counts()
    assert stored_version(runs.refusing) == runs.refusing_version
