# jaxgan: `make run` trains the classic MNIST GAN, `make test` runs the tests (`make lint`
# checks style, `make format` fixes it), `make bench`
# times jaxgan against PyTorch, measures what bfloat16 does, and writes BENCHMARKS.md. Each
# creates its environment and installs what is missing first (pip skips what is already
# there); torch goes only into the bench environment, .venv-bench.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BENCH_VENV ?= .venv-bench
BENCH_PY := $(BENCH_VENV)/bin/python
ARGS ?=

.PHONY: run test lint format install bench reproduce clean

# $(call venv_with,FOLDER,EXTRA): create the venv if needed and install the project with EXTRA.
define venv_with
	test -x $(1)/bin/python || $(PYTHON) -m venv $(1)
	$(1)/bin/python -m pip install -q --upgrade pip
	$(1)/bin/python -m pip install -q -e '.[$(2)]'
	touch $(1)/.installed
endef

$(VENV)/.installed: pyproject.toml
	$(call venv_with,$(VENV),dev)

install: $(VENV)/.installed

# torch==2.13.0 (bench extra): its CPU build here, a CUDA build on a GPU machine.
$(BENCH_VENV)/.installed: pyproject.toml
	$(call venv_with,$(BENCH_VENV),bench)

# bench.precision: float32 against bfloat16, speed and sample quality (FCD) on Fashion-MNIST;
# bench.metrics_reference: jaxgan's metrics against torch-fidelity's and prdc's. Both are
# left out when ARGS narrows the run (e.g. ARGS=--only=dcgan).
bench: $(BENCH_VENV)/.installed
	$(BENCH_PY) -m bench.run $(ARGS)
	$(if $(ARGS),,$(BENCH_PY) -m bench.precision)
	$(if $(ARGS),,$(BENCH_PY) -m bench.metrics_reference --output=BENCHMARKS.md)

# Data from ../shared/data beside the checkout, when there, unless JAXGAN_IDX_DIR says otherwise
# (as .ci/run); else TFDS downloads it.
run: install
	JAXGAN_IDX_DIR="$${JAXGAN_IDX_DIR:-$(abspath ..)/shared/data}" \
	  $(PY) -m experiments.mnist --loss=ns $(ARGS)

# Every reproduction (experiments.reproduce --list) at the cpu budget, into results/. The image
# reproductions (goodfellow2014, lucic2018) run on Fashion-MNIST, as their recorded results
# did; `make reproduce DATASET=mnist` for MNIST.
DATASET ?= fashion_mnist
reproduce: install
	JAXGAN_IDX_DIR="$${JAXGAN_IDX_DIR:-$(abspath ..)/shared/data}" \
	  $(PY) -m experiments.reproduce --all --budget=cpu --dataset=$(DATASET) $(ARGS)

# The suite CI runs: every test but those marked `long`, which `make test-long` runs
# (docs/testing.md says which and why), with LLVM's optimization off (compiling is most of the
# suite's time) but for the `exact` ones, which one test runs in a subprocess under the default.
test: install
	JAXGAN_TEST_FAST_COMPILE=1 $(PY) -m pytest -q -n 2 --dist loadgroup -m "not long" tests
	@echo "NOTE: the tests marked \`long\` were not run: \`make test-long\` runs them (docs/testing.md)."

test-long: install
	$(PY) -m pytest -q -n 2 --dist loadgroup -m long tests

# ruff's linter and formatter (configured in pyproject.toml); CI runs `make lint` first.
lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

clean:
	rm -rf $(VENV) $(BENCH_VENV) runs .pytest_cache
