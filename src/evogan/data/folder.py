"""A folder of the user's own PNG or JPEG images.

Only the files directly in the folder are read (not sub-folders), in name
order, so a run sees the same images in the same order every time. Each image
is converted to grey-scale and resized to a square with Pillow; white maps to
+1 and black to -1, as in MNIST, so dark-ink-on-white scans come out inverted
compared with MNIST. Transparent pixels count as background (black). There
are no labels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from evogan.data.dataset import FLOAT_BYTES, ImageDataset, check_fits, from_uint8
from evogan.errors import EvoganError

SUFFIXES = frozenset({".png", ".jpg", ".jpeg"})


def load_folder(path: str, image_size: int) -> ImageDataset:
    """Every PNG/JPEG directly in ``path`` as ``[N, 1, image_size, image_size]``."""
    name = f"folder:{path}"
    directory = Path(path).expanduser()
    if not directory.is_dir():
        raise EvoganError(f"{name}: not a directory")
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file())
    if not files:
        raise EvoganError(f"{name}: no PNG or JPEG images found (sub-folders are not searched)")
    need = len(files) * image_size**2 * (1 + FLOAT_BYTES)  # uint8 grey levels, then float32
    check_fits(
        f"--image-size {image_size}", need, f"{len(files)} images of {image_size}x{image_size}"
    )
    pixels = np.stack([_grey(file, image_size) for file in files])
    return ImageDataset(from_uint8(pixels), None, name)


def _grey(file: Path, size: int) -> np.ndarray:
    """One image as ``[size, size]`` uint8 grey levels."""
    try:
        with Image.open(file) as opened:
            image: Image.Image = opened
            if "A" in image.getbands() or "transparency" in image.info:
                rgba = image.convert("RGBA")
                image = Image.alpha_composite(Image.new("RGBA", rgba.size, "black"), rgba)
            grey = image.convert("L").resize((size, size), Image.Resampling.BILINEAR)
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise EvoganError(f"{file}: not a readable image: {exc}") from None
    return np.asarray(grey, dtype=np.uint8)
