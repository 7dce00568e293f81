"""A PyTorch state dict (``torch.save`` file) read into NumPy arrays, without PyTorch.

The standard FID Inception weights are published only as ``.pth`` files, and jaxgan does not
install PyTorch (hundreds of MB) to read one. A ``.pth`` file is a pickle whose tensors point
at raw storages by key: in a zip archive (``<name>/data.pkl`` and ``<name>/data/<key>``, PyTorch
≥ 1.6) or, in the legacy format, appended after the pickle. This reader replaces the two
PyTorch names such a pickle refers to (storage types and ``_rebuild_tensor_v2``) with NumPy,
and loads nothing else: any other global is refused, so a file cannot run code.
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
import zipfile

import numpy as np

_DTYPES = {
  "FloatStorage": np.float32,
  "DoubleStorage": np.float64,
  "HalfStorage": np.float16,
  "LongStorage": np.int64,
  "IntStorage": np.int32,
  "ShortStorage": np.int16,
  "CharStorage": np.int8,
  "ByteStorage": np.uint8,
  "BoolStorage": np.bool_,
}
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


class UnreadableWeights(ValueError):
  """Not a PyTorch state dict of plain tensors."""


class _StorageType:
  def __init__(self, name: str):
    self.dtype = np.dtype(_DTYPES[name])


def _rebuild_tensor(storage, offset, size, stride, *unused):
  """``torch._utils._rebuild_tensor_v2``: a strided view of a storage (copied once the
  storages are filled)."""
  itemsize = storage.dtype.itemsize
  return np.lib.stride_tricks.as_strided(
    storage[offset:], shape=tuple(size), strides=tuple(s * itemsize for s in stride)
  )


class _Unpickler(pickle.Unpickler):
  def __init__(self, file, storage):
    super().__init__(file)
    self._storage = storage  # (key, dtype, numel) -> np.ndarray

  def find_class(self, module, name):
    if module == "collections" and name == "OrderedDict":
      return collections.OrderedDict
    if module == "torch._utils" and name == "_rebuild_tensor_v2":
      return _rebuild_tensor
    if module == "torch" and name in _DTYPES:
      return _StorageType(name)
    raise UnreadableWeights(f"the file refers to {module}.{name}, which a state dict does not")

  def persistent_load(self, pid):
    kind, storage_type, key, _location, numel, *_ = pid
    if kind != "storage" or not isinstance(storage_type, _StorageType):
      raise UnreadableWeights(f"unknown persistent id {pid[:2]}")
    return self._storage(str(key), storage_type.dtype, int(numel))


class _Plain(pickle.Unpickler):
  """Plain data only (the legacy format's header and key list): no global at all."""

  def find_class(self, module, name):
    raise UnreadableWeights(f"the file refers to {module}.{name}, which a state dict does not")


def load_state_dict(path: str) -> dict[str, np.ndarray]:
  """{name: array} of the ``torch.save``'d state dict at ``path`` (zip or legacy format)."""
  try:
    if zipfile.is_zipfile(path):
      state = _load_zip(path)
    else:
      with open(path, "rb") as f:
        state = _load_legacy(f)
  except (pickle.UnpicklingError, EOFError, KeyError, struct.error, zipfile.BadZipFile) as e:
    raise UnreadableWeights(f"{path} is not a PyTorch state dict ({type(e).__name__}: {e})") from e
  if not all(isinstance(v, np.ndarray) for v in state.values()):
    raise UnreadableWeights(f"{path} holds more than tensors")
  return {name: np.array(value) for name, value in state.items()}


def _load_zip(path: str) -> dict[str, np.ndarray]:
  with zipfile.ZipFile(path) as archive:
    [pkl] = [n for n in archive.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
    root = pkl[: -len("data.pkl")]

    def storage(key, dtype, numel):
      return np.frombuffer(archive.read(f"{root}data/{key}"), dtype, count=numel)

    return dict(_Unpickler(io.BytesIO(archive.read(pkl)), storage).load())


def _load_legacy(f) -> dict[str, np.ndarray]:
  if _Plain(f).load() != LEGACY_MAGIC:
    raise UnreadableWeights("neither a zip archive nor a legacy PyTorch file")
  _Plain(f).load()  # protocol version
  _Plain(f).load()  # system info
  storages = {}  # filled after the pickle, where the legacy format keeps them

  def storage(key, dtype, numel):
    return storages.setdefault(key, np.zeros(numel, dtype))

  state = _Unpickler(f, storage).load()
  for key in _Plain(f).load():  # each storage: an int64 element count, then its raw bytes
    target = storages[str(key)]
    (count,) = struct.unpack("<q", f.read(8))
    target[:] = np.frombuffer(f.read(count * target.dtype.itemsize), target.dtype)
  return state
