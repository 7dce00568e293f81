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


def test_made_once_lets_one_maker_at_a_time_and_says_the_others_wait(tmp_path, capsys):
  """Two makers of one cache file (separate locks, as in two processes): the second waits
  until the first has written it, says so, and then finds it."""
  import threading

  path = str(tmp_path / "cache" / "c.bin")
  inside, written, seen = threading.Event(), threading.Event(), []

  def first():
    with io.made_once(path, "test file"):
      inside.set()
      written.wait(10)
      io.write_cache(path, b"made", "maker")

  def second():
    with io.made_once(path, "test file"):
      seen.append(io.read_cache(path, "maker"))

  a = threading.Thread(target=first)
  a.start()
  assert inside.wait(10)
  b = threading.Thread(target=second)
  b.start()
  b.join(0.3)
  assert b.is_alive() and not seen  # blocked while the first holds the lock
  written.set()
  a.join(10), b.join(10)
  assert seen == [b"made"]
  assert f"waiting for another process making the test file {path}" in capsys.readouterr().err
