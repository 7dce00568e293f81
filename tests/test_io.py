"""Atomic writes and checksummed cache files (jaxgan.io)."""

import numpy as np
import pytest

from jaxgan import io


def test_a_cache_file_reads_back_only_intact_and_from_its_maker(tmp_path):
  path = str(tmp_path / "sub" / "c.bin")
  payload = io.npz_bytes({"x": np.arange(1000, dtype=np.float32), "y": np.eye(3)})
  io.write_cache(path, payload, "maker 1")
  got = io.npz_arrays(io.read_cache(path, "maker 1"))
  np.testing.assert_array_equal(got["x"], np.arange(1000, dtype=np.float32))
  np.testing.assert_array_equal(got["y"], np.eye(3))
  good = open(path, "rb").read()

  def damaged(change):
    with open(path, "wb") as f:
      f.write(change(good))
    with pytest.raises(io.BadCache) as e:
      io.read_cache(path, "maker 1")
    return str(e.value)

  middle = len(good) // 2
  assert "truncated" in damaged(lambda b: b[:-100])
  assert "checksum" in damaged(lambda b: b[:middle] + bytes(64) + b[middle + 64 :])
  assert "no checksum header" in damaged(lambda b: payload)  # a file of an older jaxgan
  assert "no checksum header" in damaged(lambda b: b"")
  with open(path, "wb") as f:
    f.write(good)
  with pytest.raises(io.BadCache, match="made by 'maker 1', this is 'maker 2'"):
    io.read_cache(path, "maker 2")
  with pytest.raises(io.BadCache, match="unreadable"):
    io.read_cache(str(tmp_path / "missing"), "maker 1")


def test_write_atomic_leaves_the_old_file_when_writing_fails(tmp_path):
  path = str(tmp_path / "f")
  io.write_atomic(path, lambda f: f.write(b"good"))

  def fails(f):
    f.write(b"half")
    raise OSError(28, "No space left on device")

  with pytest.raises(OSError):
    io.write_atomic(path, fails)
  assert open(path, "rb").read() == b"good"
  assert [p.name for p in tmp_path.iterdir()] == ["f"]  # no temporary file left behind
