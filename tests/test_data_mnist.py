"""MNIST from the real test split in the shared data folder (never copied into the repo)."""

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from evogan.data import ImageDataset, load_dataset
from evogan.errors import EvoganError

SHARED = Path(__file__).parents[2] / "shared" / "data" / "mnist"
IMAGES, LABELS = "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"
COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason=f"no shared MNIST at {SHARED}")


@pytest.fixture(scope="module")
def mnist() -> ImageDataset:
    return load_dataset("mnist", data_dir=SHARED)


def test_real_test_split(mnist: ImageDataset) -> None:
    assert mnist.name == "mnist"
    assert mnist.images.shape == (10000, 1, 28, 28)
    assert mnist.labels is not None
    assert mnist.labels.bincount().tolist() == COUNTS
    assert mnist.images.min().item() == -1.0 and mnist.images.max().item() == 1.0


def test_conversion_back_gives_the_bytes(mnist: ImageDataset) -> None:
    pixels = (mnist.images + 1) * 127.5
    assert pixels.mean().item() == pytest.approx(33.79, abs=0.005)
    raw = np.frombuffer(gzip.decompress((SHARED / f"{IMAGES}.gz").read_bytes()), np.uint8, -1, 16)
    assert torch.equal(pixels.round().to(torch.uint8).flatten(), torch.from_numpy(raw.copy()))


def test_subset(mnist: ImageDataset) -> None:
    first = load_dataset("mnist", data_dir=str(SHARED), subset=(0, 5000))
    assert first.images.shape == (5000, 1, 28, 28)
    assert torch.equal(first.images, mnist.images[:5000])


def test_resize_to_14() -> None:
    small = load_dataset("mnist", data_dir=SHARED, subset=(0, 64), image_size=14)
    assert small.images.shape == (64, 1, 14, 14)
    assert small.images.min() >= -1 and small.images.max() <= 1


def test_uncompressed_copy(tmp_path: Path, mnist: ImageDataset) -> None:
    for stem in (IMAGES, LABELS):
        with gzip.open(SHARED / f"{stem}.gz") as src, open(tmp_path / stem, "wb") as dst:
            shutil.copyfileobj(src, dst)
    plain = load_dataset("mnist", data_dir=tmp_path)
    assert torch.equal(plain.images, mnist.images)
    assert plain.labels is not None and mnist.labels is not None
    assert torch.equal(plain.labels, mnist.labels)


def test_both_splits_train_first(tmp_path: Path, mnist: ImageDataset) -> None:
    for stem in (IMAGES, LABELS):
        shutil.copy(SHARED / f"{stem}.gz", tmp_path)
    # A 3-image "train" split made of the last three test images, uncompressed.
    images = gzip.decompress((SHARED / f"{IMAGES}.gz").read_bytes())
    labels = gzip.decompress((SHARED / f"{LABELS}.gz").read_bytes())
    three = (3).to_bytes(4, "big")
    train_images = images[:4] + three + images[8:16] + images[-3 * 28 * 28 :]
    (tmp_path / "train-images-idx3-ubyte").write_bytes(train_images)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(labels[:4] + three + labels[-3:])
    both = load_dataset("fashion-mnist", data_dir=tmp_path)
    assert both.name == "fashion-mnist"
    assert both.images.shape == (10003, 1, 28, 28)
    assert torch.equal(both.images[:3], mnist.images[-3:])
    assert torch.equal(both.images[3:], mnist.images)
    assert both.labels is not None and mnist.labels is not None
    assert torch.equal(both.labels[:3], mnist.labels[-3:])


def test_keras_npz(tmp_path: Path, mnist: ImageDataset) -> None:
    assert mnist.labels is not None
    x = ((mnist.images[:, 0] + 1) * 127.5).round().to(torch.uint8).numpy()
    y = mnist.labels.numpy().astype(np.uint8)
    splits = {"x_train": x[:7000], "y_train": y[:7000], "x_test": x[7000:], "y_test": y[7000:]}
    np.savez(tmp_path / "mnist.npz", **splits)
    loaded = load_dataset("mnist", data_dir=tmp_path)
    assert torch.equal(loaded.images, mnist.images)
    assert loaded.labels is not None and torch.equal(loaded.labels, mnist.labels)


def test_truncated_real_file(tmp_path: Path) -> None:
    data = gzip.decompress((SHARED / f"{IMAGES}.gz").read_bytes())
    (tmp_path / f"{IMAGES}.gz").write_bytes(gzip.compress(data[:19]))
    shutil.copy(SHARED / f"{LABELS}.gz", tmp_path)
    with pytest.raises(EvoganError) as info:
        load_dataset("mnist", data_dir=tmp_path)
    assert str(info.value) == (
        f"{tmp_path / IMAGES}.gz: truncated: header says 10000 images of 28x28 "
        "but file holds 3 bytes of pixel data"
    )


def test_cut_gzip_stream(tmp_path: Path) -> None:
    shutil.copy(SHARED / f"{LABELS}.gz", tmp_path)
    (tmp_path / f"{IMAGES}.gz").write_bytes((SHARED / f"{IMAGES}.gz").read_bytes()[:5000])
    with pytest.raises(EvoganError, match=f"{IMAGES}.gz: corrupt gzip data"):
        load_dataset("mnist", data_dir=tmp_path)
