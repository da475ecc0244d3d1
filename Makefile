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

lint:
	yamllint --strict .
	ansible-lint

sanity:
	bash scripts/sanity.sh

unit:
	$(PY) -m pytest tests/unit

contract:
	$(PY) -m pytest tests/emulator

integration:
	$(PY) -m pytest tests/integration

molecule:
	molecule test -s emulated

test: setup
	$(MAKE) lint sanity molecule unit contract integration

site: setup
	$(PY) -m tests.emulator run --kubeconfig .cache/emulator/kubeconfig -- ansible-playbook site.yml -i inventory/local

bench: setup
	$(PY) -m pytest tests/bench -q

changelog:
	antsibull-changelog lint
