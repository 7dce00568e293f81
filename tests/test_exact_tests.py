"""The tests marked `exact`, under the compiler's default optimization, from a session that
compiles fast (JAXGAN_TEST_FAST_COMPILE=1, `make test`): one pytest subprocess runs them while
the session's other worker goes on, instead of a second session after it. A plain `pytest`
runs them itself, and this runner then has nothing to do."""

import os
import subprocess
import sys

import pytest

from conftest import FAST_COMPILE, ORIGINAL_XLA_FLAGS, REPO


@pytest.mark.skipif(not FAST_COMPILE, reason="this session runs the exact tests itself")
def test_the_exact_tests_pass_under_the_default_optimization(request, tmp_path):
  env = dict(os.environ, XLA_FLAGS=ORIGINAL_XLA_FLAGS)
  env.pop("JAXGAN_TEST_FAST_COMPILE")
  chosen = request.config.option.markexpr
  marks = f"exact and ({chosen})" if chosen else "exact"
  cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "-m", marks, f"--basetemp={tmp_path / 'exact'}", "tests"]  # fmt: skip
  proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
  assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
  assert " passed" in proc.stdout.splitlines()[-1], proc.stdout[-2000:]
