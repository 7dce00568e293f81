#!/usr/bin/env bash
# Prepares what bench/gpu.sh needs on a GPU machine that reaches no package registry, here, on a
# machine that does: wheels of jaxgan's dependencies that a GPU image (jax, flax, optax, orbax,
# numpy, matplotlib, ...) usually lacks, for its Python (3.12, manylinux x86-64), in .whl/, and
# the real datasets of ../shared/data in .gpu-data/. Both are ignored by git; carry them to the
# device (the device tool's carry: [".whl", ".gpu-data"]). Versions: those of this venv.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-.venv/bin/python}"
names=(tensorflow-datasets array_record dm-tree immutabledict simple-parsing docstring_parser
       tensorflow-metadata googleapis-common-protos termcolor toml tensorboardX
       importlib_resources crc32c)
mkdir -p .whl
for name in "${names[@]}" promise; do
  version="$("$python" -m pip show "$name" 2>/dev/null | sed -n 's/^Version: //p')"
  spec="$name${version:+==$version}"
  if [[ "$name" == promise ]]; then  # an sdist only: built here (pure Python)
    "$python" -m pip wheel -q --no-deps -w .whl "$spec"
    continue
  fi
  "$python" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform manylinux1_x86_64 -d .whl "$spec"
done
mkdir -p .gpu-data
cp -r ../shared/data/mnist ../shared/data/fashion-mnist .gpu-data/
chmod -R u+w .gpu-data
du -sh .whl .gpu-data
