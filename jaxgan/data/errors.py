"""Why a dataset cannot be had, each with the exit code a command gives for it."""


class DatasetUnavailable(RuntimeError):
  """The dataset is neither prepared, nor importable from local files, nor downloadable."""

  exit_code = 1


class BadDataset(DatasetUnavailable):
  """A dataset flag that cannot work as given: a missing or empty folder, an empty split,
  images of several sizes without ``--image_size``."""

  exit_code = 2


class EmptySplit(BadDataset):
  """A split that selects no examples (``train[:0]``)."""
