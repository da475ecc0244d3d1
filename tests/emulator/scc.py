"""OpenShift SecurityContextConstraints admission, for the three SCCs that matter to applications.

Every namespace gets its own UID block, supplemental groups and SELinux level (the annotations of the
namespace security allocation controller). A new pod is admitted under the first SCC, by priority, that
its creator or its service account may use and that accepts it (after the SCC filled in its defaults);
the pod records it in the `openshift.io/scc` annotation. Everyone may use restricted-v2; a service
account may use anyuid or privileged when a RoleBinding in its namespace or a ClusterRoleBinding binds it
to the ClusterRole `system:openshift:scc:<scc>` (what `oc adm policy add-scc-to-user <scc> -z <sa>`
writes). The emulator's admin is a cluster-admin: the pods it creates itself may use every SCC; pods
created by a controller (a controller ownerReference) are judged by their service account alone.
"""
from . import errors

UID_RANGE = "openshift.io/sa.scc.uid-range"
GROUPS = "openshift.io/sa.scc.supplemental-groups"
MCS = "openshift.io/sa.scc.mcs"
SCC = "openshift.io/scc"
BASE, BLOCK = 1000000000, 10000
SCC_ROLE = "system:openshift:scc:"
SAFE_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected",
                "secret"}
# In admission order: priority first (anyuid has 10), then the most restrictive.
SCCS = {
    "anyuid": {"uids": False, "escalation": True, "capabilities": set(), "volumes": SAFE_VOLUMES, "privileged": False},
    "restricted-v2": {"uids": True, "escalation": False, "capabilities": {"NET_BIND_SERVICE"},
                      "volumes": SAFE_VOLUMES, "privileged": False},
    "privileged": {"uids": False, "escalation": True, "capabilities": None, "volumes": None, "privileged": True},
}


def _mcs(block):
    """The SELinux level of the n-th block: category pairs in order, s0:c1,c0, s0:c2,c0, s0:c2,c1, ..."""
    high = 1
    while block >= high:
        block -= high
        high += 1
    return f"s0:c{high},c{block}"


def allocate(cluster, ns):
    """Give a new namespace the first free UID block, as its uid-range, supplemental groups and MCS level."""
    annotations = ns["metadata"].get("annotations") or {}
    if UID_RANGE in annotations:
        return
    namespaces = cluster.store.items(cluster.res("namespaces"))
    used = {(n["metadata"].get("annotations") or {}).get(UID_RANGE) for n in namespaces}
    block = 0
    while f"{BASE + block * BLOCK}/{BLOCK}" in used:
        block += 1
    body = {**ns, "metadata": {**ns["metadata"], "annotations": {
        **annotations, UID_RANGE: f"{BASE + block * BLOCK}/{BLOCK}", GROUPS: f"{BASE + block * BLOCK}/{BLOCK}",
        MCS: _mcs(block)}}}
    cluster.system_put(cluster.res("namespaces"), body)


def _range(annotation):
    start, _slash, size = (annotation or f"{BASE}/{BLOCK}").partition("/")
    return int(start), int(start) + int(size or BLOCK) - 1


def _granted(cluster, namespace, account, scc):
    """Whether a RoleBinding of the namespace or a ClusterRoleBinding gives the service account that SCC."""
    wanted = {("ServiceAccount", account, namespace), ("Group", "system:serviceaccounts", None),
              ("Group", f"system:serviceaccounts:{namespace}", None), ("Group", "system:authenticated", None)}
    rbac = "rbac.authorization.k8s.io"
    bindings = cluster.store.items(cluster.res("rolebindings", rbac), namespace) + \
        cluster.store.items(cluster.res("clusterrolebindings", rbac))
    for binding in bindings:
        if not _allows_use(cluster, binding, scc):
            continue
        for subject in binding.get("subjects") or []:
            kind = subject.get("kind")
            if (kind, subject.get("name"), subject.get("namespace") if kind == "ServiceAccount" else None) in wanted:
                return True
    return False


def _allows_use(cluster, binding, scc):
    """Whether the role a binding refers to may `use` the SCC: OpenShift's ClusterRole system:openshift:scc:<scc>
    (not stored by the emulator), or a stored Role or ClusterRole with that rule."""
    ref = binding.get("roleRef") or {}
    if ref.get("kind") == "ClusterRole" and ref.get("name") == SCC_ROLE + scc:
        return True
    rbac = "rbac.authorization.k8s.io"
    if ref.get("kind") == "Role":
        role = cluster.store.get(cluster.res("roles", rbac), binding["metadata"].get("namespace"), ref.get("name"))
    else:
        role = cluster.store.get(cluster.res("clusterroles", rbac), None, ref.get("name"))
    for rule in (role or {}).get("rules") or []:
        if {"security.openshift.io", "*"} & set(rule.get("apiGroups") or []) and \
                {"securitycontextconstraints", "*"} & set(rule.get("resources") or []) and \
                {"use", "*"} & set(rule.get("verbs") or []) and scc in (rule.get("resourceNames") or [scc]):
            return True
    return False


def _containers(spec):
    return [(key, index, c) for key in ("initContainers", "containers")
            for index, c in enumerate(spec.get(key) or []) if isinstance(c, dict)]


def _try(name, pod, ns):
    """The pod as the SCC would admit it (its defaults filled in), or the list of its refusals."""
    rules = SCCS[name]
    uids, groups = _range((ns.get("annotations") or {}).get(UID_RANGE)), \
        _range((ns.get("annotations") or {}).get(GROUPS) or (ns.get("annotations") or {}).get(UID_RANGE))
    spec = pod["spec"]
    pod_sc = spec.get("securityContext") or {}
    problems = []
    if rules["uids"]:
        for group in [pod_sc["fsGroup"]] if "fsGroup" in pod_sc else []:
            if not groups[0] <= group <= groups[1]:
                problems.append(f".spec.securityContext.fsGroup: Invalid value: []int64{{{group}}}: {group} is not an "
                                "allowed group")
        if "runAsUser" in pod_sc and not uids[0] <= pod_sc["runAsUser"] <= uids[1]:
            problems.append(f".spec.securityContext.runAsUser: Invalid value: {pod_sc['runAsUser']}: must be in the "
                            f"ranges: [{uids[0]}, {uids[1]}]")
    for volume_index, volume in enumerate(spec.get("volumes") or []):
        kinds = [k for k in volume if k != "name" and rules["volumes"] is not None and k not in rules["volumes"]]
        if kinds:
            problems.append(f'.spec.volumes[{volume_index}]: Invalid value: "{kinds[0]}": {kinds[0]} volumes are '
                            "not allowed to be used")
    for field, flag in (("hostNetwork", "Host network"), ("hostPID", "Host PID"), ("hostIPC", "Host IPC")):
        if spec.get(field) and not rules["privileged"]:
            problems.append(f".spec.securityContext.{field}: Invalid value: true: {flag} is not allowed to be used")
    for key, index, container in _containers(spec):
        sc = container.get("securityContext") or {}
        where = f".{key}[{index}]"
        if rules["uids"] and "runAsUser" in sc and not uids[0] <= sc["runAsUser"] <= uids[1]:
            problems.append(f"{where}.runAsUser: Invalid value: {sc['runAsUser']}: must be in the ranges: "
                            f"[{uids[0]}, {uids[1]}]")
        if sc.get("privileged") and not rules["privileged"]:
            problems.append(f"{where}.privileged: Invalid value: true: Privileged containers are not allowed")
        if rules["capabilities"] is not None:
            for cap in (sc.get("capabilities") or {}).get("add") or []:
                if cap not in rules["capabilities"]:
                    problems.append(f'{where}.capabilities.add: Invalid value: "{cap}": capability may not be added')
        if sc.get("allowPrivilegeEscalation") and not rules["escalation"]:
            problems.append(f"{where}.allowPrivilegeEscalation: Invalid value: true: Allowing privilege escalation "
                            "for containers is not allowed")
        for port in container.get("ports") or []:
            if port.get("hostPort") and not rules["privileged"]:
                problems.append(f"{where}.hostPort: Invalid value: {port['hostPort']}: Host ports are not allowed "
                                "to be used")
    return problems


def _defaults(name, pod, ns):
    """What the SCC sets on a pod it admits: restricted-v2 runs it in the namespace's ranges."""
    annotations = ns.get("annotations") or {}
    spec = pod["spec"]
    if name == "restricted-v2":
        pod_sc = spec.setdefault("securityContext", {})
        pod_sc.setdefault("fsGroup", _range(annotations.get(GROUPS) or annotations.get(UID_RANGE))[0])
        pod_sc.setdefault("seLinuxOptions", {}).setdefault("level", annotations.get(MCS, "s0:c1,c0"))
        pod_sc.setdefault("seccompProfile", {"type": "RuntimeDefault"})
        for _key, _index, container in _containers(spec):
            sc = container.setdefault("securityContext", {})
            if "runAsUser" not in pod_sc:
                sc.setdefault("runAsUser", _range(annotations.get(UID_RANGE))[0])
            sc.setdefault("allowPrivilegeEscalation", False)
            sc.setdefault("capabilities", {}).setdefault("drop", ["ALL"])
    pod["metadata"].setdefault("annotations", {})[SCC] = name


def check(cluster, pod, user):
    """Admit a new pod under an SCC (filling in its defaults) or refuse it (403) as OpenShift does."""
    meta = pod["metadata"]
    ns = cluster.store.get(cluster.res("namespaces"), None, meta["namespace"])["metadata"]
    account = pod["spec"].get("serviceAccountName") or pod["spec"].get("serviceAccount") or "default"
    by_controller = any(ref.get("controller") for ref in meta.get("ownerReferences") or [])
    admin = user == "system:admin" and not by_controller
    failures = []
    for name in SCCS:
        if not (admin or name == "restricted-v2" or _granted(cluster, meta["namespace"], account, name)):
            failures.append(f'provider "{name}": Forbidden: not usable by user or serviceaccount')
            continue
        problems = _try(name, pod, ns)
        if not problems:
            _defaults(name, pod, ns)
            return
        failures.extend(f"provider {name}: {problem}" for problem in problems)
    raise errors.forbidden_object(cluster.res("pods"), meta["name"], "unable to validate against any security "
                                                                     f"context constraint: [{', '.join(failures)}]")
