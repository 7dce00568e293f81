"""Own images: a folder of files as a dataset, any TFDS dataset by name, and conforming every
image to one size and channel count (``--image_size``, ``--channels``)."""

import os

import numpy as np
import PIL.Image
import pytest

from jaxgan import config as config_lib
from jaxgan.data import conform, datasets

from helpers import run_module


def _write(path, array, mode=None, **save):
  path.parent.mkdir(parents=True, exist_ok=True)
  PIL.Image.fromarray(array, mode).save(path, **save)


@pytest.fixture
def classes(tmp_path):
  """cats/ (RGBA 20×30 PNG, palette PNG 24×24) and dogs/ (grey JPEG 16×16, WebP 40×40), a
  file that does not decode and a text file."""
  root = tmp_path / "pets"
  rgba = np.zeros((20, 30, 4), np.uint8)
  rgba[..., 0], rgba[..., 3] = 255, 128  # red, half transparent
  _write(root / "cats" / "a.png", rgba)
  _write(root / "cats" / "b.png", np.full((24, 24, 3), 51, np.uint8))  # a web-palette colour
  PIL.Image.open(root / "cats" / "b.png").convert("P").save(root / "cats" / "b.png")
  _write(root / "dogs" / "c.jpg", np.full((16, 16), 200, np.uint8), quality=100)
  _write(root / "dogs" / "d.webp", np.full((40, 40, 3), (0, 0, 255), np.uint8), lossless=True)
  (root / "dogs" / "broken.png").write_bytes(b"\x89PNG not really")
  (root / "dogs" / "notes.txt").write_text("not an image")
  return root


def test_a_folder_of_classes_is_a_dataset_conformed_to_one_size(classes, tmp_path, capfd):
  data_dir = str(tmp_path / "tfds")
  name = f"folder:{classes}"
  images, labels = datasets.load_labeled(name, "train", data_dir, size=8, channels=3)
  assert images.shape == (4, 8, 8, 3) and images.dtype == np.uint8
  assert sorted(labels.tolist()) == [0, 0, 1, 1]  # cats, cats, dogs, dogs (broken skipped)
  cats, dogs = images[labels == 0], images[labels == 1]  # in TFDS's shuffled order
  red = (cats == [255, 0, 0]).all(axis=(1, 2, 3))  # the RGBA file, its alpha dropped
  assert sorted(red.tolist()) == [False, True] and (cats[~red] == 51).all()  # palette resolved
  grey = (np.abs(dogs.astype(int) - 200) <= 2).all(axis=(1, 2, 3))  # grey JPEG, 3 channels
  blue = (dogs == [0, 0, 255]).all(axis=(1, 2, 3))
  assert sorted(grey.tolist()) == [False, True] and (grey != blue).all()
  err = capfd.readouterr().err
  assert "preparing 5 images" in err and "skipped 1 file(s)" in err and "broken.png" in err
  again = datasets.load_images(name, "train", data_dir, size=8, channels=3)  # prepared once
  np.testing.assert_array_equal(again, images)
  assert "preparing" not in capfd.readouterr().err
  grey = datasets.load_images(name, "train", data_dir, size=4, channels=1)
  assert grey.shape == (4, 4, 4, 1)
  _write(classes / "dogs" / "e.png", np.zeros((8, 8, 3), np.uint8))  # an edited folder
  assert len(datasets.load_images(name, "train", data_dir, size=8, channels=3)) == 5


def test_a_flat_folder_is_unlabelled_and_takes_its_own_size_and_channels(tmp_path):
  root = tmp_path / "flat"
  for i in range(3):
    _write(root / f"{i}.png", np.full((12, 12), 10 * i, np.uint8))
  _write(root / "deeper" / "3.png", np.full((12, 12), 30, np.uint8))  # recursive
  images = datasets.load_images(f"folder:{root}", "train", str(tmp_path / "tfds"))
  assert images.shape == (4, 12, 12, 1)
  assert sorted(images[:, 0, 0, 0].tolist()) == [0, 10, 20, 30]
  with pytest.raises(ValueError, match="no class labels"):
    datasets.load_labeled(f"folder:{root}", "train", str(tmp_path / "tfds"))


def test_bad_folders_are_refused_as_bad_flags(tmp_path):
  data_dir = str(tmp_path / "tfds")
  cases = {"missing": "no such folder", "empty": "no image files"}
  (tmp_path / "empty").mkdir()
  _write(tmp_path / "mixed" / "a.png", np.zeros((8, 8), np.uint8))
  _write(tmp_path / "mixed" / "b.png", np.zeros((8, 10), np.uint8))
  cases["mixed"] = r"not all one square size \(8×8, 10×8\); give --image_size"
  (tmp_path / "junk").mkdir()
  (tmp_path / "junk" / "x.png").write_bytes(b"nothing")
  cases["junk"] = "none of its 1 files decodes"
  for sub, message in cases.items():
    with pytest.raises(datasets.BadDataset, match=message) as e:
      datasets.load_images(f"folder:{tmp_path / sub}", "train", data_dir)
    assert e.value.exit_code == 2
  assert datasets.load_images(f"folder:{tmp_path / 'mixed'}", "train", data_dir, size=4).shape == (
    2, 4, 4, 1,
  )  # fmt: skip


def test_conform_crops_the_centre_and_converts_channels():
  image = np.zeros((10, 20, 3), np.uint8)
  image[:, 5:15] = (10, 200, 30)  # exactly the central square
  out = conform.conform(image, 0, 0)
  assert out.shape == (10, 10, 3) and (out == (10, 200, 30)).all()
  grey = conform.conform(image, 5, 1)
  assert grey.shape == (5, 5, 1)
  assert abs(int(grey[2, 2, 0]) - round(0.299 * 10 + 0.587 * 200 + 0.114 * 30)) <= 1  # ITU-R 601
  tiled = conform.with_channels(np.arange(4, dtype=np.uint8).reshape(2, 2, 1), 3)
  assert (tiled == tiled[..., :1]).all() and tiled.shape == (2, 2, 3)
  deep = PIL.Image.fromarray(np.full((4, 4), 65535, np.uint16))  # 16-bit grey: scaled, not clipped
  assert (conform.from_pil(deep, 0, 0) == 255).all()
  half = PIL.Image.fromarray(np.full((4, 4), 32768, np.uint16))
  assert (conform.from_pil(half, 0, 0) == 128).all()


def test_any_tfds_dataset_by_name_at_a_chosen_size(test_idx, tfds_dir, monkeypatch):
  monkeypatch.setenv("JAXGAN_IDX_DIR", str(test_idx))
  stored = datasets.load_images("mnist", "test[:64]", str(tfds_dir))
  bigger = datasets.load_images("tfds:mnist", "test[:64]", str(tfds_dir), size=32, channels=3)
  assert bigger.shape == (64, 32, 32, 3)
  expect = np.stack([conform.conform(x, 32, 3) for x in stored])
  np.testing.assert_array_equal(bigger, expect)
  assert np.abs(bigger.mean() - stored.mean()) < 2  # resized, not blanked


def test_dataset_values_beyond_the_named_ones():
  make = config_lib.make_config
  assert make(dataset="folder:~/photos/cats/").workdir == "runs/folder-cats_mlp_ns_s0"
  assert make(dataset="tfds:lsun/church_outdoor").workdir.startswith("runs/lsun-church_outdoor_")
  for bad, message in (
    ("folder:", "choose one of"),
    ("imagenet", "tfds:NAME"),
  ):
    with pytest.raises(config_lib.ConfigError, match=message):
      make(dataset=bad)
  with pytest.raises(config_lib.ConfigError, match="--channels=2"):
    make(channels=2)


def test_the_command_trains_a_folder_and_refuses_a_missing_one(offline_env, tmp_path):
  root = tmp_path / "shapes"
  rng = np.random.default_rng(0)
  for i in range(40):
    _write(root / f"{i}.png", rng.integers(0, 255, (48, 40, 3), np.uint8))
  env = dict(offline_env, TFDS_DATA_DIR=str(tmp_path / "tfds"))
  args = [f"--dataset=folder:{root}", "--arch=dcgan", "--image_size=32", "--steps=4",
          "--batch_size=8", "--log_every=2", "--progress=false", "--ckpt_every=0",
          f"--workdir={tmp_path / 'run'}"]  # fmt: skip
  run_module("experiments.mnist", args, env)
  assert {"samples_final.png", "metrics.jsonl"} <= set(os.listdir(tmp_path / "run"))
  grid = PIL.Image.open(tmp_path / "run" / "samples_final.png")
  assert grid.mode == "RGB" and grid.size == (2 * (10 * 33 + 1),) * 2  # 32-px colour tiles
  missing = run_module("experiments.mnist", ["--dataset=folder:/no/such/dir"], env, check=False)
  assert missing.returncode == 2 and "Traceback" not in missing.stderr
  assert "no such folder" in missing.stderr
