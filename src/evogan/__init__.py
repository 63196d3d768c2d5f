"""evogan: evolve GAN generators (GA, ES, the E-GAN hybrid, or gradient training) on a CPU.

>>> import evogan
>>> result = evogan.evolve(population=32, generations=5, progress=False)
>>> images = evogan.sample(result.generator, 16)
"""

from evogan.config import Config
from evogan.errors import EvoganError
from evogan.run.engine import Result, evolve
from evogan.run.export import load_generator, sample

__all__ = ["Config", "EvoganError", "Result", "evolve", "load_generator", "sample"]
__version__ = "0.1.0"
