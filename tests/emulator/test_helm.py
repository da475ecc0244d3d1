"""helm against the emulator: install --wait, upgrade and uninstall of a small chart, release Secrets."""
import base64
import gzip
import json

import pytest

CHART = "apiVersion: v2\nname: demo\nversion: 0.1.0\nappVersion: '1.0'\n"
VALUES = "replicas: 2\nimage: busybox:1\n"
TEMPLATE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-settings
data:
  image: {{ .Values.image | quote }}
---
apiVersion: v1
kind: Secret
metadata:
  name: {{ .Release.Name }}-token
stringData:
  token: not-secret
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
spec:
  selector: {app: {{ .Release.Name }}}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {{ .Release.Name }}-data
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  replicas: {{ .Values.replicas }}
  selector: {matchLabels: {app: {{ .Release.Name }}}}
  template:
    metadata: {labels: {app: {{ .Release.Name }}}}
    spec:
      containers: [{name: main, image: {{ .Values.image | quote }}}]
      volumes: [{name: data, persistentVolumeClaim: {claimName: {{ .Release.Name }}-data}}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ .Release.Name }}-db
spec:
  serviceName: {{ .Release.Name }}-db
  selector: {matchLabels: {app: {{ .Release.Name }}-db}}
  template:
    metadata: {labels: {app: {{ .Release.Name }}-db}}
    spec:
      containers: [{name: db, image: {{ .Values.image | quote }}}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: {{ .Release.Name }}-agent
spec:
  selector: {matchLabels: {app: {{ .Release.Name }}-agent}}
  template:
    metadata: {labels: {app: {{ .Release.Name }}-agent}}
    spec:
      containers: [{name: agent, image: {{ .Values.image | quote }}}]
---
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-migrate-{{ .Release.Revision }}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: {{ .Values.image | quote }}}]
"""


@pytest.fixture(name="chart")
def chart_fixture(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "Chart.yaml").write_text(CHART)
    (tmp_path / "values.yaml").write_text(VALUES)
    (tmp_path / "templates" / "all.yaml").write_text(TEMPLATE)
    return str(tmp_path)


def _release(secret):
    """Decode a helm release Secret: base64 (the API) of base64 of gzip of JSON."""
    return json.loads(gzip.decompress(base64.b64decode(base64.b64decode(secret.data["release"]))))


def _release_secrets(core, namespace):
    return sorted(core.list_namespaced_secret(namespace, label_selector="owner=helm").items,
                  key=lambda s: s.metadata.name)


def test_install_wait_upgrade_and_uninstall(helm, chart, core, apps, namespace):
    helm("install", "demo", chart, "-n", namespace, "--wait", "--wait-for-jobs", "--timeout", "30s")
    assert apps.read_namespaced_deployment("demo", namespace).status.ready_replicas == 2
    assert apps.read_namespaced_stateful_set("demo-db", namespace).status.ready_replicas == 1
    assert core.read_namespaced_persistent_volume_claim("demo-data", namespace).status.phase == "Bound"
    status = json.loads(helm("status", "demo", "-n", namespace, "-o", "json").stdout)
    assert status["info"]["status"] == "deployed"
    assert status["version"] == 1

    helm("upgrade", "demo", chart, "-n", namespace, "--wait", "--timeout", "30s", "--set", "replicas=3",
         "--set", "image=busybox:2")
    deployment = apps.read_namespaced_deployment("demo", namespace)
    assert deployment.status.ready_replicas == 3
    assert deployment.spec.template.spec.containers[0].image == "busybox:2"
    assert core.read_namespaced_config_map("demo-settings", namespace).data == {"image": "busybox:2"}
    history = json.loads(helm("history", "demo", "-n", namespace, "-o", "json").stdout)
    assert [(h["revision"], h["status"]) for h in history] == [(1, "superseded"), (2, "deployed")]

    helm("uninstall", "demo", "-n", namespace, "--wait", "--timeout", "30s")
    assert apps.list_namespaced_deployment(namespace).items == []
    assert core.list_namespaced_pod(namespace).items == []
    assert core.list_namespaced_persistent_volume_claim(namespace).items == []
    assert _release_secrets(core, namespace) == []
    assert helm("status", "demo", "-n", namespace, check=False).returncode == 1


def test_release_secrets_are_readable_as_json(helm, chart, core, namespace):
    helm("install", "demo", chart, "-n", namespace)
    helm("upgrade", "demo", chart, "-n", namespace, "--set", "replicas=1")
    secrets = _release_secrets(core, namespace)
    assert [s.metadata.name for s in secrets] == ["sh.helm.release.v1.demo.v1", "sh.helm.release.v1.demo.v2"]
    latest = secrets[1]
    assert latest.type == "helm.sh/release.v1"
    labels = latest.metadata.labels
    assert {k: labels[k] for k in ("owner", "name", "status", "version")} == {
        "owner": "helm", "name": "demo", "status": "deployed", "version": "2"}
    assert secrets[0].metadata.labels["status"] == "superseded"
    release = _release(latest)
    assert release["name"] == "demo"
    assert release["version"] == 2
    assert release["config"] == {"replicas": 1}
    assert release["chart"]["metadata"]["name"] == "demo"


def test_install_into_a_missing_namespace_fails_and_create_namespace_works(helm, chart, core):
    missing = helm("install", "demo", chart, "-n", "t-absent-namespace", check=False)
    assert missing.returncode == 1
    assert 'namespaces "t-absent-namespace" not found' in missing.stderr
    helm("install", "demo", chart, "-n", "t-created-by-helm", "--create-namespace")
    try:
        assert core.read_namespace("t-created-by-helm").status.phase == "Active"
    finally:
        core.delete_namespace("t-created-by-helm")
