"""MNIST and Fashion-MNIST from a directory the user points to.

Two layouts are understood, both as distributed upstream: the four IDX files
(gzipped or not, as ``evogan data download`` leaves them), and Keras'
``mnist.npz`` (here ``NAME.npz``, keys ``x_train y_train x_test y_test``).
Every split found is used, train first then test, so a directory holding only
the 10k test split is a valid 10k-image dataset.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch

from evogan.data.dataset import ImageDataset, from_uint8
from evogan.data.idx import read_pair
from evogan.errors import EvoganError

SPLITS = (
    ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
)
_NPZ_SPLITS = (("x_train", "y_train"), ("x_test", "y_test"))

Arrays = list[tuple[npt.NDArray[np.uint8], np.ndarray]]  # (images [N, H, W], labels [N])


def load_mnist_dir(name: str, data_dir: str | Path | None) -> ImageDataset:
    """Load ``mnist`` or ``fashion-mnist`` (same format) from ``data_dir``."""
    if data_dir is None:
        raise EvoganError(
            f"{name}: needs a data directory (--data-dir); "
            f"get the files with `evogan data download {name} DIR`"
        )
    directory = Path(data_dir)
    if not directory.is_dir():
        raise EvoganError(f"{name}: data directory {directory} does not exist")
    splits = _idx_splits(directory) or _npz_splits(directory / f"{name}.npz")
    if not splits:
        raise EvoganError(
            f"{name}: no {name.upper()} files in {directory} (expected "
            "train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz], "
            f"t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz], or {name}.npz)"
        )
    sizes = {images.shape[1] for images, _ in splits}
    if len(sizes) > 1:
        raise EvoganError(f"{name}: splits in {directory} have different image sizes {sizes}")
    images = from_uint8(np.concatenate([images for images, _ in splits]))
    labels = torch.from_numpy(np.concatenate([labels for _, labels in splits]).astype(np.int64))
    return ImageDataset(images, labels, name)


def _find(directory: Path, stem: str) -> Path | None:
    """The file ``stem`` or ``stem.gz`` in ``directory``, if either exists."""
    for candidate in (directory / stem, directory / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _idx_splits(directory: Path) -> Arrays:
    """Every IDX split present; half a split (images without labels) is an error."""
    splits = []
    for images_stem, labels_stem in SPLITS:
        images, labels = _find(directory, images_stem), _find(directory, labels_stem)
        if images is None and labels is None:
            continue
        if images is None or labels is None:
            have, missing = (images, labels_stem) if labels is None else (labels, images_stem)
            raise EvoganError(f"{have}: found, but not its partner {missing}[.gz] in {directory}")
        splits.append(read_pair(images, labels))
    return splits


def _npz_splits(path: Path) -> Arrays:
    """The splits of a Keras-style ``.npz``, or nothing if the file is absent."""
    if not path.is_file():
        return []
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError, MemoryError, zipfile.BadZipFile) as exc:
        # MemoryError: numpy allocates what a member's header declares before reading it
        raise EvoganError(f"{path}: not a readable .npz file: {exc}") from None
    splits = [_npz_split(path, arrays, x, y) for x, y in _NPZ_SPLITS if x in arrays or y in arrays]
    if not splits:
        raise EvoganError(f"{path}: has keys {sorted(arrays)}, expected x_train, y_train, ...")
    return splits


def _npz_split(
    path: Path, arrays: dict[str, np.ndarray], x_key: str, y_key: str
) -> tuple[npt.NDArray[np.uint8], np.ndarray]:
    """One checked (images, labels) pair from the archive."""
    if x_key not in arrays or y_key not in arrays:
        raise EvoganError(f"{path}: has only one of {x_key} and {y_key}")
    x, y = arrays[x_key], arrays[y_key]
    if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1] != x.shape[2] or 0 in x.shape:
        raise EvoganError(f"{path}: {x_key} is {x.dtype} {list(x.shape)}, expected uint8 [N, H, H]")
    if y.ndim != 1 or len(y) != len(x) or not np.issubdtype(y.dtype, np.integer):
        raise EvoganError(
            f"{path}: {y_key} is {y.dtype} {list(y.shape)}, expected {len(x)} integer labels"
        )
    return x, y
