"""SelfSubjectAccessReview: whether the caller may do a verb on a resource."""
import copy


def access_review(cluster, body, user, dry_run):
    del dry_run
    attrs = (body.get("spec") or {}).get("resourceAttributes") or {}
    try:
        res = next(r for r in cluster.catalogue.resources
                   if r.plural == attrs.get("resource") and r.group == attrs.get("group", ""))
    except StopIteration:
        allowed = user == "system:admin"
    else:
        allowed = cluster.allowed(user, attrs.get("verb", "get"), res, attrs.get("namespace") or None)
    review = copy.deepcopy(body)
    review.update(apiVersion="authorization.k8s.io/v1", kind="SelfSubjectAccessReview",
                  status={"allowed": allowed})
    review.setdefault("metadata", {})
    return review
