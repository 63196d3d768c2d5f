"""One entry point from a dataset name (as typed on the command line) to images.

``load_dataset`` dispatches on the name, then applies the options every
source shares in a fixed order: the ``subset`` index range first (so only the
kept images are resized), then the resize to ``image_size``.
"""

from __future__ import annotations

from pathlib import Path

from evogan.data.dataset import ImageDataset, resize, take_subset
from evogan.data.digits import load_sklearn_digits
from evogan.data.folder import load_folder
from evogan.data.mnist import load_mnist_dir
from evogan.errors import EvoganError

DATASETS: tuple[str, ...] = ("digits", "mnist", "fashion-mnist", "folder:PATH")
FOLDER_PREFIX = "folder:"
FOLDER_IMAGE_SIZE = 28  # folder images have no native size: use MNIST's


def load_dataset(
    name: str,
    *,
    data_dir: str | Path | None = None,
    subset: tuple[int, int] | None = None,
    image_size: int | None = None,
) -> ImageDataset:
    """Load dataset ``name`` (one of ``DATASETS``) as images in [-1, 1]."""
    if image_size is not None and (not isinstance(image_size, int) or image_size < 1):
        raise EvoganError(f"image size {image_size!r}: must be a positive number of pixels")
    if name == "digits":
        dataset = load_sklearn_digits()
    elif name in ("mnist", "fashion-mnist"):
        dataset = load_mnist_dir(name, data_dir)
    elif name.startswith(FOLDER_PREFIX) and name != FOLDER_PREFIX:
        dataset = load_folder(name.removeprefix(FOLDER_PREFIX), image_size or FOLDER_IMAGE_SIZE)
    else:
        raise EvoganError(f"unknown dataset {name!r} (choose from {', '.join(DATASETS)})")
    if subset is not None:
        dataset = take_subset(dataset, subset)
    if image_size is not None:
        dataset = resize(dataset, image_size)
    return dataset


def parse_subset(text: str) -> tuple[int, int]:
    """Parse ``--subset START:STOP`` (a Python-style half-open index range)."""
    try:
        start, stop = (int(part) for part in text.split(":"))  # ValueError unless exactly two
    except ValueError:
        raise EvoganError(
            f"--subset {text}: expected START:STOP, two whole numbers like 0:5000"
        ) from None
    if start < 0:
        raise EvoganError(f"--subset {text}: start must not be negative")
    if stop <= start:
        raise EvoganError(f"--subset {text}: stop must be greater than start")
    return start, stop
