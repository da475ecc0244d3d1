"""The API server's rules as validation.py applies them: each case checks the verdict and what the message names."""
import pytest
from kubespawner import slugs

from ansible_collections.hubfleet.jupyterhub.plugins.module_utils import naming, validation

SUBDOMAIN_253 = ".".join(["a" * 63] * 3 + ["b" * 61])
FIELDS = ("username", "servername", "user_server")


def check(problem, expected):
    """`expected` is None (the value is fine) or the fragments the message must contain."""
    if expected is None:
        assert problem is None
        return
    assert problem, "accepted, but should be refused"
    for fragment in (expected,) if isinstance(expected, str) else expected:
        assert fragment in problem


@pytest.mark.parametrize("name, expected", [
    ("hub", None), ("hub.example.org", None), ("a-1.b-2", None), ("0", None),
    (SUBDOMAIN_253, None),
    (SUBDOMAIN_253 + "b", "is 254 characters long, at most 253"),
    ("", "must not be empty"),
    ("Hub", "DNS-1123 subdomain"), ("hub.", "DNS-1123 subdomain"), (".hub", "DNS-1123 subdomain"),
    ("hub-.org", "DNS-1123 subdomain"), ("hub_1", "DNS-1123 subdomain"), ("hub\n", "DNS-1123 subdomain"),
    (None, "must be a string"),
])
def test_dns_subdomain(name, expected):
    check(validation.dns_subdomain_error(name), expected)


@pytest.mark.parametrize("name, expected", [
    ("alice", None), ("a" * 63, None), ("0day", None),
    ("a" * 64, "is 64 characters long, at most 63"), ("", "must not be empty"),
    ("a.b", "DNS-1123 label"), ("-a", "DNS-1123 label"), ("a-", "DNS-1123 label"), ("alice\n", "DNS-1123 label"),
])
def test_dns_label(name, expected):
    check(validation.dns_label_error(name), expected)


@pytest.mark.parametrize("value, expected", [
    ("", None), ("a" * 63, None), ("A.b_c-D9", None), ("9", None),
    ("a" * 64, "is 64 characters long, at most 63"),
    ("a b", "letters, digits"), ("-a", "starting and ending"), ("a.", "starting and ending"),
    ("ok\n", "letters, digits"), ("jürgen", "letters, digits"),
    (5, "must be a string"), (None, "must be a string"),
])
def test_label_value(value, expected):
    check(validation.label_value_error(value), expected)


@pytest.mark.parametrize("rule", [validation.label_key_error, validation.qualified_name_error])
@pytest.mark.parametrize("key, expected", [
    ("app", None), ("a" * 63, None), ("App.Name_1", None), ("example.com/" + "a" * 63, None),
    ("a" * 253 + "/x", None), (SUBDOMAIN_253 + "/x", None),
    ("a" * 64, ("name part", "64 characters")),
    ("example.com/" + "a" * 64, ("name part", "64 characters")),
    ("a" * 254 + "/x", ("prefix", "254 characters")),
    ("", "name part must not be empty"), ("example.com/", "name part must not be empty"),
    ("/x", "prefix before '/' must not be empty"), ("a/b/c", "at most one '/'"),
    ("Example.com/x", ("prefix 'Example.com'", "DNS-1123 subdomain")),
    ("example.com/-x", ("name part '-x'", "starting and ending")),
    ("team name", ("name part 'team name'", "letters, digits")),
    (None, "must be a string"),
])
def test_label_key_and_qualified_name(rule, key, expected):
    check(rule(key), expected)


@pytest.mark.parametrize("labels, expected", [
    ({"team": "a", "example.com/tier": ""}, []),
    (None, []),
    ({"team": "a b"}, ["labels: the value 'a b' of label 'team' is not a valid label value"]),
    ({"team": "a" * 64}, ["labels: the value %r of label 'team' is not a valid label value" % ("a" * 64)]),
    ({"team": None}, ["labels: the value None of label 'team' is not a valid label value"]),
    ({"bad key": "x"}, ["labels: 'bad key' is not a valid label key"]),
    ({"/x": "y"}, ["labels: '/x' is not a valid label key"]),
    ({"a" * 64: "-"}, ["labels: %r is not a valid label key" % ("a" * 64),
                       "labels: the value '-' of label %r is not a valid label value" % ("a" * 64)]),
    (["team"], ["labels must be a mapping of label key to value"]),
])
def test_label_errors_keep_their_messages(labels, expected):
    assert validation.label_errors(labels, "labels") == expected


RESOURCE = "must be a standard resource name"
CONTAINER = "must be a standard resource for containers"
QUOTA = "must be a standard resource for quota"


# name, then the fragment each rule's message has (None: accepted): resource_name_error (validateResourceName),
# container_resource_name_error (keys of a Container LimitRange item), quota_resource_name_error.
@pytest.mark.parametrize("name, resource, container, quota", [
    ("cpu", None, None, None),
    ("memory", None, None, None),
    ("ephemeral-storage", None, None, None),
    ("storage", None, CONTAINER, QUOTA),
    ("requests.storage", None, CONTAINER, None),
    ("requests.cpu", None, CONTAINER, None),
    ("limits.memory", None, CONTAINER, None),
    ("limits.ephemeral-storage", None, CONTAINER, None),
    ("pods", None, CONTAINER, None),
    ("services.loadbalancers", None, CONTAINER, None),
    ("persistentvolumeclaims", None, CONTAINER, None),
    ("hugepages-2Mi", None, None, None),
    ("requests.hugepages-2Mi", None, CONTAINER, None),
    ("limits.hugepages-2Mi", RESOURCE, CONTAINER, QUOTA),
    ("foo", RESOURCE, CONTAINER, QUOTA),
    ("CPU", RESOURCE, CONTAINER, QUOTA),
    ("nvidia.com/gpu", None, None, None),
    ("count/pods", None, None, None),
    ("requests.nvidia.com/gpu", None, "extended resource", None),
    ("gold.storageclass.storage.k8s.io/requests.storage", None, None, None),
    ("kubernetes.io/foo", None, None, None),
    ("example.com/a/b", "at most one '/'", "at most one '/'", "at most one '/'"),
    ("Example.com/gpu", "prefix 'Example.com'", "prefix 'Example.com'", "prefix 'Example.com'"),
    ("", "must not be empty", "must not be empty", "must not be empty"),
])
def test_resource_names(name, resource, container, quota):
    check(validation.resource_name_error(name), resource)
    check(validation.container_resource_name_error(name), container)
    check(validation.quota_resource_name_error(name), quota)


def test_resource_name_messages_list_the_alternatives():
    assert "requests.storage" in validation.quota_resource_name_error("storage")
    assert "example.com/gpu" in validation.resource_name_error("foo")
    assert "cpu, memory, ephemeral-storage" in validation.container_resource_name_error("storage")


@pytest.mark.parametrize("resource, value, expected", [
    ("cpu", "0", None), ("cpu", "500m", None), ("cpu", "1.5", None), ("cpu", 2, None), ("cpu", 0.25, None),
    ("memory", "1.5Gi", None), ("memory", "1e3", None), ("memory", "+1Ki", None),
    ("cpu", "-1", "'-1' must be greater than or equal to 0"),
    ("cpu", "-1m", "'-1m' must be greater than or equal to 0"),
    ("memory", -5, "'-5' must be greater than or equal to 0"),
    ("memory", "2 Gi", "'2 Gi' is not a Kubernetes quantity"),
    ("memory", "2Gb", "'2Gb' is not a Kubernetes quantity"),
    ("memory", "", "'' is not a Kubernetes quantity"),
    ("memory", "1Gi\n", "is not a Kubernetes quantity"),
    ("memory", True, "True is not a quantity"),
    ("pods", "2", None), ("pods", 2, None), ("pods", "2000m", None), ("pods", "1k", None),
    ("pods", "1.5", ("'1.5' must be an integer", "pods")),
    ("pods", "1001m", ("'1001m' must be an integer", "pods")),
    ("pods", "-2", "must be greater than or equal to 0"),
    # Like the API server's MilliValue(): rounded up to thousandths first.
    ("pods", "999999u", None),
    ("nvidia.com/gpu", "1", None),
    ("nvidia.com/gpu", "0.5", ("'0.5' must be an integer", "nvidia.com/gpu")),
    ("count/pods", "2", None),
    ("count/pods", "1.5", ("'1.5' must be an integer", "count/pods")),
    ("gold.storageclass.storage.k8s.io/requests.storage", "1.5Gi", None),
    ("requests.nvidia.com/gpu", "0.5", None),
    ("kubernetes.io/foo", "0.5", None),
    ("example.kubernetes.io/foo", "0.5", None),
])
def test_quantity_values(resource, value, expected):
    check(validation.quantity_value_error(resource, value), expected)


@pytest.mark.parametrize("resource", ["pods", "services", "replicationcontrollers", "resourcequotas", "secrets",
                                      "configmaps", "persistentvolumeclaims", "services.nodeports",
                                      "services.loadbalancers"])
def test_object_counts_are_whole_numbers(resource):
    assert validation.quantity_value_error(resource, "3") is None
    check(validation.quantity_value_error(resource, "2.5"), ("must be an integer", resource))


@pytest.mark.parametrize("hard, expected", [
    ({"requests.cpu": "4", "limits.memory": "8Gi", "requests.storage": "100Gi", "pods": 10}, []),
    ({"count/pods": "2", "requests.nvidia.com/gpu": "0.5", "nvidia.com/gpu": 2,
      "gold.storageclass.storage.k8s.io/requests.storage": "10Gi", "hugepages-2Mi": "1Gi"}, []),
    ({}, []),
    ({"cpu": "-1"}, ["quota.cpu: '-1' must be greater than or equal to 0"]),
    ({"memory": "2 Gi"}, ["quota.memory: '2 Gi' is not a Kubernetes quantity (examples: 500m, 2, 1.5Gi, 10G)"]),
    ({"pods": "1.5"}, ["quota.pods: '1.5' must be an integer: pods is counted in whole units"]),
    ({"nvidia.com/gpu": "0.5"}, ["quota.nvidia.com/gpu: '0.5' must be an integer: nvidia.com/gpu is counted in "
                                 "whole units"]),
    (["cpu"], ["quota must be a mapping of resource name to quantity"]),
])
def test_quota_errors(hard, expected):
    assert validation.quota_errors(hard, "quota") == expected


@pytest.mark.parametrize("name", ["storage", "foo"])
def test_quota_refuses_non_quota_names(name):
    errors = validation.quota_errors({name: "1Gi"}, "quota")
    assert len(errors) == 1
    assert errors[0].startswith("quota.%s: %s" % (name, QUOTA))


def test_quota_reports_the_name_and_the_value():
    errors = validation.quota_errors({"storage": "-1"}, "quota")
    assert errors == [
        "quota.storage: " + validation.quota_resource_name_error("storage"),
        "quota.storage: '-1' must be greater than or equal to 0",
    ]


def test_storage_is_a_resource_name_but_not_for_containers_or_quotas():
    # validateResourceName accepts it (PersistentVolumeClaim LimitRange items); a Container item and
    # a quota refuse it, as the API server does.
    assert validation.resource_name_error("storage") is None
    assert validation.limit_range_item_errors({"max": {"storage": "1Gi"}}, "limits") == [
        "limits.max.storage: " + validation.container_resource_name_error("storage")]
    assert validation.quota_errors({"storage": "1Gi"}, "quota") == [
        "quota.storage: " + validation.quota_resource_name_error("storage")]


# (smaller field, larger field, resource, the larger value, a value equal to it spelt differently, one just above).
ORDER_CASES = [
    (smaller, larger, resource, high, same, above)
    for smaller, larger in validation.LIMIT_ORDER
    for resource, high, same, above in (("memory", "1Gi", "1024Mi", "1025Mi"), ("cpu", "0.5", "500m", "501m"))
]


@pytest.mark.parametrize("smaller, larger, resource, high, same, above", ORDER_CASES)
def test_limit_order_just_satisfied(smaller, larger, resource, high, same, above):
    item = {"type": "Container", smaller: {resource: same}, larger: {resource: high}}
    assert validation.limit_range_item_errors(item, "limits") == []
    item = {smaller: {resource: high}, larger: {resource: same}}
    assert validation.limit_range_item_errors(item, "limits") == []


@pytest.mark.parametrize("smaller, larger, resource, high, same, above", ORDER_CASES)
def test_limit_order_just_violated(smaller, larger, resource, high, same, above):
    item = {smaller: {resource: above}, larger: {resource: high}}
    assert validation.limit_range_item_errors(item, "limits") == [
        "limits.%s.%s: %s is greater than limits.%s.%s: %s" % (smaller, resource, above, larger, resource, high)]


def test_limit_order_covers_the_api_servers_pairs():
    assert set(validation.LIMIT_ORDER) == {
        ("min", "max"), ("min", "defaultRequest"), ("defaultRequest", "max"),
        ("defaultRequest", "default"), ("min", "default"), ("default", "max")}


@pytest.mark.parametrize("item, expected", [
    ({"maxLimitRequestRatio": {"cpu": "1"}}, []),
    ({"maxLimitRequestRatio": {"cpu": "1000m"}}, []),
    ({"maxLimitRequestRatio": {"cpu": "999m"}}, ["limits.maxLimitRequestRatio.cpu: '999m' is less than 1"]),
    ({"maxLimitRequestRatio": {"memory": "0.5"}}, ["limits.maxLimitRequestRatio.memory: '0.5' is less than 1"]),
    # At most max/min, compared in thousandths as the API server does.
    ({"min": {"cpu": "500m"}, "max": {"cpu": "2"}, "maxLimitRequestRatio": {"cpu": "4"}}, []),
    ({"min": {"cpu": "500m"}, "max": {"cpu": "2"}, "maxLimitRequestRatio": {"cpu": "4001m"}},
     ["limits.maxLimitRequestRatio.cpu: 4001m is greater than max/min = 4 (limits.max.cpu: 2, limits.min.cpu: 500m)"]),
    ({"min": {"memory": "512Mi"}, "max": {"memory": "1Gi"}, "maxLimitRequestRatio": {"memory": "2"}}, []),
    ({"min": {"memory": "512Mi"}, "max": {"memory": "1Gi"}, "maxLimitRequestRatio": {"memory": "2.5"}},
     ["limits.maxLimitRequestRatio.memory: 2.5 is greater than max/min = 2 (limits.max.memory: 1Gi, "
      "limits.min.memory: 512Mi)"]),
    ({"min": {"cpu": "0"}, "max": {"cpu": "1"}, "maxLimitRequestRatio": {"cpu": "100"}}, []),
    ({"max": {"cpu": "1"}, "maxLimitRequestRatio": {"cpu": "100"}}, []),
])
def test_limit_ratio(item, expected):
    assert validation.limit_range_item_errors(item, "limits") == expected


@pytest.mark.parametrize("resource, default, default_request, expected", [
    ("cpu", "2", "1", None),
    ("memory", "2Gi", "1Gi", None),
    ("nvidia.com/gpu", "1", "1", None),
    ("nvidia.com/gpu", "2", "1", "limits.defaultRequest.nvidia.com/gpu: 1 must equal limits.default.nvidia.com/gpu: "
                                 "2, as nvidia.com/gpu cannot be overcommitted"),
    ("hugepages-2Mi", "1Gi", "1024Mi", None),
    ("hugepages-2Mi", "1Gi", "512Mi", "limits.defaultRequest.hugepages-2Mi: 512Mi must equal "
                                      "limits.default.hugepages-2Mi: 1Gi, as hugepages-2Mi cannot be overcommitted"),
])
def test_limit_overcommit(resource, default, default_request, expected):
    item = {"default": {resource: default}, "defaultRequest": {resource: default_request}}
    errors = validation.limit_range_item_errors(item, "limits")
    assert errors == ([expected] if expected else [])


@pytest.mark.parametrize("item, expected", [
    ({"max": {"cpu": "2", "memory": "4Gi", "ephemeral-storage": "1Gi", "nvidia.com/gpu": "1"}}, None),
    ({"min": {"cpu": "-1"}}, "limits.min.cpu: '-1' must be greater than or equal to 0"),
    ({"max": {"nvidia.com/gpu": "0.5"}}, "limits.max.nvidia.com/gpu: '0.5' must be an integer"),
    ({"max": {"memory": "2 Gi"}}, "limits.max.memory: '2 Gi' is not a Kubernetes quantity"),
    ({"max": {"foo": "1"}}, "limits.max.foo: " + CONTAINER),
    ({"default": {"pods": "1"}}, "limits.default.pods: " + CONTAINER),
    ({"max": {"requests.nvidia.com/gpu": "1"}}, "limits.max.requests.nvidia.com/gpu: is not an extended resource"),
    ({"maxLimitRequestRatio": {"cpu": "x"}}, "limits.maxLimitRequestRatio.cpu: 'x' is not a Kubernetes quantity"),
    ({"max": "2"}, "limits.max must be a mapping of resource name to quantity"),
    ({"maximum": {"cpu": "1"}}, "limits: unknown field 'maximum'"),
    ({"max": {5: "1"}}, "limits.max.5: must be a string"),
    ("2", "limits must be a mapping"),
])
def test_limit_item_keys_and_values(item, expected):
    errors = validation.limit_range_item_errors(item, "limits")
    if expected is None:
        assert errors == []
    else:
        assert len(errors) == 1
        assert errors[0].startswith(expected)


def test_a_malformed_quantity_is_left_out_of_the_ordering():
    errors = validation.limit_range_item_errors({"min": {"cpu": "2 Gi"}, "max": {"cpu": "1"}}, "limits")
    assert errors == ["limits.min.cpu: '2 Gi' is not a Kubernetes quantity (examples: 500m, 2, 1.5Gi, 10G)"]


def test_values_the_server_copies_are_reported_once():
    # After defaulting, max's values are also default's and defaultRequest's.
    item = {"max": {"cpu": "2 Gi", "foo": "1"}, "default": {"cpu": "2 Gi", "foo": "1"},
            "defaultRequest": {"cpu": "2 Gi", "foo": "1"}}
    errors = validation.limit_range_item_errors(item, "limits")
    assert [error.split(":")[0] for error in errors] == ["limits.max.cpu", "limits.max.foo"]


def test_every_violation_is_reported():
    item = {"min": {"cpu": "2"}, "max": {"cpu": "1"}, "default": {"cpu": "1"}, "defaultRequest": {"cpu": "1"}}
    assert validation.limit_range_item_errors(item, "limits") == [
        "limits.min.cpu: 2 is greater than limits.max.cpu: 1",
        "limits.min.cpu: 2 is greater than limits.defaultRequest.cpu: 1",
        "limits.min.cpu: 2 is greater than limits.default.cpu: 1",
    ]


@pytest.mark.parametrize("url, expected", [
    ("https://hub.example.org/hub/api", None), ("http://hub:8081/hub/api", None), ("https://10.0.0.1/", None),
    ("ftp://x", "has the scheme 'ftp'"), ("hub", "'hub' has no scheme"), ("https://", "'https://' has no host"),
    ("https://hub .example.org/hub/api", "contains whitespace"), ("https://hub/ api", "contains whitespace"),
    ("http://hub:port/", "does not parse"), ("http://[::1/", "does not parse"), ("//hub/api", "no scheme"),
    (None, "not None"),
])
def test_http_url(url, expected):
    problem = validation.http_url_error(url)
    check(problem, expected)
    if expected:
        assert problem.startswith("must be an http(s) URL such as https://hub.example.org/hub/api")


@pytest.mark.parametrize("path, expected", [
    ("home/alice", None), ("a..b", None), ("..a", None), ("a/./b", None), ("alice", None),
    ("", "must not be empty"), ("/abs", "must be a relative path"), ("/", "must be a relative path"),
    ("a/../b", "'..' path element"), ("..", "'..' path element"), ("../a", "'..' path element"),
    ("a/..", "'..' path element"), (None, "must be a string"),
])
def test_subpath(path, expected):
    check(validation.subpath_error(path), expected)


@pytest.mark.parametrize("template, expected", [
    ("home/{username}", None), ("{username}--{servername}", None), ("plain", None), ("{{user}}", None),
    ("{username!r}", None), ("{username:>8}", None), ("{username[0]}/{username}", None),
    ("{user}", "unknown field 'user' (known: username, servername, user_server)"),
    ("{username}-{hub}", "unknown field 'hub'"),
    ("{username:{width}}", "unknown field 'width'"),
    ("{", "is not a valid template"), ("home/{username", "is not a valid template"),
    ("}", "is not a valid template"),
    ("{}", ("is not a valid template", "positional")), ("{0}", ("is not a valid template", "positional")),
    ("{username!x}", ("is not a valid template", "'!x'")),
    ("{username:d}", "is not a valid template"), ("{username.nope}", "is not a valid template"),
    (5, "must be a string"),
])
def test_template_error(template, expected):
    check(validation.template_error(template, FIELDS), expected)


@pytest.mark.parametrize("template, used", [
    ("plain", set()), ("{{username}}", set()), ("home/{username}", {"username"}),
    ("{username[0]}/{username}-{servername:>{user_server}}", {"username", "servername", "user_server"}),
    ("{unescaped_username!r}", {"unescaped_username"}),
])
def test_template_fields_used(template, used):
    assert validation.template_fields_used(template) == used


def test_template_fields_used_refuses_a_malformed_template():
    with pytest.raises(ValueError):
        validation.template_fields_used("home/{username")


def test_every_kubespawner_field_is_a_template_field():
    assert naming.TEMPLATE_FIELDS == tuple(naming.template_fields("alice"))
    template = "-".join("{%s}" % field for field in naming.TEMPLATE_FIELDS)
    assert validation.template_error(template, naming.TEMPLATE_FIELDS) is None


# Every character up to U+2FFF and the Kelvin sign, at the start, inside and at the end of a name.
SWEEP = [chr(code) for code in range(0x3000)] + [u"\u212a"]


def test_naming_reuses_these_rules_and_still_agrees_with_kubespawner():
    for char in SWEEP:
        for name in (char, "a" + char, char + "b", "a%sb" % char, "a" * 61 + char + "b"):
            assert naming.is_valid_object_name(name) == slugs.is_valid_object_name(name), name
            assert naming.is_valid_object_name(name) == (
                validation.dns_label_error(name) is None and name[0] in "abcdefghijklmnopqrstuvwxyz"), name
            assert naming.is_valid_label(name) == slugs.is_valid_label(name), name


def test_naming_label_rule_is_the_api_servers_but_for_kubespawners_case_folding():
    # KubeSpawner's case-insensitive match keeps these inside a label value; the API server would not.
    for char in (u"\u0130", u"\u0131", u"\u017f", u"\u212a"):
        name = "a%sb" % char
        assert naming.is_valid_label(name) and slugs.is_valid_label(name)
        assert validation.label_value_error(name)
    for name in ("", "a" * 63, "a" * 64, "A.b_c", "-a", "a b", "ab\n"):
        assert naming.is_valid_label(name) == (validation.label_value_error(name) is None), name
