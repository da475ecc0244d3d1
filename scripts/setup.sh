#!/usr/bin/env bash
# Prepare a checkout for `make test` / `make site`. Idempotent and quick once done:
# every step checks whether its result is already in place.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"

say() { echo "setup: $*"; }

# 1. Virtualenv with the pinned toolchain; reinstall only when the pins change.
if [ ! -x "$VENV/bin/python" ]; then
    say "creating the virtualenv .venv"
    "${PYTHON:-python3.11}" -m venv "$VENV"
fi
stamp="$VENV/.requirements.sha256"
want="$(cat requirements.txt requirements-test.txt | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing the pinned Python packages of requirements-test.txt into .venv (ansible, molecule,"
    say "  ansible-lint, pytest, kubernetes, jupyterhub...): about 2 to 3 minutes the first time"
    "$VENV/bin/python" -m pip install --quiet -r requirements-test.txt
    echo "$want" >"$stamp"
fi

# 1b. The hub software each chart line's hub image pins, in .venv-hub/<chart version>, for the
#     tests that run hub configuration in the real KubeSpawner (docs/hub_config_tests.md).
bash scripts/hub_venvs.sh | sed 's/^/setup: /'

# 2. helm and kubectl in .tools/bin.
bash scripts/install_tools.sh | sed 's/^/setup: /'

# 3. ansible-test downloads get-pip.py from a host we cannot reach; give it a cached
#    stand-in under the exact name it looks for (the pip version comes from ansible-test).
ansible_test="$("$VENV/bin/python" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')"
pip_version="$(sed -n "s/^ *pip='\([0-9.]*\)',$/\1/p" "$ansible_test/_internal/python_requirements.py")"
if [ -z "$pip_version" ]; then
    echo "setup: cannot find ansible-test's pip version in $ansible_test" >&2
    exit 1
fi
get_pip="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
if ! cmp -s scripts/get_pip_standin.py "$get_pip"; then
    mkdir -p "$(dirname "$get_pip")"
    cp scripts/get_pip_standin.py "$get_pip"
fi

# 4. Make this checkout visible to ansible as hubfleet.jupyterhub (ansible.cfg points
#    collections_path at .build/collections). kubernetes.core and community.okd need no
#    install: the pinned `ansible` package bundles them (tests/unit checks the versions).
mkdir -p .build/collections/ansible_collections/hubfleet
ln -sfn ../../../.. .build/collections/ansible_collections/hubfleet/jupyterhub

say "done"
