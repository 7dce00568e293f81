# jaxgan: `make run` trains the classic MNIST GAN, `make test` runs the tests.
# Both create .venv and install what is missing first (pip skips what is already there).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
ARGS ?=

.PHONY: run test install bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) -m experiments.mnist --loss=ns $(ARGS)

test: install
	$(PY) -m pytest -q -n 2 --dist loadgroup tests

clean:
	rm -rf $(VENV) runs .pytest_cache
