# hubfleet.jupyterhub: the user's own OpenShift token in their server
# (tested under each chart line's real hub packages: tests/hub/in_venv/test_user_token.py).
#
# Put verbatim into the z2jh value hub.extraConfig (key zz-hubfleet-user-token). With OpenShift
# login and enable_auth_state, the hub keeps each user's OAuth access token encrypted (z2jh
# generates the CryptKeeper key). Before each spawn this hands it to the user's server as
# OPENSHIFT_TOKEN, with OPENSHIFT_API_URL, so that `oc login --token="$OPENSHIFT_TOKEN"
# "$OPENSHIFT_API_URL"` acts with the user's rights as narrowed by the login's scopes, and no more.
# The pods mount no service account token (KubeSpawner automount_service_account_token: false).


def _hubfleet_user_token_setup(config):
    import inspect

    previous = config.KubeSpawner.get("auth_state_hook")

    async def user_token_auth_state_hook(spawner, auth_state):
        if previous is not None:
            result = previous(spawner, auth_state)
            if inspect.isawaitable(result):
                await result
        token = (auth_state or {}).get("access_token")
        if token:
            spawner.environment["OPENSHIFT_TOKEN"] = token
            spawner.environment["OPENSHIFT_API_URL"] = "https://kubernetes.default.svc"
        else:
            spawner.environment.pop("OPENSHIFT_TOKEN", None)

    config.KubeSpawner.auth_state_hook = user_token_auth_state_hook


_hubfleet_user_token_setup(c)  # noqa: F821  pylint: disable=undefined-variable
del _hubfleet_user_token_setup
