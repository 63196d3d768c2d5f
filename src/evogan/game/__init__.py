"""The game every trainer plays: real batches and pooled fakes (arena), the critic,
fitness, and scoring a population (``Scorer``: batched here, or shards on Ray).

The trainers never know where their agents are scored: a backend splits the
population into pieces and reassembles the logits by piece index.
"""

from evogan.game.scoring import LocalScorer, Scorer, Scores

__all__ = ["LocalScorer", "Scorer", "Scores"]
