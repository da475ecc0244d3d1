"""The hub's Role (tests/hub/spawner_rules.json) allows every Kubernetes API call KubeSpawner makes.

The calls are read from the source of the installed KubeSpawner (spawner.py and reflector.py):
self.api.<method> calls, getattr(self.api, f"<verb>_namespaced_{kind}") with the kinds passed at
each call site, and the list and watch of the pod and event reflectors. Each is resolved to
(resource, verb) through the request its kubernetes_asyncio CoreV1Api method sends (path and HTTP
method), so no list of permissions is typed in here. Each call also carries the KubeSpawner flags
it waits for (`if self.internal_ssl:` around it or around its method's callers). That reading is
deliberately simple and can only err on the safe side: a condition it does not follow (an `or`,
an early return) leaves the call counted as always made.
"""
import ast
import inspect
import json
import re
from pathlib import Path

import kubespawner.reflector
import kubespawner.spawner
from kubernetes_asyncio.client import CoreV1Api
from kubespawner import KubeSpawner

from hub_harness import HUB_TESTS

RULES = json.loads((HUB_TESTS / "spawner_rules.json").read_text())
API_METHOD = re.compile(r"^(create|read|delete|list|patch|replace)_\w+$")
HTTP_VERBS = {"POST": "create", "DELETE": "delete", "PATCH": "patch", "PUT": "update"}
# KubeSpawner flags z2jh leaves off whose calls need cluster-wide permissions, which no Role
# (z2jh's own hub Role included) can give: those calls are left out of the check.
OFF_IN_Z2JH = ("enable_user_namespaces",)


def parse(source):
    tree = ast.parse(source)
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            child.parent = node
    return tree


def ancestors(node):
    while hasattr(node, "parent"):
        child, node = node, node.parent
        yield child, node


def enclosing_function(node):
    return next(parent for _child, parent in ancestors(node) if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)))


def is_self_attr(node, name=None):
    return (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"
            and (name is None or node.attr == name))


def api_names(function):
    """Names a function gives to its API client: self.api, and locals assigned from it."""
    names = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and is_self_attr(node.value, "api"):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
    return names


def is_api(node, function):
    return is_self_attr(node, "api") or (isinstance(node, ast.Name) and node.id in api_names(function))


def calls_of(tree, function_name):
    """(call, arguments after self) of self.<function_name>(...) and partial(self.<function_name>, ...)."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if is_self_attr(node.func, function_name):
            yield node, node.args
        elif isinstance(node.func, ast.Name) and node.func.id == "partial" and node.args \
                and is_self_attr(node.args[0], function_name):
            yield node, node.args[1:]


def guards(tree, node, depth=0):
    """KubeSpawner flags that must be on for `node` to run: `if self.<flag>:` around it, or
    around every call of the method that holds it."""
    found = set()
    for child, parent in ancestors(node):
        if isinstance(parent, ast.If) and child in parent.body and is_self_attr(parent.test):
            found.add(parent.test.attr)
    function = enclosing_function(node)
    sites = list(calls_of(tree, function.name))
    if sites and depth < 5:
        found |= set.intersection(*(guards(tree, call, depth + 1) for call, _args in sites))
    return found


def spawner_calls():
    """{(CoreV1Api method name, flags it needs)} of every call in kubespawner/spawner.py."""
    tree = parse(Path(kubespawner.spawner.__file__).read_text())
    calls = set()
    for node in ast.walk(tree):
        # self.api.create_namespaced_pod(...), api.create_namespace(...)
        if isinstance(node, ast.Attribute) and API_METHOD.match(node.attr) and is_api(node.value, enclosing_function(node)):
            calls.add((node.attr, frozenset(guards(tree, node))))
        # getattr(self.api, f"delete_namespaced_{kind}"), with the kinds its callers pass
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr" \
                and len(node.args) == 2 and isinstance(node.args[1], ast.JoinedStr) \
                and is_api(node.args[0], enclosing_function(node)):
            prefix, hole = node.args[1].values
            function = enclosing_function(node)
            for call, args in calls_of(tree, function.name):
                site_guards = guards(tree, call)
                position = [arg.arg for arg in function.args.args][1:].index(hole.value.id)
                given = args[position] if position < len(args) else \
                    next(kw.value for kw in call.keywords if kw.arg == hole.value.id)
                assert isinstance(given, ast.Constant), f"{function.name}() gets a kind that is no constant"
                calls.add((prefix.value + given.value, frozenset(site_guards)))
    return calls


def reflector_calls():
    """{(CoreV1Api method name, verb)} of the pod and event reflectors in the default, namespaced mode."""
    tree = parse(Path(kubespawner.spawner.__file__).read_text())
    reflector_tree = parse(Path(kubespawner.reflector.__file__).read_text())
    # The kinds KubeSpawner reflects, and whether it watches them across namespaces.
    kinds = set()
    for call, _args in calls_of(tree, "_start_reflector"):
        keywords = {kw.arg: kw.value for kw in call.keywords}
        kinds.add(keywords["kind"].value)
        assert is_self_attr(keywords["omit_namespace"], "enable_user_namespaces")
    # How the reflector names the list method of a kind: f"list_namespaced_{plural_to_singular[self.kind]}"
    singular = next(ast.literal_eval(node.value) for node in ast.walk(reflector_tree)
                    if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "plural_to_singular")
    template = next(node for node in ast.walk(reflector_tree) if isinstance(node, ast.JoinedStr)
                    and isinstance(node.values[0], ast.Constant) and node.values[0].value == "list_namespaced_")
    # The reflector lists (getattr(self.api, self.list_method_name)) then watches with the same method.
    source = inspect.getsource(kubespawner.reflector.ResourceReflector)
    assert "getattr(self.api, self.list_method_name)" in source
    assert "w.stream(method" in source
    method_names = {template.values[0].value + singular[kind] for kind in kinds}
    return {(name, verb) for name in method_names for verb in ("list", "watch")}


def resource_and_verb(method_name):
    """(api group, resource, verb) of the request a CoreV1Api method sends."""
    source = inspect.getsource(getattr(CoreV1Api, method_name + "_with_http_info"))
    path, http_method = re.search(r"'(/api/v1/[^']*)',\s*'(\w+)'", source).groups()
    parts = path.split("/")[3:]
    if parts[:2] == ["namespaces", "{namespace}"] and len(parts) > 2:
        parts = parts[2:]
    resource, named = parts[0], len(parts) > 1
    verb = "get" if http_method == "GET" and named else "list" if http_method == "GET" else HTTP_VERBS[http_method]
    return "", resource, verb


def allowed(group, resource, verb, rules=RULES):
    return any(
        group in rule["apiGroups"] and {resource, "*"} & set(rule["resources"]) and {verb, "*"} & set(rule["verbs"])
        for rule in rules
    )


def needed_permissions():
    """{(group, resource, verb): the flags it waits for} of every call KubeSpawner makes."""
    needed = {}
    for name, flags in spawner_calls():
        needed.setdefault(resource_and_verb(name), set()).add(flags)
    for name, verb in reflector_calls():
        group, resource, _verb = resource_and_verb(name)
        needed.setdefault((group, resource, verb), set()).add(frozenset())
    # A permission is needed without any flag if one of its calls needs none.
    return {key: min(flag_sets, key=len) for key, flag_sets in needed.items()}


def test_the_derivation_finds_the_calls_it_must():
    """Calls known to be there must be found, with the flags they wait for: should a KubeSpawner
    release move its calls out of reach of this reading, fail rather than check nothing."""
    needed = needed_permissions()
    for resource, verb, flags in [
        ("pods", "create", set()), ("pods", "delete", set()), ("pods", "list", set()), ("pods", "watch", set()),
        ("events", "list", set()), ("events", "watch", set()),
        ("persistentvolumeclaims", "create", {"storage_pvc_ensure"}),
        ("persistentvolumeclaims", "get", {"storage_pvc_ensure"}),
        ("persistentvolumeclaims", "delete", set()),
        ("secrets", "create", {"internal_ssl"}),
        ("namespaces", "create", {"enable_user_namespaces"}),
    ]:
        assert needed.get(("", resource, verb)) == flags, (resource, verb)


def test_the_checker_refuses_what_the_rules_lack():
    assert allowed("", "pods", "delete")
    assert not allowed("", "pods", "delete", rules=[dict(RULES[0], verbs=["get", "watch", "list", "create"])])
    assert not allowed("", "events", "create")
    assert not allowed("apps", "pods", "get")


def test_z2jh_leaves_the_features_off_that_need_more(load_hub_config):
    config = load_hub_config({})  # the chart's defaults
    for flag in OFF_IN_Z2JH:
        assert flag not in config.KubeSpawner
        assert KubeSpawner.class_traits()[flag].default_value is False


def test_the_role_allows_every_call_kubespawner_makes():
    missing = {
        f"{resource}/{verb}" + (f" (only with {', '.join(sorted(flags))})" if flags else "")
        for (group, resource, verb), flags in needed_permissions().items()
        if not set(flags) & set(OFF_IN_Z2JH) and not allowed(group, resource, verb)
    }
    assert not missing, f"KubeSpawner {kubespawner.__version__} needs what tests/hub/spawner_rules.json lacks: {sorted(missing)}"


def test_only_calls_behind_features_z2jh_leaves_off_go_beyond_the_namespace():
    """Cluster-scoped calls, which no Role can allow, all wait for a flag z2jh leaves off."""
    for name, flags in spawner_calls():
        if "_namespaced_" not in name:
            assert set(flags) & set(OFF_IN_Z2JH), f"{name} is cluster-scoped and runs in z2jh's setup"


def test_the_guard_reading_sees_if_blocks():
    tree = parse("class S:\n    def a(self):\n        if self.flag:\n            self.b()\n"
                 "        if self.other or self.flag:\n            self.c()\n"
                 "    def b(self):\n        self.api.x()\n    def c(self):\n        self.api.y()\n")
    call = next(node for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr == "x")
    assert guards(tree, call) == {"flag"}
    call = next(node for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr == "y")
    assert guards(tree, call) == set()
