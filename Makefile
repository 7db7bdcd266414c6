# tokenops.tiflux: build and test entry points. `make help` lists them.
#
# Two environments:
#   .venv       ansible-core 2.19 on Python 3.11 (else python3): every check
#   .venv-2.21  ansible-core 2.21 on Python >= 3.12 (found by scripts/find-python.sh):
#               sanity, units, integration; skipped with a message where no such Python exists
# System packages: `make deps` (a prerequisite of `make test` and `make demo`) installs what a
# Debian/Ubuntu machine lacks (scripts/deps.sh: git, openssl, shellcheck, openssh-server, ...).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON     ?= $(shell scripts/find-python.sh 3.11 || command -v python3)
VENV       := .venv
VENV_221   := .venv-2.21
PYTHON_221 ?= $(shell scripts/find-python.sh 3.13 3.12)

VENV_GALAXY := .venv-galaxy

ANSIBLE_TEST := scripts/ansible-test.sh
# more ansible-test arguments, e.g. make integration ARGS='simulator_smoke -vvv'
ARGS ?=
# the make steps whose system packages `make deps` installs (scripts/deps.sh STEP...); all by default
DEPS_STEPS ?=

##@ Set-up

.PHONY: deps
deps: ## install the Debian/Ubuntu packages the steps need, only those missing (apt-get, as root or through sudo)
	@scripts/deps.sh $(DEPS_STEPS)

##@ Environments

$(VENV)/.installed: requirements/pip.txt requirements/ansible-2.19.txt requirements/constraints-2.19.txt
	@scripts/venv.sh $(VENV) "$(PYTHON)" "ansible-core 2.19 and the test tools on $(notdir $(PYTHON))" \
		requirements/ansible-2.19.txt requirements/constraints-2.19.txt

$(VENV_221)/.installed: requirements/pip.txt requirements/ansible-2.21.txt requirements/constraints-2.21.txt
	@scripts/venv.sh $(VENV_221) "$(PYTHON_221)" "ansible-core 2.21 on $(notdir $(PYTHON_221))" \
		requirements/ansible-2.21.txt requirements/constraints-2.21.txt

$(VENV_GALAXY)/.installed: requirements/pip.txt requirements/galaxy-importer.txt requirements/constraints-galaxy.txt
	@scripts/venv.sh $(VENV_GALAXY) "$(PYTHON)" "galaxy-importer (what galaxy.ansible.com runs) on $(notdir $(PYTHON))" \
		requirements/galaxy-importer.txt requirements/constraints-galaxy.txt

.PHONY: .venv .venv-2.21 .venv-galaxy
.venv: $(VENV)/.installed ## ansible-core 2.19 / Python 3.11 environment (pinned)

.venv-galaxy: $(VENV_GALAXY)/.installed ## galaxy-importer in a venv of its own (pinned; its ansible-lint wants older attrs)

.venv-2.21: ## ansible-core 2.21 / Python >= 3.12 environment (pinned; skipped without such a Python)
ifeq ($(PYTHON_221),)
	@echo "skipped: no Python 3.13 or 3.12 found (pyenv or python3.1x on PATH); ansible-core 2.21 not tested"
else
	@$(MAKE) $(VENV_221)/.installed
endif

##@ Checks on ansible-core 2.19 / Python 3.11

.PHONY: sanity units simulator docs integration lint
sanity: .venv ## ansible-test sanity (no ignore files)
	$(ANSIBLE_TEST) $(VENV) sanity $(ARGS)

units: .venv ## ansible-test units
	$(ANSIBLE_TEST) $(VENV) units $(ARGS)

simulator: .venv ## pytest tests/simulator
	@if [ -z "$$(find tests/simulator -name 'test_*.py' -print -quit 2>/dev/null)" ]; then \
		echo "no simulator tests (tests/simulator/**/test_*.py) yet, nothing to run"; \
	else \
		$(VENV)/bin/python -m pytest tests/simulator -p no:cacheprovider \
			--junit-xml tests/output/runs/simulator/junit/simulator.xml; \
	fi

integration: .venv ## ansible-test integration (all targets but those with the alias `slow`)
	$(ANSIBLE_TEST) $(VENV) integration $(ARGS)

# ansible-lint runs offline (.ansible-lint), so it does not install this collection for its
# syntax checks itself: .ansible/collections (git-ignored) holds a symlink to the work tree.
# ANSIBLE_ROLES_PATH as under ansible-test, so playbooks of runme.sh targets find setup_* roles.
LINT_COLLECTIONS := .ansible/collections
lint: .venv ## ansible-lint --profile production, antsibull-docs lint, role READMEs against their argument specs
	$(VENV)/bin/python scripts/role_docs.py --check
	mkdir -p $(LINT_COLLECTIONS)/ansible_collections/tokenops
	ln -sfn ../../../.. $(LINT_COLLECTIONS)/ansible_collections/tokenops/tiflux
	@# A private HOME: ansible-lint puts ~/.ansible/collections first, where a stale installed copy
	@# of this collection (molecule installs one there) would shadow the work tree.
	mkdir -p .cache/lint-home
	HOME="$(CURDIR)/.cache/lint-home" PATH="$(CURDIR)/$(VENV)/bin:$$PATH" ANSIBLE_COLLECTIONS_PATH="$(CURDIR)/$(LINT_COLLECTIONS)" \
		ANSIBLE_ROLES_PATH="$(CURDIR)/tests/integration/targets" ansible-lint --profile production
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" antsibull-docs lint-collection-docs --plugin-docs .

docs: .venv ## quickstart and rotation runbook (en, pt-BR) run as written against the simulator; make deps, make sim
	$(VENV)/bin/python -m pytest tests/docs -q -p no:cacheprovider -rxs \
		--junit-xml tests/output/runs/docs/junit/docs.xml

##@ Checks on ansible-core 2.21 / Python >= 3.12

.PHONY: sanity-2.21 units-2.21 integration-2.21
sanity-2.21 units-2.21 integration-2.21: %-2.21: .venv-2.21 ## the same check on ansible-core 2.21
ifeq ($(PYTHON_221),)
	@echo "skipped: $@ (no Python 3.13 or 3.12 found)"
else
	$(ANSIBLE_TEST) $(VENV_221) $* $(ARGS)
endif

##@ Publishing

.PHONY: build galaxy-check
# ansible-galaxy from PATH (a user's ansible-core install) or from .venv
ANSIBLE_GALAXY = $(or $(shell command -v ansible-galaxy 2>/dev/null),$(VENV)/bin/ansible-galaxy)
build: $(if $(shell command -v ansible-galaxy 2>/dev/null),,.venv) ## build the collection tarball into build/ (as published on Galaxy)
	@rm -f build/tokenops-tiflux-*.tar.gz
	@$(ANSIBLE_GALAXY) collection build --force --output-path build . | sed 's|^Created collection for .* at $(CURDIR)/|built |'

galaxy-check: .venv .venv-galaxy ## galaxy-importer imports the built tarball with 0 errors and 0 warnings
	@VENV=$(VENV) VENV_GALAXY=$(VENV_GALAXY) scripts/galaxy-check.sh

##@ Everything

STEPS := sanity units simulator docs integration awx molecule test-faults lint galaxy-check sanity-2.21 units-2.21 integration-2.21

.PHONY: test test-full
test: deps ## all checks, both ansible-core versions, with a summary; fails on any failure
	@scripts/suite.sh $(STEPS)

test-full: deps ## `test` with TIFLUX_HYPOTHESIS_EXAMPLES=1000 and the `slow` integration targets
	@TIFLUX_HYPOTHESIS_EXAMPLES=1000 TIFLUX_INCLUDE_SLOW=1 scripts/suite.sh $(STEPS)

##@ Housekeeping

.PHONY: requirements-freeze clean help
requirements-freeze: .venv .venv-2.21 ## rewrite requirements/constraints-*.txt from the venvs
	scripts/freeze.sh $(VENV) requirements/constraints-2.19.txt "ansible-core 2.19, Python 3.11"
	@if [ -x $(VENV_221)/bin/python ]; then \
		scripts/freeze.sh $(VENV_221) requirements/constraints-2.21.txt "ansible-core 2.21, Python 3.12+"; fi

clean: ## remove venvs, test output, builds and caches (stops a simulator started by make sim)
	scripts/sim.sh stop >/dev/null
	rm -rf $(VENV) $(VENV_221) $(VENV_GALAXY) tests/output build .sim .ansible .cache .hypothesis .pytest_cache
	find . -name __pycache__ -type d -not -path './.git/*' -prune -exec rm -rf {} +

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} \
		/^##@/ {printf "\n%s\n", substr($$0, 5); next} \
		/^[a-zA-Z0-9_.%-]+( [a-zA-Z0-9_.-]+)*:.*## / {printf "  %-40s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo
	@echo "One target or test: make integration ARGS=simulator_smoke, make units ARGS='tests/unit/plugins/modules -v'."
	@echo "make test and make demo install the system packages they need first (make deps, as root or with sudo)."

##@ Demo and simulator

.PHONY: demo sim sim-stop
demo: DEPS_STEPS = venv demo
demo: deps .venv ## the whole story on the bundled Tiflux simulator: push, rotate, revoke, confirm
	@demo/demo.sh

sim: ## start the bundled Tiflux simulator in the background; print its api_url, CA and a vaulted token (.sim/env)
	@scripts/deps.sh sim >/dev/null
	@scripts/sim.sh start

sim-stop: ## stop the simulator make sim started
	@scripts/sim.sh stop

##@ Molecule scenarios (extensions/molecule: real SSH hosts on loopback; needs root and openssh-server)

.PHONY: molecule molecule-full
molecule: .venv ## molecule test rotate, rotate_failures (+ rotate_quota with TIFLUX_INCLUDE_SLOW=1), leak-scanned
	VENV=$(VENV) extensions/molecule/run.sh

molecule-full: .venv ## `molecule` with the slow rotate_quota scenario (30 hosts under a 20/min quota)
	TIFLUX_INCLUDE_SLOW=1 VENV=$(VENV) extensions/molecule/run.sh

##@ AWX / Ansible Automation Platform

.PHONY: awx
awx: .venv ## credential type, job templates and EE of extensions/awx, run through ansible-runner on the simulator
	$(VENV)/bin/python -m pytest tests/awx -q -p no:cacheprovider -rxXs \
		--junit-xml tests/output/runs/awx/junit/awx.xml

##@ Benchmarks and fault matrix (tests/perf, tests/faults, tests/corpus)

# Not a test: the rotate role, the hand-written playbook and one copy per host, interleaved, on
# local-connection hosts against the simulator with Tiflux's limits on and a live integration of the
# same user; the figures go into docs/performance.md. bench-full adds N = 1000 (not CI).
BENCH_ARGS ?= --hosts 10,30,200 --runs 2,2,1
BENCH_FULL_ARGS ?= --hosts 1000 --runs 1 --push-hosts 0 --no-payloads
.PHONY: bench bench-full test-faults
bench: .venv ## benchmark under Tiflux's limits: rotate role vs the hand-written playbook vs one copy, N = 10, 30, 200 (BENCH_ARGS=...), into docs/performance.md
	@echo "load: $$(cut -d' ' -f1-3 /proc/loadavg) on $$(nproc) CPU(s)"
	$(VENV)/bin/python tests/perf/bench.py $(BENCH_ARGS) --write-doc docs/performance.md

bench-full: .venv ## the same at N = 1000 (BENCH_FULL_ARGS=...; most of an hour), into its own part of docs/performance.md
	@echo "load: $$(cut -d' ' -f1-3 /proc/loadavg) on $$(nproc) CPU(s)"
	$(VENV)/bin/python tests/perf/bench.py $(BENCH_FULL_ARGS) --doc-part full --write-doc docs/performance.md

# Cases marked slow (API retries and timeouts, the SSH host) run only with TIFLUX_INCLUDE_SLOW=1,
# which `make test-full` sets. The tmpfs cases need root (skipped otherwise).
test-faults: .venv ## bad-input corpus, fault matrix and leak scan of every path (slow cases with TIFLUX_INCLUDE_SLOW=1)
	$(VENV)/bin/python -m pytest tests/corpus tests/faults -p no:cacheprovider -q -rsx \
		--junit-xml tests/output/runs/faults/junit/faults.xml
