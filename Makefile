# Two commands on a fresh machine (Python 3.11+ and make):
#   make        create .venv if missing, install, validate the data, regenerate every output, build the site
#   make test   the whole test suite
# The environment is reinstalled only when pyproject.toml changes (the stamp file .venv/.installed).
# The knowledge-base half alone, without PyTorch: `pip install -e ".[site,dev]"`.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# the CPU build of PyTorch; a bare `torch` requirement could pull a CUDA build of several GB
TORCH  ?= torch==2.13.0

.PHONY: all build test check clean-venv

all: build

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH)
	$(PY) -m pip install -q -e ".[all]"
	@touch $@

build: $(STAMP)
	$(PY) -m site_builder validate
	$(PY) -m site_builder build

test: $(STAMP)
	$(PY) -m pytest

check: $(STAMP)
	$(PY) -m site_builder build --check

clean-venv:
	rm -rf $(VENV)
