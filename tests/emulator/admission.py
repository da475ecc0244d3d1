"""Pod Security admission: the Pod Security Standards enforced by namespace labels, as kube-apiserver does.

A namespace chooses a level (privileged, baseline, restricted) per mode with the labels
`pod-security.kubernetes.io/<mode>` and `<mode>-version`. `enforce` refuses a pod that breaks it (403);
`warn` answers a warning; for workload objects (Deployment, Job, ...) both modes only warn, about
their pod template. `audit` writes to an audit log the emulator does not keep. Namespaces without a
label are privileged (the default configuration). The checks are those of the latest standards,
whatever the version label says; the version is only reported.
"""
from . import errors

LABEL = "pod-security.kubernetes.io/"
LEVELS = ("privileged", "baseline", "restricted")
# Where each workload kind keeps its pod template.
TEMPLATES = {"deployments": ("spec", "template"), "replicasets": ("spec", "template"),
             "statefulsets": ("spec", "template"), "daemonsets": ("spec", "template"),
             "jobs": ("spec", "template"), "replicationcontrollers": ("spec", "template"),
             "cronjobs": ("spec", "jobTemplate", "spec", "template"), "podtemplates": ("template",)}
BASELINE_CAPABILITIES = {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
                         "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
SAFE_SYSCTLS = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
                "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
                "net.ipv4.tcp_keepalive_probes"}
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                      "projected", "secret"}
VOLUME_FIELDS = {"name"}


def _containers(spec):
    return [c for key in ("initContainers", "containers", "ephemeralContainers")
            for c in spec.get(key) or [] if isinstance(c, dict)]


def _sc(obj):
    return obj.get("securityContext") or {}


def _quoted(names):
    return ", ".join(f'"{name}"' for name in names)


def _who(kind, names):
    """'container "a"' or 'containers "a", "b"', as the standards' messages name them."""
    return f"{kind}{'s' if len(names) > 1 else ''} {_quoted(names)}"


def _failing(spec, test):
    return [c.get("name", "") for c in _containers(spec) if test(c)]


def _host_namespaces(spec):
    found = [f"{field}=true" for field in ("hostNetwork", "hostPID", "hostIPC") if spec.get(field)]
    return found and ("host namespaces", ", ".join(found))


def _privileged(spec):
    names = _failing(spec, lambda c: _sc(c).get("privileged"))
    return names and ("privileged", f"{_who('container', names)} must not set securityContext.privileged=true")


def _added(container):
    return (_sc(container).get("capabilities") or {}).get("add") or []


def _capabilities_baseline(spec):
    details = []
    for container in _containers(spec):
        extra = [cap for cap in _added(container) if cap not in BASELINE_CAPABILITIES]
        if extra:
            details.append(f'container "{container.get("name", "")}" must not include {_quoted(extra)} in '
                           "securityContext.capabilities.add")
    return details and ("non-default capabilities", "; ".join(details))


def _host_path(spec):
    names = [v.get("name", "") for v in spec.get("volumes") or [] if "hostPath" in v]
    return names and ("hostPath volumes", _who("volume", names))


def _host_ports(spec):
    details = []
    for container in _containers(spec):
        ports = [str(p["hostPort"]) for p in container.get("ports") or [] if p.get("hostPort")]
        if ports:
            noun = "hostPorts" if len(ports) > 1 else "hostPort"
            details.append(f'container "{container.get("name", "")}" uses {noun} {", ".join(ports)}')
    return details and ("hostPort", "; ".join(details))


def _seccomp_type(obj):
    return (_sc(obj).get("seccompProfile") or {}).get("type")


def _seccomp_baseline(spec):
    details = []
    if _seccomp_type(spec) == "Unconfined":
        details.append('pod must not set securityContext.seccompProfile.type to "Unconfined"')
    names = _failing(spec, lambda c: _seccomp_type(c) == "Unconfined")
    if names:
        details.append(f'{_who("container", names)} must not set securityContext.seccompProfile.type to "Unconfined"')
    return details and ("seccompProfile", "; ".join(details))


def _sysctls(spec):
    names = [s.get("name", "") for s in _sc(spec).get("sysctls") or [] if s.get("name") not in SAFE_SYSCTLS]
    return names and ("forbidden sysctls", ", ".join(names))


def _restricted_volumes(spec):
    details = []
    for volume in spec.get("volumes") or []:
        kinds = [key for key in volume if key not in VOLUME_FIELDS and key not in RESTRICTED_VOLUMES]
        if kinds:
            details.append(f'volume "{volume.get("name", "")}" uses restricted volume type "{kinds[0]}"')
    return details and ("restricted volume types", ", ".join(details))


def _privilege_escalation(spec):
    names = _failing(spec, lambda c: _sc(c).get("allowPrivilegeEscalation") is not False)
    return names and ("allowPrivilegeEscalation != false",
                      f"{_who('container', names)} must set securityContext.allowPrivilegeEscalation=false")


def _capabilities_restricted(spec):
    details = []
    missing = _failing(spec, lambda c: "ALL" not in ((_sc(c).get("capabilities") or {}).get("drop") or []))
    if missing:
        details.append(f'{_who("container", missing)} must set securityContext.capabilities.drop=["ALL"]')
    for container in _containers(spec):
        extra = [cap for cap in _added(container) if cap != "NET_BIND_SERVICE"]
        if extra:
            details.append(f'container "{container.get("name", "")}" must not include {_quoted(extra)} in '
                           "securityContext.capabilities.add")
    return details and ("unrestricted capabilities", "; ".join(details))


def _run_as_non_root(spec):
    pod = _sc(spec).get("runAsNonRoot")
    details = []
    if pod is False:
        details.append("pod must not set securityContext.runAsNonRoot=false")
    explicit_false = _failing(spec, lambda c: _sc(c).get("runAsNonRoot") is False)
    if explicit_false:
        details.append(f"{_who('container', explicit_false)} must not set securityContext.runAsNonRoot=false")
    if pod is not True:
        unset = _failing(spec, lambda c: _sc(c).get("runAsNonRoot") is None)
        if unset:
            details.append(f"pod or {_who('container', unset)} must set securityContext.runAsNonRoot=true")
    return details and ("runAsNonRoot != true", "; ".join(details))


def _run_as_user(spec):
    details = []
    if _sc(spec).get("runAsUser") == 0:
        details.append("pod must not set runAsUser=0")
    names = _failing(spec, lambda c: _sc(c).get("runAsUser") == 0)
    if names:
        details.append(f"{_who('container', names)} must not set runAsUser=0")
    return details and ("runAsUser=0", "; ".join(details))


def _seccomp_restricted(spec):
    allowed = ("RuntimeDefault", "Localhost")
    pod = _seccomp_type(spec)
    details = []
    if pod is not None and pod not in allowed:
        details.append(f'pod must not set securityContext.seccompProfile.type to "{pod}"')
    bad = _failing(spec, lambda c: _seccomp_type(c) is not None and _seccomp_type(c) not in allowed)
    if bad:
        details.append(f'{_who("container", bad)} must not set securityContext.seccompProfile.type to '
                       f'"{_seccomp_type(next(c for c in _containers(spec) if c.get("name", "") == bad[0]))}"')
    if pod is None:
        unset = _failing(spec, lambda c: _seccomp_type(c) is None)
        if unset:
            details.append(f'pod or {_who("container", unset)} must set securityContext.seccompProfile.type to '
                           '"RuntimeDefault" or "Localhost"')
    return details and ("seccompProfile", "; ".join(details))


# Check id, the check, and the level that applies it; the restricted ones replace the baseline ones of the
# same area. Reasons come out in the order of the ids, as the admission plugin lists them.
CHECKS = [
    ("allowPrivilegeEscalation", _privilege_escalation, "restricted"),
    ("capabilities_baseline", _capabilities_baseline, "baseline"),
    ("capabilities_restricted", _capabilities_restricted, "restricted"),
    ("hostNamespaces", _host_namespaces, "baseline"),
    ("hostPathVolumes", _host_path, "baseline"),
    ("hostPorts", _host_ports, "baseline"),
    ("privileged", _privileged, "baseline"),
    ("restrictedVolumes", _restricted_volumes, "restricted"),
    ("runAsNonRoot", _run_as_non_root, "restricted"),
    ("runAsUser", _run_as_user, "restricted"),
    ("seccompProfile_baseline", _seccomp_baseline, "baseline"),
    ("seccompProfile_restricted", _seccomp_restricted, "restricted"),
    ("sysctls", _sysctls, "baseline"),
]
REPLACED_IN_RESTRICTED = {"capabilities_baseline", "seccompProfile_baseline"}


def violations(spec, level):
    """The standards `spec` (a pod spec) breaks at `level`, as 'reason (detail)' strings."""
    if level == "privileged":
        return []
    found = []
    for check_id, check, check_level in CHECKS:
        if check_level == "restricted" and level != "restricted":
            continue
        if level == "restricted" and check_id in REPLACED_IN_RESTRICTED:
            continue
        result = check(spec or {})
        if result:
            found.append(f"{result[0]} ({result[1]})")
    return found


def policy(namespace, mode):
    """(level, version) of a namespace's mode; a missing or unknown level is privileged, as by default."""
    labels = (namespace or {}).get("metadata", {}).get("labels") or {}
    level = labels.get(LABEL + mode)
    if level not in LEVELS:
        level = "privileged"
    return level, labels.get(f"{LABEL}{mode}-version") or "latest"


def _pod_spec(res, obj):
    if res.plural == "pods":
        return obj.get("spec") or {}
    value = obj
    for key in TEMPLATES[res.plural]:
        value = (value or {}).get(key) or {}
    return value.get("spec") or {}


def check(cluster, res, obj, warnings):
    """Pod Security admission of a create: refuse a pod that breaks its namespace's enforced level (403); add
    to `warnings` what breaks the warned level, and for workloads what breaks either."""
    if res.group not in ("", "apps", "batch") or (res.plural != "pods" and res.plural not in TEMPLATES):
        return
    namespace = cluster.store.get(cluster.res("namespaces"), None, obj["metadata"].get("namespace"))
    spec = _pod_spec(res, obj)
    enforce = policy(namespace, "enforce")
    found = violations(spec, enforce[0])
    if found and res.plural == "pods":
        raise errors.forbidden_object(res, obj["metadata"]["name"],
                                      f'violates PodSecurity "{enforce[0]}:{enforce[1]}": {", ".join(found)}')
    modes = [policy(namespace, "warn")] + ([enforce] if res.plural != "pods" else [])
    for level, version in dict.fromkeys(modes):
        found = violations(spec, level)
        if found:
            warnings.append(f'would violate PodSecurity "{level}:{version}": {", ".join(found)}')


def warning_header(warnings):
    """The Warning header of an answer: one `299 - "<text>"` value per warning, quotes escaped."""
    if not warnings:
        return None
    return ", ".join('299 - "{}"'.format(w.replace("\\", "\\\\").replace('"', '\\"')) for w in warnings)
