"""A folder of image files as a TFDS dataset: ``--dataset=folder:PATH``.

Every PNG, JPEG and WebP file under PATH (recursively) is an example. When PATH holds images
only inside first-level subfolders, those subfolders are the classes (sorted names, as
torchvision's ``ImageFolder``); images directly in PATH make it an unlabelled dataset. TFDS's
own ``tfds.folder_dataset.ImageFolder`` cannot serve: it wants ``PATH/<split>/<class>/`` and
reads through TensorFlow, which jaxgan does not install. So a small builder of jaxgan's own
prepares it once, as every TFDS dataset, into ``<data_dir>/jaxgan_image_folder/<config>/``,
with each image already conformed to ``--image_size`` and ``--channels``
(:mod:`jaxgan.data.conform`). The config's name holds a fingerprint of the listing (paths,
sizes, modification times) and of those two settings: an edited folder is prepared anew.

A file that does not decode is skipped and counted (a scraped folder often holds a few broken
files; refusing them all would make the folder unusable); preparation says how many and names
the first. A folder with no image, a missing path, or images of several sizes without
``--image_size`` are refused as bad flags.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import sys
from pathlib import Path

import numpy as np
import PIL.Image

from jaxgan.data import conform
from jaxgan.data.errors import BadDataset

EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp")
PREFIX = "folder:"


@dataclasses.dataclass(frozen=True)
class Listing:
  """The image files under a folder and their classes (``labels`` None: unlabelled)."""

  root: Path
  files: tuple[Path, ...]
  labels: tuple[int, ...] | None
  class_names: tuple[str, ...]

  def fingerprint(self, size: int, channels: int) -> str:
    digest = hashlib.sha1(f"{size}x{channels}|{self.class_names}".encode())
    for f in self.files:
      stat = f.stat()
      digest.update(f"{f.relative_to(self.root)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:12]


def list_images(root: str | os.PathLike) -> Listing:
  """The images under ``root``, sorted; raises :class:`BadDataset` when there are none."""
  root = Path(root).expanduser()
  if not root.is_dir():
    raise BadDataset(f"--dataset={PREFIX}{root}: no such folder")
  files = sorted(p for p in root.rglob("*") if p.suffix.lower() in EXTENSIONS and p.is_file())
  if not files:
    raise BadDataset(
      f"--dataset={PREFIX}{root}: no image files ({', '.join(EXTENSIONS)}) in it or below"
    )
  if any(f.parent == root for f in files):
    return Listing(root, tuple(files), None, ())
  names = tuple(sorted({f.relative_to(root).parts[0] for f in files}))
  labels = tuple(names.index(f.relative_to(root).parts[0]) for f in files)
  return Listing(root, tuple(files), labels, names)


def own_size_and_channels(listing: Listing, size: int = 0) -> tuple[int, int]:
  """``size``, or else the side shared by every square image (raises when they differ: give
  --image_size), and 1 when every image is grey, else 3. Reads file headers only; unreadable
  files are skipped."""
  sizes, grey = set(), True
  for f in listing.files:
    try:
      with PIL.Image.open(f) as image:
        sizes.add(image.size)
        grey &= image.mode in conform.GREY_MODES
    except (OSError, ValueError, SyntaxError):
      continue
  if not sizes:
    raise BadDataset(
      f"--dataset={PREFIX}{listing.root}: none of its {len(listing.files)} files decodes"
    )
  if not size and (len(sizes) != 1 or len({*next(iter(sizes))}) != 1):
    shown = ", ".join(f"{w}×{h}" for w, h in sorted(sizes)[:4]) + (", …" if len(sizes) > 4 else "")
    raise BadDataset(
      f"--dataset={PREFIX}{listing.root}: the images are not all one square size ({shown}); "
      "give --image_size=S (each is centre-cropped to a square and resized to S×S)"
    )
  return size or next(iter(sizes))[0], 1 if grey else 3


def prepared_builder(root: str, data_dir: str, size: int = 0, channels: int = 0):
  """The TFDS builder of folder ``root`` at ``size``×``size``×``channels`` (0: the images' own),
  prepared in ``data_dir`` if it is not already."""
  listing = list_images(root)
  if not size or not channels:
    size, own_channels = own_size_and_channels(listing, size)
    channels = channels or own_channels
  safe = re.sub(r"[^A-Za-z0-9_]", "_", listing.root.resolve().name)[:40] or "root"
  config_name = f"{safe}_{size}x{channels}_{listing.fingerprint(size, channels)}"
  builder = _builder_class()(
    listing=listing, size=size, channels=channels, config=config_name, data_dir=data_dir
  )
  if not builder.is_prepared():
    _prepare(builder, listing, size, channels)
  return builder


def _prepare(builder, listing: Listing, size: int, channels: int) -> None:
  print(
    f"preparing {len(listing.files)} images of {listing.root} at {size}×{size}×{channels} "
    f"into {builder.data_dir}",
    file=sys.stderr,
  )
  builder.download_and_prepare(file_format="array_record")
  skipped = builder.skipped
  kept = builder.info.splits["train"].num_examples
  if skipped:
    print(
      f"note: skipped {len(skipped)} file(s) that did not decode, e.g. {skipped[0]}",
      file=sys.stderr,
    )
  if not kept:
    import shutil

    shutil.rmtree(builder.data_dir, ignore_errors=True)
    raise BadDataset(f"--dataset={PREFIX}{listing.root}: none of its {len(skipped)} files decodes")


def _decoded(path: Path, size: int, channels: int) -> np.ndarray | None:
  """The file as a conformed uint8 array, or None when it does not decode."""
  try:
    with PIL.Image.open(path) as image:
      image.load()
      return conform.from_pil(image, size, channels)
  except (OSError, ValueError, SyntaxError):  # Pillow's errors for damaged or foreign files
    return None


def _builder_class():
  """TFDS's ``GeneratorBasedBuilder`` for one folder; made on first use, since TFDS is slow
  to import, and kept out of TFDS's registry (its name is no dataset TFDS can build)."""
  from jaxgan.data.datasets import _tfds

  tfds = _tfds()
  with tfds.core.registered.skip_registration():

    class ImageFolder(tfds.core.GeneratorBasedBuilder):
      """The images of one folder, conformed to one size, as the single split ``train``."""

      VERSION = tfds.core.Version("1.0.0")

      def __init__(self, *, listing: Listing, size: int, channels: int, config: str, **kwargs):
        self._listing, self._size, self._channels = listing, size, channels
        self.skipped: list[Path] = []
        super().__init__(config=tfds.core.BuilderConfig(name=config), **kwargs)

      def _info(self):
        features = {"image": tfds.features.Image(shape=(self._size, self._size, self._channels))}
        if self._listing.labels is not None:
          features["label"] = tfds.features.ClassLabel(names=self._listing.class_names)
        # Stored in TFDS's own shuffled order, as every TFDS dataset: the listing's sorted
        # order would group the classes, and a slice (train[:10%]) or a first-N subset
        # (the score's real-image floor) would hold only the first ones.
        return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict(features))

      def _split_generators(self, dl_manager):
        del dl_manager
        return {"train": self._generate_examples()}

      def _log_download_bytes(self) -> None:  # nothing is downloaded; _prepare says what it does
        pass

      def _log_download_done(self) -> None:
        pass

      def _generate_examples(self):
        labels = self._listing.labels
        for index, path in enumerate(self._listing.files):
          image = _decoded(path, self._size, self._channels)
          if image is None:
            self.skipped.append(path)
            continue
          # A PIL image, PNG-encoded by Pillow: an array would need TensorFlow to encode.
          example = {"image": PIL.Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)}
          if labels is not None:
            example["label"] = labels[index]
          yield index, example

  ImageFolder.name = "jaxgan_image_folder"
  return ImageFolder
