# The two jobs of the README. Both create .venv on first use and reuse it afterwards.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: render test test-alone lint format bench browser gpu-check

render: $(VENV)/.installed
	$(BIN)/backrooms render --out out

test: $(VENV)/.installed-test browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

# Each test module on its own, in a process of its own: state must come from fixtures, never from
# whatever an earlier module imported. CI runs this beside `make test`.
test-alone: $(VENV)/.installed-test browser
	@failed=""; for f in tests/test_*.py; do \
	  $(BIN)/python -m pytest -q -p no:cacheprovider "$$f" > .test-alone.log 2>&1 \
	    && echo "alone: $$(tail -n 1 .test-alone.log) $$f" \
	    || { cat .test-alone.log; failed="$$failed $$f"; }; \
	done; rm -f .test-alone.log; \
	if [ -n "$$failed" ]; then echo "failed alone:$$failed"; exit 1; fi

lint: $(VENV)/.installed-test
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

bench: $(VENV)/.installed
	$(BIN)/backrooms bench

# On a machine with CUDA: the gpu-marked tests, then every area's CUDA figures (render 1280x720, decay
# 720x480 and 1920x1080, diffusion 720x480, the chain 320x240-1920x1080 and live 1280x720, end to
# end) as JSON in out/, within 13 minutes.
# Elsewhere: one line, exit 0.
# GPU_PY=python3: a CUDA machine with no venv (the packages carried onto PYTHONPATH, with exts/ and
# tests/); test modules that need a package it lacks are skipped at collection, not fatal.
GPU_PY ?=
PY_GPU := $(or $(GPU_PY),$(BIN)/python)
gpu-check: $(if $(GPU_PY),,$(VENV)/.installed-test)
	@if ! $(PY_GPU) -c "import sys, warp as wp; wp.config.quiet = True; wp.init(); sys.exit(not wp.is_cuda_available())" >/dev/null 2>&1; then \
	  echo "gpu-check: no CUDA device on this machine; nothing measured"; exit 0; fi; \
	mkdir -p out; \
	timeout 240 $(PY_GPU) -m pytest -q -m gpu -p no:cacheprovider --continue-on-collection-errors | tee out/gpu-tests.txt; \
	timeout 540 $(PY_GPU) -m backrooms.cli bench --device cuda --json > out/bench-cuda.json; \
	status=$$?; echo "gpu-check: tests in out/gpu-tests.txt, figures in out/bench-cuda.json (bench exit $$status)"; \
	exit $$status

# Debian's Chromium for the live preview's browser test (skipped, with a note, where it cannot be installed).
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
	  || echo "note: chromium not installed; the browser test will be skipped"

$(VENV)/bin/pip:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/pip
	$(BIN)/pip install --disable-pip-version-check -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/pip
	$(BIN)/pip install --disable-pip-version-check -q -e '.[test]'
	touch $@ $(VENV)/.installed
