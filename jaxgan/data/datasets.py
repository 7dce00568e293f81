"""Image datasets through TensorFlow Datasets, online or offline.

``load_images(name, split)`` returns a uint8 array (N, H, W, C) read with ``tfds.data_source``
(array_record, no TensorFlow needed). The decoded arrays are kept beside the prepared dataset
(``<data_dir>/<name>/<version>/jaxgan-decoded/``, :mod:`jaxgan.data.decoded`) and read back
memory-mapped, so only the first load pays for decoding every image (BENCHMARKS.md, "Whole
runs", has the figures) and no load holds the whole dataset in the process's own memory.
Where the dataset is not yet prepared in the TFDS data directory it is made there, in this
order:

1. from local IDX files (the format MNIST and Fashion-MNIST are published in), looked for in
   ``$JAXGAN_IDX_DIR`` and ``/usr/share/datasets/<name>/`` (where Debian's
   ``dataset-fashion-mnist`` installs them): a subclass of TFDS's own builder reads them, so
   the result is the standard TFDS dataset (same name, version, features, splits);
2. else, if the download host answers (and ``$JAXGAN_OFFLINE`` is unset), by TFDS's own
   download;
3. else :class:`DatasetUnavailable` explains both remedies.

Only the splits whose files are present are imported (the MNIST test split alone, say); a
later import with more files replaces that partial dataset.

Command line: ``python -m jaxgan.data.datasets import fashion_mnist /path/to/idx/files``.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import shutil
import socket
import sys
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import PIL.Image

from jaxgan.data import conform, decoded, folder
from jaxgan.data.errors import BadDataset, DatasetUnavailable, EmptySplit
from jaxgan.data.idx import (
  IDX_DATASETS,
  IDX_ENV,
  SPLIT_FILES,
  find_idx_files,
  idx_pair,
  idx_search_dirs,
  read_idx,
)

OFFLINE_ENV = "JAXGAN_OFFLINE"  # set to 1 to never try a download


def default_data_dir() -> str:
  return os.environ.get("TFDS_DATA_DIR", os.path.expanduser("~/tensorflow_datasets"))


def _tfds():
  import tensorflow_datasets as tfds  # slow import; only when data is needed

  # Its progress bars and notices (a missing OpenCV, a folder being prepared) would bury the
  # run's own output; jaxgan says what it imports, and errors still raise.
  tfds.disable_progress_bar()
  absl_logger = logging.getLogger("absl")
  if not any(isinstance(f, _QuietTfds) for f in absl_logger.filters):
    absl_logger.addFilter(_QuietTfds())
  return tfds


class _QuietTfds(logging.Filter):
  """Drops TFDS's own log records below ERROR."""

  def filter(self, record: logging.LogRecord) -> bool:
    return record.levelno >= logging.ERROR or "tensorflow_datasets" not in record.pathname


def _local_builder_class(name: str):
  """A subclass of TFDS's builder for ``name`` that reads local IDX files, not the web."""
  tfds = _tfds()
  from tensorflow_datasets.image_classification import mnist as tfds_mnist

  base = {"mnist": tfds_mnist.MNIST, "fashion_mnist": tfds_mnist.FashionMNIST}[name]

  with tfds.core.registered.skip_registration():

    class LocalIdx(base):
      """Same name, version, features and splits as TFDS's builder; files from disk."""

      def __init__(self, *, idx_files: dict[str, tuple[Path, Path]], **kwargs):
        self._idx_files = idx_files
        super().__init__(**kwargs)

      def _split_generators(self, dl_manager):
        del dl_manager
        return [
          tfds.core.SplitGenerator(name=split, gen_kwargs=dict(images=i, labels=l))
          for split, (i, l) in self._idx_files.items()
        ]

      def _log_download_bytes(self) -> None:  # jaxgan says what it imports (ensure_prepared)
        pass

      def _log_download_done(self) -> None:
        pass

      def _generate_examples(self, images, labels):
        images, labels = read_idx(images), read_idx(labels)
        if len(images) != len(labels):
          raise ValueError(f"{len(images)} images but {len(labels)} labels")
        for index, (image, label) in enumerate(zip(images, labels)):
          # A PIL image is PNG-encoded by Pillow, so no TensorFlow is needed.
          yield index, {"image": PIL.Image.fromarray(image), "label": int(label)}

  LocalIdx.name = name
  return LocalIdx


def import_idx(name: str, folder: os.PathLike, data_dir: str | None = None) -> list[str]:
  """Prepares TFDS dataset ``name`` in ``data_dir`` from the IDX files in ``folder``.

  Returns the splits imported. A previously prepared copy with fewer splits is replaced.
  """
  if name not in IDX_DATASETS:
    raise DatasetUnavailable(f"no IDX importer for {name!r}; choices: {', '.join(IDX_DATASETS)}")
  found = {s: p for s in SPLIT_FILES if (p := idx_pair(Path(folder), s))}
  if not found:
    raise DatasetUnavailable(
      f"no IDX files in {folder} (expected e.g. train-images-idx3-ubyte.gz and "
      "train-labels-idx1-ubyte.gz, or the t10k-* test files)"
    )
  builder = _local_builder_class(name)(
    idx_files=found, data_dir=data_dir or default_data_dir(), file_format="array_record"
  )
  if builder.is_prepared():
    if set(found) <= set(builder.info.splits):
      return sorted(builder.info.splits)
    shutil.rmtree(builder.data_dir)  # a partial import; replace it with the fuller one
    builder = _local_builder_class(name)(
      idx_files=found, data_dir=data_dir or default_data_dir(), file_format="array_record"
    )
  builder.download_and_prepare()
  return sorted(found)


def host_reachable(url: str, timeout: float = 3.0) -> bool:
  """Whether TFDS's download host answers; checked first because TFDS itself retries an
  unreachable host for minutes before failing."""
  host = urlparse(url).hostname
  if not host or os.environ.get(OFFLINE_ENV, "") not in ("", "0"):
    return False
  try:
    socket.setdefaulttimeout(timeout)
    with socket.create_connection((host, 443), timeout=timeout):
      return True
  except OSError:
    return False
  finally:
    socket.setdefaulttimeout(None)


def _unavailable_message(name: str, split: str, data_dir: str, have: list[str]) -> str:
  lines = [f"dataset {name!r} split {split!r} is not available offline."]
  if have:
    lines.append(f"  The copy in {data_dir} has only the splits: {', '.join(have)}.")
  if name not in IDX_DATASETS:
    return "\n".join(
      lines
      + [
        "  TFDS could not download it (no connection). Run once with internet access (TFDS",
        f"  downloads and prepares it into {data_dir}), or copy a prepared {name} folder there.",
      ]
    )
  stem = SPLIT_FILES.get(split, split)
  where = "\n".join(f"    {d}" for d in idx_search_dirs(name))
  lines += [
    f"  TFDS could not download it (no connection), and no local IDX files of the {split} split were found in:",
    where,
    "  To get it, either",
    "    * run once with internet access (TFDS downloads and prepares it), or",
    f"    * put {stem}-images-idx3-ubyte.gz and {stem}-labels-idx1-ubyte.gz in a folder and",
    f"      set {IDX_ENV}=<that folder>"
    + (" (or: apt-get install dataset-fashion-mnist)" if name == "fashion_mnist" else ""),
    f"      or run: python -m jaxgan.data.datasets import {name} <that folder>",
  ]
  if name == "mnist":
    lines.append(
      "  (Fashion-MNIST works offline where Debian's dataset-fashion-mnist is installed.)"
    )
  return "\n".join(lines)


def ensure_prepared(name: str, split: str, data_dir: str | None = None) -> None:
  """Makes sure ``split`` of TFDS dataset ``name`` is prepared in ``data_dir``."""
  tfds = _tfds()
  data_dir = data_dir or default_data_dir()
  builder = tfds.builder(name, data_dir=data_dir, file_format="array_record")
  base_split = split.split("[")[0].split("+")[0]
  have = sorted(builder.info.splits) if builder.is_prepared() else []
  if base_split in have:
    return
  if name in IDX_DATASETS:
    folder, found = find_idx_files(name)
    if base_split in found:
      print(
        f"importing {name} ({', '.join(found)}) from IDX files in {folder} into {data_dir}",
        file=sys.stderr,
      )
      import_idx(name, folder, data_dir)
      return
  urls = list(builder.url_infos or {}) or [getattr(builder, "URL", "")]
  if host_reachable(urls[0]):
    builder.download_and_prepare(file_format="array_record")
    if base_split in builder.info.splits:
      return
  raise DatasetUnavailable(_unavailable_message(name, split, data_dir, have))


# Per-dataset preprocessing of each decoded image: the central square kept and its default
# size, for datasets not used at their stored size.
CROPS = {
  # CelebA's 218×178 faces: the central 140×140 crop resized to 64×64, as in Kurach et al.
  # 2019 and most GAN papers.
  "celeb_a": (140, 64),
}
DATASETS = ("mnist", "fashion_mnist", "cifar10", "celeb_a")
TFDS_PREFIX = "tfds:"


def reference_split(name: str) -> str:
  """The split samples are compared with: ``test``, or a folder's one split, ``train``."""
  return "train" if name.startswith(folder.PREFIX) else "test"


def load_images(
  name: str, split: str = "train", data_dir: str | None = None, size: int = 0, channels: int = 0
) -> np.ndarray:
  """All images of a split as uint8 (N, H, W, C), in the dataset's stored order.

  ``name``: a TFDS name (``mnist``, or ``tfds:NAME[/CONFIG]`` for any other), or
  ``folder:PATH`` (:mod:`jaxgan.data.folder`). ``size`` and ``channels`` (0: the dataset's
  own) conform every image (:mod:`jaxgan.data.conform`)."""
  return _load(name, split, data_dir, False, size, channels)


def load_labeled(
  name: str, split: str = "train", data_dir: str | None = None, size: int = 0, channels: int = 0
) -> tuple[np.ndarray, np.ndarray]:
  """All images of a split as uint8 (N, H, W, C) and their class labels as int32 (N,).

  Raises ValueError for a dataset without a class label (CelebA has attributes only)."""
  return _load(name, split, data_dir, True, size, channels)


def _builder(name: str, split: str, data_dir: str, size: int, channels: int):
  """The prepared TFDS builder of ``name`` and how each of its decoded images is conformed
  (None: as stored)."""
  if name.startswith(folder.PREFIX):  # conformed when prepared
    return folder.prepared_builder(name.removeprefix(folder.PREFIX), data_dir, size, channels), None
  tfds_name = name.removeprefix(TFDS_PREFIX)
  ensure_prepared(tfds_name, split, data_dir)
  builder = _tfds().builder(tfds_name, data_dir=data_dir)
  features = builder.info.features
  if "image" not in features:
    raise DatasetUnavailable(f"{name} has no 'image' feature (it has: {', '.join(features)})")
  crop, default = CROPS.get(tfds_name, (None, 0))
  stored = features["image"].shape
  if None in stored[:2] and not (size or default):
    raise BadDataset(f"--dataset={name}: its images vary in size; give --image_size=S")
  if not (size or channels or crop):
    return builder, None
  return builder, functools.partial(
    conform.conform, size=size or default, channels=channels, crop=crop
  )


def _load(name, split, data_dir, with_labels, size, channels):
  data_dir = data_dir or default_data_dir()
  builder, process = _builder(name, split, data_dir, size, channels)
  if builder.info.splits[split].num_examples == 0:  # array_record cannot open no files
    raise EmptySplit(f"--split={split} of {name} selects no examples")
  source = builder.as_data_source(split=split)
  if with_labels and "label" not in source.dataset_info.features:
    raise ValueError(f"{name} has no class labels")
  path = decoded_cache_path(builder.data_dir, name, split, size, channels)
  arrays = decoded.load_or_decode(path, _made_by(), len(source), lambda: _decode(source, process))
  return (arrays["images"], arrays["labels"]) if with_labels else arrays["images"]


# Bumped when _decode's output changes (a new CROPS entry, say): old caches are ignored.
DECODED_FORMAT = 2


def decoded_cache_path(
  dataset_dir: str, name: str, split: str, size: int = 0, channels: int = 0
) -> str:
  """Where the decoded arrays of ``split`` are kept (:mod:`jaxgan.data.decoded`)."""
  conformed = f"/{size}x{channels}" if size or channels else ""
  tag = hashlib.sha1(f"{name}/{split}/{DECODED_FORMAT}{conformed}".encode()).hexdigest()[:10]
  return decoded.cache_path(dataset_dir, name, split, tag)


def _decode(source, process):
  """Every record of a TFDS data source, in chunks of consecutive records: uint8 images
  (n, H, W, C), each through ``process`` when given, and their int32 labels (-1 where the
  dataset has none). Pillow decodes each image, one by one: slow, hence the cache."""
  has_labels = "label" in source.dataset_info.features
  process = process or (lambda im: im)
  chunk = 4096
  for start in range(0, len(source), chunk):
    records = source.__getitems__(list(range(start, min(start + chunk, len(source)))))
    labels = [r["label"] for r in records] if has_labels else [-1] * len(records)
    yield np.stack([process(r["image"]) for r in records]), labels


def _made_by() -> str:
  from jaxgan import __version__

  return f"jaxgan {__version__}, decoded format {DECODED_FORMAT}"


def main(argv: list[str]) -> int:
  usage = f"usage: python -m jaxgan.data.datasets import {{{','.join(IDX_DATASETS)}}} IDX_FOLDER [DATA_DIR]"
  if len(argv) not in (3, 4) or argv[0] != "import" or argv[1] not in IDX_DATASETS:
    print(usage, file=sys.stderr)
    return 2
  try:
    splits = import_idx(argv[1], argv[2], argv[3] if len(argv) == 4 else None)
  except (DatasetUnavailable, ValueError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 1
  print(
    f"{argv[1]}: imported splits {', '.join(splits)} into "
    f"{argv[3] if len(argv) == 4 else default_data_dir()}"
  )
  return 0


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
