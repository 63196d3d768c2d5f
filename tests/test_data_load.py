"""load_dataset dispatch, the digits source, subsets and resizing."""

import pytest
import torch

from evogan.data import DATASETS, ImageDataset, load_dataset, parse_subset
from evogan.errors import EvoganError


@pytest.fixture(scope="module")
def digits() -> ImageDataset:
    return load_dataset("digits")


def test_digits_shape_range_and_labels(digits: ImageDataset) -> None:
    assert digits.name == "digits"
    assert digits.images.shape == (1797, 1, 8, 8)
    assert digits.images.dtype == torch.float32
    assert digits.image_size == 8
    assert digits.images.min().item() == -1.0
    assert digits.images.max().item() == 1.0
    assert digits.labels is not None and digits.labels.dtype == torch.int64
    assert digits.labels.unique().tolist() == list(range(10))


def test_digits_values_are_sixteenths(digits: ImageDataset) -> None:
    levels = (digits.images + 1) * 8  # back to sklearn's 0..16 scale
    assert torch.equal(levels, levels.round())


def test_subset_keeps_the_range(digits: ImageDataset) -> None:
    part = load_dataset("digits", subset=(100, 150))
    assert part.images.shape == (50, 1, 8, 8)
    assert torch.equal(part.images, digits.images[100:150])
    assert part.labels is not None and digits.labels is not None
    assert torch.equal(part.labels, digits.labels[100:150])


@pytest.mark.parametrize("subset", [(0, 1798), (1797, 1800), (5, 3), (-1, 4)])
def test_subset_outside_the_data_is_an_error(subset: tuple[int, int]) -> None:
    with pytest.raises(EvoganError, match=f"subset {subset[0]}:{subset[1]}"):
        load_dataset("digits", subset=subset)


def test_image_size_resizes_within_range() -> None:
    big = load_dataset("digits", subset=(0, 10), image_size=16)
    assert big.images.shape == (10, 1, 16, 16)
    assert big.image_size == 16
    assert big.images.min() >= -1 and big.images.max() <= 1


def test_native_image_size_is_unchanged(digits: ImageDataset) -> None:
    same = load_dataset("digits", image_size=8)
    assert torch.equal(same.images, digits.images)


@pytest.mark.parametrize("size", [0, -3])
def test_bad_image_size(size: int) -> None:
    with pytest.raises(EvoganError, match="image size"):
        load_dataset("digits", image_size=size)


@pytest.mark.parametrize("name", ["cifar", "folder:", "Digits", ""])
def test_unknown_dataset_lists_the_valid_ones(name: str) -> None:
    with pytest.raises(EvoganError, match="unknown dataset") as info:
        load_dataset(name)
    assert "digits, mnist, fashion-mnist, folder:PATH" in str(info.value)


def test_datasets_names_for_help() -> None:
    assert DATASETS == ("digits", "mnist", "fashion-mnist", "folder:PATH")


@pytest.mark.parametrize(
    ("text", "expected"), [("0:5000", (0, 5000)), ("5000:10000", (5000, 10000)), (" 3:4 ", (3, 4))]
)
def test_parse_subset(text: str, expected: tuple[int, int]) -> None:
    assert parse_subset(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("5:3", "--subset 5:3: stop must be greater than start"),
        ("4:4", "--subset 4:4: stop must be greater than start"),
        ("-2:3", "--subset -2:3: start must not be negative"),
        ("5000", "--subset 5000: expected START:STOP"),
        ("a:b", "--subset a:b: expected START:STOP"),
        ("1:2:3", "--subset 1:2:3: expected START:STOP"),
        (":10", "--subset :10: expected START:STOP"),
    ],
)
def test_parse_subset_errors(text: str, message: str) -> None:
    with pytest.raises(EvoganError) as info:
        parse_subset(text)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_dataset_rejects_wrong_shapes() -> None:
    with pytest.raises(ValueError, match="images must be"):
        ImageDataset(torch.zeros(2, 1, 4, 5), None, "x")
    with pytest.raises(ValueError, match="labels must be"):
        ImageDataset(torch.zeros(2, 1, 4, 4), torch.zeros(3, dtype=torch.int64), "x")
