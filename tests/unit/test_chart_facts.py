"""Facts the roles keep about the real chart, checked against the packages in ../shared/z2jh."""
import json
import pathlib
import re
import tarfile

import pytest
import yaml

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import rbac

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHARTS = ROOT.parent / "shared" / "z2jh"
VERSIONS = ["3.3.8", "4.4.0"]


def chart_file(version, name):
    with tarfile.open(CHARTS / f"jupyterhub-{version}.tgz") as package:
        return package.extractfile(f"jupyterhub/{name}").read().decode()


def hub_role_rules(version):
    """The rules of the chart's own hub Role: its first document, with the Helm directives dropped."""
    text = chart_file(version, "templates/hub/rbac.yaml")
    role = text.split("\n---\n")[0]
    plain = "\n".join(line for line in role.splitlines() if "{{" not in line)
    return yaml.safe_load(plain)["rules"]


def as_set(rules):
    return {(group, resource, verb) for rule in rules for group in rule["apiGroups"]
            for resource in rule["resources"] for verb in rule["verbs"]}


@pytest.mark.parametrize("version", VERSIONS)
def test_our_spawner_role_grants_exactly_what_the_charts_hub_role_grants(version):
    chart_rules = hub_role_rules(version)
    assert as_set(chart_rules), "no rules parsed from the chart"
    assert as_set(rbac.spawner_rules()) == as_set(chart_rules)


def test_the_rules_the_hub_venv_tests_check_are_ours():
    # tests/hub/in_venv checks these against the calls of the real KubeSpawner.
    assert json.loads((ROOT / "tests/hub/spawner_rules.json").read_text()) == rbac.spawner_rules()


@pytest.mark.parametrize("version", VERSIONS)
def test_preflight_knows_each_charts_lowest_kubernetes(version):
    declared = yaml.safe_load(chart_file(version, "Chart.yaml"))["kubeVersion"]
    lowest = re.match(r"^>=\s*(\d+\.\d+\.\d+)", declared).group(1)
    preflight = yaml.safe_load((ROOT / "roles/preflight/vars/main.yml").read_text())
    assert preflight["__preflight_chart_kube_versions"][version] == lowest
