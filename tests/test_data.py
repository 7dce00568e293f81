"""Offline data: IDX files imported into the standard TFDS datasets, and clear errors."""

import gzip
import os
import time

import numpy as np
import pytest

from jaxgan import io
from jaxgan.data import conform, datasets, decoded, idx


def mapped(array) -> bool:
  """Whether ``array`` is a view of a memory-mapped file (its base chain holds an np.memmap)."""
  while array is not None:
    if isinstance(array, np.memmap):
      return True
    array = array.base
  return False


def test_read_idx_matches_header(shared_data):
  images = idx.read_idx(shared_data / "mnist" / "t10k-images-idx3-ubyte.gz")
  labels = idx.read_idx(shared_data / "mnist" / "t10k-labels-idx1-ubyte.gz")
  assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
  assert labels.shape == (10000,) and set(np.unique(labels)) == set(range(10))


def test_read_idx_rejects_truncated_file(tmp_path, shared_data):
  with gzip.open(shared_data / "mnist" / "t10k-labels-idx1-ubyte.gz") as f:
    raw = f.read()
  bad = tmp_path / "bad-labels-idx1-ubyte"
  bad.write_bytes(raw[:-10])
  with pytest.raises(ValueError, match="truncated"):
    idx.read_idx(bad)


def test_mnist_test_split_through_tfds(shared_data, test_idx, tfds_dir, monkeypatch):
  """The MNIST test split is imported into TFDS's own 'mnist' dataset and read back intact."""
  monkeypatch.setenv(datasets.IDX_ENV, str(test_idx))
  images = datasets.load_images("mnist", "test", str(tfds_dir))
  assert images.shape == (10000, 28, 28, 1) and images.dtype == np.uint8
  # The same images as the IDX file (TFDS stores them in its own shuffled order).
  raw = idx.read_idx(shared_data / "mnist" / "t10k-images-idx3-ubyte.gz")
  assert sorted(map(bytes, images.reshape(10000, -1))) == sorted(map(bytes, raw.reshape(10000, -1)))
  import tensorflow_datasets as tfds

  builder = tfds.builder("mnist", data_dir=str(tfds_dir))
  assert builder.is_prepared() and str(builder.version) == "3.0.1"
  assert builder.info.splits["test"].num_examples == 10000
  assert builder.info.features["label"].num_classes == 10


def test_decoded_arrays_are_cached_beside_the_dataset(test_idx, tfds_dir, monkeypatch, capsys):
  """The second load maps the cached arrays (no decoding); a corrupt cache is reported,
  ignored and replaced by a fresh decode."""
  monkeypatch.setenv(datasets.IDX_ENV, str(test_idx))
  first, labels = datasets.load_labeled("mnist", "test", str(tfds_dir))
  import tensorflow_datasets as tfds

  version_dir = tfds.builder("mnist", data_dir=str(tfds_dir)).data_dir
  path = datasets.decoded_cache_path(version_dir, "mnist", "test")
  assert os.path.exists(path)

  decode = datasets._decode
  monkeypatch.setattr(datasets, "_decode", lambda *a: pytest.fail("decoded despite the cache"))
  again, again_labels = datasets.load_labeled("mnist", "test", str(tfds_dir))
  assert mapped(again) and not again.flags.writeable  # mapped, not read whole
  np.testing.assert_array_equal(again, first)
  np.testing.assert_array_equal(again_labels, labels)
  assert np.bincount(labels).sum() == 10000 and labels.min() == 0 and labels.max() == 9
  # The damage below is done in place, which jaxgan never does (it renames a new file over the
  # old, so a mapping stays valid): no array may map the file while it is truncated.
  first = np.array(first)
  del again, again_labels, labels

  for damage in ("truncate", "overwrite"):  # a torn file, then 64 bytes of image data flipped
    with open(path, "r+b") as f:
      if damage == "truncate":
        f.truncate(1000)
      else:
        f.seek(os.path.getsize(path) // 2)
        flipped = bytes(b ^ 0xFF for b in f.read(64))
        f.seek(-64, os.SEEK_CUR)
        f.write(flipped)
    monkeypatch.setattr(datasets, "_decode", decode)
    capsys.readouterr()
    fresh = datasets.load_images("mnist", "test", str(tfds_dir))
    err = capsys.readouterr().err
    assert "ignoring the decoded-data cache" in err
    assert ("truncated" if damage == "truncate" else "checksum") in err
    np.testing.assert_array_equal(fresh, first)
    monkeypatch.setattr(datasets, "_decode", lambda *a: pytest.fail("the cache was not rewritten"))
    np.testing.assert_array_equal(datasets.load_images("mnist", "test", str(tfds_dir)), first)
    del fresh


def test_the_decoded_cache_is_written_chunk_by_chunk_and_mapped(tmp_path, capsys, monkeypatch):
  """The chunks land in order in one file that is read back memory-mapped, its checksum read
  through once until the file changes; a cache that cannot be written (its folder is a file
  here) leaves the arrays decoded into memory."""
  rng = np.random.default_rng(0)
  pieces = [(rng.integers(0, 256, (n, 3, 2, 1), np.uint8), list(range(n))) for n in (4, 4, 1)]
  path = str(tmp_path / "cache" / "train.arrays")
  (tmp_path / "cache").mkdir()
  (tmp_path / "cache" / "train-0123.npz").write_bytes(b"the format before")
  got = decoded.load_or_decode(path, "maker", 9, lambda: iter(pieces))
  assert sorted(os.listdir(tmp_path / "cache")) == ["train.arrays", "train.arrays.checked"]
  assert all(mapped(a) and type(a) is np.ndarray for a in got.values())
  np.testing.assert_array_equal(got["images"], np.concatenate([p[0] for p in pieces]))
  np.testing.assert_array_equal(got["labels"], [0, 1, 2, 3, 0, 1, 2, 3, 0])
  with pytest.raises(io.BadCache, match="made by"):
    decoded.read(path, "another maker", 9)
  # Checked once: an unchanged file is not read through again; a file changed in place is.
  check = decoded._check_sum
  monkeypatch.setattr(decoded, "_check_sum", lambda *a: pytest.fail("read through again"))
  decoded.read(path, "maker", 9)
  monkeypatch.setattr(decoded, "_check_sum", check)
  time.sleep(0.02)  # file times tick with the kernel's coarse clock (≤ 4 ms)
  with open(path, "r+b") as f:
    f.seek(decoded.HEADER_BYTES)
    first_byte = f.read(1)[0]
    f.seek(decoded.HEADER_BYTES)
    f.write(bytes([first_byte ^ 1]))
  with pytest.raises(io.BadCache, match="checksum"):
    decoded.read(path, "maker", 9)
  with pytest.raises(ValueError, match="decoded 8 examples of 9"):
    decoded.write(str(tmp_path / "short.arrays"), "maker", 9, iter(pieces[:2]))
  assert not (tmp_path / "short.arrays").exists()  # no half-written cache is left behind

  (tmp_path / "a_file").write_text("")
  unwritable = str(tmp_path / "a_file" / "train.arrays")
  got = decoded.load_or_decode(unwritable, "maker", 9, lambda: iter(pieces))
  assert "could not cache the decoded dataset" in capsys.readouterr().err
  assert not mapped(got["images"]) and got["images"].shape == (9, 3, 2, 1)


def test_an_empty_split_is_refused_as_a_bad_flag(test_idx, tfds_dir, monkeypatch):
  monkeypatch.setenv(datasets.IDX_ENV, str(test_idx))
  with pytest.raises(datasets.EmptySplit, match=r"--split=test\[:0\] of mnist selects no") as e:
    datasets.load_images("mnist", "test[:0]", str(tfds_dir))
  assert e.value.exit_code == 2  # experiments.mnist and .sweep exit with it


def test_fashion_mnist_import_command(shared_data, tmp_path, capfd):
  """`python -m jaxgan.data.datasets import` prepares the standard fashion_mnist from the IDX
  files it finds (here the test split's alone: the suite's `fashion_env` imports both),
  without TFDS's progress bars and notices."""
  out, files = tmp_path / "tfds", tmp_path / "idx"
  files.mkdir()
  for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
    (files / name).symlink_to(shared_data / "fashion-mnist" / name)
  assert datasets.main(["import", "fashion_mnist", str(files), str(out)]) == 0
  said = "".join(capfd.readouterr())
  assert "Generating" not in said and "Downloading and preparing" not in said, said[-1000:]
  import tensorflow_datasets as tfds

  builder = tfds.builder("fashion_mnist", data_dir=str(out))
  assert {k: v.num_examples for k, v in builder.info.splits.items()} == {"test": 10000}
  assert builder.info.features["label"].names[0] == "T-shirt/top"
  source = tfds.data_source("fashion_mnist", split="test", data_dir=str(out), download=False)
  labels = np.array([r["label"] for r in source.__getitems__(list(range(len(source))))])
  raw = idx.read_idx(shared_data / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz")
  np.testing.assert_array_equal(np.bincount(labels), np.bincount(raw))


def test_missing_dataset_names_both_remedies(tmp_path, monkeypatch):
  monkeypatch.setenv(datasets.IDX_ENV, str(tmp_path / "nothing-here"))
  monkeypatch.setattr(datasets, "host_reachable", lambda url, timeout=3.0: False)  # offline
  with pytest.raises(datasets.DatasetUnavailable) as err:
    datasets.ensure_prepared("fashion_mnist", "train", str(tmp_path / "tfds"))
  msg = str(err.value)
  assert (
    "internet" in msg and datasets.IDX_ENV in msg and "/usr/share/datasets/fashion-mnist" in msg
  )
  assert "train-images-idx3-ubyte.gz" in msg


def test_partial_mnist_explains_missing_train_split(mnist_without_train, tmp_path, monkeypatch):
  monkeypatch.setenv(datasets.IDX_ENV, str(mnist_without_train))
  monkeypatch.setattr(datasets, "host_reachable", lambda url, timeout=3.0: False)
  data_dir = str(tmp_path / "tfds")
  datasets.ensure_prepared("mnist", "test", data_dir)
  with pytest.raises(datasets.DatasetUnavailable, match="has only the splits: test"):
    datasets.ensure_prepared("mnist", "train", data_dir)


def test_celeb_a_crop_and_resize():
  """The central 140×140 square of a 218×178 image, resized to 64×64."""
  image = np.zeros((218, 178, 3), np.uint8)
  image[39:179, 19:159] = 200  # exactly the central square
  out = conform.center_crop_resize(image, 140, 64)
  assert out.shape == (64, 64, 3) and out.dtype == np.uint8
  assert (out == 200).all()
  image[:, :89] = 0  # left half dark
  out = conform.center_crop_resize(image, 140, 64)
  assert out[:, :30].max() == 0 and out[:, 34:].min() == 200


@pytest.mark.parametrize("name", ["cifar10", "celeb_a"])
def test_datasets_without_local_files_explain_themselves(name, tmp_path, monkeypatch):
  monkeypatch.setattr(datasets, "host_reachable", lambda url, timeout=3.0: False)
  monkeypatch.setenv(datasets.OFFLINE_ENV, "1")
  with pytest.raises(datasets.DatasetUnavailable, match="internet"):
    datasets.ensure_prepared(name, "train", str(tmp_path))
