#!/usr/bin/env bash
# One virtualenv per supported z2jh chart line, .venv-hub/<chart version>, holding the Python
# packages of that line's hub image (tests/hub/requirements-<chart version>.txt). The hub config
# tests (tests/hub/in_venv, docs/hub_config_tests.md) run in them, against the real JupyterHub
# and KubeSpawner a deployed hub would run. Idempotent and quick once done: a venv is
# reinstalled only when its pins change.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { echo "hub_venvs: $*"; }

for pins in tests/hub/requirements-*.txt; do
    version="${pins#tests/hub/requirements-}"
    version="${version%.txt}"
    venv="$ROOT/.venv-hub/$version"
    if [ ! -x "$venv/bin/python" ]; then
        say "creating .venv-hub/$version"
        "${PYTHON:-python3.11}" -m venv "$venv"
    fi
    stamp="$venv/.requirements.sha256"
    want="$(sha256sum "$pins" | cut -d' ' -f1)"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        say "installing the hub image packages of chart $version into .venv-hub/$version (about a minute)"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$pins"
        echo "$want" >"$stamp"
    fi
done
