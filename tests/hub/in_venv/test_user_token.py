"""roles/hub/files/user_token_hook.py in hub.extraConfig, run by the chart's own jupyterhub_config.py: the
KubeSpawner.auth_state_hook it configures, called as JupyterHub calls it before a spawn."""
import asyncio

from jupyterhub.objects import Hub
from kubespawner import KubeSpawner

from hub_harness import REPO, make_user

HOOK = REPO / "roles" / "hub" / "files" / "user_token_hook.py"
# The parts of hub_values' openshift auth values the hook depends on (auth_state kept, the hook's key).
VALUES = {
    "singleuser": {"cloudMetadata": {"blockWithIptables": False}},
    "hub": {"config": {"OpenShiftOAuthenticator": {"enable_auth_state": True}},
            "extraConfig": {"zz-hubfleet-user-token": HOOK.read_text()}},
}
EARLIER_HOOK = (
    "async def _site_hook(spawner, auth_state):\n"
    "    spawner.environment['SITE'] = 'was-here'\n"
    "c.KubeSpawner.auth_state_hook = _site_hook\n"
)


def run_hook(config, *auth_states):
    """The spawner's environment after JupyterHub's run_auth_state_hook with each auth state in turn, and the
    env of the pod KubeSpawner then builds."""
    async def run():
        spawner = KubeSpawner(config=config, user=make_user("jo.smith", admin=False),
                              hub=Hub(ip="hub", port=8081, base_url="/hub/"))
        for auth_state in auth_states:
            await spawner.run_auth_state_hook(auth_state)
        pod = await spawner.get_pod_manifest()
        env = {e.name: e.value for e in pod.spec.containers[0].env}
        return dict(spawner.environment), env

    return asyncio.run(run())


def test_the_access_token_reaches_the_pod(load_hub_config):
    config = load_hub_config(VALUES)
    environment, pod_env = run_hook(config, {"access_token": "sha256~user-token", "openshift_user": {}})
    assert environment["OPENSHIFT_TOKEN"] == "sha256~user-token"
    assert environment["OPENSHIFT_API_URL"] == "https://kubernetes.default.svc"
    assert pod_env["OPENSHIFT_TOKEN"] == "sha256~user-token"


def test_no_token_no_variable(load_hub_config):
    config = load_hub_config(VALUES)
    environment, pod_env = run_hook(config, {"access_token": "sha256~old"}, None)
    assert "OPENSHIFT_TOKEN" not in environment
    assert "OPENSHIFT_TOKEN" not in pod_env
    environment, _pod_env = run_hook(config, {"openshift_user": {}})
    assert "OPENSHIFT_TOKEN" not in environment


def test_without_the_hook_there_is_no_token(load_hub_config):
    config = load_hub_config({"singleuser": VALUES["singleuser"], "hub": {"config": VALUES["hub"]["config"]}})
    environment, _pod_env = run_hook(config, {"access_token": "sha256~user-token"})
    assert "OPENSHIFT_TOKEN" not in environment


def test_an_earlier_hook_still_runs(load_hub_config):
    values = {"singleuser": VALUES["singleuser"], "hub": {
        "config": VALUES["hub"]["config"],
        "extraConfig": {"00-site": EARLIER_HOOK, **VALUES["hub"]["extraConfig"]}}}
    environment, _pod_env = run_hook(load_hub_config(values), {"access_token": "sha256~user-token"})
    assert (environment["SITE"], environment["OPENSHIFT_TOKEN"]) == ("was-here", "sha256~user-token")
