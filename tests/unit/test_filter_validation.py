"""The filters validation_errors and container_limit_range, as the roles' validate.yml call them.

Each case checks the verdict (no message, or messages) and what the message names: the variable
(`where`), and the fragment that says which rule was broken.
"""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.hubfleet.jupyterhub.plugins.filter.validation import (
    RULES, FilterModule, container_limit_range, validation_errors)

# A private key as a vault would hold it, but cut short (no END line), so not PEM text.
FAKE_KEY = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC-s3cr3t-m4rker\n"
GOOD_PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\nAbCdEf==\n-----END CERTIFICATE-----\n"


def refused(value, rule, where="var_name"):
    errors = validation_errors(value, rule, where)
    assert errors, "%r accepted under %s, but should be refused" % (value, rule)
    assert all(error.startswith(where) for error in errors), errors
    return " | ".join(errors)


def accepted(value, rule):
    assert validation_errors(value, rule, "var_name") == []


# --- one accepted and one refused value for every rule in RULES --------------------------------

CASES = {
    "dns_label": ("jupyterhub-research", "Jupyter.Hub", "DNS-1123 label"),
    "dns_subdomain": ("hub.apps.example.org", "hub_apps", "DNS-1123 subdomain"),
    "label_value": ("research_1.a", "-research", "letters, digits"),
    "labels": ({"example.org/team": "a"}, {"bad key!": "a"}, "not a valid label key"),
    "annotations": ({"haproxy.router.openshift.io/timeout": "120s", "note": "any text, even: this"},
                    {"bad key!": "a"}, "not a valid annotation key"),
    "quota": ({"requests.cpu": "8", "count/services": "20", "requests.nvidia.com/gpu": "2"},
              {"requests.cpus": "8"}, "standard resource for quota"),
    "container_limits": ({"max": {"cpu": "2"}}, {"maximum": {"cpu": "2"}}, "unknown key 'maximum'"),
    "resources": ({"requests": {"cpu": "100m", "example.com/gpu": "1"}, "limits": {"memory": "1Gi"}},
                  {"requests": {"cpu": "lots"}}, "not a Kubernetes quantity"),
    "http_url": ("https://hub.example.org/hub/oauth_callback", "ftp://hub.example.org", "has the scheme 'ftp'"),
    "build_images": ([{"name": "notebook", "git_url": "https://git.example.org/nb.git",
                       "builder_image": "quay.io/jupyter/scipy-notebook:2024-05-27"}],
                     [{"name": "notebook", "strategy": "docker"}], "strategy docker needs git_url or dockerfile"),
    "subpath": ("homes/research", "/homes/research", "must be a relative path"),
    "absolute_path": ("/homes", "homes", "must be an absolute path"),
    "file_mode": ("0775", "0999", "octal file mode"),
    "host": ("nfs.example.org", "Bad_Host", "DNS-1123 subdomain"),
    "port_name": ("http", "8080", "must be a port name"),
    "pem": (GOOD_PEM, FAKE_KEY, "must be PEM text"),
}


def test_every_rule_has_a_case():
    assert sorted(CASES) == sorted(RULES)


@pytest.mark.parametrize("rule", sorted(CASES))
def test_each_rule_accepts_and_refuses(rule):
    good, bad, fragment = CASES[rule]
    accepted(good, rule)
    assert fragment in refused(bad, rule)


def test_the_filter_is_exported_under_its_name():
    filters = FilterModule().filters()
    assert filters["validation_errors"] is validation_errors
    assert filters["container_limit_range"] is container_limit_range


def test_an_unknown_rule_is_a_filter_error_listing_the_known_ones():
    with pytest.raises(AnsibleFilterError, match="unknown rule 'dns_lable'") as raised:
        validation_errors("hub", "dns_lable", "quotas_namespace")
    assert "dns_label" in str(raised.value) and "quantity:<resource>" in str(raised.value)


# --- quantity:<resource> --------------------------------------------------------------------

@pytest.mark.parametrize("value, resource", [
    ("2Gi", "storage"), ("500m", "cpu"), ("1.5", "cpu"), (8, "cpu"), ("0", "pods"), ("50", "persistentvolumeclaims"),
    ("2", "requests.nvidia.com/gpu"), ("1e3", "memory"),
    # As the API server: a quota key with the requests. prefix is no extended resource name, so not whole units.
    ("1.5", "requests.nvidia.com/gpu"),
])
def test_quantities_the_api_server_accepts(value, resource):
    accepted(value, "quantity:" + resource)


@pytest.mark.parametrize("value, resource, fragment", [
    ("2 Gi", "storage", "not a Kubernetes quantity"),
    ("1.5", "pods", "must be an integer: pods is counted in whole units"),
    ("500m", "persistentvolumeclaims", "must be an integer"),
    ("1.5", "nvidia.com/gpu", "must be an integer: nvidia.com/gpu is counted in whole units"),
    ("-1", "cpu", "must be greater than or equal to 0"),
    ("-1", "pods", "must be greater than or equal to 0"),
    ("", "memory", "not a Kubernetes quantity"),
    (True, "cpu", "not a quantity"),
])
def test_quantities_the_api_server_refuses(value, resource, fragment):
    message = refused(value, "quantity:" + resource, "quotas_requests_storage")
    assert message.startswith("quotas_requests_storage: ")
    assert fragment in message


# --- host, file_mode, pem -------------------------------------------------------------------

@pytest.mark.parametrize("host", ["10.0.0.12", "fd00::12", "::1", "nfs", "nfs-1.storage.example.org"])
def test_host_accepts_ip_addresses_and_dns_names(host):
    accepted(host, "host")


@pytest.mark.parametrize("host", ["Bad_Host", "nfs.example.org.", "nfs example", "10.0.0.256:/x", ""])
def test_host_refuses_what_is_neither(host):
    message = refused(host, "host", "nfs_home_server")
    assert message.startswith("nfs_home_server: %r " % host)


def test_host_refuses_a_number():
    refused(10, "host", "nfs_home_server")


@pytest.mark.parametrize("mode", ["0775", "775", "0700", "0000", "777", "2775", "02775"])
def test_file_mode_accepts_octal_text(mode):
    accepted(mode, "file_mode")


@pytest.mark.parametrize("mode", [775, 0o775, "0999", "0778", "00775", "75", "rwxrwxr-x", "0775\n"])
def test_file_mode_refuses_numbers_and_non_octal(mode):
    assert "must be an octal file mode in quotes" in refused(mode, "file_mode", "nfs_home_mode")


@pytest.mark.parametrize("value", [FAKE_KEY, FAKE_KEY + "-----END PRIVATE KEY", "s3cr3t-m4rker", ["s3cr3t-m4rker"]])
def test_pem_never_shows_the_value(value):
    message = refused(value, "pem", "route_tls_key")
    assert "s3cr3t-m4rker" not in message
    assert "MIIEvQ" not in message
    assert message == ("route_tls_key: must be PEM text (-----BEGIN ...----- to -----END ...-----); "
                       "its value is not shown")


def test_pem_accepts_a_chain_with_surrounding_whitespace():
    accepted("\n" + GOOD_PEM + GOOD_PEM + "\n", "pem")


# --- messages name the variable and the value -----------------------------------------------

def test_one_value_rules_name_variable_and_value():
    assert validation_errors("Hub", "dns_label", "quotas_namespace") == [
        "quotas_namespace: 'Hub' must be a DNS-1123 label: lower case letters, digits and '-', "
        "starting and ending with a letter or digit"]


def test_quota_names_each_bad_entry_under_the_variable():
    errors = validation_errors({"requests.cpu": "1", "pods": "1.5", "bogus": "1"}, "quota", "quotas_hard")
    assert [error.split(":")[0] for error in errors] == ["quotas_hard.bogus", "quotas_hard.pods"]


def test_resources_names_field_and_resource():
    errors = validation_errors({"requests": {"cpu": "1"}, "limits": {"gpu": "1"}, "extra": {}},
                               "resources", "quotas_check_pods[]")
    assert "quotas_check_pods[]: unknown key 'extra' (allowed: requests, limits)" in errors
    assert any(error.startswith("quotas_check_pods[].limits.gpu: must be a standard resource for containers")
               for error in errors)
    assert len(errors) == 2


@pytest.mark.parametrize("value, where", [("x", "quotas_container_limits"), ({"max": "2"}, "quotas_container_limits.max")])
def test_container_limits_of_the_wrong_shape(value, where):
    assert refused(value, "container_limits", "quotas_container_limits").startswith(where + " must be a mapping")


def test_container_limits_in_the_wrong_order():
    message = refused({"default": {"cpu": "2"}, "max": {"cpu": "1"}}, "container_limits", "quotas_container_limits")
    assert "quotas_container_limits.default.cpu: 2 is greater than quotas_container_limits.max.cpu: 1" in message


# --- container_limit_range -------------------------------------------------------------------

def test_container_limit_range_uses_api_names_and_text_amounts():
    assert container_limit_range({"default": {"cpu": 2, "memory": "4Gi"}, "default_request": {"cpu": "100m"},
                                  "max": {"cpu": "4"}, "min": {"cpu": "50m"}}) == {
        "type": "Container",
        "default": {"cpu": "2", "memory": "4Gi"},
        "defaultRequest": {"cpu": "100m", "memory": "4Gi"},
        "max": {"cpu": "4"},
        "min": {"cpu": "50m"},
    }


def test_container_limit_range_fills_default_from_max_and_request_from_default():
    assert container_limit_range({"max": {"memory": "16Gi"}}) == {
        "type": "Container", "max": {"memory": "16Gi"}, "default": {"memory": "16Gi"},
        "defaultRequest": {"memory": "16Gi"}}


def test_container_limit_range_fills_request_from_min_without_default():
    assert container_limit_range({"min": {"cpu": "100m"}}) == {
        "type": "Container", "min": {"cpu": "100m"}, "defaultRequest": {"cpu": "100m"}}


def test_container_limit_range_keeps_a_request_given():
    item = container_limit_range({"default": {"cpu": "2"}, "default_request": {"cpu": "500m"}})
    assert item["defaultRequest"] == {"cpu": "500m"}


@pytest.mark.parametrize("limits, fragment", [
    ({"default": {"cpu": "2"}, "max": {"cpu": "1"}}, "default.cpu: 2 is greater than container limits.max.cpu: 1"),
    ({"min": {"memory": "2Gi"}, "max": {"memory": "1Gi"}}, "min.memory: 2Gi is greater than"),
    ({"max": {"cpu": "2 cores"}}, "not a Kubernetes quantity"),
    ({"default": {"example.com/gpu": "2"}, "default_request": {"example.com/gpu": "1"}}, "cannot be overcommitted"),
    ({"maximum": {"cpu": "1"}}, "unknown key 'maximum'"),
])
def test_container_limit_range_raises_on_bad_limits(limits, fragment):
    with pytest.raises(AnsibleFilterError) as raised:
        container_limit_range(limits)
    assert fragment in str(raised.value)


@pytest.mark.parametrize("name", ["http", "proxy-http", "h2c", "a23456789012345"])
def test_port_name_accepts_service_port_names(name):
    accepted(name, "port_name")


@pytest.mark.parametrize("name", ["8080", "a234567890123456", "-http", "http-", "pro--xy", "HTTP", "ht_tp"])
def test_port_name_refuses_what_a_service_refuses(name):
    assert "must be a port name" in refused(name, "port_name", "route_service_port")


def test_annotations_refuse_values_that_are_not_text():
    assert "must be a string, not 120" in refused({"haproxy.router.openshift.io/timeout": 120}, "annotations",
                                                  "route_annotations")
