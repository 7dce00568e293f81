"""Test setup: 8 fake CPU devices (for the pmap/sharding tests) and the real offline data."""

import os
import subprocess
import sys
from pathlib import Path

# Must happen before JAX initializes its backend.
# JAXGAN_TEST_FAST_COMPILE=1 (`make test`) turns LLVM's optimization off: the tests run few
# steps of many programs, so compiling them is most of the suite's time. Tests marked `exact`
# compare two differently built programs (vmapped and alone, scan and unrolled) bit for bit, a
# property of the compiler's default optimization, so such a session runs them apart, in one
# pytest subprocess under the default (tests/test_exact_tests.py).
FAST_COMPILE = os.environ.get("JAXGAN_TEST_FAST_COMPILE") == "1"
_ADDED = ["--xla_force_host_platform_device_count=8", "--xla_backend_optimization_level=0"]
# The user's flags without this file's (an xdist worker inherits them from its controller).
ORIGINAL_XLA_FLAGS = " ".join(f for f in os.environ.get("XLA_FLAGS", "").split() if f not in _ADDED)
os.environ["XLA_FLAGS"] = " ".join(
  [ORIGINAL_XLA_FLAGS, *_ADDED[: 2 if FAST_COMPILE else 1]]
).strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import pytest  # noqa: E402
from filelock import FileLock  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


EXACT_RUNNER = "test_exact_tests.py::test_the_exact_tests_pass_under_the_default_optimization"
EXACT_ITEMS = pytest.StashKey[list]()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
  """Under JAXGAN_TEST_FAST_COMPILE=1, leaves out the `exact` tests (after ``-m`` has chosen):
  their runner, put first (it is the longest item), runs them in a subprocess."""
  if not FAST_COMPILE:
    return
  exact = [i for i in items if i.get_closest_marker("exact")]
  config.stash[EXACT_ITEMS] = [i.nodeid for i in exact]  # what the runner runs
  if exact:
    config.hook.pytest_deselected(items=exact)
    items[:] = [i for i in items if not i.get_closest_marker("exact")]
  items.sort(key=lambda i: not i.nodeid.endswith(EXACT_RUNNER))


def pytest_terminal_summary(terminalreporter, config):
  """Says loudly which checks were left out: ``long`` ones, when ``-m`` leaves them out
  (``make test-long`` runs them), and ``exact`` ones under JAXGAN_TEST_FAST_COMPILE=1 when
  their runner did not pass."""
  left_out = {
    "long": ("long" in (config.option.markexpr or ""), "`make test-long` runs them"),
    "exact": (
      FAST_COMPILE,
      "they need the compiler's default optimization, and their runner "
      "(tests/test_exact_tests.py) did not run or failed",
    ),
  }
  deselected = terminalreporter.stats.get("deselected", [])
  passed = terminalreporter.stats.get("passed", [])
  if any(r.nodeid.endswith(EXACT_RUNNER) for r in passed):
    left_out.pop("exact")  # they ran, in the runner's subprocess
  for mark, (applies, where) in left_out.items():
    items = [i for i in deselected if mark in i.keywords] if applies else []
    if items:
      terminalreporter.write_line(
        f"NOTE: {len(items)} {mark} checks were not run (marked `{mark}`): {where}; "
        "docs/testing.md lists them.",
        yellow=True,
        bold=True,
      )


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


# Every test's Fashion-MNIST feature classifier (`--classifier_steps`): one training a session,
# cached in `offline_env`'s JAXGAN_CACHE by whichever test needs it first (the others wait for
# it: jaxgan.io.made_once). 60 steps: test_quality asks for a test accuracy over 0.75.
CLASSIFIER_STEPS = 60

# What the subprocesses read, prepared once per test session: the datasets they train on
# (imported from ../shared/data and decoded) and jaxgan's cache.
PREPARED = (("fashion_mnist", "train"), ("fashion_mnist", "test"), ("mnist", "test"))


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory, worker_id) -> Path:
  """A folder of this test session that every xdist worker shares (its base temp's parent
  under xdist; the base temp itself without)."""
  base = tmp_path_factory.getbasetemp()
  return base if worker_id == "master" else base.parent


@pytest.fixture(scope="session", autouse=True)
def compilation_cache(session_dir) -> Path:
  """JAX's persistent compilation cache for the tests' own process, shared by both workers:
  many tests build the same program anew (a fresh ``Run`` or ``GAN`` jits fresh closures),
  which jax's in-memory cache cannot see and this one, keyed by the program, can."""
  import jax

  from jaxgan.run.cache import enable_compilation_cache

  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
  return Path(enable_compilation_cache(str(session_dir / "tests-xla-cache")))


@pytest.fixture(scope="session")
def offline_env(shared_data, session_dir) -> dict:
  """Environment for subprocesses: local IDX files, the session's TFDS dir (MNIST's test split
  imported and decoded there once, by the first worker to get to it; Fashion-MNIST:
  ``fashion_env``) and jaxgan
  cache (classifiers and compiled programs: the same ones recur across tests and workers),
  the 8 CPU devices off, fast compiles as in this session. Tests that change a dataset or a
  cache use folders of their own."""
  env = dict(os.environ)
  env["JAXGAN_IDX_DIR"] = str(_idx_for_tests(shared_data, session_dir))
  env["TFDS_DATA_DIR"] = str(session_dir / "offline-tfds")
  # Without the 8 CPU devices; under JAXGAN_TEST_FAST_COMPILE=1 with its fast compiles, as in
  # this process (a subprocess test is mostly compiling too).
  env["XLA_FLAGS"] = _ADDED[1] if FAST_COMPILE else ""
  env["PYTHONPATH"] = str(REPO)
  env["JAXGAN_CACHE"] = str(session_dir / "offline-jaxgan-cache")  # never the user's ~/.cache
  # Small programs too: most of a test's subprocess is compiling what another one compiled.
  env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
  _prepared("mnist", env, session_dir)
  return env


@pytest.fixture(scope="session")
def test_idx(shared_data, session_dir) -> Path:
  """The tests' IDX folder: Fashion-MNIST whole, MNIST's test split alone (``_idx_for_tests``)."""
  return _idx_for_tests(shared_data, session_dir)


@pytest.fixture(scope="session")
def fashion_env(offline_env, session_dir) -> dict:
  """``offline_env`` with Fashion-MNIST's splits prepared too (the sweeps, the evaluations and
  the numbers train on it). Apart from ``offline_env``: a worker whose tests need MNIST alone
  does not wait while the other imports Fashion-MNIST's 70,000 images."""
  _prepared("fashion_mnist", offline_env, session_dir)
  return offline_env


def _prepared(name: str, env: dict, session_dir: Path) -> None:
  """Dataset ``name``'s splits of ``PREPARED``, imported and decoded once per session (one lock
  per dataset: TFDS prepares all of its splits at once)."""
  with FileLock(str(session_dir / f"offline-{name}.lock")):
    _prepare(name, env, session_dir / f"offline-{name}.ready")


def _idx_for_tests(shared_data: Path, session_dir: Path) -> Path:
  """The IDX files the tests read (links into ../shared/data): Fashion-MNIST whole, MNIST's test
  split alone. No test trains on MNIST's train split, and importing its 60,000 images into
  TFDS would cost every session several seconds on the path every subprocess test waits on."""
  folder = session_dir / "idx"
  wanted = {"fashion-mnist": "*", "mnist": "t10k-*"}
  for sub, pattern in wanted.items():
    (folder / sub).mkdir(parents=True, exist_ok=True)
    for f in (shared_data / sub).glob(pattern):
      link = folder / sub / f.name
      if not link.exists():
        try:
          link.symlink_to(f)
        except FileExistsError:  # the other worker made it first
          pass
  return folder


def _prepare(name, env, done):
  if not done.exists():
    loads = "; ".join(f"load_images({n!r}, {s!r})" for n, s in PREPARED if n == name)
    code = f"from jaxgan.data.datasets import load_images; {loads}"
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
    done.touch()


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
