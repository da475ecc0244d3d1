"""What the controllers share: markers, timestamps, owner references, template hashes, conditions."""
import hashlib
import json

OUTCOME = "emulator.hubfleet.io/outcome"
LOG = "emulator.hubfleet.io/log"
NODE = "emulator-node"
# The cluster CA that kube-root-ca.crt and ServiceAccount token Secrets hand out: a stand-in, no certificate.
ROOT_CA = "-----BEGIN CERTIFICATE-----\nemulator\n-----END CERTIFICATE-----\n"
HASH_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def now():
    from .. import cluster  # cluster imports this package, so not before it is needed
    return cluster.now()


def template_hash(template):
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    return "".join(HASH_ALPHABET[b % len(HASH_ALPHABET)] for b in digest[:10])


def owner_ref(owner):
    return {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}


def owned_by(obj, owner):
    return any(r.get("uid") == owner["metadata"]["uid"] for r in obj["metadata"].get("ownerReferences", []))


def conditions(existing, wanted):
    """Conditions as (type, status, reason); keep timestamps of those that did not change."""
    old = {c["type"]: c for c in existing or []}
    result = []
    for kind, status, reason in wanted:
        previous = old.get(kind)
        if previous and previous["status"] == status and previous.get("reason") == reason:
            result.append(previous)
        else:
            stamp = now()
            result.append({"type": kind, "status": status, "reason": reason, "lastTransitionTime": stamp,
                           "lastUpdateTime": stamp, "message": ""})
    return result


def without_zeros(status):
    return {k: v for k, v in status.items() if v not in (0, None)}


def stored(cluster, res, obj):
    return cluster.store.get(res, obj["metadata"].get("namespace"), obj["metadata"]["name"])


def marked_failed(obj):
    return (obj["metadata"].get("annotations") or {}).get(OUTCOME) == "Failed"
