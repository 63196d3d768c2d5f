"""The quality report: every sample-quality figure of one evaluation, as one record.

Users compare runs by these numbers, so they travel together with what is
needed to trust them: how many samples they were computed on and how accurate
the judging classifier was. ``as_dict`` flattens the record into namespaced
scalars (``eval/fid``, ...) for the JSON-lines metrics log.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class QualityReport:
    """Sample-quality figures; FID and class TVD lower is better, the others higher
    (memorisation near 1)."""

    fid: float
    inception_score: float
    class_entropy: float  # nats; ln(n_classes) is perfectly even coverage
    class_histogram: tuple[int, ...]  # samples per predicted class
    class_tvd: float  # in [0, 1]: predicted-class shares vs the real images' class shares
    precision: float
    recall: float
    memorisation_ratio: float  # < 1: samples closer to training images than fresh real ones
    n_samples: int
    classifier_accuracy: float

    def as_dict(self, prefix: str = "eval") -> dict[str, float]:
        """Flat ``prefix/name`` scalars, one ``prefix/class_count/<c>`` per class."""
        flat = {
            "fid": self.fid,
            "is": self.inception_score,
            "class_entropy": self.class_entropy,
            "class_tvd": self.class_tvd,
            "precision": self.precision,
            "recall": self.recall,
            "memorisation_ratio": self.memorisation_ratio,
            "n_samples": float(self.n_samples),
            "classifier_accuracy": self.classifier_accuracy,
        }
        flat |= {f"class_count/{c}": float(n) for c, n in enumerate(self.class_histogram)}
        return {f"{prefix}/{name}": value for name, value in flat.items()}
