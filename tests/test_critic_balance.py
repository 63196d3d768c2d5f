"""The options that keep the critic informative: R1, instance noise, adaptive steps, replay."""

import pytest
import torch
from conftest import TINY, without_time

from evogan.config import Config
from evogan.game.critic import Critic, r1_penalty
from evogan.outputs.callbacks import RunDirectory
from evogan.run.checkpoint import resume
from evogan.run.engine import Evolution, evolve_run


def critic(**options) -> Critic:
    torch.manual_seed(0)
    return Critic(8, filters=4, dropout=0.0, lr=1e-2, beta1=0.5, device=torch.device("cpu"),
                  **options)  # fmt: skip


def weights(c: Critic) -> list[torch.Tensor]:
    return [p.detach().clone() for p in c.model.parameters()]


def same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def test_r1_penalty_of_a_linear_critic_is_its_weights_squared_norm():
    w = torch.tensor([1.0, -2.0, 3.0])
    real = torch.randn(5, 3, requires_grad=True)
    assert r1_penalty(real @ w, real).item() == pytest.approx(14.0)


def test_r1_is_reported_and_changes_the_step():
    real, fake = torch.rand(6, 1, 8, 8), -torch.rand(6, 1, 8, 8)
    plain, penalised = critic(), critic(r1=10.0)
    assert "disc/r1" not in plain.train_step(real, fake)
    metrics = penalised.train_step(real, fake)
    assert metrics["disc/r1"] > 0
    assert not same(weights(plain), weights(penalised))


def test_lazy_r1_penalises_every_kth_step_k_times_as_strongly():
    real, fake = torch.rand(6, 1, 8, 8), -torch.rand(6, 1, 8, 8)
    lazy = critic(r1=2.0, r1_every=3)
    penalised = ["disc/r1" in lazy.train_step(real, fake) for _ in range(7)]
    assert penalised == [True, False, False, True, False, False, True]
    # the first step's loss: BCE + r1 * every / 2 * penalty (against a plain critic's BCE)
    first = critic(r1=2.0, r1_every=3).train_step(real, fake)
    plain = critic().train_step(real, fake)
    assert first["disc/loss"] == pytest.approx(plain["disc/loss"] + 3.0 * first["disc/r1"])
    resumed = critic(r1=2.0, r1_every=3)
    resumed.load_state_dict(lazy.state_dict())
    assert resumed.steps == 7 and "disc/r1" not in resumed.train_step(real, fake)


def test_instance_noise_is_drawn_from_the_given_stream():
    real, fake = torch.rand(4, 1, 8, 8), -torch.rand(4, 1, 8, 8)
    losses = []
    for seed in (1, 1, 2):
        rng = torch.Generator().manual_seed(seed)
        losses.append(critic().train_step(real, fake, noise=0.5, rng=rng)["disc/loss"])
    clean = critic().train_step(real, fake)["disc/loss"]
    assert losses[0] == losses[1] != losses[2]
    assert clean != losses[0]


def test_a_critic_above_its_target_accuracy_does_not_step():
    c = critic(target_accuracy=0.5)
    real, fake = torch.ones(8, 1, 8, 8), -torch.ones(8, 1, 8, 8)
    c.accuracy_ema = 0.9  # it has been winning
    before = weights(c)
    metrics = c.train_step(real, fake)
    assert metrics["disc/skipped"] == 1.0
    assert same(before, weights(c))
    c.accuracy_ema = 0.2  # now it has been losing
    assert c.train_step(real, fake)["disc/skipped"] == 0.0
    assert not same(before, weights(c))


def test_running_accuracy_moves_toward_each_measurement():
    c = critic(target_accuracy=0.99)
    c.accuracy_ema = 0.5
    accuracy = c.train_step(torch.ones(4, 1, 8, 8), -torch.ones(4, 1, 8, 8))["disc/accuracy"]
    assert c.accuracy_ema == pytest.approx(0.9 * 0.5 + 0.1 * accuracy)


def test_replay_fills_to_its_size_and_replaces_a_quarter_of_the_fakes():
    c = critic(replay=6)
    rng = torch.Generator().manual_seed(0)
    first = torch.full((16, 1, 8, 8), 1.0)
    assert torch.equal(c.mix_replay(first, rng), first)  # nothing to replay yet
    assert len(c.replay) == 2  # an eighth of 16 kept
    for _ in range(5):
        c.mix_replay(torch.full((16, 1, 8, 8), 2.0), rng)
    assert len(c.replay) == 6 and c.replay_seen == 12
    mixed = c.mix_replay(torch.full((16, 1, 8, 8), 3.0), rng)
    assert (mixed[:12] == 3.0).all() and (mixed[12:] < 3.0).all()


def test_balancing_state_survives_a_state_dict_round_trip():
    c = critic(replay=4, target_accuracy=0.8)
    c.mix_replay(torch.rand(32, 1, 8, 8), torch.Generator().manual_seed(0))
    c.train_step(torch.ones(4, 1, 8, 8), -torch.ones(4, 1, 8, 8))
    other = critic(replay=4, target_accuracy=0.8)
    other.load_state_dict(c.state_dict())
    assert torch.equal(other.replay, c.replay) and other.replay_seen == c.replay_seen
    assert other.accuracy_ema == c.accuracy_ema


def test_an_old_state_without_balancing_entries_loads():
    old = critic()
    fresh = critic(replay=4, target_accuracy=0.8)
    fresh.load_state_dict(old.state_dict())
    assert len(fresh.replay) == 0 and fresh.accuracy_ema == 0.5


def test_the_critic_sees_the_returned_generators_fakes():
    run = Evolution.start(Config(**TINY, trainer="es", disc_sees_returned=True))
    arena, streams = run.parts.arena, run.streams
    fake = torch.zeros(16, 1, 8, 8)
    mixed = arena.with_returned(fake, run.best_genome[None], streams)
    assert (mixed[4:] == 0).all() and not (mixed[:4] == 0).flatten(1).all(dim=1).any()


def test_the_replay_leaves_the_returned_generators_fakes_in_the_batch():
    """The replay takes the batch's last quarter; the mean's quarter must survive it."""
    config = Config(**TINY, trainer="es", disc_sees_returned=True, disc_replay=8)
    run = Evolution.start(config)
    arena, streams = run.parts.arena, run.streams
    arena.critic.mix_replay(torch.full((16, 1, 8, 8), 5.0), streams.data)  # fill the replay
    means = arena.with_returned(torch.zeros(16, 1, 8, 8), run.best_genome[None], streams)
    mixed = arena.critic.mix_replay(means, streams.data)
    assert torch.equal(mixed[:4], means[:4])  # the mean's fakes
    assert (mixed[4:12] == 0).all() and (mixed[12:] == 5).all()  # pooled, then replayed


@pytest.mark.parametrize(("share", "theirs"), [(0.5, 8), (1.0, 16), (0.01, 1)])
def test_the_returned_share_of_the_critics_fakes(share, theirs):
    config = Config(**TINY, trainer="es", disc_sees_returned=True, disc_returned_share=share)
    run = Evolution.start(config)
    fake = torch.zeros(16, 1, 8, 8)
    mixed = run.parts.arena.with_returned(fake, run.best_genome[None], run.streams)
    assert len(mixed) == 16 and (mixed[theirs:] == 0).all()
    assert not (mixed[:theirs] == 0).flatten(1).all(dim=1).any()  # the first are the mean's


BALANCED = {"trainer": "es", "disc_r1": 1.0, "disc_r1_every": 2, "disc_noise": 0.2,
            "disc_target_accuracy": 0.7, "disc_replay": 8, "disc_sees_returned": True,
            "es_sigma_final": 0.3, "es_lr_final": 0.1, "es_optimizer": "clipup",
            "es_adapt": "pgpe", "es_mean_ema": 0.9}  # fmt: skip


class Crash:
    """Raises after generation ``at`` (whose checkpoint the run directory has just written)."""

    def __init__(self, at: int) -> None:
        self.at = at

    def on_start(self, run: Evolution) -> None:
        pass

    def on_generation(self, run: Evolution, metrics: dict[str, float]) -> None:
        if run.generation == self.at:
            raise RuntimeError("crash")

    def on_end(self, run: Evolution, stop: dict[str, float]) -> None:
        pass


@pytest.mark.parametrize(("fitness", "group"), [("logit", 0), ("mmd", 0), ("mmd", 4)])
def test_every_balancing_option_resumes_bit_identically(tmp_path, fitness, group):
    """A run crashed at generation 2 of 4 resumes to the uninterrupted run (the schedules
    run over the same 4 generations, so the run is not shortened to stop it); group 4
    adds the minibatch-stddev critic."""
    config = Config(**TINY, **BALANCED, fitness=fitness, generations=4, checkpoint_every=1,
                    sample_every=0, disc_minibatch_group=group)  # fmt: skip
    straight = evolve_run(Evolution.start(config), [RunDirectory(tmp_path / "a")])
    with pytest.raises(RuntimeError, match="crash"):
        evolve_run(Evolution.start(config), [RunDirectory(tmp_path / "b"), Crash(at=2)])
    resumed = evolve_run(resume(tmp_path / "b"), [RunDirectory(tmp_path / "b")])
    assert torch.equal(resumed.evolution.best_genome, straight.evolution.best_genome)
    assert without_time(resumed.history) == without_time(straight.history)
    assert torch.equal(
        resumed.evolution.parts.critic.replay, straight.evolution.parts.critic.replay
    )


def adam_steps(run: Evolution) -> int:
    state = run.parts.critic.optimizer.state_dict()["state"]
    return int(next(iter(state.values()))["step"])


@pytest.mark.parametrize("trainer", ["ga", "es"])
def test_the_warmup_adds_critic_steps_to_the_first_generation_only(trainer):
    run = Evolution.start(Config(**TINY, trainer=trainer, disc_steps=2, disc_warmup=5,
                                 generations=2))  # fmt: skip
    run.step()
    assert adam_steps(run) == 7 and run.generation == 1
    run.step()
    assert adam_steps(run) == 9
