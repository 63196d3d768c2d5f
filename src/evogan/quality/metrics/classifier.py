"""The evaluation classifier whose feature space all quality metrics use.

FID, Inception Score and precision/recall were defined on an ImageNet
Inception net (Heusel et al. 2017; Salimans et al. 2016); for small grey-scale
digits that net is the wrong judge (it never saw digits) and it cannot be
downloaded here. evogan therefore trains a small CNN on the run's own training
images: its 128-unit penultimate layer plays the part of Inception's pool
features and its softmax that of Inception's class probabilities. Training is
seeded, so the same images and settings give the same judge.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from evogan.errors import EvoganError
from evogan.quality.metrics.checks import check_images, check_labels

log = logging.getLogger(__name__)
_EVAL_BATCH = 1024


@dataclass(frozen=True)
class ClassifierSettings:
    """How the evaluation classifier is built and trained; all of it is part of the cache key."""

    epochs: int = 10
    seed: int = 0
    holdout_fraction: float = 0.1
    batch_size: int = 32
    learning_rate: float = 2e-3
    channels: tuple[int, int] = (32, 64)
    feature_dim: int = 128
    # Random translation augmentation in pixels; None: image size // 14, so +-2 on
    # 28x28 MNIST and none on 8x8 digits, whose one-pixel shift already costs accuracy.
    max_shift: int | None = None

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.feature_dim < 1:
            raise EvoganError("classifier epochs, batch_size and feature_dim must be positive")
        if not 0 < self.holdout_fraction < 1:
            raise EvoganError(f"holdout_fraction must be in (0, 1), got {self.holdout_fraction}")
        if not self.learning_rate > 0 or min(self.channels) < 1:
            raise EvoganError("classifier learning_rate and channels must be positive")
        if self.max_shift is not None and self.max_shift < 0:
            raise EvoganError(f"max_shift must be >= 0 or None, got {self.max_shift}")


DEFAULT_SETTINGS = ClassifierSettings()


class Classifier(nn.Module):
    """Two conv blocks, a ReLU feature layer, and a linear class head.

    No batch norm, on purpose: it buys about half a point of accuracy on MNIST,
    but it maps out-of-distribution inputs (uniform noise) into the digits'
    feature region, where k-NN precision then counts 40-85 % of noise images as
    realistic on 8x8 digits; without it, noise stays far away (precision < 0.13).
    """

    def __init__(
        self, image_size: int, n_classes: int, channels: tuple[int, int], feature_dim: int
    ) -> None:
        super().__init__()
        c1, c2 = channels
        pooled = (image_size // 2) // 2
        self.body = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(c2 * pooled * pooled, feature_dim),
            nn.ReLU(),
        )
        self.head = nn.Linear(feature_dim, n_classes)

    def forward(self, images: Tensor) -> Tensor:
        """Class logits [N, C]."""
        return self.head(self.body(images))


def build_classifier(
    image_size: int, n_classes: int, settings: ClassifierSettings = DEFAULT_SETTINGS
) -> Classifier:
    """An untrained classifier with the architecture ``settings`` describe."""
    return Classifier(image_size, n_classes, settings.channels, settings.feature_dim)


def train_classifier(
    images: Tensor,
    labels: Tensor,
    *,
    epochs: int,
    seed: int,
    holdout_fraction: float = 0.1,
    batch_size: int = 32,
    learning_rate: float = 2e-3,
    channels: tuple[int, int] = (32, 64),
    feature_dim: int = 128,
    max_shift: int | None = None,
) -> tuple[Classifier, float]:
    """Train with Adam on a seeded split; return the model (eval mode) and held-out accuracy."""
    check_images(images, "classifier images")
    check_labels(labels, images.shape[0])
    if images.shape[0] < 2:
        raise EvoganError("the classifier needs at least 2 images (one to train, one to check)")
    settings = ClassifierSettings(
        epochs=epochs,
        seed=seed,
        holdout_fraction=holdout_fraction,
        batch_size=batch_size,
        learning_rate=learning_rate,
        channels=channels,
        feature_dim=feature_dim,
        max_shift=max_shift,
    )
    gen = torch.Generator().manual_seed(seed)
    train_idx, hold_idx = _split(images.shape[0], holdout_fraction, gen)
    # fork_rng keeps the caller's global RNG untouched while seeding the weight init.
    with torch.random.fork_rng(devices=[]), _one_thread():
        torch.manual_seed(seed)
        model = build_classifier(images.shape[-1], int(labels.max()) + 1, settings)
        _fit(model, images[train_idx].float(), labels[train_idx], settings, gen)
    model.eval()
    return model, accuracy(model, images[hold_idx], labels[hold_idx])


@contextmanager
def _one_thread() -> Iterator[None]:
    """Train on one thread: the weights then do not depend on the machine's core count
    (summation order changes with threads), and on a shared 2-core machine one thread
    trained the MNIST classifier in 38-44 s where two took 116-460 s (threads spin-wait).
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _split(n: int, holdout_fraction: float, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    order = torch.randperm(n, generator=gen)
    n_hold = min(n - 1, max(1, round(n * holdout_fraction)))
    return order[n_hold:], order[:n_hold]


def _fit(
    model: Classifier,
    images: Tensor,
    labels: Tensor,
    settings: ClassifierSettings,
    gen: torch.Generator,
) -> None:
    optimiser = torch.optim.Adam(model.parameters(), lr=settings.learning_rate)
    size = images.shape[-1]
    max_shift = settings.max_shift if settings.max_shift is not None else size // 14
    steps = settings.epochs * -(-images.shape[0] // settings.batch_size)
    # Cosine decay to zero: the last epochs polish instead of bouncing around.
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=max(1, steps))
    model.train()
    for epoch in range(settings.epochs):
        order = torch.randperm(images.shape[0], generator=gen)
        for batch in order.split(settings.batch_size):
            x = shift_images(images[batch], max_shift, gen)
            loss = F.cross_entropy(model(x), labels[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
        log.debug("classifier epoch %d loss %.4f", epoch, loss.item())


def shift_images(images: Tensor, max_shift: int, gen: torch.Generator) -> Tensor:
    """Shift each image by random whole pixels in [-max_shift, max_shift]; background fills in."""
    if max_shift <= 0:
        return images
    n, _, size, _ = images.shape
    padded = F.pad(images, (max_shift,) * 4, value=-1.0)
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, n, 1), generator=gen)
    grid = torch.arange(size)
    rows = (grid + dy)[:, :, None]
    cols = (grid + dx)[:, None, :]
    return padded[torch.arange(n)[:, None, None], 0, rows, cols].unsqueeze(1)


def features(model: Classifier, images: Tensor) -> Tensor:
    """Penultimate-layer features [N, D] (eval mode, no grad)."""
    check_images(images, "images")
    model.eval()
    with torch.no_grad():
        return torch.cat([model.body(b.float()) for b in images.split(_EVAL_BATCH)])


def probabilities(model: Classifier, images: Tensor) -> Tensor:
    """Softmax class probabilities [N, C] (eval mode, no grad)."""
    return head_probabilities(model, features(model, images))


def head_probabilities(model: Classifier, feats: Tensor) -> Tensor:
    """Class probabilities [N, C] from features already computed: saves a second pass."""
    with torch.no_grad():
        return torch.softmax(model.head(feats), dim=1)


def accuracy(model: Classifier, images: Tensor, labels: Tensor) -> float:
    """Fraction of ``images`` whose most probable class is the label."""
    predicted = probabilities(model, images).argmax(dim=1)
    return float((predicted == labels).float().mean())
