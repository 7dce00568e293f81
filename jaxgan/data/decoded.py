"""A dataset split's decoded arrays, kept on disk beside the prepared dataset and read back
memory-mapped.

Decoding every image (Pillow, one by one) is slow, so the first load writes the uint8 images
(N, H, W, C) and int32 labels (N,) into one file, chunk by chunk as they are decoded, and every
later load maps that file instead (``numpy.memmap``, read-only). Neither step holds the whole
dataset in the process's own memory: a host-fed run (``--data_placement=host``) of a dataset
larger than RAM touches only the pages of the batches it gathers, which the kernel keeps in its
page cache and can drop (BENCHMARKS.md, "Streaming", has the measured peak memory).

The file: a header of :data:`HEADER_BYTES` (JSON, space-padded, newline-ended) naming what made
it, each array's dtype, shape and offset, and the SHA-256 of everything after it; then the
arrays' raw bytes. A truncated, damaged or outdated file is reported and decoded again, never
used (the checksum is read through in chunks, in bounded memory, whenever the file changed
since it was last checked). It is written to a temporary
file and renamed into place, so a crash leaves either the old file or none.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sys
from collections.abc import Callable, Iterator

import numpy as np

from jaxgan.io import BadCache, write_atomic

FORMAT = "jaxgan-arrays/1"
HEADER_BYTES = 4096  # the arrays start page-aligned
_READ_CHUNK = 1 << 24


def cache_path(dataset_dir: str, name: str, split: str, tag: str) -> str:
  """Where the arrays of ``split`` are kept: inside the prepared dataset's own version folder,
  so they are made again whenever the dataset is prepared anew, and never outlive it."""
  safe = re.sub(r"[^A-Za-z0-9_.-]", "_", split)
  return os.path.join(dataset_dir, "jaxgan-decoded", f"{safe}-{tag}.arrays")


def load_or_decode(
  path: str, made_by: str, count: int, chunks: Callable[[], Iterator[tuple[np.ndarray, list]]]
) -> dict[str, np.ndarray]:
  """``{"images", "labels"}`` of the cache at ``path`` (memory-mapped); where there is none
  usable, decoded from ``chunks()`` (consecutive (images, labels) pieces of ``count``
  examples) into a new cache first. Where the cache cannot be written (a read-only data
  directory, a full disk) the arrays are decoded into memory instead, and that is said."""
  if os.path.exists(path):
    try:
      return read(path, made_by, count)
    except BadCache as e:
      print(
        f"warning: ignoring the decoded-data cache {path} ({e}); decoding the dataset again",
        file=sys.stderr,
      )
  try:
    write(path, made_by, count, chunks())
    _remove_npz(os.path.dirname(path))
    return read(path, made_by, count)
  except OSError as e:
    print(
      f"note: could not cache the decoded dataset in {path} ({e}); decoding it into memory",
      file=sys.stderr,
    )
    return _in_memory(chunks())


def _remove_npz(folder: str) -> None:
  """Deletes the caches of the format before this one (whole .npz files): nothing reads them."""
  for name in os.listdir(folder):
    if name.endswith(".npz"):
      with contextlib.suppress(OSError):
        os.remove(os.path.join(folder, name))


def write(path: str, made_by: str, count: int, chunks: Iterator[tuple[np.ndarray, list]]) -> None:
  """Decodes ``chunks`` into the cache file at ``path`` (atomically: a temporary file renamed
  over it), holding one chunk at a time."""
  os.makedirs(os.path.dirname(path), exist_ok=True)
  tmp = f"{path}.tmp{os.getpid()}"
  digest, labels, layout = hashlib.sha256(), np.full((count,), -1, np.int32), None
  try:
    with open(tmp, "wb") as f:
      f.write(bytes(HEADER_BYTES))
      done = 0
      for images, chunk_labels in chunks:
        images = np.ascontiguousarray(images, np.uint8)
        layout = layout or _layout(count, images.shape[1:])
        digest.update(memoryview(images).cast("B"))
        f.write(memoryview(images).cast("B"))
        labels[done : done + len(images)] = chunk_labels
        done += len(images)
      if done != count or layout is None:
        raise ValueError(f"decoded {done} examples of {count}")
      digest.update(labels.tobytes())
      f.write(labels.tobytes())
      f.seek(0)
      f.write(_header(made_by, layout, digest.hexdigest()))
    os.replace(tmp, path)
    _stamp(path, digest.hexdigest())
  finally:
    if os.path.exists(tmp):
      os.remove(tmp)


def _layout(count: int, image_shape: tuple[int, ...]) -> dict[str, dict]:
  image_bytes = count * int(np.prod(image_shape))
  return {
    "images": {"dtype": "uint8", "shape": [count, *image_shape], "offset": 0},
    "labels": {"dtype": "int32", "shape": [count], "offset": image_bytes},
  }


def _header(made_by: str, layout: dict, sha256: str) -> bytes:
  line = json.dumps(
    {"format": FORMAT, "made_by": made_by, "arrays": layout, "sha256": sha256}, sort_keys=True
  ).encode()
  if len(line) >= HEADER_BYTES:
    raise ValueError("the array cache's header is too long")
  return line + b" " * (HEADER_BYTES - len(line) - 1) + b"\n"


def read(path: str, made_by: str, count: int) -> dict[str, np.ndarray]:
  """The arrays of the cache file at ``path``, memory-mapped read-only, after checking its
  header and checksum; raises :class:`BadCache` saying why they cannot be used."""
  try:
    with open(path, "rb") as f:
      block = f.read(HEADER_BYTES)
      if len(block) < HEADER_BYTES:
        raise BadCache(f"truncated: {len(block)} bytes, not even its header")
      header = _parse_header(block, made_by)
      payload = sum(_nbytes(a) for a in header["arrays"].values())
      size = os.fstat(f.fileno()).st_size - HEADER_BYTES
      if size != payload:
        raise BadCache(f"truncated: {max(size, 0)} of {payload} bytes")
      if not _stamped(path, header["sha256"]):
        _check_sum(f, header["sha256"])
        _stamp(path, header["sha256"])
  except OSError as e:
    raise BadCache(f"unreadable: {e.strerror or e}") from None
  # Plain ndarray views of the map: jax.device_put takes an np.memmap (a subclass) for a
  # single-process sharding but refuses it for one over several processes.
  arrays = {
    name: np.asarray(
      np.memmap(path, a["dtype"], "r", HEADER_BYTES + a["offset"], tuple(a["shape"]))
    )
    for name, a in header["arrays"].items()
  }
  if len(arrays["images"]) != count:
    raise BadCache(f"holds {len(arrays['images'])} images, the dataset {count}")
  return arrays


def _check_sum(f, sha256: str) -> None:
  digest = hashlib.sha256()
  while block := f.read(_READ_CHUNK):
    digest.update(block)
  if digest.hexdigest() != sha256:
    raise BadCache("its checksum does not match its content")


# Reading a file of several GB through for its checksum takes a minute from a cold disk
# (BENCHMARKS.md, "Streaming"), so a file is read through once: when it was written or last
# checked, its size, modification time and inode go into a stamp beside it, and a file whose
# stamp still matches is not read through again. A torn or rewritten file does not match.
def _identity(path: str, sha256: str) -> str:
  st = os.stat(path)
  return json.dumps([st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, sha256])


def _stamp(path: str, sha256: str) -> None:
  try:
    write_atomic(path + ".checked", lambda f: f.write(_identity(path, sha256).encode()))
  except OSError:
    pass  # no stamp: the next load reads the file through again


def _stamped(path: str, sha256: str) -> bool:
  try:
    with open(path + ".checked") as f:
      return f.read() == _identity(path, sha256)
  except OSError:
    return False


def _parse_header(block: bytes, made_by: str) -> dict:
  try:
    header = json.loads(block.decode())
    if not isinstance(header, dict) or header.get("format") != FORMAT:
      raise ValueError
    header["arrays"]["images"], header["arrays"]["labels"]  # noqa: B018 (both must be there)
  except (ValueError, KeyError, TypeError, UnicodeDecodeError):
    raise BadCache("not a jaxgan array cache (no header)") from None
  if header.get("made_by") != made_by:
    raise BadCache(f"made by {header.get('made_by')!r}, this is {made_by!r}")
  return header


def _nbytes(array: dict) -> int:
  return int(np.prod(array["shape"])) * np.dtype(array["dtype"]).itemsize


def _in_memory(chunks) -> dict[str, np.ndarray]:
  pieces = list(chunks)
  return {
    "images": np.concatenate([p[0] for p in pieces]).astype(np.uint8),
    "labels": np.concatenate([np.asarray(p[1], np.int32) for p in pieces]),
  }
