"""The critic: the article's discriminator plus its optimiser.

It is the state of the fitness test. It is trained by gradient once per
generation (``disc_steps`` Adam steps) on real images against fakes pooled
from the whole population -- not once per agent as in the article, which made
a thousand updates per generation and let the discriminator win outright.

Left alone it still wins outright over a long run (issue 13: accuracy 1.00,
mean fake logit -7.5 after 7,000 generations), and a critic that rejects
every fake stops telling agents apart. Options that keep the game balanced:

- ``r1``: the R1 penalty ``r1 / 2 * E ||grad_x D(x_real)||^2`` (Mescheder et
  al. 2018, "Which training methods for GANs do actually converge?"): the
  critic stays smooth around real images instead of a cliff. It doubles the
  cost of a critic step; ``r1_every`` k applies it on every k-th step only,
  k times as strong (StyleGAN2's lazy regularisation).
- instance noise (``noise``, Sønderby et al. 2016): Gaussian noise on both
  real and fake inputs, so the two distributions overlap.
- ``target_accuracy``: adaptive updates. The critic steps only while the
  running mean of its accuracy is below the target (StyleGAN2-ADA holds an
  overfitting heuristic at a target the same way, with augmentation).
- ``replay``: a buffer of past fakes; a quarter of each fake batch comes from
  it (Shrivastava et al. 2017), so the critic does not forget what earlier
  generations drew and the search cannot cycle back to it.

All of these judge each fake alone, so none of them sees a generator that
draws one good digit every time. ``minibatch_group`` n > 1 lets the critic
judge n images at once (a minibatch-stddev map, ``networks.discriminator``):
every batch it sees then holds one generator's fakes in consecutive groups of
n, and an agent whose fakes are less varied than real digits scores lower.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from evogan.networks import build_discriminator
from evogan.networks.discriminator import minibatch_group

# Images per discriminator forward when scoring. Measured on 2 cores: 512 images
# run at ~27k images/s, 1024-4096 at ~17k (their activations fall out of cache).
SCORING_CHUNK = 512
# Steps between snapshots of the last good state: a copy costs 2 ms, a step ~100.
SNAPSHOT_EVERY = 10
ACCURACY_EMA = 0.9  # weight of the past in the running accuracy (adaptive updates)
REPLAY_SHARE = 4  # a 1/4 of each fake batch is replayed, 1/8 of the fresh fakes is kept


class Critic:
    """Discriminator + Adam; ``train_step`` for learning, ``logits`` for scoring."""

    def __init__(
        self,
        image_size: int,
        *,
        filters: int,
        dropout: float,
        lr: float,
        beta1: float,
        device: torch.device,
        r1: float = 0.0,
        r1_every: int = 1,
        target_accuracy: float | None = None,
        replay: int = 0,
        minibatch_group: int = 0,
    ) -> None:
        model = build_discriminator(
            image_size, filters=filters, dropout=dropout, minibatch_group=minibatch_group
        )
        # channels-last runs the convolutions about 1.5x faster on CPU (oneDNN).
        self.model = model.to(device).to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=lr, betas=(beta1, 0.999))
        self.loss = nn.BCEWithLogitsLoss()
        self.r1, self.r1_every = r1, r1_every
        self.target_accuracy, self.replay_size = target_accuracy, replay
        self.steps = 0  # critic updates so far: which of them carry the lazy R1 penalty
        # the dense unit's input: what --fitness features and mmd compare
        self.features = self.model[:-2]  # everything before the dense unit
        self.group = max(1, minibatch_group)  # images judged together
        self.accuracy_ema = 0.5  # a guessing critic
        self.replay = torch.empty(0, device=device)  # past fakes, at most ``replay``
        self.replay_seen = 0
        self.last_good = self.state_dict()  # restored when a step goes non-finite
        self.good_steps = 0

    def train_step(
        self,
        real: torch.Tensor,
        fake: torch.Tensor,
        *,
        noise: float = 0.0,
        rng: torch.Generator | None = None,
    ) -> dict[str, float]:
        """One Adam step on real (label 1) vs fake (label 0); returns loss and accuracy.

        ``noise``: std of instance noise on both (drawn from ``rng``). With a
        target accuracy, a critic above it measures itself but does not step.
        A step whose loss or resulting weights are not finite is undone: the
        critic goes back to its last good state and ``disc/restored`` says so.
        """
        self.model.train()
        if noise > 0:
            real = real + noise * torch.randn(real.shape, generator=rng).to(real.device)
            fake = fake + noise * torch.randn(fake.shape, generator=rng).to(fake.device)
        penalised = self.r1 > 0 and self.steps % self.r1_every == 0
        real = real.detach().requires_grad_(penalised)
        images = torch.cat([real, fake]).contiguous(memory_format=torch.channels_last)
        labels = torch.cat([torch.ones(len(real)), torch.zeros(len(fake))]).to(images.device)
        logits = self.model(images)
        loss = self.loss(logits, labels)
        accuracy = ((logits > 0).float() == labels).float().mean().item()
        extra = self.balance_metrics(accuracy)
        if extra.get("disc/skipped"):
            return {"disc/loss": loss.item(), "disc/accuracy": accuracy, **extra}
        self.steps += 1
        if penalised:
            penalty = r1_penalty(logits[: len(real)], real)
            loss = loss + self.r1 * self.r1_every / 2 * penalty
            extra["disc/r1"] = penalty.item()
        if torch.isfinite(loss):
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
        if not torch.isfinite(loss) or not self.finite():
            self.load_state_dict(self.last_good)
            metrics = {"disc/loss": float("nan"), "disc/accuracy": accuracy, "disc/restored": 1.0}
            return metrics | extra
        self.good_steps += 1
        if self.good_steps % SNAPSHOT_EVERY == 0:
            self.last_good = self.state_dict()
        return {"disc/loss": loss.item(), "disc/accuracy": accuracy, "disc/restored": 0.0} | extra

    def balance_metrics(self, accuracy: float) -> dict[str, float]:
        """Adaptive updates: track the running accuracy; ``disc/skipped`` 1 when above target."""
        if self.target_accuracy is None:
            return {}
        self.accuracy_ema = ACCURACY_EMA * self.accuracy_ema + (1 - ACCURACY_EMA) * accuracy
        skipped = float(self.accuracy_ema > self.target_accuracy)
        return {"disc/accuracy_ema": self.accuracy_ema, "disc/skipped": skipped}

    def mix_replay(self, fake: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        """``fake`` with a quarter replaced from the replay buffer, which keeps some of it.

        With groups, the replaced part is whole groups, so every group stays either one
        generator's fakes or a replayed group."""
        if self.replay_size == 0:
            return fake
        fake = fake.detach()
        n = len(fake)
        if len(self.replay):
            k = max(self.group, n // REPLAY_SHARE // self.group * self.group)
            pick = torch.randint(len(self.replay), (k,), generator=rng).to(fake.device)
            mixed = torch.cat([fake[: n - k], self.replay[pick]])
        else:
            mixed = fake
        keep = fake[torch.randperm(n, generator=rng)[: max(1, n // (2 * REPLAY_SHARE))]]
        self.remember(keep, rng)
        return mixed

    def remember(self, fakes: torch.Tensor, rng: torch.Generator) -> None:
        """Reservoir sampling: the buffer stays a uniform sample of every fake kept so far."""
        for image in fakes:
            self.replay_seen += 1
            if len(self.replay) < self.replay_size:
                self.replay = torch.cat([self.replay.reshape(-1, *image.shape), image[None]])
                continue
            slot = int(torch.randint(self.replay_seen, (1,), generator=rng))
            if slot < self.replay_size:
                self.replay[slot] = image

    def finite(self) -> bool:
        return all(bool(torch.isfinite(p).all()) for p in self.model.parameters())

    @torch.no_grad()
    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """Inference-mode logits ``[N]`` (no dropout), in memory-bounded chunks."""
        return score(self.model, images)

    def state_dict(self) -> dict[str, object]:
        """A copy (not a view) of the weights, Adam state and the balancing options' state."""
        state: dict[str, object] = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
        }
        if self.target_accuracy is not None:
            state["accuracy_ema"] = self.accuracy_ema
        if self.r1_every > 1:
            state["steps"] = self.steps
        if self.replay_size:
            state["replay"], state["replay_seen"] = self.replay, self.replay_seen
        return copy.deepcopy(state)

    def load_state_dict(self, state: dict[str, object]) -> None:
        """Weights and Adam state; a state saved without the balancing options starts them anew."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])  # type: ignore[arg-type]
        self.accuracy_ema = float(state.get("accuracy_ema", 0.5))  # type: ignore[arg-type]
        self.steps = int(state.get("steps", 0))  # type: ignore[call-overload]
        replay = state.get("replay")
        self.replay = replay.clone() if isinstance(replay, torch.Tensor) else self.replay[:0]
        self.replay_seen = int(state.get("replay_seen", len(self.replay)))  # type: ignore[call-overload]

    def take(self, trained: Critic) -> None:
        """Become ``trained`` (a copy of this critic trained elsewhere, e.g. on a Ray
        actor), its last good state included."""
        self.load_state_dict(trained.state_dict())
        self.last_good, self.good_steps = trained.last_good, trained.good_steps


def r1_penalty(real_logits: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Mean squared norm of the critic's gradient at real images (``real`` requires grad)."""
    (grad,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
    return grad.square().flatten(1).sum(dim=1).mean()


@torch.no_grad()
def score(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Discriminator logits for a flat image batch ``[N, 1, H, W]`` -> ``[N]``."""
    was_training = model.training
    model.eval()
    group = minibatch_group(model)
    pieces = images.split(max(group, SCORING_CHUNK // group * group))  # whole groups
    out = torch.cat(
        [model(piece.contiguous(memory_format=torch.channels_last)) for piece in pieces]
    )
    model.train(was_training)
    return out
