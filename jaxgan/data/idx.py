"""IDX files, the format MNIST and Fashion-MNIST are published in: reading them, finding them.

Local IDX files are looked for in ``$JAXGAN_IDX_DIR`` (or its ``mnist/``, ``fashion-mnist/``
subfolders) and in ``/usr/share/datasets/<name>/`` (where Debian's ``dataset-fashion-mnist``
installs them). :mod:`jaxgan.data.datasets` imports what is found into TFDS.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

# Names TFDS knows -> (IDX file stems per split, Debian-style folder name).
IDX_DATASETS = {
  "mnist": "mnist",
  "fashion_mnist": "fashion-mnist",
}
SPLIT_FILES = {"train": "train", "test": "t10k"}
IDX_ENV = "JAXGAN_IDX_DIR"


def read_idx(path: os.PathLike) -> np.ndarray:
  """Reads an IDX file (gzipped or not) of unsigned bytes into an array of its shape."""
  opener = gzip.open if str(path).endswith(".gz") else open
  with opener(path, "rb") as f:
    raw = f.read()
  if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
    raise ValueError(f"{path} is not an IDX file of unsigned bytes")
  ndim = raw[3]
  dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
  data = np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim)
  if data.size != int(np.prod(dims)):
    raise ValueError(f"{path}: header says {dims}, found {data.size} bytes (truncated?)")
  return data.reshape(dims)


def idx_pair(folder: Path, split: str) -> tuple[Path, Path] | None:
  stem = SPLIT_FILES[split]
  for suffix in (".gz", ""):
    images = folder / f"{stem}-images-idx3-ubyte{suffix}"
    labels = folder / f"{stem}-labels-idx1-ubyte{suffix}"
    if images.exists() and labels.exists():
      return images, labels
  return None


def idx_search_dirs(name: str) -> list[Path]:
  """Where local IDX files of dataset ``name`` are looked for, in order."""
  dirs = []
  if os.environ.get(IDX_ENV):
    root = Path(os.environ[IDX_ENV])
    dirs += [root / IDX_DATASETS[name], root / name, root]
  dirs += [Path("/usr/share/datasets") / IDX_DATASETS[name], Path("/usr/share/datasets") / name]
  return list(dict.fromkeys(dirs))


def find_idx_files(name: str) -> tuple[Path | None, dict[str, tuple[Path, Path]]]:
  """The first folder holding IDX files of ``name``, and the splits found there."""
  for folder in idx_search_dirs(name):
    found = {s: p for s in SPLIT_FILES if (p := idx_pair(folder, s))}
    if found:
      return folder, found
  return None, {}
