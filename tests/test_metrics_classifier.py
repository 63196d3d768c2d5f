"""The evaluation classifier: training on digits, determinism, shapes, bad input."""

import inspect
from dataclasses import fields
from typing import Any

import pytest
import torch
from sklearn.datasets import load_digits

from evogan.errors import EvoganError
from evogan.quality.metrics import ClassifierSettings, features, probabilities, train_classifier
from evogan.quality.metrics.classifier import shift_images

TINY: dict[str, Any] = dict(
    channels=(8, 16), feature_dim=32, batch_size=32, learning_rate=1e-2, max_shift=0
)


def digits(n: int = 600) -> tuple[torch.Tensor, torch.Tensor]:
    data = load_digits()
    images = torch.tensor(data.images[:n], dtype=torch.float32).unsqueeze(1) / 8 - 1
    return images, torch.tensor(data.target[:n], dtype=torch.int64)


def test_learns_digits_and_exposes_features_and_probabilities() -> None:
    images, labels = digits()
    model, acc = train_classifier(images, labels, epochs=8, seed=0, **TINY)
    assert acc > 0.8
    assert features(model, images[:5]).shape == (5, 32)
    probs = probabilities(model, images[:5])
    assert probs.shape == (5, 10)
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(5))


def test_same_seed_same_model_and_global_rng_untouched() -> None:
    images, labels = digits(200)
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    a, acc_a = train_classifier(images, labels, epochs=1, seed=7, **TINY)
    assert torch.rand(1) == expected_next
    b, acc_b = train_classifier(images, labels, epochs=1, seed=7, **TINY)
    assert acc_a == acc_b
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(pa, pb), name


def test_weights_do_not_depend_on_thread_count() -> None:
    images, labels = digits(100)
    torch.set_num_threads(2)
    a, _ = train_classifier(images, labels, epochs=1, seed=3, **TINY)
    assert torch.get_num_threads() == 2  # restored after training
    torch.set_num_threads(1)
    b, _ = train_classifier(images, labels, epochs=1, seed=3, **TINY)
    for pa, pb in zip(a.state_dict().values(), b.state_dict().values(), strict=True):
        assert torch.equal(pa, pb)


def test_settings_mirror_train_classifier_options() -> None:
    options = list(inspect.signature(train_classifier).parameters.values())[2:]
    assert [p.name for p in options] == [f.name for f in fields(ClassifierSettings)]
    defaults = ClassifierSettings()
    for option in options:
        if option.default is not inspect.Parameter.empty:
            assert option.default == getattr(defaults, option.name), option.name


@pytest.mark.parametrize(
    "bad",
    [
        dict(epochs=0),
        dict(holdout_fraction=1.0),
        dict(learning_rate=0.0),
        dict(channels=(0, 4)),
        dict(max_shift=-1),
    ],
)
def test_bad_settings_raise(bad: dict[str, Any]) -> None:
    with pytest.raises(EvoganError, match=next(iter(bad))):
        ClassifierSettings(**bad)


def test_shift_moves_ink_and_fills_background() -> None:
    image = torch.full((1, 1, 8, 8), -1.0)
    image[0, 0, 4, 4] = 1.0
    gen = torch.Generator().manual_seed(0)
    shifted = shift_images(image.repeat(50, 1, 1, 1), 2, gen)
    assert shifted.shape == (50, 1, 8, 8)
    assert bool((shifted.sum(dim=(1, 2, 3)) == image.sum()).all())  # one ink pixel each
    ink = shifted[:, 0].flatten(1).argmax(dim=1)
    rows, cols = ink // 8, ink % 8
    assert rows.min() == 2 and rows.max() == 6 and cols.min() == 2 and cols.max() == 6
    assert torch.equal(shift_images(image, 0, gen), image)


@pytest.mark.parametrize(
    ("images", "labels", "message"),
    [
        (torch.zeros(4, 8, 8), torch.zeros(4, dtype=torch.int64), r"\[N, 1, H, W\]"),
        (torch.zeros(4, 1, 8, 9), torch.zeros(4, dtype=torch.int64), "square"),
        (torch.zeros(4, 1, 4, 4), torch.zeros(4, dtype=torch.int64), "at least 8x8"),
        (torch.full((4, 1, 8, 8), 255.0), torch.zeros(4, dtype=torch.int64), r"\[-1, 1\]"),
        (torch.zeros(4, 1, 8, 8), torch.zeros(3, dtype=torch.int64), "3 labels for 4 images"),
        (torch.zeros(4, 1, 8, 8), torch.zeros(4), "int64"),
    ],
)
def test_bad_input_raises(images: torch.Tensor, labels: torch.Tensor, message: str) -> None:
    with pytest.raises(EvoganError, match=message):
        train_classifier(images, labels, epochs=1, seed=0)
