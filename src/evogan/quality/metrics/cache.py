"""On-disk cache of trained evaluation classifiers.

Every run on the same training images with the same classifier settings must
be judged by the same classifier, and retraining it costs tens of seconds. So
the weights are stored under a SHA-256 of the training images, the labels and
the settings (as JSON): a changed image, label or setting gives a new key and a
new classifier. Weights go to safetensors (no pickle), the held-out accuracy to
a JSON file beside them. A cache entry that cannot be read is retrained and
overwritten: the cache is an optimisation, never a reason to fail.
"""

import hashlib
import json
import logging
import os
from dataclasses import asdict
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import Tensor

from evogan.quality.metrics.checks import check_images, check_labels
from evogan.quality.metrics.classifier import (
    Classifier,
    ClassifierSettings,
    build_classifier,
    train_classifier,
)

log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    """Where trained evaluation classifiers are kept: ``$XDG_CACHE_HOME/evogan/classifiers``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "evogan" / "classifiers"


def cache_key(images: Tensor, labels: Tensor, settings: ClassifierSettings) -> str:
    """SHA-256 hex digest of the images, labels and settings that determine the classifier."""
    digest = hashlib.sha256()
    digest.update(repr(tuple(images.shape)).encode())
    digest.update(images.detach().cpu().to(torch.float32).contiguous().numpy().tobytes())
    digest.update(labels.detach().cpu().to(torch.int64).contiguous().numpy().tobytes())
    digest.update(json.dumps(asdict(settings), sort_keys=True).encode())
    return digest.hexdigest()


def load_or_train_classifier(
    images: Tensor, labels: Tensor, *, cache_dir: Path, settings: ClassifierSettings
) -> tuple[Classifier, float]:
    """The classifier for these images and settings (eval mode) and its held-out accuracy."""
    check_images(images, "classifier images")
    check_labels(labels, images.shape[0])
    key = cache_key(images, labels, settings)
    weights = Path(cache_dir) / f"classifier-{key}.safetensors"
    meta = weights.with_suffix(".json")
    n_classes = int(labels.max()) + 1
    cached = _load(weights, meta, images.shape[-1], n_classes, settings)
    if cached is not None:
        return cached
    log.info("training the evaluation classifier (cache key %s)", key[:12])
    model, acc = train_classifier(images, labels, **asdict(settings))
    try:
        _save(model, acc, weights, meta, settings)
    except OSError as err:  # a read-only or full disk costs a retrain next time, nothing more
        log.warning("could not cache the classifier in %s: %s", cache_dir, err)
    return model, acc


def _load(
    weights: Path, meta: Path, image_size: int, n_classes: int, settings: ClassifierSettings
) -> tuple[Classifier, float] | None:
    if not (weights.exists() and meta.exists()):
        return None
    try:
        accuracy = float(json.loads(meta.read_text())["accuracy"])
        model = build_classifier(image_size, n_classes, settings)
        model.load_state_dict(load_file(weights))
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, SafetensorError) as err:
        # json errors are ValueErrors; a wrong-shaped state dict is a RuntimeError.
        log.warning("unreadable classifier cache %s (%s): retraining", weights.name, err)
        return None
    return model.eval(), accuracy


def _save(
    model: Classifier, accuracy: float, weights: Path, meta: Path, settings: ClassifierSettings
) -> None:
    weights.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename, so a crash or a concurrent reader never sees half a file.
    tmp_weights = weights.with_name(f"{weights.name}.tmp{os.getpid()}")
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp_weights))
    os.replace(tmp_weights, weights)
    tmp_meta = meta.with_name(f"{meta.name}.tmp{os.getpid()}")
    tmp_meta.write_text(json.dumps({"accuracy": accuracy, "settings": asdict(settings)}, indent=2))
    os.replace(tmp_meta, meta)
