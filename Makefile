# Two commands on a fresh machine:  make build   and   make test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
APT_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
TEST_APT_PACKAGES := chromium poppler-utils zbar-tools

.PHONY: build test bench lint format schema serve clean system-deps test-system-deps zensical libreoffice

build: $(STAMP) system-deps
	$(BIN)/esafety build --config school_config.yaml --site-dir site

test: $(TEST_STAMP) system-deps test-system-deps zensical
	$(BIN)/ruff check generator tests bench
	$(BIN)/pytest -q -n 3 --dist loadgroup

# Modules compiled first, as an installed copy has them: with PYTHONDONTWRITEBYTECODE set,
# every timed build would otherwise compile them again.
bench: $(STAMP) system-deps
	$(BIN)/python -m compileall -q generator
	$(BIN)/python bench/run.py

serve: $(STAMP) system-deps
	$(BIN)/esafety serve

lint: $(TEST_STAMP)
	$(BIN)/ruff check generator tests bench
	$(BIN)/ruff format --check generator tests bench

schema: $(STAMP)
	$(BIN)/esafety schema --output school_config.schema.json

# Building needs only the package; the tests' extras (Playwright, Hypothesis...) come with
# `make test`.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

# Debian libraries WeasyPrint needs; libharfbuzz-subset0 makes PDFs fast and reproducible.
system-deps:
	@bash scripts/apt-install.sh $(APT_PACKAGES)

# Real components for the tests: Debian's Chromium (driven by Playwright) and pdftoppm.
test-system-deps:
	@bash scripts/apt-install.sh $(TEST_APT_PACKAGES)

# Optional: LibreOffice (about 260 MB), so the tests also open the Word copy in it (they
# are skipped, and say why, without it). Not in TEST_APT_PACKAGES because of its size.
libreoffice:
	@bash scripts/apt-install.sh libreoffice-writer-nogui

# Zensical (Material's successor) in its own venv, so its dependencies never move ours.
# Best effort: when it cannot be installed, its tests are skipped and say why.
zensical: .venv-zensical/.installed
.venv-zensical/.installed:
	@($(PYTHON) -m venv .venv-zensical && .venv-zensical/bin/pip install --quiet zensical \
	  && touch $@) || echo "note: Zensical could not be installed; its tests will be skipped"

clean:
	rm -rf site .pytest_cache .ruff_cache build *.egg-info
