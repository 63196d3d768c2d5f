"""E-GAN: gradient steps as mutations, selection by the critic (Wang et al. 2019).

"Evolutionary Generative Adversarial Networks" (IEEE TEVC 2019): each
generation every parent generator makes one child per generator loss
(non-saturating, minimax, least-squares) by one Adam step under that loss;
the children are scored by quality (the critic's mean output on their fakes)
plus ``diversity_weight`` times diversity (minus the log of the norm of the
critic's loss gradient: a child that would move the critic a lot is being
caught), and the best ``population`` children become the next parents. The
critic trains against the survivors' fakes.

All children are computed at once, so a generation is one batched call, not
a loop per child: the three children of a parent share its forward pass
(``vmap`` over parents of ``jacrev`` of its three losses: one forward and
three backward passes each), and under ``loss_mutation`` ``vmap`` runs
``grad`` of one loss per child. Each child inherits its parent's Adam moments
and advances them with its own gradient, so a survivor's optimiser state is
exactly what a plain Adam run along its lineage would hold.

``loss_mutation`` (Mustangs; Toutouh, Hemberg & O'Reilly 2019): each parent
makes one child under a loss drawn at random, one step instead of three.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.func import functional_call, grad, jacrev, vmap

from evogan.config import Config
from evogan.errors import EvoganError
from evogan.game.arena import Arena, worst_for_nonfinite
from evogan.genome import GenomeLayout
from evogan.streams import Streams
from evogan.trainers.base import Trainer, population_metrics
from evogan.trainers.optimizers import adam

LOSSES = ("nonsaturating", "minimax", "least-squares")
ADAM_EPS = 1e-8
INIT_JITTER = 0.1  # parents 2.. start this far (in init spreads) from the PyTorch init


def generator_losses(logits: torch.Tensor) -> torch.Tensor:
    """Critic logits of one child's fakes ``[B]`` -> its three generator losses ``[3]``."""
    nonsaturating = nn.functional.softplus(-logits).mean()  # -log D(G(z))
    minimax = -nn.functional.softplus(logits).mean()  # log(1 - D(G(z)))
    least_squares = (torch.sigmoid(logits) - 1).square().mean()
    return torch.stack([nonsaturating, minimax, least_squares])


@dataclass(frozen=True)
class EGANState:
    parents: torch.Tensor  # [mu, n] genomes
    adam_m: torch.Tensor  # [mu, n] each parent's Adam moments
    adam_v: torch.Tensor
    adam_t: int  # Adam steps taken along every lineage
    generation: int
    best_fitness: float = float("-inf")  # the best survivor's fitness
    fitness: torch.Tensor | None = None  # [children] of the last generation

    @property
    def population(self) -> torch.Tensor:
        return self.parents


@dataclass(frozen=True)
class EGANTrainer(Trainer):
    layout: GenomeLayout
    parents: int
    lr: float
    beta1: float
    diversity_weight: float
    loss_mutation: bool

    @classmethod
    def from_config(cls, config: Config, layout: GenomeLayout) -> EGANTrainer:
        if config.population < 1:
            raise EvoganError(f"--population must be >= 1, got {config.population}")
        lr, beta1 = config.generator_adam
        return cls(
            layout=layout,
            parents=config.population,
            lr=lr,
            beta1=beta1,
            diversity_weight=config.diversity_weight,
            loss_mutation=config.loss_mutation,
        )

    def init(self, rng: torch.Generator) -> EGANState:
        """Parents start at the module's PyTorch init, all but the first moved by a tenth
        of the init spread: identical parents would breed identical twins forever."""
        noise = self.layout.random_population(self.parents, rng=rng)
        noise[0] = 0
        if self.layout.initial is None:
            parents = noise
        else:
            parents = self.layout.initial + INIT_JITTER * noise
        zeros = torch.zeros_like(parents)
        return EGANState(parents, zeros, zeros.clone(), 0, 0)

    def step(
        self, state: EGANState, arena: Arena, streams: Streams
    ) -> tuple[EGANState, dict[str, float]]:
        """Children by one Adam step per loss, scored; the best survive; the critic trains."""
        mu = self.parents
        if self.loss_mutation:
            parent_of = torch.arange(mu)
            loss_of = torch.randint(len(LOSSES), (mu,), generator=streams.ga)
        else:
            parent_of = torch.arange(mu).repeat_interleave(len(LOSSES))
            loss_of = torch.arange(len(LOSSES)).repeat(mu)
        z = arena.latents(arena.disc_batch, rng=streams.latents)
        if self.loss_mutation:
            gradients = child_gradients(arena, state.parents[parent_of], loss_of, z)
        else:  # parent-major, loss-minor: the order of parent_of and loss_of
            gradients = all_loss_gradients(arena, state.parents, z).flatten(0, 1)
        betas = (self.beta1, 0.999)
        m, v, step = adam(
            gradients, state.adam_m[parent_of], state.adam_v[parent_of], state.adam_t + 1,
            lr=self.lr, betas=betas,
        )  # fmt: skip
        children = state.parents[parent_of] - step  # Adam descends the loss
        quality, diversity = child_fitness(
            arena, children, streams, diversity=self.diversity_weight != 0
        )
        fitness, _ = worst_for_nonfinite(quality + self.diversity_weight * diversity)
        survivors = fitness.topk(min(mu, len(children))).indices
        critic_metrics = arena.train_critic(children[survivors], streams)
        next_state = EGANState(
            parents=children[survivors],
            adam_m=m[survivors],
            adam_v=v[survivors],
            adam_t=state.adam_t + 1,
            generation=state.generation + 1,
            best_fitness=float(fitness[survivors[0]]),
            fitness=fitness,
        )
        chosen = torch.bincount(loss_of[survivors], minlength=len(LOSSES)) / len(survivors)
        metrics = population_metrics(fitness) | {
            "egan/quality": quality[survivors].mean().item(),
            "egan/diversity": diversity[survivors].mean().item(),
            **{f"egan/survivors_{name}": float(chosen[i]) for i, name in enumerate(LOSSES)},
        }
        return next_state, {**metrics, **critic_metrics}

    def best(self, state: EGANState) -> tuple[torch.Tensor, float]:
        return state.parents[0], state.best_fitness

    def restart(self, state: EGANState, genome: torch.Tensor) -> EGANState:
        """The leading lineage (parent 0, the best survivor) moved to ``genome`` with its
        momentum cleared: it pointed where the drifted parent was going. Its second moment,
        a scale, stays; the other parents keep their lineages (identical parents would
        breed identical children)."""
        parents, adam_m = state.parents.clone(), state.adam_m.clone()
        parents[0], adam_m[0] = genome, 0
        return dataclasses.replace(state, parents=parents, adam_m=adam_m)

    def agent_fitness(self, state: EGANState) -> torch.Tensor | None:
        return state.fitness

    def state_dict(self, state: EGANState) -> dict[str, Any]:
        return dataclasses.asdict(state)

    def load_state_dict(self, data: dict[str, Any]) -> EGANState:
        state = EGANState(**data)
        if state.parents.shape != (self.parents, self.layout.size):
            raise EvoganError(
                f"checkpoint parent shape {tuple(state.parents.shape)} does not match the config's "
                f"({self.parents}, {self.layout.size})"
            )
        return state


def losses_of(arena: Arena, z: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """``genome [n] -> its three generator losses [3]`` on the shared latents ``z``."""
    critic = arena.critic.model
    critic_params = {k: v.detach() for k, v in critic.named_parameters()}
    layout, model = arena.layout, arena.model

    def losses(genome: torch.Tensor) -> torch.Tensor:
        params = {k: v[0] for k, v in layout.unflatten(genome[None]).items()}
        fakes = functional_call(model, params, (z,))
        return generator_losses(functional_call(critic, critic_params, (fakes,)))

    return losses


def frozen_critic(arena: Arena, compute: Callable[[], torch.Tensor]) -> torch.Tensor:
    """``compute()`` with the critic in inference mode (no dropout): each child's step
    then depends only on its genome, its loss and the shared latents."""
    critic = arena.critic.model
    was_training = critic.training
    critic.eval()
    try:
        return compute()
    finally:
        critic.train(was_training)


def all_loss_gradients(arena: Arena, parents: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Gradient ``[mu, 3, n]`` of every loss at every parent: one forward per parent."""
    losses = losses_of(arena, z)
    return frozen_critic(arena, lambda: vmap(jacrev(losses))(parents))


def child_gradients(
    arena: Arena, genomes: torch.Tensor, loss_of: torch.Tensor, z: torch.Tensor
) -> torch.Tensor:
    """Gradient ``[C, n]`` of each child's loss (``loss_of [C]``) at its genome, in one call."""
    losses = losses_of(arena, z)
    weights = nn.functional.one_hot(loss_of, len(LOSSES)).float()

    def loss(genome: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        return (weight * losses(genome)).sum()

    return frozen_critic(arena, lambda: vmap(grad(loss))(genomes, weights))


def child_fitness(
    arena: Arena, children: torch.Tensor, streams: Streams, *, diversity: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """E-GAN's quality ``[C]`` (mean critic output on fresh fakes) and diversity ``[C]``.

    Diversity is ``-log ||grad_D L_D||``: the norm of the critic's loss gradient
    on real images against the child's fakes. A child whose fakes would move
    the critic a lot is one the critic is about to catch (mode collapse).
    Without ``diversity`` (weight 0) that gradient is skipped and diversity is 0:
    it is half the cost of a generation.
    """
    critic = arena.critic.model
    critic_params = {k: v.detach() for k, v in critic.named_parameters()}
    z = arena.latents(arena.disc_batch, rng=streams.latents)
    real = arena.real_batch(arena.disc_batch, streams)
    layout, model = arena.layout, arena.model

    def critic_loss(params: dict[str, torch.Tensor], fakes: torch.Tensor) -> torch.Tensor:
        real_logits = functional_call(critic, params, (real,))
        fake_logits = functional_call(critic, params, (fakes,))
        return (nn.functional.softplus(-real_logits).mean()
                + nn.functional.softplus(fake_logits).mean())  # fmt: skip

    def scores(genome: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        params = {k: v[0] for k, v in layout.unflatten(genome[None]).items()}
        fakes = functional_call(model, params, (z,))
        quality = torch.sigmoid(functional_call(critic, critic_params, (fakes,))).mean()
        if not diversity:
            return quality, torch.zeros(())
        grads = grad(critic_loss)(critic_params, fakes)
        norm = torch.sqrt(sum(g.square().sum() for g in grads.values()))
        return quality, -torch.log(norm + ADAM_EPS)

    was_training = critic.training
    critic.eval()
    try:
        quality, spread = vmap(scores)(children.detach())
    finally:
        critic.train(was_training)
    return quality.detach(), spread.detach()
