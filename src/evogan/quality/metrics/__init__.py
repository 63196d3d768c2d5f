"""Sample-quality metrics in the feature space of an evaluation classifier.

FID, Inception Score, class coverage (entropy and TVD), k-NN
precision/recall and a memorisation check, all computed on features of a
small CNN trained on the run's training images (an ImageNet Inception net is
the wrong judge for small digits). ``QualityEvaluator`` ties them together;
the functions are usable on their own with any [N, D] features.
"""

from evogan.quality.metrics.cache import cache_key, load_or_train_classifier
from evogan.quality.metrics.class_tvd import class_shares, class_tvd, label_histogram
from evogan.quality.metrics.classifier import (
    Classifier,
    ClassifierSettings,
    accuracy,
    build_classifier,
    features,
    head_probabilities,
    probabilities,
    train_classifier,
)
from evogan.quality.metrics.evaluator import QualityEvaluator
from evogan.quality.metrics.fid import frechet_distance, frechet_distance_from_stats, gaussian_stats
from evogan.quality.metrics.inception_score import class_entropy, class_histogram, inception_score
from evogan.quality.metrics.memorisation import median_nearest_distance, memorisation_ratio
from evogan.quality.metrics.precision_recall import knn_radii, manifold_coverage, precision_recall
from evogan.quality.metrics.report import QualityReport

__all__ = [
    "Classifier",
    "ClassifierSettings",
    "QualityEvaluator",
    "QualityReport",
    "accuracy",
    "build_classifier",
    "cache_key",
    "class_entropy",
    "class_histogram",
    "class_shares",
    "class_tvd",
    "features",
    "frechet_distance",
    "frechet_distance_from_stats",
    "gaussian_stats",
    "head_probabilities",
    "inception_score",
    "knn_radii",
    "label_histogram",
    "load_or_train_classifier",
    "manifold_coverage",
    "median_nearest_distance",
    "memorisation_ratio",
    "precision_recall",
    "probabilities",
    "train_classifier",
]
