"""The API catalogue the emulator serves: the Kubernetes version, groups, versions, resources, discovery documents."""
import re
from dataclasses import dataclass, field

# The pinned kubectl's version, served unless another is chosen.
DEFAULT_KUBE_VERSION = "v1.33.0"
KUBE_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)$")


def kube_version(text):
    """A Kubernetes version as /version's gitVersion: "1.27.3" or "v1.27.3" give "v1.27.3"; ValueError otherwise."""
    if not KUBE_VERSION.match(str(text)):
        raise ValueError(f"not a Kubernetes version (like 1.27.3): {text!r}")
    return "v" + str(text).lstrip("v")


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    short_names: tuple = ()
    subresources: tuple = ()
    verbs: tuple = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
    # List items carry apiVersion/kind only for custom resources, as on a real server.
    custom: bool = False
    # A virtual resource is a view over another one (OpenShift projects over namespaces).
    virtual: bool = False

    @property
    def api_version(self):
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def has_status(self):
        return "status" in self.subresources

    def discovery_entries(self):
        entry = {
            "name": self.plural,
            "singularName": self.kind.lower(),
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": list(self.verbs),
        }
        if self.short_names:
            entry["shortNames"] = list(self.short_names)
        if self.plural in CATEGORY_ALL:
            entry["categories"] = ["all"]
        entries = [entry]
        for sub in self.subresources:
            sub_kind, sub_verbs = SUBRESOURCE_SHAPES[sub]
            entries.append({
                "name": f"{self.plural}/{sub}",
                "singularName": "",
                "namespaced": self.namespaced,
                "kind": sub_kind or self.kind,
                "verbs": list(sub_verbs),
            })
        return entries


# What `kubectl get all` lists, as on a real server.
CATEGORY_ALL = {"pods", "services", "replicationcontrollers", "deployments", "replicasets", "statefulsets",
                "daemonsets", "jobs", "cronjobs", "buildconfigs", "builds", "imagestreams", "routes"}

SUBRESOURCE_SHAPES = {
    "status": (None, ("get", "patch", "update")),
    "scale": ("Scale", ("get", "patch", "update")),
    "log": ("Pod", ("get",)),
    "finalize": (None, ("update",)),
    "instantiate": ("Build", ("create",)),
    "eviction": ("Eviction", ("create",)),
}

CREATE_ONLY = ("create",)

CORE = [
    Resource("", "v1", "namespaces", "Namespace", False, ("ns",), ("status", "finalize")),
    Resource("", "v1", "pods", "Pod", True, ("po",), ("status", "log", "eviction")),
    Resource("", "v1", "services", "Service", True, ("svc",), ("status",)),
    Resource("", "v1", "endpoints", "Endpoints", True, ("ep",)),
    Resource("", "v1", "configmaps", "ConfigMap", True, ("cm",)),
    Resource("", "v1", "secrets", "Secret"),
    Resource("", "v1", "serviceaccounts", "ServiceAccount", True, ("sa",)),
    Resource("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, ("pvc",), ("status",)),
    Resource("", "v1", "persistentvolumes", "PersistentVolume", False, ("pv",), ("status",)),
    Resource("", "v1", "resourcequotas", "ResourceQuota", True, ("quota",), ("status",)),
    Resource("", "v1", "limitranges", "LimitRange", True, ("limits",)),
    Resource("", "v1", "events", "Event", True, ("ev",)),
    Resource("", "v1", "nodes", "Node", False, ("no",), ("status",)),
    Resource("", "v1", "replicationcontrollers", "ReplicationController", True, ("rc",), ("status", "scale")),
]

KUBERNETES_GROUPS = [
    Resource("apps", "v1", "deployments", "Deployment", True, ("deploy",), ("status", "scale")),
    Resource("apps", "v1", "statefulsets", "StatefulSet", True, ("sts",), ("status", "scale")),
    Resource("apps", "v1", "daemonsets", "DaemonSet", True, ("ds",), ("status",)),
    Resource("apps", "v1", "replicasets", "ReplicaSet", True, ("rs",), ("status", "scale")),
    Resource("apps", "v1", "controllerrevisions", "ControllerRevision"),
    Resource("batch", "v1", "jobs", "Job", True, (), ("status",)),
    Resource("batch", "v1", "cronjobs", "CronJob", True, ("cj",), ("status",)),
    Resource("rbac.authorization.k8s.io", "v1", "roles", "Role"),
    Resource("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding"),
    Resource("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False),
    Resource("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False),
    Resource("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", False,
             verbs=CREATE_ONLY),
    Resource("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview", False,
             verbs=CREATE_ONLY),
    Resource("networking.k8s.io", "v1", "ingresses", "Ingress", True, ("ing",), ("status",)),
    Resource("networking.k8s.io", "v1", "ingressclasses", "IngressClass", False),
    Resource("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True, ("netpol",)),
    Resource("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, ("pdb",), ("status",)),
    Resource("storage.k8s.io", "v1", "storageclasses", "StorageClass", False, ("sc",)),
    Resource("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", False, ("pc",)),
    Resource("snapshot.storage.k8s.io", "v1", "volumesnapshots", "VolumeSnapshot", True, ("vs",),
             ("status",), custom=True),
    Resource("snapshot.storage.k8s.io", "v1", "volumesnapshotcontents", "VolumeSnapshotContent", False,
             ("vsc",), ("status",), custom=True),
    Resource("snapshot.storage.k8s.io", "v1", "volumesnapshotclasses", "VolumeSnapshotClass", False,
             ("vsclass",), custom=True),
]

OPENSHIFT_GROUPS = [
    Resource("route.openshift.io", "v1", "routes", "Route", True, (), ("status",)),
    Resource("build.openshift.io", "v1", "buildconfigs", "BuildConfig", True, ("bc",), ("instantiate",)),
    Resource("build.openshift.io", "v1", "builds", "Build", True, (), ("log",)),
    Resource("image.openshift.io", "v1", "imagestreams", "ImageStream", True, ("is",), ("status",)),
    Resource("image.openshift.io", "v1", "imagestreamtags", "ImageStreamTag", True, ("istag",),
             verbs=("delete", "get", "list")),
    Resource("project.openshift.io", "v1", "projects", "Project", False, (), (),
             ("delete", "get", "list", "watch"), virtual=True),
    Resource("project.openshift.io", "v1", "projectrequests", "ProjectRequest", False, (), (),
             ("create", "list")),
    # Only `users/~`, the caller (what `oc whoami` asks for), is served.
    Resource("user.openshift.io", "v1", "users", "User", False, verbs=("get",)),
]


@dataclass
class Catalogue:
    """The resources of one emulated cluster, vanilla Kubernetes or OpenShift."""

    openshift: bool = True
    kube_version: str = DEFAULT_KUBE_VERSION
    resources: list = field(default_factory=list)

    def __post_init__(self):
        self.resources = CORE + KUBERNETES_GROUPS + (OPENSHIFT_GROUPS if self.openshift else [])
        self._by_path = {(r.group, r.version, r.plural): r for r in self.resources}
        self._by_kind = {(r.api_version, r.kind): r for r in self.resources}

    def version(self):
        """The /version document (version.Info), as `kubectl version` and client libraries read it."""
        major, minor, _patch = KUBE_VERSION.match(self.kube_version).groups()
        return {"major": major, "minor": minor, "gitVersion": self.kube_version, "gitCommit": "emulator",
                "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.24", "compiler": "gc",
                "platform": "linux/amd64"}

    def lookup(self, group, version, plural):
        return self._by_path.get((group, version, plural))

    def for_kind(self, api_version, kind):
        return self._by_kind.get((api_version, kind))

    def group_versions(self):
        seen = {}
        for res in self.resources:
            if res.group:
                seen.setdefault(res.group, [])
                if res.version not in seen[res.group]:
                    seen[res.group].append(res.version)
        return seen

    def core_versions(self):
        return {"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}

    def group_list(self):
        groups = []
        for name, versions in self.group_versions().items():
            entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
            groups.append({"name": name, "versions": entries, "preferredVersion": entries[0]})
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    def group(self, name):
        for group in self.group_list()["groups"]:
            if group["name"] == name:
                return {"kind": "APIGroup", "apiVersion": "v1", **group}
        return None

    def resource_list(self, group, version):
        entries = []
        for res in self.resources:
            if res.group == group and res.version == version:
                entries.extend(res.discovery_entries())
        if not entries:
            return None
        group_version = f"{group}/{version}" if group else version
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
                "resources": entries}
