"""ServiceAccount token Secrets: the token controller fills them in, and deletes those whose ServiceAccount is gone.

The tokens look like the legacy ones (a JWT naming the account and the Secret) but are not signed: the emulator
authenticates only its own two tokens.
"""
import base64
import copy
import json
import secrets

from ..validation import ACCOUNT_NAME, TOKEN_TYPE
from .common import ROOT_CA

ACCOUNT_UID = "kubernetes.io/service-account.uid"


def _b64(text):
    return base64.b64encode(text.encode()).decode()


def _segment(claims):
    return base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")


def _token(account, secret):
    namespace, name = account["metadata"]["namespace"], account["metadata"]["name"]
    claims = {"iss": "kubernetes/serviceaccount", "sub": f"system:serviceaccount:{namespace}:{name}",
              "kubernetes.io/serviceaccount/namespace": namespace,
              "kubernetes.io/serviceaccount/secret.name": secret["metadata"]["name"],
              "kubernetes.io/serviceaccount/service-account.name": name,
              "kubernetes.io/serviceaccount/service-account.uid": account["metadata"]["uid"]}
    return ".".join((_segment({"alg": "RS256", "kid": "emulator"}), _segment(claims), secrets.token_urlsafe(32)))


def _account_of(cluster, secret):
    """The ServiceAccount a token Secret names (by uid too, once the Secret records one), or None."""
    meta = secret["metadata"]
    annotations = meta.get("annotations") or {}
    account = cluster.store.get(cluster.res("serviceaccounts"), meta["namespace"], annotations.get(ACCOUNT_NAME, ""))
    if account is None or annotations.get(ACCOUNT_UID, account["metadata"]["uid"]) != account["metadata"]["uid"]:
        return None
    return account


def reconcile_secret(cluster, res, secret):
    if secret.get("type") != TOKEN_TYPE:
        return
    account = _account_of(cluster, secret)
    if account is None:
        cluster.delete(res, secret["metadata"]["namespace"], secret["metadata"]["name"])
        return
    body = copy.deepcopy(secret)
    data = body["data"] = dict(body.get("data") or {})
    data["ca.crt"] = _b64(ROOT_CA)
    data["namespace"] = data.get("namespace") or _b64(secret["metadata"]["namespace"])
    data["token"] = data.get("token") or _b64(_token(account, secret))
    body["metadata"]["annotations"][ACCOUNT_UID] = account["metadata"]["uid"]
    if body != secret:
        cluster.system_put(res, body)


def delete_tokens(cluster, account):
    """A ServiceAccount was deleted: so are its token Secrets."""
    res = cluster.res("secrets")
    meta = account["metadata"]
    for secret in cluster.store.items(res, meta["namespace"]):
        annotations = secret["metadata"].get("annotations") or {}
        if secret.get("type") == TOKEN_TYPE and annotations.get(ACCOUNT_NAME) == meta["name"] and \
                annotations.get(ACCOUNT_UID, meta["uid"]) == meta["uid"]:
            cluster.delete(res, meta["namespace"], secret["metadata"]["name"])
