"""OpenShift kinds and the two identities: projects, access reviews, routes, builds and images."""
import json
import secrets
import time

import pytest
from kubernetes import client

from .expect import failure

DEVELOPER_TOKEN = "emulator-developer-token"
REQUESTER = "openshift.io/requester"


@pytest.fixture(name="developer")
def developer_fixture(emulator):
    """The developer identity through the python client (it sends the token, unlike kubectl)."""
    return emulator.dynamic_client(DEVELOPER_TOKEN)


def _request_project(dyn, name):
    requests = dyn.resources.get(api_version="project.openshift.io/v1", kind="ProjectRequest")
    return requests.create(body={"apiVersion": "project.openshift.io/v1", "kind": "ProjectRequest",
                                 "metadata": {"name": name}, "displayName": "Team project"})


@pytest.fixture(name="project")
def project_fixture(developer, core):
    name = f"p-{secrets.token_hex(4)}"
    yield _request_project(developer, name)
    try:
        core.delete_namespace(name)
    except client.ApiException as exc:
        assert exc.status == 404


def test_project_request_creates_project_namespace_and_admin_binding(project, dyn, core, api):
    name = project.metadata.name
    assert project.kind == "Project"
    fetched = dyn.resources.get(api_version="project.openshift.io/v1", kind="Project").get(name=name)
    assert fetched.metadata.name == name
    namespace = core.read_namespace(name)
    assert namespace.metadata.annotations[REQUESTER] == "developer"
    assert namespace.metadata.annotations["openshift.io/display-name"] == "Team project"
    assert namespace.status.phase == "Active"
    binding = client.RbacAuthorizationV1Api(api).read_namespaced_role_binding("admin", name)
    assert binding.role_ref.kind == "ClusterRole"
    assert binding.role_ref.name == "admin"
    assert [(s.kind, s.name) for s in binding.subjects] == [("User", "developer")]


def test_project_request_as_admin_records_the_admin(dyn, core):
    name = f"p-{secrets.token_hex(4)}"
    _request_project(dyn, name)
    try:
        assert core.read_namespace(name).metadata.annotations[REQUESTER] == "system:admin"
    finally:
        core.delete_namespace(name)


def test_project_request_for_an_existing_name_is_409(project, developer):
    status = failure(_request_project, developer, project.metadata.name)
    assert status["reason"] == "AlreadyExists"


def test_projects_list_and_delete_through_the_namespace(project, dyn, core):
    projects = dyn.resources.get(api_version="project.openshift.io/v1", kind="Project")
    assert project.metadata.name in {p.metadata.name for p in projects.get().items}
    projects.delete(name=project.metadata.name)
    assert failure(core.read_namespace, project.metadata.name)["code"] == 404


def test_developer_deletes_a_project_but_not_its_namespace_directly(project, developer, emulator, core):
    name = project.metadata.name
    namespaces = client.CoreV1Api(emulator.api_client(DEVELOPER_TOKEN))
    assert failure(namespaces.delete_namespace, name)["code"] == 403
    developer.resources.get(api_version="project.openshift.io/v1", kind="Project").delete(name=name)
    assert failure(core.read_namespace, name)["code"] == 404


def test_developer_may_not_create_a_namespace(emulator):
    developer = client.CoreV1Api(emulator.api_client(DEVELOPER_TOKEN))
    status = failure(developer.create_namespace, {"metadata": {"name": f"t-{secrets.token_hex(4)}"}})
    assert status["code"] == 403
    assert status["reason"] == "Forbidden"
    assert status["message"] == ('namespaces is forbidden: User "developer" cannot create resource "namespaces" '
                                 'in API group "" at the cluster scope')


def test_developer_may_read_and_write_in_a_namespace(emulator, project):
    developer = client.CoreV1Api(emulator.api_client(DEVELOPER_TOKEN))
    developer.create_namespaced_config_map(project.metadata.name, {"metadata": {"name": "settings"}})
    assert developer.read_namespaced_config_map("settings", project.metadata.name).metadata.name == "settings"
    assert developer.list_namespace().items


def test_unknown_token_is_401(emulator):
    stranger = client.CoreV1Api(emulator.api_client("not-a-token"))
    status = failure(stranger.list_namespace)
    assert status["code"] == 401
    assert status["reason"] == "Unauthorized"


def test_admin_may_impersonate_the_developer(emulator):
    impersonating = emulator.api_client()
    impersonating.set_default_header("Impersonate-User", "developer")
    status = failure(client.CoreV1Api(impersonating).create_namespace, {"metadata": {"name": "never"}})
    assert 'User "developer"' in status["message"]


@pytest.mark.parametrize("who,name", [("admin", "system:admin"), ("developer", "developer")])
def test_user_tilde_is_the_calling_identity(dyn, developer, who, name):
    client = {"admin": dyn, "developer": developer}[who]
    users = client.resources.get(api_version="user.openshift.io/v1", kind="User")
    user = users.get(name="~")
    assert (user.apiVersion, user.kind, user.metadata.name) == ("user.openshift.io/v1", "User", name)
    assert user.groups == []


def test_user_tilde_follows_impersonation(emulator):
    code, user = emulator.http("GET", "/apis/user.openshift.io/v1/users/~", headers={"Impersonate-User": "alice"})
    assert code == 200
    assert user["metadata"]["name"] == "alice"


def test_other_users_are_not_found(emulator):
    code, status = emulator.http("GET", "/apis/user.openshift.io/v1/users/alice")
    assert code == 404
    assert status["message"] == 'users.user.openshift.io "alice" not found'


def test_vanilla_has_no_users(vanilla):
    code, status = vanilla.http("GET", "/apis/user.openshift.io/v1/users/~")
    assert code == 404
    assert status["reason"] == "NotFound"


def _review(api, verb, resource, group="", namespace=None):
    attributes = {"verb": verb, "resource": resource, "group": group}
    if namespace:
        attributes["namespace"] = namespace
    body = {"spec": {"resourceAttributes": attributes}}
    return client.AuthorizationV1Api(api).create_self_subject_access_review(body).status.allowed


def test_self_subject_access_review_answers_per_identity(emulator, api):
    developer = emulator.api_client(DEVELOPER_TOKEN)
    assert _review(developer, "create", "namespaces") is False
    assert _review(developer, "create", "namespaces", namespace="default") is False
    assert _review(developer, "create", "projectrequests", "project.openshift.io") is True
    assert _review(developer, "create", "configmaps", namespace="default") is True
    assert _review(developer, "list", "namespaces") is True
    assert _review(api, "create", "namespaces") is True


def test_kubectl_developer_context_is_forbidden_to_create_a_namespace(kubectl):
    done = kubectl("--context", "emulator-developer", "create", "namespace", f"t-{secrets.token_hex(4)}",
                   check=False)
    assert done.returncode == 1
    assert 'User "developer" cannot create resource "namespaces"' in done.stderr


def test_kubectl_developer_context_may_request_a_project(kubectl, core):
    name = f"p-{secrets.token_hex(4)}"
    request = {"apiVersion": "project.openshift.io/v1", "kind": "ProjectRequest", "metadata": {"name": name}}
    kubectl("--context", "emulator-developer", "create", "-f", "-", stdin=json.dumps(request))
    try:
        assert core.read_namespace(name).metadata.annotations[REQUESTER] == "developer"
    finally:
        core.delete_namespace(name)


@pytest.mark.parametrize("context,resource,answer", [
    ("emulator-developer", "namespaces", "no"),
    ("emulator-developer", "projectrequests.project.openshift.io", "yes"),
    ("emulator-developer", "configmaps", "yes"),
    ("emulator", "namespaces", "yes"),
])
def test_kubectl_auth_can_i(kubectl, context, resource, answer):
    done = kubectl("--context", context, "auth", "can-i", "create", resource, check=False)
    assert done.stdout.strip() == answer
    assert done.returncode == (0 if answer == "yes" else 1)


def test_vanilla_has_no_project_requests(vanilla):
    code, status = vanilla.http("POST", "/apis/project.openshift.io/v1/projectrequests", {"metadata": {"name": "x"}})
    assert code == 404
    assert status["reason"] == "NotFound"


# --- routes, builds, images ----------------------------------------------------------------------
def test_route_gets_a_host_and_is_admitted(dyn, namespace):
    routes = dyn.resources.get(api_version="route.openshift.io/v1", kind="Route")
    routes.create(namespace=namespace, body={
        "apiVersion": "route.openshift.io/v1", "kind": "Route", "metadata": {"name": "hub"},
        "spec": {"to": {"kind": "Service", "name": "proxy-public"}, "tls": {"termination": "edge"}}})
    route = routes.get(name="hub", namespace=namespace).to_dict()
    host = f"hub-{namespace}.apps.emulator.local"
    assert route["spec"]["host"] == host
    ingress = route["status"]["ingress"][0]
    assert ingress["host"] == host
    assert [(c["type"], c["status"]) for c in ingress["conditions"]] == [("Admitted", "True")]


def test_route_keeps_a_requested_host(dyn, namespace):
    routes = dyn.resources.get(api_version="route.openshift.io/v1", kind="Route")
    created = routes.create(namespace=namespace, body={
        "apiVersion": "route.openshift.io/v1", "kind": "Route", "metadata": {"name": "hub"},
        "spec": {"host": "hub.example.org", "to": {"kind": "Service", "name": "proxy-public"}}})
    assert created.to_dict()["status"]["ingress"][0]["host"] == "hub.example.org"


@pytest.fixture(name="other_namespace")
def other_namespace_fixture(core):
    """A second fresh namespace, for routes that compete for a host across namespaces."""
    name = f"t-{secrets.token_hex(4)}"
    core.create_namespace({"metadata": {"name": name}})
    yield name
    try:
        core.delete_namespace(name)
    except client.ApiException as exc:
        assert exc.status == 404


def _route(dyn, namespace, name, host=None, path=None):
    """Create a route; answer it as stored, as a dict."""
    spec = {"to": {"kind": "Service", "name": "proxy-public"}, **({"host": host} if host else {}),
            **({"path": path} if path else {})}
    routes = dyn.resources.get(api_version="route.openshift.io/v1", kind="Route")
    routes.create(namespace=namespace, body={"apiVersion": "route.openshift.io/v1", "kind": "Route",
                                             "metadata": {"name": name}, "spec": spec})
    return _read_route(dyn, namespace, name)


def _read_route(dyn, namespace, name):
    return dyn.resources.get(api_version="route.openshift.io/v1", kind="Route").get(
        name=name, namespace=namespace).to_dict()


def _admission(route):
    """(status, reason, message) of the default router's Admitted condition."""
    ingress = route["status"]["ingress"][0]
    [condition] = [c for c in ingress["conditions"] if c["type"] == "Admitted"]
    return condition["status"], condition.get("reason"), condition.get("message")


def test_a_host_held_in_another_namespace_is_not_admitted(dyn, namespace, other_namespace):
    holder = _route(dyn, namespace, "hub", "hub.example.org")
    late = _route(dyn, other_namespace, "hub", "hub.example.org")
    assert _admission(holder) == ("True", None, None)
    assert _admission(late) == ("False", "HostAlreadyClaimed",
                                "a route in another namespace holds hub.example.org and is older than hub")
    ingress = late["status"]["ingress"][0]
    assert (ingress["host"], ingress["routerName"], ingress["wildcardPolicy"]) == ("hub.example.org", "default", "None")
    # Under the default (Strict) policy the owning namespace holds every path of the host.
    other_path = _route(dyn, other_namespace, "api", "hub.example.org", "/api")
    assert _admission(other_path)[:2] == ("False", "HostAlreadyClaimed")
    assert _admission(_read_route(dyn, namespace, "hub")) == ("True", None, None)


def test_a_newer_route_for_the_same_host_and_path_in_the_namespace_is_not_admitted(dyn, namespace):
    _route(dyn, namespace, "hub", "hub.example.org")
    twin = _route(dyn, namespace, "hub-twin", "hub.example.org")
    assert _admission(twin) == ("False", "HostAlreadyClaimed", "route hub already exposes hub.example.org and is older")
    assert _admission(_route(dyn, namespace, "hub-api", "hub.example.org", "/api")) == ("True", None, None)


def test_deleting_the_holder_admits_the_route_it_held_back(dyn, namespace, other_namespace):
    _route(dyn, namespace, "hub", "hub.example.org")
    _route(dyn, other_namespace, "hub", "hub.example.org")
    routes = dyn.resources.get(api_version="route.openshift.io/v1", kind="Route")
    routes.delete(name="hub", namespace=namespace)
    assert _admission(_read_route(dyn, other_namespace, "hub")) == ("True", None, None)
    # And a route of the first namespace now meets the new owner.
    again = _route(dyn, namespace, "hub", "hub.example.org")
    assert _admission(again)[:2] == ("False", "HostAlreadyClaimed")


def test_the_oldest_route_takes_the_host_and_displaces_a_newer_holder(dyn, namespace, other_namespace):
    _route(dyn, namespace, "old", "old.example.org")
    time.sleep(1.1)  # creationTimestamps have seconds
    _route(dyn, other_namespace, "new", "hub.example.org")
    routes = dyn.resources.get(api_version="route.openshift.io/v1", kind="Route")
    routes.patch(name="old", namespace=namespace, body={"spec": {"host": "hub.example.org"}},
                 content_type="application/merge-patch+json")
    assert _admission(_read_route(dyn, namespace, "old")) == ("True", None, None)
    assert _admission(_read_route(dyn, other_namespace, "new")) == ("False", "HostAlreadyClaimed",
                                                                    "replaced by older route old")


def _build_config(name, annotations=None, triggers=None):
    return {"apiVersion": "build.openshift.io/v1", "kind": "BuildConfig",
            "metadata": {"name": name, "annotations": annotations or {}},
            "spec": {"source": {"git": {"uri": "https://example.org/repo.git"}},
                     "strategy": {"type": "Docker", "dockerStrategy": {}},
                     "output": {"to": {"kind": "ImageStreamTag", "name": f"{name}:latest"}},
                     "triggers": triggers or []}}


def _image_stream(dyn, namespace, name):
    streams = dyn.resources.get(api_version="image.openshift.io/v1", kind="ImageStream")
    streams.create(namespace=namespace, body={"apiVersion": "image.openshift.io/v1", "kind": "ImageStream",
                                              "metadata": {"name": name}})
    return streams


def _instantiate(dyn, namespace, name):
    configs = dyn.resources.get(api_version="build.openshift.io/v1", kind="BuildConfig")
    request = {"kind": "BuildRequest", "apiVersion": "build.openshift.io/v1", "metadata": {"name": name}}
    return configs.subresources["instantiate"].create(body=request, name=name, namespace=namespace)


def test_instantiated_build_completes_and_tags_the_image(dyn, namespace):
    streams = _image_stream(dyn, namespace, "notebook")
    stream = streams.get(name="notebook", namespace=namespace).to_dict()
    assert stream["status"]["dockerImageRepository"].endswith(f"/{namespace}/notebook")
    configs = dyn.resources.get(api_version="build.openshift.io/v1", kind="BuildConfig")
    configs.create(namespace=namespace, body=_build_config("notebook"))
    build = _instantiate(dyn, namespace, "notebook").to_dict()
    assert build["metadata"]["name"] == "notebook-1"
    assert build["status"]["phase"] == "Complete"
    builds = dyn.resources.get(api_version="build.openshift.io/v1", kind="Build")
    assert builds.get(name="notebook-1", namespace=namespace).to_dict()["status"]["phase"] == "Complete"
    tags = streams.get(name="notebook", namespace=namespace).to_dict()["status"]["tags"]
    assert [t["tag"] for t in tags] == ["latest"]
    assert tags[0]["items"][0]["image"] == build["status"]["output"]["to"]["imageDigest"]
    istags = dyn.resources.get(api_version="image.openshift.io/v1", kind="ImageStreamTag")
    istag = istags.get(name="notebook:latest", namespace=namespace).to_dict()
    assert istag["image"]["metadata"]["name"] == tags[0]["items"][0]["image"]
    assert configs.get(name="notebook", namespace=namespace).to_dict()["status"]["lastVersion"] == 1

    second = _instantiate(dyn, namespace, "notebook").to_dict()
    assert second["metadata"]["name"] == "notebook-2"
    retagged = istags.get(name="notebook:latest", namespace=namespace).to_dict()
    assert retagged["image"]["metadata"]["name"] == second["status"]["output"]["to"]["imageDigest"]
    assert retagged["image"]["metadata"]["name"] != istag["image"]["metadata"]["name"]
    assert retagged["metadata"]["uid"] == istag["metadata"]["uid"]


def test_failing_build_leaves_the_image_stream_untagged(dyn, namespace):
    streams = _image_stream(dyn, namespace, "notebook")
    configs = dyn.resources.get(api_version="build.openshift.io/v1", kind="BuildConfig")
    configs.create(namespace=namespace, body=_build_config(
        "notebook", {"emulator.hubfleet.io/outcome": "Failed"}))
    build = _instantiate(dyn, namespace, "notebook").to_dict()
    assert build["status"]["phase"] == "Failed"
    assert build["status"]["reason"] == "GenericBuildFailed"
    assert "tags" not in streams.get(name="notebook", namespace=namespace).to_dict()["status"]


def test_config_change_trigger_starts_a_build_with_a_log(dyn, emulator, namespace):
    _image_stream(dyn, namespace, "notebook")
    configs = dyn.resources.get(api_version="build.openshift.io/v1", kind="BuildConfig")
    configs.create(namespace=namespace, body=_build_config("notebook", triggers=[{"type": "ConfigChange"}]))
    builds = dyn.resources.get(api_version="build.openshift.io/v1", kind="Build")
    assert [b.metadata.name for b in builds.get(namespace=namespace).items] == ["notebook-1"]
    code, log = emulator.http("GET", f"/apis/build.openshift.io/v1/namespaces/{namespace}/builds/notebook-1/log")
    assert code == 200
    assert "Push successful" in log


def test_instantiating_a_missing_build_config_is_404(dyn, namespace):
    status = failure(_instantiate, dyn, namespace, "absent")
    assert status["details"]["name"] == "absent"
