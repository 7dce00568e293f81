"""One image size and channel count for a whole dataset: ``--image_size`` and ``--channels``.

An image is made square by cropping its centre (the largest central square: nothing is
stretched), then resized with Pillow's bilinear filter, which Pillow antialiases (its kernel
widens with the reduction factor, so a downscale averages every source pixel instead of
sampling a few, the aliasing clean-fid's authors found in TF's and PyTorch's default resizes).
Bilinear, not bicubic, because it is what jaxgan's CelebA preprocessing has always used, so
the built-in datasets keep their pixels. Channels: grey to colour repeats the grey value
(as compare_gan fed MNIST to Inception), colour to grey is Pillow's ITU-R 601-2 luma; an
alpha channel is dropped and a palette resolved (Pillow's ``convert``).
"""

from __future__ import annotations

import numpy as np
import PIL.Image
import PIL.ImageOps

GREY_MODES = ("1", "L", "LA", "I", "I;16", "F")


def center_crop_resize(image: np.ndarray, crop: int, size: int) -> np.ndarray:
  """The central crop×crop square of an (H, W, C) uint8 image, resized to size×size."""
  h, w = image.shape[:2]
  top, left = (h - crop) // 2, (w - crop) // 2
  square = image[top : top + crop, left : left + crop]
  out = PIL.Image.fromarray(square.squeeze(-1) if square.shape[-1] == 1 else square)
  out = np.asarray(out.resize((size, size), PIL.Image.BILINEAR, reducing_gap=None))
  return out.reshape(size, size, image.shape[-1])


def with_channels(image: np.ndarray, channels: int) -> np.ndarray:
  """An (H, W, C) uint8 image with 1 or 3 channels (C itself is 1 or 3)."""
  if image.shape[-1] == channels:
    return image
  if channels == 3:
    return np.repeat(image, 3, axis=-1)
  grey = PIL.Image.fromarray(image).convert("L")
  return np.asarray(grey)[..., None]


def conform(image: np.ndarray, size: int, channels: int, crop: int | None = None) -> np.ndarray:
  """``image`` (H, W, C) as size×size×channels: the central ``crop`` square (default the
  largest) resized, then its channels converted. ``size`` 0 keeps the cropped size."""
  crop = crop or min(image.shape[:2])
  if size or crop != image.shape[0] or crop != image.shape[1]:
    image = center_crop_resize(image, crop, size or crop)
  return with_channels(image, channels or image.shape[-1])


def from_pil(image: PIL.Image.Image, size: int, channels: int) -> np.ndarray:
  """A decoded file (any Pillow mode, EXIF rotation applied) as size×size×channels uint8."""
  image = PIL.ImageOps.exif_transpose(image)
  if image.mode in ("I", "I;16"):  # 16-bit grey (Pillow's convert would clip, not scale)
    array = np.asarray(image).astype(np.float64) / 65535.0 * 255.0
    array = np.clip(np.rint(array), 0, 255).astype(np.uint8)[..., None]
  elif image.mode in GREY_MODES:
    array = np.asarray(image.convert("L"))[..., None]
  else:
    array = np.asarray(image.convert("RGB"))
  return conform(array, size, channels)
