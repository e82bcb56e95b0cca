# Plinth: every entry point goes through here, so CI and people run the same commands.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
INVENTORY ?= inventories/local

.PHONY: setup site teardown emulator-start emulator-stop emulator-reset test lint sanity unit integration molecule kube-build kube-up kube-down kube-test

setup:
	tools/setup/venv.sh

emulator-start: setup
	$(PY) tools/emulator/emulator.py start

emulator-stop:
	$(PY) tools/emulator/emulator.py stop

emulator-reset:
	$(PY) tools/emulator/emulator.py reset

# Command one of the README: set up, start the embedded AWS and the local Kubernetes API (the
# eks layer's kubeconfig for the local environment), provision the local environment.
site: emulator-start kube-up
	ansible-playbook -i $(INVENTORY) playbooks/site.yml

teardown: setup
	ansible-playbook -i $(INVENTORY) playbooks/teardown.yml

lint: setup
	tools/ci/lint.sh

sanity: setup
	tools/ci/sanity.sh

unit: setup
	tools/ci/pytest.sh tests/unit tests/emulator

integration: setup
	tools/ci/pytest.sh tests/integration

molecule: setup
	tools/ci/molecule.sh

kube-build: setup
	tools/kube/build.sh

kube-up: kube-build
	$(PY) tools/kube/cluster.py up

kube-down:
	$(PY) tools/kube/cluster.py down

kube-test: kube-build
	tools/ci/pytest.sh tests/kube

# Command two of the README: every gate, in the order that fails fastest.
test: setup lint sanity unit integration molecule kube-test
