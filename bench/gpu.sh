#!/usr/bin/env bash
# The GPU benchmark in one command, for a machine lent for minutes (docs/speed.md):
#
#   bash bench/gpu.sh            # on the GPU machine: 464 s with the installs (2026-12-04,
#                                # an H200), before the last row (about a minute) was added
#   bash bench/gpu.sh --smoke    # here, on the CPU: every row at a few steps, to know it runs
#
# Rows in priority order, each record appended to $RECORDS as soon as it is measured (a run cut
# by the machine's limit keeps what it measured); then `python -m bench.run --tabulate=FILE`
# writes them into BENCHMARKS.md (the GPU run does it at the end, into its $OUT when set).
# What is missing is installed first: from wheels in .whl/ when the machine has no registry
# (made by bench/gpu_prepare.sh and carried there), else `pip install -e .[cuda]`.
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=""
if [[ "${1:-}" == "--smoke" ]]; then smoke="--smoke"; fi
out="${OUT:-bench/results}"
mkdir -p "$out"
records="${RECORDS:-$out/gpu-records.jsonl}"
if [[ -n "$smoke" && -z "${RECORDS:-}" ]]; then records="$(mktemp --suffix=.jsonl)"; fi  # not results
# The checkout's environment where `make install` made one (here, for --smoke); the machine's
# own Python on a GPU machine, which gets the checkout without it.
default_python=python3
if [[ -x .venv/bin/python ]]; then default_python=.venv/bin/python; fi
python="${PYTHON:-$default_python}"

# jaxgan's own dependencies beyond what a GPU image usually holds (jax, flax, optax, orbax).
if ! "$python" -c "import tensorflow_datasets, tensorboardX, array_record, filelock, crc32c" 2>/dev/null; then
  if compgen -G ".whl/*.whl" >/dev/null; then
    "$python" -m pip install -q --no-index --no-deps --no-compile --target /tmp/jaxgan-site .whl/*.whl
    export PYTHONPATH="/tmp/jaxgan-site${PYTHONPATH:+:$PYTHONPATH}"
  else
    "$python" -m pip install -q -e ".[cuda]"
  fi
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
# The real MNIST and Fashion-MNIST: ../shared/data beside the checkout, else a copy carried in
# .gpu-data/ (the device machine gets the checkout alone).
if [[ -z "${JAXGAN_IDX_DIR:-}" ]]; then
  if [[ -d ../shared/data ]]; then JAXGAN_IDX_DIR="$(cd ../shared/data && pwd)"; else JAXGAN_IDX_DIR="$PWD/.gpu-data"; fi
fi
export JAXGAN_IDX_DIR
"$python" -c "import jax; print('jax', jax.__version__, jax.devices())"

# Rows in the order of what they answer: the whole run against its bare step, with variants
# that leave out one output each (which output does the device wait for?); the single MLP and
# the DCGAN, each also with its loop unrolled and with loops as CUDA graphs (kernels per step
# counted); 100 epochs end to end; the populations; the sweep runner.
"$python" -m bench.run $smoke --records="$records" --timeout=240 \
  --only="whole run vs bare step, mlp, batch 64" \
  --only="jaxgan mlp, lax.scan of 500" \
  --only="whole run vs bare step, loops as CUDA graphs" \
  --only="jaxgan dcgan, lax.scan of 200" \
  --only="experiments.mnist mlp" \
  --only="jaxgan mlp, population 64, lax.scan of 500" \
  --only="sweep runner, mlp, population 64"
if [[ -z "$smoke" ]]; then
  "$python" -m bench.run --tabulate="$records" --output="$out/BENCHMARKS.md"
fi
