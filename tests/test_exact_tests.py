"""The tests marked `exact`, under the compiler's default optimization, from a session that
compiles fast (JAXGAN_TEST_FAST_COMPILE=1, `make test`): one pytest subprocess runs them while
the session's other worker goes on, instead of a second session after it. A plain `pytest`
runs them itself, and this runner then has nothing to do."""

import os
import subprocess
import sys

import pytest

from conftest import EXACT_ITEMS, FAST_COMPILE, ORIGINAL_XLA_FLAGS, REPO


@pytest.mark.skipif(not FAST_COMPILE, reason="this session runs the exact tests itself")
def test_the_exact_tests_pass_under_the_default_optimization(request, tmp_path):
  """The exact tests this session selected (by -m, -k or paths) and left out, by node id: the
  subprocess collects only their files."""
  chosen = request.config.stash.get(EXACT_ITEMS, [])
  if not chosen:
    pytest.skip("this session selected no exact test")
  env = dict(os.environ, XLA_FLAGS=ORIGINAL_XLA_FLAGS)
  env.pop("JAXGAN_TEST_FAST_COMPILE")
  cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"--basetemp={tmp_path / 'exact'}", *chosen]  # fmt: skip
  proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
  assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
  assert f"{len(chosen)} passed" in proc.stdout.splitlines()[-1], proc.stdout[-2000:]
