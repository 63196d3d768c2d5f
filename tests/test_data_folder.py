"""A folder of the user's PNG/JPEG images: grey-scale, resized, in [-1, 1]."""

from pathlib import Path

import pytest
import torch
from PIL import Image

from evogan.data import load_dataset
from evogan.errors import EvoganError


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    Image.new("L", (28, 28), 255).save(tmp_path / "a_white.png")
    Image.new("RGB", (40, 30), (0, 0, 0)).save(tmp_path / "b_black.jpg")
    Image.new("RGB", (10, 10), (255, 0, 0)).save(tmp_path / "c_red.jpeg")
    Image.new("RGBA", (12, 12), (255, 255, 255, 0)).save(tmp_path / "d_clear.PNG")
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "sub").mkdir()
    Image.new("L", (8, 8), 128).save(tmp_path / "sub" / "nested.png")  # not searched
    return tmp_path


def test_folder_images(folder: Path) -> None:
    dataset = load_dataset(f"folder:{folder}")
    assert dataset.name == f"folder:{folder}"
    assert dataset.labels is None
    assert dataset.images.shape == (4, 1, 28, 28)
    assert dataset.images.dtype == torch.float32
    assert dataset.images.min() >= -1 and dataset.images.max() <= 1
    means = dataset.images.mean(dim=(1, 2, 3))
    assert means[0].item() == 1.0  # white
    assert means[1].item() == pytest.approx(-1.0, abs=0.02)  # black (JPEG noise)
    red_grey = 0.299 * 255  # ITU-R 601 luma of pure red, as Pillow computes it
    assert means[2].item() == pytest.approx(red_grey / 127.5 - 1, abs=0.03)
    assert means[3].item() == -1.0  # transparent counts as background


def test_folder_image_size(folder: Path) -> None:
    dataset = load_dataset(f"folder:{folder}", image_size=16, subset=(1, 3))
    assert dataset.images.shape == (2, 1, 16, 16)


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("no images here")
    with pytest.raises(EvoganError) as info:
        load_dataset(f"folder:{tmp_path}")
    assert str(info.value).startswith(f"folder:{tmp_path}: no PNG or JPEG images found")


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(EvoganError, match="not a directory"):
        load_dataset(f"folder:{tmp_path / 'nope'}")


def test_unreadable_image(tmp_path: Path) -> None:
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(EvoganError, match=r"broken\.png: not a readable image"):
        load_dataset(f"folder:{tmp_path}")
