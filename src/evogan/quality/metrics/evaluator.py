"""QualityEvaluator: judge generated samples against held-out real images.

Built once per run: it trains (or loads from cache) the evaluation classifier
on the training images and precomputes what every evaluation reuses: the
held-out images' features, Gaussian fit and k-NN radii, and the training
features for the memorisation check, and the held-out class distribution for
the class TVD, taken from the held-out images' true labels (not from the
classifier's predictions, whose errors would otherwise count as the real
proportions). ``evaluate`` then costs two classifier passes over the samples
plus a few distance matrices.

``reference`` gives the figures that make a result readable, and it needs
two "real" rows. The classifier has seen the training images and may map them
more tightly than unseen ones, so they can score a worse FID against the
held-out set than fresh real images do: on MNIST (images 0-4999 vs 5000-9999,
default settings) 39.8 against 11.1, both at 2,500 vs 2,500. "train"
(training images vs held-out) is thus what a generator that copies its
training set scores; "heldout" (one half of the held-out images vs the other)
is what a perfect generator of new images scores, but at half the sample
count, and FID grows as N shrinks; "noise" (uniform noise) is the ceiling.
"""

import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from evogan.errors import EvoganError
from evogan.quality.metrics.cache import load_or_train_classifier
from evogan.quality.metrics.checks import check_images, check_labels
from evogan.quality.metrics.class_tvd import class_tvd, label_histogram
from evogan.quality.metrics.classifier import (
    DEFAULT_SETTINGS,
    ClassifierSettings,
    features,
    head_probabilities,
)
from evogan.quality.metrics.fid import Array, frechet_distance_from_stats, gaussian_stats
from evogan.quality.metrics.inception_score import class_entropy, class_histogram, inception_score
from evogan.quality.metrics.memorisation import median_nearest_distance, ratio_to_baseline
from evogan.quality.metrics.precision_recall import DEFAULT_K, knn_radii, manifold_coverage
from evogan.quality.metrics.report import QualityReport

# A held-out median nearest distance below this fraction of the features' norm: the same images.
COINCIDENT = 1e-5


@dataclass(frozen=True)
class _RealSet:
    """Real features with what every comparison against them reuses."""

    feats: Tensor
    stats: tuple[Array, Array]
    radii: Tensor
    classes: Tensor  # images per true class, int64 [C]

    @classmethod
    def of(cls, feats: Tensor, classes: Tensor, k: int) -> "_RealSet":
        return cls(feats, gaussian_stats(feats), knn_radii(feats, k=k), classes)


class QualityEvaluator:
    """Sample-quality metrics in the feature space of a classifier trained on the training set."""

    def __init__(
        self,
        train_images: Tensor,
        train_labels: Tensor,
        heldout_images: Tensor,
        heldout_labels: Tensor,
        *,
        cache_dir: Path,
        settings: ClassifierSettings = DEFAULT_SETTINGS,
        k: int = DEFAULT_K,
    ) -> None:
        check_images(heldout_images, "held-out images")
        check_labels(heldout_labels, heldout_images.shape[0])
        if heldout_images.shape[1:] != train_images.shape[1:]:
            raise EvoganError(
                f"held-out images {list(heldout_images.shape[1:])} differ in shape "
                f"from training images {list(train_images.shape[1:])}"
            )
        if heldout_images.shape[0] <= 2 * k + 1:
            n = heldout_images.shape[0]
            raise EvoganError(f"need more than {2 * k + 1} held-out images, got {n}")
        self.model, self.classifier_accuracy = load_or_train_classifier(
            train_images, train_labels, cache_dir=cache_dir, settings=settings
        )
        self.k = k
        self._seed = settings.seed
        self._train_images = train_images
        self._heldout_images = heldout_images
        self._heldout_labels = heldout_labels
        self._n_classes = self.model.head.out_features
        self._train_feats = features(self.model, train_images)
        self._heldout = _RealSet.of(
            features(self.model, heldout_images), self._classes(heldout_labels), k
        )
        self._heldout_nn = median_nearest_distance(self._heldout.feats, self._train_feats)
        # held-out images that are the training images (a run on the whole dataset) sit
        # at rounding distance from them: the memorisation ratio has no baseline then
        scale = float(self._train_feats.norm(dim=1).median())
        self._heldout_coincides = self._heldout_nn <= COINCIDENT * scale
        self._reference: dict[str, QualityReport] | None = None

    def _classes(self, labels: Tensor) -> Tensor:
        return label_histogram(labels, self._n_classes)

    def evaluate(self, samples: Tensor) -> QualityReport:
        """All quality figures of ``samples`` [N, 1, H, W] in [-1, 1]; N must exceed k."""
        return self._evaluate(samples, self._heldout)

    def fid(self, samples: Tensor) -> float:
        """FID alone: one classifier pass, no distance matrices (what ``--keep-best`` needs)."""
        self._check(samples)
        return frechet_distance_from_stats(
            *gaussian_stats(features(self.model, samples)), *self._heldout.stats
        )

    def _check(self, samples: Tensor) -> None:
        check_images(samples, "samples")
        if samples.shape[1:] != self._train_images.shape[1:]:
            raise EvoganError(
                f"samples have shape {list(samples.shape[1:])}, "
                f"expected {list(self._train_images.shape[1:])}"
            )
        if samples.shape[0] <= self.k:
            raise EvoganError(f"need more than k={self.k} samples, got {samples.shape[0]}")

    def _evaluate(self, samples: Tensor, real: _RealSet) -> QualityReport:
        self._check(samples)
        feats = features(self.model, samples)
        probs = head_probabilities(self.model, feats)
        histogram = class_histogram(probs)
        return QualityReport(
            fid=frechet_distance_from_stats(*gaussian_stats(feats), *real.stats),
            inception_score=inception_score(probs),
            class_entropy=class_entropy(probs),
            class_histogram=tuple(int(c) for c in histogram),
            class_tvd=class_tvd(histogram, real.classes),
            precision=manifold_coverage(feats, real.feats, real.radii),
            recall=manifold_coverage(real.feats, feats, knn_radii(feats, k=self.k)),
            memorisation_ratio=self._memorisation(feats),
            n_samples=samples.shape[0],
            classifier_accuracy=self.classifier_accuracy,
        )

    def _memorisation(self, feats: Tensor) -> float:
        """The samples' memorisation ratio; NaN (no baseline) when held-out = training images."""
        if self._heldout_coincides:
            return math.nan
        nearest = median_nearest_distance(feats, self._train_feats)
        return ratio_to_baseline(nearest, self._heldout_nn)

    def reference(self) -> dict[str, QualityReport]:
        """Reports for "train", "heldout" and "noise" images (see the module doc), computed once.

        "train" and "noise" use as many images as the held-out set (or all the
        training images if there are fewer); "heldout" compares half to half.
        """
        if self._reference is None:
            n = self._heldout.feats.shape[0]
            half = n // 2
            gen = torch.Generator().manual_seed(self._seed)
            noise = torch.rand((n, *self._train_images.shape[1:]), generator=gen) * 2 - 1
            other_half = _RealSet.of(
                self._heldout.feats[half:], self._classes(self._heldout_labels[half:]), self.k
            )
            self._reference = {
                "train": self.evaluate(self._train_images[:n]),
                "heldout": self._evaluate(self._heldout_images[:half], other_half),
                "noise": self.evaluate(noise),
            }
        return self._reference
