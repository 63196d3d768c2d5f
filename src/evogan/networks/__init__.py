"""Networks: evolving generators (the genomes) and the gradient-trained discriminator."""

from evogan.networks.discriminator import build_discriminator
from evogan.networks.generators import GENERATORS, Generator, GeneratorSpec, build_generator
from evogan.networks.spec import ACTIVATIONS, LayerSpec, parse_network

__all__ = [
    "ACTIVATIONS",
    "GENERATORS",
    "Generator",
    "GeneratorSpec",
    "LayerSpec",
    "build_discriminator",
    "build_generator",
    "parse_network",
]
