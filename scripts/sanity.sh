#!/usr/bin/env bash
# Run `ansible-test sanity` on a copy of the checkout.
# ansible-test only runs from .../ansible_collections/<namespace>/<name> and resolves the
# physical working directory, so a symlink is not enough: copy the files git would track.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COLLECTIONS="$ROOT/.build/sanity/ansible_collections"
DEST="$COLLECTIONS/hubfleet/jupyterhub"
PY="$ROOT/.venv/bin/python"

rm -rf "$ROOT/.build/sanity"
mkdir -p "$DEST"
# Tracked and new files, without ignored ones (.venv, .tools, ...) or deleted ones.
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard) |
    (cd "$ROOT" && "$PY" -c '
import os, shutil, sys
dest = sys.argv[1]
for path in sys.stdin.read().split("\0"):
    if path and os.path.lexists(path):
        os.makedirs(os.path.join(dest, os.path.dirname(path)), exist_ok=True)
        shutil.copy2(path, os.path.join(dest, path), follow_symlinks=False)
' "$DEST")
# ansible-test takes the nearest .git above it as the source of file names; without one
# here it would find this checkout's, in which .build/ is ignored, and test nothing.
git init --quiet "$DEST"

# ansible-test points ANSIBLE_COLLECTIONS_PATH at this collection root only, so the
# dependencies bundled with the pinned `ansible` package are linked in beside ours.
for fqcn in kubernetes.core community.okd; do
    src="$("$PY" -c 'import importlib, sys; print(importlib.import_module("ansible_collections." + sys.argv[1]).__path__[0])' "$fqcn")"
    mkdir -p "$COLLECTIONS/${fqcn%%.*}"
    ln -sfn "$src" "$COLLECTIONS/${fqcn/./\/}"
done

cd "$DEST"
# --local: no containers here. Test virtualenvs install from PyPI; pip itself is bootstrapped
# offline by the get-pip stand-in that scripts/setup.sh puts in ansible-test's cache.
exec "$ROOT/.venv/bin/ansible-test" sanity --local --python 3.11 --color no "$@"
