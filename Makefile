# Two commands on a fresh Debian/Ubuntu machine:
#   make run    set everything up, start the workstation (GUI) on its embedded defaults
#   make test   set everything up (incl. dcmtk, Orthanc, Xvfb) and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test bench bundle install-desktop setup setup-test system-deps system-deps-test translations clean

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

# A one-folder bundle that runs without Python (dist/workstation/), a .tar.gz with the desktop files, and a .deb.
VERSION = $(shell $(PY) -c "import workstation; print(workstation.__version__)" 2>/dev/null || echo 0)
bundle: setup
	$(PY) -m pip install -q 'pyinstaller>=6.0'
	$(VENV)/bin/pyinstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller \
		packaging/pyinstaller/workstation.spec
	rm -rf dist/workstation/desktop && cp -r packaging/linux dist/workstation/desktop
	tar -C dist -czf dist/workstation-$(VERSION)-linux-x86_64.tar.gz workstation
	command -v dpkg-deb >/dev/null && sh packaging/linux/build-deb.sh dist $(VERSION) || true
	@du -sh dist/workstation dist/*.tar.gz dist/*.deb 2>/dev/null || true

# Menus, icons and the DICOM MIME type for this user (the venv's workstation; a bundle has desktop/install-desktop.sh).
install-desktop: setup
	sh packaging/linux/install-desktop.sh "$(abspath $(VENV)/bin/workstation)"

# Compiled catalogues (.qm) are built, not committed: English plural forms and any translation.
translations: $(VENV)/.installed
	$(PY) packaging/translations.py build

clean:
	rm -rf $(VENV) build dist *.egg-info resources/translations/*.qm
