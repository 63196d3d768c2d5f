"""The minibatch-stddev critic: it judges groups of one generator's fakes together."""

import sys

import pytest
import torch
from conftest import TINY

from evogan.cli import main
from evogan.config import Config
from evogan.game.critic import Critic, score
from evogan.networks.discriminator import (
    MinibatchStd,
    build_discriminator,
    group_spread,
    minibatch_group,
)
from evogan.run.engine import Evolution


def test_group_spread_is_each_features_std_across_the_group_averaged():
    groups = torch.tensor([[[0.0, 2.0], [2.0, 2.0]], [[1.0, -3.0], [1.0, 5.0]]])[..., None, None]
    # group 0: stds 1 and 0 -> 0.5; group 1: stds 0 and 4 -> 2 (biased std, +1e-8 inside)
    assert group_spread(groups).tolist() == pytest.approx([0.5, 2.0], abs=1e-4)


def test_the_spread_map_is_one_number_per_group_and_a_short_last_group_stands_alone():
    x = torch.tensor([0.0, 2.0, 4.0, 6.0, 1.0, 3.0, 7.0]).view(7, 1, 1, 1).expand(7, 1, 2, 2)
    out = MinibatchStd(3)(x)
    assert out.shape == (7, 2, 2, 2) and torch.equal(out[:, :1], x)
    spread = out[:, 1, 0, 0]
    first, second = (8 / 3) ** 0.5, (38 / 9) ** 0.5  # biased stds of 0 2 4 and 6 1 3
    lone = 1e-4  # sqrt of the 1e-8 that keeps the gradient of a zero spread finite
    assert spread.tolist() == pytest.approx([first] * 3 + [second] * 3 + [lone], abs=1e-6)
    assert (out[:, 1] == out[:, 1, :1, :1]).all()  # constant over the map


def test_a_group_of_one_is_refused():
    with pytest.raises(ValueError, match="at least 2"):
        MinibatchStd(1)


def critic_model(group: int) -> torch.nn.Module:
    torch.manual_seed(0)
    return build_discriminator(8, filters=4, dropout=0.0, minibatch_group=group).eval()


def test_a_grouped_critic_judges_a_group_together_and_groups_apart():
    model, images = critic_model(4), torch.randn(12, 1, 8, 8)
    base = model(images)
    changed = images.clone()
    changed[5] += 1.0  # an image of the second group
    out = model(changed)
    assert torch.equal(out[:4], base[:4]) and torch.equal(out[8:], base[8:])
    assert not torch.allclose(out[[4, 6, 7]], base[[4, 6, 7]])  # its group-mates moved too
    shuffled = images[[3, 1, 0, 2, *range(4, 12)]]  # the order within a group does not matter
    assert torch.allclose(model(shuffled)[:4], base[[3, 1, 0, 2]], atol=1e-6)


def test_an_ungrouped_critic_is_the_articles_and_reports_group_one():
    assert minibatch_group(critic_model(0)) == 1 and minibatch_group(critic_model(4)) == 4
    assert not any(isinstance(m, MinibatchStd) for m in critic_model(0).modules())


@pytest.mark.parametrize("group", [12, 16])
def test_scoring_chunks_never_split_a_group(group):
    """Scoring splits big batches into chunks; each chunk must hold whole groups."""
    model, images = critic_model(group), torch.randn(group * 90, 1, 8, 8)
    by_group = torch.cat([model(g) for g in images.split(group)])
    assert torch.allclose(score(model, images), by_group, atol=1e-5)


def test_the_replay_replaces_whole_groups():
    torch.manual_seed(0)
    c = Critic(8, filters=4, dropout=0.0, lr=1e-2, beta1=0.5, device=torch.device("cpu"),
               replay=64, minibatch_group=8)  # fmt: skip
    rng = torch.Generator().manual_seed(0)
    c.mix_replay(torch.full((64, 1, 8, 8), 5.0), rng)  # fill the replay
    mixed = c.mix_replay(torch.zeros(48, 1, 8, 8), rng)  # a quarter of 48 is 12: 8 replayed
    assert (mixed[:40] == 0).all() and (mixed[40:] == 5).all()


GROUPED = {**TINY, "trainer": "es", "disc_minibatch_group": 4}


def test_the_critic_trains_on_one_agents_fakes_per_group():
    """Agents whose first layer is zero draw one image whatever the latent: each group of
    the pooled fakes is then one image four times, and the groups differ."""
    run = Evolution.start(Config(**GROUPED))
    arena = run.parts.arena
    population = arena.layout.random_population(8, rng=torch.Generator().manual_seed(1))
    first, end = arena.layout.segments[0]
    population[:, first:end] = 0  # the latent's weights: the hidden layer is its bias
    groups = arena.pooled_fakes(population, run.streams).flatten(1).unflatten(0, (-1, 4))
    assert groups.shape[0] == 4
    assert torch.allclose(groups, groups[:, :1].expand_as(groups))  # one agent a group
    assert len({tuple(g[0].tolist()) for g in groups}) > 1  # not all one agent


def test_the_returned_generators_group_draws_no_fake_twice():
    run = Evolution.start(Config(**GROUPED, disc_sees_returned=True))
    fake = torch.zeros(16, 1, 8, 8)
    mixed = run.parts.arena.with_returned(fake, run.best_genome[None], run.streams)
    theirs = mixed[:4].flatten(1)
    assert (mixed[4:] == 0).all()
    assert torch.cdist(theirs, theirs).add(torch.eye(4)).min() > 0  # four distinct fakes


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--disc-minibatch-group", "3"], "group 3 must divide --samples-per-agent (8)"),
        (["--disc-minibatch-group", "4", "--disc-batch", "18"], "must divide --disc-batch (18)"),
        (["--disc-minibatch-group", "1"], "--disc-minibatch-group 1 judges each image alone"),
    ],
)
def test_a_group_that_does_not_fit_is_one_error_line(monkeypatch, capsys, tmp_path, args, message):
    monkeypatch.chdir(tmp_path)
    train = ["evogan", "train", "--dataset", "digits", "--samples-per-agent", "8", "--out", "o"]
    monkeypatch.setattr(sys, "argv", [*train, *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("trainer", ["ga", "es", "egan", "gradient"])
def test_every_trainer_plays_a_grouped_critic(trainer):
    """Two generations, finite fitness, and a critic whose dense unit reads the spread map."""
    run = Evolution.start(Config(**GROUPED | {"trainer": trainer}, generations=2))
    for _ in range(2):
        metrics = run.step()
    assert all(torch.isfinite(torch.tensor(v)) for k, v in metrics.items() if k.startswith("fit"))
    assert minibatch_group(run.parts.critic.model) == 4
