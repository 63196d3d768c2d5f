"""The data layer: real images in, one ``[N, 1, H, W]`` tensor in [-1, 1] out.

Sources are scikit-learn's bundled digits (the default, no download), MNIST
and Fashion-MNIST from a directory of IDX files or a Keras ``.npz``, and a
folder of PNG/JPEG images. ``download_dataset`` fetches and verifies the
MNIST-format files.
"""

from evogan.data.dataset import ImageDataset
from evogan.data.download import download_dataset
from evogan.data.load import DATASETS, load_dataset, parse_subset

__all__ = ["DATASETS", "ImageDataset", "download_dataset", "load_dataset", "parse_subset"]
