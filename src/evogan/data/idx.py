"""Reading LeCun's IDX files, the format MNIST and Fashion-MNIST ship in.

An IDX file is a big-endian header (a magic number that encodes the element
type and the number of dimensions, then one uint32 per dimension) followed by
the raw elements. Only unsigned-byte files are used here: images (magic 2051,
``[N, H, W]``) and labels (magic 2049, ``[N]``). Files may be gzipped. Every
check fails with an ``EvoganError`` naming the file, since a damaged download
is the usual cause.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np
import numpy.typing as npt

from evogan.errors import EvoganError

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension
_GZIP_MAGIC = b"\x1f\x8b"


def read_bytes(path: Path) -> bytes:
    """The file's contents, decompressed if it is gzipped (by suffix or by its magic)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EvoganError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if path.suffix != ".gz" and not data.startswith(_GZIP_MAGIC):
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise EvoganError(f"{path}: corrupt gzip data: {exc}") from None


def _header(data: bytes, path: Path, magic: int, ndim: int) -> tuple[int, ...]:
    """Check the magic number and return the dimensions."""
    size = 4 * (1 + ndim)
    found = int.from_bytes(data[:4], "big") if len(data) >= 4 else None
    if found is not None and found != magic:  # before the length: a swapped file says so
        kind = "images" if magic == IMAGES_MAGIC else "labels"
        raise EvoganError(f"{path}: not an IDX {kind} file: magic number {found}, expected {magic}")
    if len(data) < size:
        raise EvoganError(f"{path}: truncated: {len(data)} bytes, shorter than the IDX header")
    dims = struct.unpack(f">{ndim}I", data[4:size])
    return tuple(dims)


def read_images(path: Path) -> npt.NDArray[np.uint8]:
    """Images ``[N, H, W]`` uint8 from an IDX3 file."""
    data = read_bytes(path)
    count, rows, cols = _header(data, path, IMAGES_MAGIC, 3)
    if count == 0 or rows == 0 or rows != cols:
        raise EvoganError(
            f"{path}: header says {count} images of {rows}x{cols}; need square, non-empty images"
        )
    held, wanted = len(data) - 16, count * rows * cols
    if held < wanted:
        raise EvoganError(
            f"{path}: truncated: header says {count} images of {rows}x{cols} "
            f"but file holds {held} bytes of pixel data"
        )
    if held > wanted:
        raise EvoganError(
            f"{path}: {held - wanted} bytes after the {count} images of {rows}x{cols} "
            "the header announces"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(count, rows, cols)


def read_labels(path: Path) -> npt.NDArray[np.uint8]:
    """Labels ``[N]`` uint8 from an IDX1 file."""
    data = read_bytes(path)
    (count,) = _header(data, path, LABELS_MAGIC, 1)
    held = len(data) - 8
    if held != count:
        problem = "truncated: " if held < count else ""
        raise EvoganError(f"{path}: {problem}header says {count} labels but file holds {held}")
    return np.frombuffer(data, dtype=np.uint8, offset=8)


def read_pair(
    images_path: Path, labels_path: Path
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
    """Images and labels of one split, checked to be the same length."""
    images, labels = read_images(images_path), read_labels(labels_path)
    if len(images) != len(labels):
        raise EvoganError(
            f"{labels_path}: {len(labels)} labels for the {len(images)} images of {images_path}"
        )
    return images, labels
