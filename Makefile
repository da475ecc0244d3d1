# One command per job. `make test` and `make site` work on a fresh clone: they run setup first.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c

# The pinned toolchain (.venv) and helm/kubectl (.tools/bin) come before anything on the machine.
export PATH := $(CURDIR)/.venv/bin:$(CURDIR)/.tools/bin:$(PATH)
PY := $(CURDIR)/.venv/bin/python
# This checkout as hubfleet.jupyterhub (linked by setup), for ansible, molecule and pytest-ansible.
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.build/collections

.PHONY: setup lint sanity unit contract integration molecule test site bench changelog ee docs

setup:
	bash scripts/setup.sh

# Every target works on a fresh clone: each runs setup first (about a second once it is done).
lint: setup
	yamllint --strict .
	ansible-lint

sanity: setup
	bash scripts/sanity.sh

# pytest-xdist: one worker per core (each test starts its own emulators and ansible runs).
PYTEST := $(PY) -m pytest -n auto

unit: setup
	$(PYTEST) tests/unit

contract: setup
	$(PYTEST) tests/emulator

# One worker per test file: a module's fixture (a site.yml scenario, a deployed hub) then runs once,
# not once on each worker that gets one of its tests.
integration: setup
	$(PYTEST) --dist loadfile tests/integration

# MOLECULE_GLOB: only the CI scenario, so that molecule leaves no state behind for `default` (kind),
# which would warn "modified since created" on a later clone (docs/molecule.md).
molecule: setup
	MOLECULE_GLOB=molecule/emulated/molecule.yml scripts/with_chart_mirror.sh molecule test -s emulated

test: setup
	$(MAKE) lint sanity molecule unit contract integration

# The emulated cluster of `make site` and `make cluster-up`, kept between runs in EMULATOR_STATE
# (docs/emulator.md). `make site` uses the emulator of `make cluster-up` when it runs, else one of its own.
EMULATOR_STATE ?= .cache/emulator
EMULATOR := $(PY) -m tests.emulator
EMULATOR_KUBECONFIG = $(abspath $(EMULATOR_STATE))/kubeconfig
EMULATOR_MAKE = make$(if $(filter-out .cache/emulator,$(EMULATOR_STATE)), EMULATOR_STATE=$(EMULATOR_STATE))
.PHONY: cluster-up cluster-down cluster-reset

site: setup
	scripts/with_chart_mirror.sh $(EMULATOR) run --state-dir $(EMULATOR_STATE) --kubeconfig $(EMULATOR_KUBECONFIG) -- ansible-playbook site.yml -i inventory/local
	@$(PY) -c 'import json; [print("Hub %(cluster)s/%(hub)s: %(status)s, %(url)s" % row) for row in json.load(open("hubfleet-report/summary.json"))["hubs"]]'
	@if $(EMULATOR) status --state-dir $(EMULATOR_STATE) >/dev/null; then \
	  echo "The emulated cluster is still running: export KUBECONFIG=$(EMULATOR_KUBECONFIG); $(EMULATOR_MAKE) cluster-down stops it."; \
	else \
	  echo "The emulated cluster is stopped, its state kept in $(EMULATOR_STATE): $(EMULATOR_MAKE) cluster-up serves it again, with the kubeconfig $(EMULATOR_KUBECONFIG)."; \
	fi

cluster-up: setup
	$(EMULATOR) start --state-dir $(EMULATOR_STATE) --kubeconfig $(EMULATOR_KUBECONFIG)
	@echo "$(EMULATOR_MAKE) cluster-down stops it (its state is kept), $(EMULATOR_MAKE) cluster-reset forgets it. For kubectl, helm and ansible:"
	@echo "export KUBECONFIG=$(EMULATOR_KUBECONFIG)"

cluster-down: setup
	$(EMULATOR) stop --state-dir $(EMULATOR_STATE)
	@echo "The emulated cluster is stopped, its state kept in $(EMULATOR_STATE): $(EMULATOR_MAKE) cluster-up serves it again."

cluster-reset: setup
	$(EMULATOR) stop --state-dir $(EMULATOR_STATE) --forget
	@echo "The emulated cluster is stopped and its state forgotten: the next $(EMULATOR_MAKE) site or cluster-up starts afresh."

# The AWX / AAP execution environment with this collection in it (needs podman or docker; docs/awx.md).
ee: setup
	rm -rf .build/ee
	ansible-galaxy collection build --output-path .build/ee
	mv .build/ee/hubfleet-jupyterhub-*.tar.gz .build/ee/hubfleet-jupyterhub.tar.gz
	ansible-builder build --tag hubfleet-jupyterhub-ee

bench: setup
	$(PY) -m pytest tests/bench -q

changelog: setup
	antsibull-changelog lint

# The variable tables of roles/*/README.md, from each role's meta/argument_specs.yml, and
# docs/variables.md, from those and playbooks/specs/ (tests/unit/test_role_specs.py and
# test_variables_doc.py fail when one is stale).
docs: setup
	$(PY) scripts/role_docs.py
	$(PY) scripts/variables_doc.py
