# tokenops.tiflux: build and test entry points. `make help` lists them.
#
# Two environments:
#   .venv       ansible-core 2.19 on Python 3.11 (else python3): every check
#   .venv-2.21  ansible-core 2.21 on Python >= 3.12 (found by scripts/find-python.sh):
#               sanity, units, integration; skipped with a message where no such Python exists
# Needs: git, make, shellcheck (the shellcheck sanity test), openssl.
# On a fresh Debian machine `bash .ci/run` installs them and runs `make test`.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON     ?= $(shell scripts/find-python.sh 3.11 || command -v python3)
VENV       := .venv
VENV_221   := .venv-2.21
PYTHON_221 ?= $(shell scripts/find-python.sh 3.13 3.12)

ANSIBLE_TEST := scripts/ansible-test.sh
# more ansible-test arguments, e.g. make integration ARGS='simulator_smoke -vvv'
ARGS ?=
# pip prints one warning per package for a missing local index on some machines; hide those
PIP_QUIET := 2>&1 | { grep -v "^WARNING: Location 'file:" || true; }

##@ Environments

$(VENV)/.installed: requirements/pip.txt requirements/ansible-2.19.txt requirements/constraints-2.19.txt
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet -r requirements/pip.txt $(PIP_QUIET)
	$(VENV)/bin/python -m pip install --quiet -r requirements/ansible-2.19.txt -c requirements/constraints-2.19.txt $(PIP_QUIET)
	touch $@

$(VENV_221)/.installed: requirements/pip.txt requirements/ansible-2.21.txt requirements/constraints-2.21.txt
	rm -rf $(VENV_221)
	$(PYTHON_221) -m venv $(VENV_221)
	$(VENV_221)/bin/python -m pip install --quiet -r requirements/pip.txt $(PIP_QUIET)
	$(VENV_221)/bin/python -m pip install --quiet -r requirements/ansible-2.21.txt -c requirements/constraints-2.21.txt $(PIP_QUIET)
	touch $@

.PHONY: .venv .venv-2.21
.venv: $(VENV)/.installed ## ansible-core 2.19 / Python 3.11 environment (pinned)

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
lint: .venv ## ansible-lint --profile production, antsibull-docs lint
	mkdir -p $(LINT_COLLECTIONS)/ansible_collections/tokenops
	ln -sfn ../../../.. $(LINT_COLLECTIONS)/ansible_collections/tokenops/tiflux
	@# A private HOME: ansible-lint puts ~/.ansible/collections first, where a stale installed copy
	@# of this collection (molecule installs one there) would shadow the work tree.
	mkdir -p .cache/lint-home
	HOME="$(CURDIR)/.cache/lint-home" PATH="$(CURDIR)/$(VENV)/bin:$$PATH" ANSIBLE_COLLECTIONS_PATH="$(CURDIR)/$(LINT_COLLECTIONS)" \
		ANSIBLE_ROLES_PATH="$(CURDIR)/tests/integration/targets" ansible-lint --profile production
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" antsibull-docs lint-collection-docs --plugin-docs .

docs: .venv ## the quickstart in English and pt-BR, followed as written, against the simulator
	$(VENV)/bin/python -m pytest tests/docs -q -p no:cacheprovider \
		--junit-xml tests/output/runs/docs/junit/docs.xml

##@ Checks on ansible-core 2.21 / Python >= 3.12

.PHONY: sanity-2.21 units-2.21 integration-2.21
sanity-2.21 units-2.21 integration-2.21: %-2.21: .venv-2.21 ## the same check on ansible-core 2.21
ifeq ($(PYTHON_221),)
	@echo "skipped: $@ (no Python 3.13 or 3.12 found)"
else
	$(ANSIBLE_TEST) $(VENV_221) $* $(ARGS)
endif

##@ Everything

STEPS := sanity units simulator docs integration awx molecule test-faults lint sanity-2.21 units-2.21 integration-2.21

.PHONY: test test-full
test: ## all checks, both ansible-core versions, with a summary; fails on any failure
	@scripts/suite.sh $(STEPS)

test-full: ## `test` with TIFLUX_HYPOTHESIS_EXAMPLES=1000 and the `slow` integration targets
	@TIFLUX_HYPOTHESIS_EXAMPLES=1000 TIFLUX_INCLUDE_SLOW=1 scripts/suite.sh $(STEPS)

##@ Housekeeping

.PHONY: requirements-freeze clean help
requirements-freeze: .venv .venv-2.21 ## rewrite requirements/constraints-*.txt from the venvs
	scripts/freeze.sh $(VENV) requirements/constraints-2.19.txt "ansible-core 2.19, Python 3.11"
	@if [ -x $(VENV_221)/bin/python ]; then \
		scripts/freeze.sh $(VENV_221) requirements/constraints-2.21.txt "ansible-core 2.21, Python 3.12+"; fi

clean: ## remove venvs, test output and caches
	rm -rf $(VENV) $(VENV_221) tests/output .ansible .cache .hypothesis .pytest_cache
	find . -name __pycache__ -type d -not -path './.git/*' -prune -exec rm -rf {} +

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} \
		/^##@/ {printf "\n%s\n", substr($$0, 5); next} \
		/^[a-zA-Z0-9_.%-]+( [a-zA-Z0-9_.-]+)*:.*## / {printf "  %-40s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo
	@echo "One target or test: make integration ARGS=simulator_smoke, make units ARGS='tests/unit/plugins/modules -v'."
	@echo "make test needs shellcheck (apt-get install shellcheck) and openssl; .ci/run installs them."
	@command -v shellcheck >/dev/null || echo "hint: shellcheck is not installed: apt-get install shellcheck"

##@ Demo

.PHONY: demo
demo: .venv ## the whole story on the bundled Tiflux simulator: push, rotate, revoke, confirm
	demo/demo.sh

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
