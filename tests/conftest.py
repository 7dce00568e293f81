"""Test setup: 8 fake CPU devices (for the pmap/sharding tests) and the real offline data."""

import os
from pathlib import Path

# Must happen before JAX initializes its backend.
os.environ["XLA_FLAGS"] = (
  os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"
).strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
  """../shared/data beside the checkout (present in CI): real MNIST test, full Fashion-MNIST."""
  if not (SHARED_DATA / "mnist" / "t10k-images-idx3-ubyte.gz").exists():
    pytest.fail(f"real data not found at {SHARED_DATA}; the tests need ../shared/data")
  return SHARED_DATA


@pytest.fixture(scope="session")
def tfds_dir(tmp_path_factory) -> Path:
  """A TFDS data directory of this test session (never the user's ~/tensorflow_datasets)."""
  return tmp_path_factory.mktemp("tensorflow_datasets")


@pytest.fixture(scope="session")
def offline_env(shared_data, tfds_dir) -> dict:
  """Environment for subprocesses: local IDX files, a private TFDS dir, the 8 CPU devices off."""
  env = dict(os.environ)
  env["JAXGAN_IDX_DIR"] = str(shared_data)
  env["TFDS_DATA_DIR"] = str(tfds_dir)
  env["XLA_FLAGS"] = ""
  env["PYTHONPATH"] = str(REPO)
  env["JAXGAN_CACHE"] = str(tfds_dir.parent / "jaxgan-cache")  # never the user's ~/.cache
  return env


@pytest.fixture(scope="session")
def mnist_without_train(shared_data, tmp_path_factory) -> Path:
  """An IDX folder holding MNIST's test split only (``mnist/t10k-*``), for the paths where
  the train split is missing (../shared/data has both)."""
  import shutil

  folder = tmp_path_factory.mktemp("idx-test-only")
  (folder / "mnist").mkdir()
  for f in (shared_data / "mnist").glob("t10k-*"):
    shutil.copy(f, folder / "mnist")
  return folder
