"""The article's convolutional discriminator, the test that scores the agents.

Conv2D(64, 3x3, stride 2, same) -> LeakyReLU(0.2) -> Dropout(0.4), twice, then
a dense unit. It returns logits (the sigmoid lives in the loss, which is the
numerically stable form of the article's sigmoid + binary cross-entropy).
"""

from __future__ import annotations

from torch import nn


def build_discriminator(image_size: int, *, filters: int = 64, dropout: float = 0.4) -> nn.Module:
    """The article's CNN, adapted to ``image_size`` (two stride-2 convs shrink it by 4)."""
    side = (image_size + 3) // 4  # 'same' padding with stride 2, twice
    return nn.Sequential(
        nn.Conv2d(1, filters, 3, stride=2, padding=1),
        nn.LeakyReLU(0.2),
        nn.Dropout(dropout),
        nn.Conv2d(filters, filters, 3, stride=2, padding=1),
        nn.LeakyReLU(0.2),
        nn.Dropout(dropout),
        nn.Flatten(),
        nn.Linear(filters * side * side, 1),
        nn.Flatten(0),
    )
