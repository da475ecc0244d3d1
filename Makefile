# One command per job. `make test` and `make site` work on a fresh clone: they run setup first.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c

# The pinned toolchain (.venv) and helm/kubectl (.tools/bin) come before anything on the machine.
export PATH := $(CURDIR)/.venv/bin:$(CURDIR)/.tools/bin:$(PATH)
PY := $(CURDIR)/.venv/bin/python
# This checkout as hubfleet.jupyterhub (linked by setup), for ansible, molecule and pytest-ansible.
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.build/collections

.PHONY: setup lint sanity unit contract integration molecule test site bench changelog

setup:
	bash scripts/setup.sh

# Every target works on a fresh clone: each runs setup first (about a second once it is done).
lint: setup
	yamllint --strict .
	ansible-lint

sanity: setup
	bash scripts/sanity.sh

unit: setup
	$(PY) -m pytest tests/unit

contract: setup
	$(PY) -m pytest tests/emulator

integration: setup
	$(PY) -m pytest tests/integration

molecule: setup
	molecule test -s emulated

test: setup
	$(MAKE) lint sanity molecule unit contract integration

site: setup
	$(PY) -m tests.emulator run --kubeconfig .cache/emulator/kubeconfig -- ansible-playbook site.yml -i inventory/local

bench: setup
	$(PY) -m pytest tests/bench -q

changelog: setup
	antsibull-changelog lint
