# Two commands on a fresh Debian/Ubuntu machine:
#   make run    set everything up, start the workstation (GUI) on its embedded defaults
#   make test   set everything up (incl. dcmtk, Orthanc, Xvfb) and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test bench setup setup-test system-deps system-deps-test translations clean

run: setup
	$(VENV)/bin/workstation

test: setup-test
	$(VENV)/bin/lint-imports
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: that is a failure"; exit 1; fi; exit $$rc

bench: setup-test
	$(PY) -m tests.bench

setup: system-deps $(VENV)/.installed translations
setup-test: system-deps-test $(VENV)/.installed translations

system-deps:
	sh packaging/install-system-deps.sh gui

system-deps-test:
	sh packaging/install-system-deps.sh test

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

# Compiled catalogues (.qm) are built, not committed: English plural forms and any translation.
translations: $(VENV)/.installed
	$(PY) packaging/translations.py build

clean:
	rm -rf $(VENV) build *.egg-info resources/translations/*.qm
