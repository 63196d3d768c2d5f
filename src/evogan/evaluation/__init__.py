"""Population evaluation backends: ``evaluate(population, latents, discriminator)``.

The GA never knows where its agents are scored. ``LocalEvaluator`` runs the
population in batched tensor calls in this process; other backends (Ray)
split the population into pieces and reassemble the logits by piece index.
"""

from evogan.evaluation.base import Evaluator
from evogan.evaluation.local import LocalEvaluator

__all__ = ["Evaluator", "LocalEvaluator"]
