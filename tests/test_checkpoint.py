"""Checkpoint round trip and corrupt-checkpoint reporting."""

import jax
import pytest

from jaxgan.run.checkpoint import Checkpointer, CorruptCheckpoint

from helpers import assert_trees_close, setup, small_dcgan


def trained_state():
  """A DCGAN state (with batch statistics) whose every leaf differs from a fresh init."""
  state, _ = setup(small_dcgan())
  return jax.tree.map(lambda x: x + 1, state)


def test_round_trip_and_keep_last(tmp_path):
  state = trained_state()
  ckpt = Checkpointer(str(tmp_path / "ckpt"), max_to_keep=2)
  for step in (1, 2, 3):
    ckpt.save(state.replace(step=state.step * 0 + step), step)
  ckpt.close()
  ckpt = Checkpointer(str(tmp_path / "ckpt"), max_to_keep=2)
  assert ckpt.steps() == [2, 3]
  template, _ = setup(small_dcgan(), seed=123)  # different values, same structure
  restored = ckpt.restore(template)
  assert int(restored.step) == 3
  assert_trees_close(restored.replace(step=state.step), state, rtol=0, atol=0)
  ckpt.close()


def test_corrupt_checkpoint_is_reported_and_left_alone(tmp_path):
  state = trained_state()
  ckpt = Checkpointer(str(tmp_path / "ckpt"))
  ckpt.save(state, 1)
  ckpt.close()
  files = sorted(p for p in (tmp_path / "ckpt" / "1").rglob("*") if p.is_file())
  for p in files:  # damage every file of the checkpoint
    p.write_bytes(b"\0" * 7)
  before = {p: p.stat().st_size for p in files}
  ckpt = Checkpointer(str(tmp_path / "ckpt"))
  with pytest.raises(CorruptCheckpoint, match="checkpoint 1 .* could not be restored"):
    ckpt.restore(state)
  ckpt.close()
  assert {p: p.stat().st_size for p in files} == before
