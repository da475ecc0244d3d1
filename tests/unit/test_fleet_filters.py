"""The inventory's argument spec (filter cluster_errors, plugin_utils/fleet_spec.py) and the summary of a
site.yml run (filter site_summary)."""
import json

import pytest

from ansible_collections.hubfleet.jupyterhub.plugins.filter.fleet import cluster_errors
from ansible_collections.hubfleet.jupyterhub.plugins.filter.site_summary import site_summary
from ansible_collections.hubfleet.jupyterhub.plugins.plugin_utils import fleet_spec

GOOD = {"name": "demo", "namespace": "jupyterhub-demo"}


def errors(*hubs, **cluster):
    return cluster_errors(dict({"hubs": list(hubs)}, **cluster), "east")


def test_a_good_cluster_has_no_problem():
    assert errors(dict(GOOD, quotas_requests_cpu="4", route_host="demo.example.org", chart_version="3.3.8",
                       user_projects={"users": ["alice"], "spawner_access": True}),
                  cluster_kubeconfig="/k", cluster_validate_certs="false") == []


@pytest.mark.parametrize("entry,message", [
    ({"quotas_request_cpu": "4"}, "east: hubs[0] (demo): unknown key 'quotas_request_cpu' (did you mean "
                                  "'quotas_requests_cpu'?)"),
    ({"colour": "blue"}, "east: hubs[0] (demo): unknown key 'colour'"),
    ({"quotas_namespace": "x"}, "east: hubs[0] (demo): 'quotas_namespace' is set by site.yml for each hub: use namespace"),
    ({"hub_chart_version": "3.3.8"}, "'hub_chart_version' is set by site.yml for each hub: use chart_version"),
    ({"route_kind": "gateway"}, "value of route_kind must be one of"),
    ({"user_projects": {"user": ["alice"]}}, "unknown key 'user_projects.user' (known: "),
    ({"nfs_home_allusers": "sometimes"}, "nfs_home_allusers"),
])
def test_a_bad_key_or_value_is_named(entry, message):
    problems = errors(dict(GOOD, **entry))
    assert len(problems) == 1 and message in problems[0], problems


def test_a_missing_name_and_a_bad_cluster_variable_are_named():
    problems = errors({"namespace": "x"}, cluster_kubconfig="/k")
    assert "east: unknown key 'cluster_kubconfig' (did you mean 'cluster_kubeconfig'?)" in problems
    assert "east: hubs[0]: missing required arguments: name" in problems


def test_a_secret_of_the_wrong_type_is_named_without_its_value():
    problems = errors(GOOD, cluster_validate_certs="sometimes-secret")
    assert problems and "sometimes-secret" in problems[0]  # not a secret: shown
    secret = cluster_errors({"hubs": [GOOD], "cluster_api_token": {"token": "s3cr3t"}}, "east")
    assert not [problem for problem in secret if "s3cr3t" in problem]


def test_hubs_must_be_a_list_of_dicts():
    assert errors() == []
    assert cluster_errors({"hubs": "demo"}, "east")[0].startswith("east: Elements value for option 'hubs'")
    assert cluster_errors({}, "east") == ["east: missing required arguments: hubs"]


def test_the_entry_spec_has_every_role_variable_but_those_site_sets():
    options, set_by_site, role_of = fleet_spec.hub_entry()
    assert "quotas_requests_cpu" in options and role_of["quotas_requests_cpu"] == "quotas"
    assert "default" not in options["hub_auth_type"] and "required" not in options["hub_auth_type"]
    assert not set(set_by_site) & set(options)
    assert {"name", "namespace", "chart_version", "user_projects", "user_storage"} <= set(options)


ROWS = [
    {"cluster": "west", "hub": "b", "namespace": "nb", "chart_version": "4.4.0", "url": "https://b", "failed_stage": "",
     "error": "", "health": "ok", "changed": []},
    {"cluster": "east", "hub": "a", "namespace": "na", "chart_version": "3.3.8", "url": "", "failed_stage": "route",
     "error": "route: host\n taken | by other " + "x" * 300, "health": "", "changed": ["namespace"]},
    {"cluster": "north", "hub": "", "failed_stage": "plan", "error": "bad hubs", "changed": []},
    {"cluster": "east", "hub": "c", "namespace": "nc", "chart_version": "4.4.0", "url": "https://c", "failed_stage": "",
     "error": "", "health": "ok", "changed": ["quotas", "hub"]},
]


def test_the_summary_sorts_rows_and_says_what_failed_and_changed():
    summary = site_summary(ROWS)
    assert [(row["cluster"], row["hub"], row["status"]) for row in summary["rows"]] == [
        ("east", "a", "failed at route"), ("east", "c", "changed"), ("north", "", "failed at plan"), ("west", "b", "ok")]
    assert summary["failed"] == ["east/a", "north"]
    assert json.loads(summary["json"])["hubs"][0]["error"].startswith("route: host taken | by other xxx")
    assert summary["text"][0].split() == ["cluster", "hub", "status", "stages", "changed", "chart", "URL", "first",
                                          "error"]
    assert "quotas, hub" in summary["text"][2]


def test_the_markdown_table_escapes_pipes_and_cuts_long_errors():
    markdown = site_summary(ROWS, True)["markdown"]
    assert markdown.startswith("# hubfleet site.yml summary (check mode: nothing was written)")
    line = [text for text in markdown.splitlines() if text.startswith("| east | a |")][0]
    assert "taken \\| by other" in line and line.endswith("... |") and len(line) < 260
    assert "| east | c | would change | quotas, hub | 4.4.0 | https://c | - |" in markdown
