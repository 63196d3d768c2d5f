"""scikit-learn's bundled handwritten digits: real data with no download.

1,797 digits of 8x8 pixels scanned at UCI (Alpaydin & Kaynak, 1998), values
0..16 with 16 the ink. Small enough to train on in seconds, which makes it
the default dataset and the one the tests use.
"""

from __future__ import annotations

import numpy as np
import torch

from evogan.data.dataset import ImageDataset, from_uint8


def load_sklearn_digits() -> ImageDataset:
    """All 1797 digits as ``[1797, 1, 8, 8]`` in [-1, 1] with labels 0..9."""
    from sklearn.datasets import load_digits  # here: importing scikit-learn takes seconds

    bunch = load_digits()
    pixels = np.asarray(bunch.images, dtype=np.uint8)  # exact: the values are integers 0..16
    labels = torch.from_numpy(np.asarray(bunch.target, dtype=np.int64))
    return ImageDataset(from_uint8(pixels, white=16.0), labels, "digits")
