"""Classifier cache: a hit loads without training; changed settings or a corrupt file retrain."""

from pathlib import Path

import pytest
import torch
from sklearn.datasets import load_digits

import evogan.quality.metrics.cache as cache_module
from evogan.quality.metrics import ClassifierSettings, load_or_train_classifier

SETTINGS = ClassifierSettings(epochs=1, channels=(4, 8), feature_dim=16, max_shift=0)


@pytest.fixture
def trainings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts calls to train_classifier made by the cache."""
    calls: list[int] = []
    real = cache_module.train_classifier

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cache_module, "train_classifier", counting)
    return calls


def data() -> tuple[torch.Tensor, torch.Tensor]:
    digits = load_digits()
    images = torch.tensor(digits.images[:150], dtype=torch.float32).unsqueeze(1) / 8 - 1
    return images, torch.tensor(digits.target[:150], dtype=torch.int64)


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(
        torch.equal(x, y)
        for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    )


def test_second_call_loads_from_cache(tmp_path: Path, trainings: list[int]) -> None:
    images, labels = data()
    first, acc = load_or_train_classifier(images, labels, cache_dir=tmp_path, settings=SETTINGS)
    second, acc2 = load_or_train_classifier(images, labels, cache_dir=tmp_path, settings=SETTINGS)
    assert len(trainings) == 1
    assert acc2 == acc and same_weights(first, second) and not second.training


def test_changed_setting_or_data_retrains(tmp_path: Path, trainings: list[int]) -> None:
    images, labels = data()
    load_or_train_classifier(images, labels, cache_dir=tmp_path, settings=SETTINGS)
    other = ClassifierSettings(epochs=1, seed=1, channels=(4, 8), feature_dim=16, max_shift=0)
    load_or_train_classifier(images, labels, cache_dir=tmp_path, settings=other)
    assert len(trainings) == 2
    load_or_train_classifier(images[:100], labels[:100], cache_dir=tmp_path, settings=SETTINGS)
    assert len(trainings) == 3


@pytest.mark.parametrize("suffix", [".safetensors", ".json"])
def test_corrupt_cache_file_retrains(tmp_path: Path, trainings: list[int], suffix: str) -> None:
    images, labels = data()
    first, _ = load_or_train_classifier(images, labels, cache_dir=tmp_path, settings=SETTINGS)
    (corrupt,) = tmp_path.glob(f"*{suffix}")
    corrupt.write_bytes(b"not a cache file")
    second, _ = load_or_train_classifier(images, labels, cache_dir=tmp_path, settings=SETTINGS)
    assert len(trainings) == 2 and same_weights(first, second)
    load_or_train_classifier(images, labels, cache_dir=tmp_path, settings=SETTINGS)
    assert len(trainings) == 2  # the retrained entry was written back
