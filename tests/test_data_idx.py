"""IDX parsing and the MNIST directory loader on small made-up files, intact and damaged."""

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from evogan.data import load_dataset
from evogan.data.idx import read_images, read_labels
from evogan.errors import EvoganError

IMAGES, LABELS = "train-images-idx3-ubyte", "train-labels-idx1-ubyte"
PIXELS = np.arange(6 * 4 * 4, dtype=np.uint8).reshape(6, 4, 4) * 2  # 0..190
DIGITS = np.array([3, 1, 4, 1, 5, 9], dtype=np.uint8)


def idx_images(pixels: np.ndarray, magic: int = 2051) -> bytes:
    return struct.pack(">4I", magic, *pixels.shape) + pixels.tobytes()


def idx_labels(labels: np.ndarray, magic: int = 2049) -> bytes:
    return struct.pack(">2I", magic, len(labels)) + labels.tobytes()


def write(directory: Path, images: bytes, labels: bytes, *, gz: bool = True) -> Path:
    """Write one split, gzipped or not; returns the directory."""
    suffix, pack = (".gz", gzip.compress) if gz else ("", bytes)
    (directory / f"{IMAGES}{suffix}").write_bytes(pack(images))
    (directory / f"{LABELS}{suffix}").write_bytes(pack(labels))
    return directory


def error_of(directory: Path) -> str:
    with pytest.raises(EvoganError) as info:
        load_dataset("mnist", data_dir=directory)
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("gz", [True, False])
def test_reads_exact_values(tmp_path: Path, gz: bool) -> None:
    write(tmp_path, idx_images(PIXELS), idx_labels(DIGITS), gz=gz)
    dataset = load_dataset("mnist", data_dir=tmp_path)
    assert dataset.images.shape == (6, 1, 4, 4)
    expected = torch.from_numpy(PIXELS.astype(np.float32)) / 127.5 - 1
    assert torch.allclose(dataset.images[:, 0], expected)
    assert dataset.images[0, 0, 0, 0].item() == -1.0
    assert dataset.labels is not None and dataset.labels.tolist() == DIGITS.tolist()


def test_readers_return_uint8(tmp_path: Path) -> None:
    write(tmp_path, idx_images(PIXELS), idx_labels(DIGITS), gz=False)
    assert np.array_equal(read_images(tmp_path / IMAGES), PIXELS)
    assert np.array_equal(read_labels(tmp_path / LABELS), DIGITS)


def test_truncated_images(tmp_path: Path) -> None:
    write(tmp_path, idx_images(PIXELS)[:19], idx_labels(DIGITS))
    assert error_of(tmp_path) == (
        f"{tmp_path / IMAGES}.gz: truncated: header says 6 images of 4x4 "
        "but file holds 3 bytes of pixel data"
    )


def test_shorter_than_header(tmp_path: Path) -> None:
    write(tmp_path, idx_images(PIXELS)[:10], idx_labels(DIGITS))
    assert error_of(tmp_path).startswith(f"{tmp_path / IMAGES}.gz: truncated: 10 bytes")


def test_trailing_bytes(tmp_path: Path) -> None:
    write(tmp_path, idx_images(PIXELS) + b"\0\0", idx_labels(DIGITS))
    assert error_of(tmp_path).startswith(f"{tmp_path / IMAGES}.gz: 2 bytes after the 6 images")


def test_wrong_image_magic(tmp_path: Path) -> None:
    write(tmp_path, idx_images(PIXELS, magic=2049), idx_labels(DIGITS))
    assert error_of(tmp_path) == (
        f"{tmp_path / IMAGES}.gz: not an IDX images file: magic number 2049, expected 2051"
    )


def test_swapped_files(tmp_path: Path) -> None:
    write(tmp_path, idx_labels(DIGITS), idx_images(PIXELS))
    assert "not an IDX images file" in error_of(tmp_path)


def test_wrong_label_magic(tmp_path: Path) -> None:
    write(tmp_path, idx_images(PIXELS), idx_labels(DIGITS, magic=2051))
    assert error_of(tmp_path).startswith(f"{tmp_path / LABELS}.gz: not an IDX labels file")


def test_label_file_disagrees_with_its_header(tmp_path: Path) -> None:
    write(tmp_path, idx_images(PIXELS), idx_labels(DIGITS)[:-2])
    assert error_of(tmp_path) == (
        f"{tmp_path / LABELS}.gz: truncated: header says 6 labels but file holds 4"
    )


def test_fewer_labels_than_images(tmp_path: Path) -> None:
    write(tmp_path, idx_images(PIXELS), idx_labels(DIGITS[:5]))
    assert error_of(tmp_path) == (
        f"{tmp_path / LABELS}.gz: 5 labels for the 6 images of {tmp_path / IMAGES}.gz"
    )


def test_non_square_images(tmp_path: Path) -> None:
    write(tmp_path, idx_images(PIXELS.reshape(6, 2, 8)), idx_labels(DIGITS))
    assert "6 images of 2x8; need square" in error_of(tmp_path)


def test_corrupt_gzip_bytes(tmp_path: Path) -> None:
    write(tmp_path, idx_images(PIXELS), idx_labels(DIGITS))
    damaged = bytearray((tmp_path / f"{IMAGES}.gz").read_bytes())
    damaged[12:20] = b"\xff" * 8
    (tmp_path / f"{IMAGES}.gz").write_bytes(bytes(damaged))
    assert error_of(tmp_path).startswith(f"{tmp_path / IMAGES}.gz: corrupt gzip data")


def test_gz_name_without_gzip_data(tmp_path: Path) -> None:
    (tmp_path / f"{IMAGES}.gz").write_bytes(idx_images(PIXELS))
    (tmp_path / LABELS).write_bytes(idx_labels(DIGITS))
    assert error_of(tmp_path).startswith(f"{tmp_path / IMAGES}.gz: corrupt gzip data")


def test_empty_directory(tmp_path: Path) -> None:
    message = error_of(tmp_path)
    assert message.startswith(f"mnist: no MNIST files in {tmp_path} (expected")
    assert "train-images-idx3-ubyte[.gz]" in message and "mnist.npz" in message


def test_missing_directory(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    assert error_of(missing) == f"mnist: data directory {missing} does not exist"


def test_no_data_dir() -> None:
    with pytest.raises(EvoganError, match="mnist: needs a data directory"):
        load_dataset("mnist")


def test_images_without_labels(tmp_path: Path) -> None:
    (tmp_path / f"{IMAGES}.gz").write_bytes(gzip.compress(idx_images(PIXELS)))
    message = error_of(tmp_path)
    assert message.startswith(f"{tmp_path / IMAGES}.gz: found, but not its partner {LABELS}")


def test_npz_with_wrong_keys(tmp_path: Path) -> None:
    np.savez(tmp_path / "mnist.npz", images=PIXELS)
    assert error_of(tmp_path).startswith(f"{tmp_path / 'mnist.npz'}: has keys ['images']")


def test_npz_with_float_images(tmp_path: Path) -> None:
    np.savez(tmp_path / "mnist.npz", x_train=PIXELS.astype(np.float32), y_train=DIGITS)
    assert "x_train is float32 [6, 4, 4], expected uint8" in error_of(tmp_path)


def test_npz_label_count(tmp_path: Path) -> None:
    np.savez(tmp_path / "mnist.npz", x_test=PIXELS, y_test=DIGITS[:4])
    assert "y_test is uint8 [4], expected 6 integer labels" in error_of(tmp_path)


def test_npz_not_a_zip(tmp_path: Path) -> None:
    (tmp_path / "mnist.npz").write_bytes(b"PK\x03\x04 not really")
    assert error_of(tmp_path).startswith(f"{tmp_path / 'mnist.npz'}: not a readable .npz file")


def test_npz_one_split(tmp_path: Path) -> None:
    np.savez(tmp_path / "mnist.npz", x_test=PIXELS, y_test=DIGITS.astype(np.int64))
    dataset = load_dataset("mnist", data_dir=tmp_path)
    assert dataset.images.shape == (6, 1, 4, 4)
    assert dataset.labels is not None and dataset.labels.tolist() == DIGITS.tolist()


def test_fashion_reads_its_own_npz_name(tmp_path: Path) -> None:
    np.savez(tmp_path / "mnist.npz", x_test=PIXELS, y_test=DIGITS)
    with pytest.raises(EvoganError, match=r"fashion-mnist\.npz"):
        load_dataset("fashion-mnist", data_dir=tmp_path)
