"""The GA's ask/tell: elitism, sizes, determinism, checks, every operator combination."""

import dataclasses
import itertools
import math

import pytest
import torch
from conftest import gen, make_generator

from evogan.bred import Bred, whole
from evogan.config import Config, validate
from evogan.errors import EvoganError
from evogan.genome import GenomeLayout
from evogan.trainers import ga
from evogan.trainers.lineage import CROSSOVER_STREAM, MUTATION_STREAM, breed
from evogan.trainers.operators import CROSSOVER, MUTATION, SELECTION, RowRng

LAYOUT = GenomeLayout.of(make_generator("mlp"))  # 4 segments, 554 genes
# Best first: agent 5 (7.0), 2 (6.5), 0 (3.0), 7 (2.0), 1, 6, 3, 4.
FITNESS = torch.tensor([3.0, 1.0, 6.5, -2.0, -5.0, 7.0, 0.5, 2.0])
ORDER = [5, 2, 0, 7]


# Pinned here rather than taken from Config's defaults, which are tuned independently.
BASE = {
    "population": 8,
    "elitism": 2,
    "selection": "truncation",
    "selection_fraction": 0.2,
    "crossover": "uniform",
    "crossover_rate": 0.5,
    "mutation": "gaussian",
    "mutation_rate": 0.1,
    "mutation_sigma": 0.05,
    "sigma_schedule": "constant",
    "sigma_decay": 0.99,
    "sigma_min": 0.0,
}


def setup(**changes):
    config = Config(**{**BASE, **changes})
    params = ga.GAParams.from_config(config, LAYOUT)
    return params, ga.init(params, LAYOUT, rng=gen(0))


def test_init():
    _, state = setup(mutation_sigma=0.25)
    assert state.population.shape == (8, LAYOUT.size)
    assert torch.equal(state.sigma, torch.full((8,), 0.25))
    assert state.generation == 0
    assert ga.ask(state) is state.population


@pytest.mark.parametrize("elitism", [0, 1, 2, 4])
def test_tell_keeps_the_best_bit_for_bit_in_order(elitism):
    params, state = setup(elitism=elitism, mutation_rate=1.0, mutation_sigma=0.5)
    state = ga.GAState(state.population, torch.arange(8.0) + 1, 0)  # distinct sigmas
    after, _ = ga.tell(params, state, FITNESS, rng=gen(1))
    best = ORDER[:elitism]
    assert torch.equal(after.population[:elitism], state.population[best])
    assert torch.equal(after.sigma[:elitism], state.sigma[best])
    # With every gene mutated, no child is a copy of any parent.
    children = after.population[elitism:]
    assert not (children[:, None, :] == state.population[None]).all(dim=2).any()


def test_tell_keeps_size_and_counts_generations():
    params, state = setup(population=9, elitism=2)  # 7 children: an odd number
    for generation in range(1, 4):
        fitness = torch.randn(9, generator=gen(generation))
        state, _ = ga.tell(params, state, fitness, rng=gen(10 + generation))
        assert state.population.shape == (9, LAYOUT.size)
        assert state.sigma.shape == (9,)
        assert state.generation == generation


def test_tell_does_not_modify_its_input():
    params, state = setup()
    before = state.population.clone(), state.sigma.clone()
    ga.tell(params, state, FITNESS, rng=gen(1))
    assert torch.equal(state.population, before[0]) and torch.equal(state.sigma, before[1])


def test_tell_metrics_exact():
    params, state = setup(mutation_sigma=0.125)
    _, metrics = ga.tell(params, state, FITNESS, rng=gen(1))
    assert metrics["fitness/best"] == 7.0
    assert metrics["fitness/mean"] == pytest.approx(13.0 / 8)
    assert metrics["fitness/std"] == pytest.approx(FITNESS.std().item())
    assert metrics["mutation/sigma"] == 0.125


@pytest.mark.parametrize("where", [0, 5])
def test_nan_fitness_is_an_error(where):
    params, state = setup()
    fitness = FITNESS.clone()
    fitness[where] = math.nan
    with pytest.raises(EvoganError, match="NaN"):
        ga.tell(params, state, fitness, rng=gen(1))


def test_tell_is_deterministic():
    params, state = setup()
    a, _ = ga.tell(params, state, FITNESS, rng=gen(42))
    b, _ = ga.tell(params, state, FITNESS, rng=gen(42))
    c, _ = ga.tell(params, state, FITNESS, rng=gen(43))
    assert torch.equal(a.population, b.population) and torch.equal(a.sigma, b.sigma)
    assert not torch.equal(a.population, c.population)


def test_init_is_deterministic():
    params, _ = setup()
    a = ga.init(params, LAYOUT, rng=gen(5)).population
    assert torch.equal(a, ga.init(params, LAYOUT, rng=gen(5)).population)
    assert not torch.equal(a, ga.init(params, LAYOUT, rng=gen(6)).population)


@pytest.mark.parametrize(
    "changes",
    [
        {"population": 3, "elitism": 2},  # elites plus a pair of children: 4
        {"population": 8, "elitism": 7},
        {"population": 1, "elitism": 0},
        {"population": 8, "elitism": -1},
        {"population": 10, "elitism": 200},  # the article preset's elitism, unscaled
    ],
)
def test_population_too_small_is_an_error(changes):
    with pytest.raises(EvoganError, match="elitism"):
        ga.GAParams.from_config(Config(**{**BASE, **changes}), LAYOUT)


def test_smallest_population_that_fits():
    params = ga.GAParams.from_config(Config(**{**BASE, "population": 4}), LAYOUT)
    state = ga.init(params, LAYOUT, rng=gen(0))
    after, _ = ga.tell(params, state, torch.tensor([1.0, 4.0, 2.0, 3.0]), rng=gen(1))
    assert after.population.shape == (4, LAYOUT.size)
    assert torch.equal(after.population[:2], state.population[[1, 3]])


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("selection", "roulette"),
        ("crossover", "three-point"),
        ("mutation", "cauchy"),
        ("sigma_schedule", "cosine"),
    ],
)
def test_unknown_operator_names(option, value):
    with pytest.raises(EvoganError) as err:
        validate(Config(**{**BASE, option: value}))  # the rule on the field, before any GA
    assert "--" + option.replace("_", "-") in str(err.value) and value in str(err.value)


COMBINATIONS = list(itertools.product(sorted(SELECTION), sorted(CROSSOVER), sorted(MUTATION)))


@pytest.mark.parametrize(("selection", "crossover", "mutation"), COMBINATIONS)
def test_every_operator_combination(selection, crossover, mutation):
    params, state = setup(
        selection=selection, crossover=crossover, mutation=mutation, mutation_rate=0.5
    )
    after, metrics = ga.tell(params, state, FITNESS, rng=gen(1))
    assert after.population.shape == state.population.shape
    assert after.population.dtype == state.population.dtype
    assert after.sigma.shape == (8,)
    assert torch.isfinite(after.population).all()
    assert torch.equal(after.population[:2], state.population[ORDER[:2]])
    assert not torch.equal(after.population[2:], state.population[2:])
    assert set(metrics) == {"fitness/best", "fitness/mean", "fitness/std", "mutation/sigma"}


def test_truncation_parents_come_from_the_top_fraction():
    """No mutation, no crossover: every child is a copy of one of the 2 best agents."""
    params, state = setup(selection_fraction=0.25, crossover_rate=0.0, mutation_rate=0.0)
    after, _ = ga.tell(params, state, FITNESS, rng=gen(1))
    top = state.population[ORDER[:2]]
    for child in after.population[2:]:
        assert any(torch.equal(child, parent) for parent in top)


def test_self_adaptive_sigma_per_agent():
    params, state = setup(sigma_schedule="self-adaptive", mutation_sigma=0.1)
    after, metrics = ga.tell(params, state, FITNESS, rng=gen(1))
    children = after.sigma[2:]
    assert torch.equal(after.sigma[:2], torch.full((2,), 0.1))  # elites keep theirs
    assert len(set(children.tolist())) == len(children)  # one step size per agent
    assert (children != 0.1).all() and (children > 0).all()
    assert metrics["mutation/sigma"] == pytest.approx(children.mean().item())


def test_self_adaptive_sigma_is_inherited():
    """Parents with sigma s give children near s: the geometric mean, then a log-normal step."""
    params, state = setup(sigma_schedule="self-adaptive", mutation_sigma=1e-3)
    after, _ = ga.tell(params, state, FITNESS, rng=gen(1))
    tau = 1 / math.sqrt(2 * LAYOUT.size)
    assert ((after.sigma / 1e-3).log().abs() < 5 * tau).all()


def test_constant_and_exponential_schedules():
    params, state = setup(mutation_sigma=0.2)
    after, _ = ga.tell(params, state, FITNESS, rng=gen(1))
    assert torch.equal(after.sigma, torch.full((8,), 0.2))
    params, state = setup(sigma_schedule="exponential", mutation_sigma=0.2, sigma_decay=0.5)
    state = ga.GAState(state.population, state.sigma, generation=2)
    after, metrics = ga.tell(params, state, FITNESS, rng=gen(1))
    assert after.sigma[2:].tolist() == [pytest.approx(0.2 * 0.5**3)] * 6
    assert metrics["mutation/sigma"] == pytest.approx(0.025)
    params, state = setup(
        sigma_schedule="exponential", mutation_sigma=0.2, sigma_decay=0.5, sigma_min=0.1
    )
    after, _ = ga.tell(params, state, FITNESS, rng=gen(1))
    assert after.sigma[2:].tolist() == [pytest.approx(0.1)] * 6


def test_annealed_schedule_follows_the_runs_progress():
    """From --mutation-sigma at progress 0 to --sigma-min at 1, exponentially."""
    params, state = setup(sigma_schedule="annealed", mutation_sigma=0.4, sigma_min=0.1)
    for progress, expected in ((0.0, 0.4), (0.5, 0.2), (1.0, 0.1)):
        after, _ = ga.tell(params, state, FITNESS, rng=gen(1), progress=progress)
        assert after.sigma[2:].tolist() == [pytest.approx(expected)] * 6  # elites keep theirs


def test_best_picks_the_first_of_equals():
    _, state = setup()
    genome, fitness = ga.best(state, torch.tensor([1.0, 9.0, 3.0, 9.0, 0, 0, 0, 0]))
    assert fitness == 9.0
    assert torch.equal(genome, state.population[1])


def test_a_lineage_rebuilds_its_generation_bit_for_bit():
    from evogan.config import Config
    from evogan.run.engine import Evolution

    config = Config(dataset="digits", population=9, samples_per_agent=4, disc_batch=8,
                    sigma_schedule="self-adaptive", progress=False)  # fmt: skip
    run = Evolution.start(config)
    first = run.state
    run.step()
    assert first.lineage is None and run.state.lineage.parent_seed is None
    parents = run.state
    run.step()
    lineage = run.state.lineage
    assert lineage.parent_seed == parents.lineage.seed
    assert len(lineage.mothers) == len(lineage.fathers) == (9 - run.config.elitism + 1) // 2
    rebuilt = run.parts.trainer.rebuild(parents.population, lineage)
    assert torch.equal(rebuilt, run.state.population)
    assert not torch.equal(run.parts.trainer.rebuild(first.population, lineage), rebuilt)


@pytest.mark.parametrize(
    ("crossover", "mutation"), [("single-point", "reset"), ("uniform", "gaussian")]
)
@pytest.mark.parametrize("population", [8, 9])
def test_breed_is_crossover_then_mutation_of_the_chosen_parents(crossover, mutation, population):
    """The in-place, one-buffer breeding equals the operators applied plainly: pair p
    crosses from row p of the crossover stream, its children sit side by side, and
    child c mutates from row c of the mutation stream."""
    params, state = setup(crossover=crossover, mutation=mutation, crossover_rate=1.0,
                          population=population, mutation_rate=0.5)  # fmt: skip
    fitness = torch.arange(population, dtype=torch.float32)
    lineage = ga.select(params, state, fitness, rng=gen(2))
    parents = state.population
    a, b = parents[lineage.mothers.long()], parents[lineage.fathers.long()]
    rng = RowRng(lineage.seed, torch.arange(len(a)), stream=CROSSOVER_STREAM)
    rng.bits()  # crossover_population's pair coins
    c1, c2 = CROSSOVER[crossover](a, b, rng=rng, segments=LAYOUT.segments)
    n_children = population - params.elitism
    children = torch.stack([c1, c2], dim=1).flatten(0, 1)[:n_children]
    rng = RowRng(lineage.seed, torch.arange(n_children), stream=MUTATION_STREAM)
    children = MUTATION[mutation](children, rng=rng, rate=0.5, sigma=lineage.sigma,
                                  init_std=LAYOUT.init_std)  # fmt: skip
    expected = torch.cat([parents[lineage.elites.long()], children])
    assert torch.equal(breed(params, parents, lineage), expected)
    assert torch.equal(state.population, parents)  # the parents are not touched


def some_rows(total: int, seed: int) -> list[torch.Tensor]:
    """Row sets a Ray actor may ask for: shards, single rows, none, scattered sets."""
    scattered = torch.randperm(total, generator=gen(seed))
    return [
        torch.arange(0, total // 3), torch.arange(total // 3, total), torch.arange(1, total - 1),
        torch.tensor([total - 1]), torch.tensor([1]), torch.arange(0),
        scattered[: total // 2].sort().values, scattered[:3].sort().values,
    ]  # fmt: skip


@pytest.mark.parametrize("crossover", sorted(CROSSOVER))
@pytest.mark.parametrize("mutation", sorted(MUTATION))
@pytest.mark.parametrize(("population", "rate", "sigma"),
                         [(9, 0.5, "self-adaptive"), (12, 1.0, "constant")])  # fmt: skip
def test_any_rows_breed_alone_bit_for_bit(crossover, mutation, population, rate, sigma):
    """breed(rows=R) is breed()[R] for shards, single rows and scattered sets."""
    params, state = setup(crossover=crossover, mutation=mutation, population=population,
                          crossover_rate=rate, mutation_rate=0.3, sigma_schedule=sigma,
                          selection="tournament")  # fmt: skip
    for seed in (1, 2, 3):
        state = ga.GAState(state.population, torch.rand(population, generator=gen(seed)) + 0.1, 0)
        fitness = torch.randn(population, generator=gen(seed))
        lineage = ga.select(params, state, fitness, rng=gen(seed))
        whole = breed(params, state.population, lineage)
        for rows in some_rows(population, seed):
            assert torch.equal(breed(params, state.population, lineage, rows), whole[rows])


def test_a_relabelled_lineage_breeds_from_its_parents_alone():
    params, state = setup(population=12, selection="tournament")
    lineage = ga.select(params, state, torch.randn(12, generator=gen(4)), rng=gen(4))
    used = lineage.parents()
    assert torch.equal(used, used.unique()) and len(used) < 12
    assert set(used.tolist()) == set(torch.cat([lineage.elites, lineage.mothers,
                                                lineage.fathers]).tolist())  # fmt: skip
    whole = breed(params, state.population, lineage)
    alone = breed(params, state.population[used], lineage.relabel(used))
    assert torch.equal(alone, whole)
    with pytest.raises(EvoganError, match="increasing"):
        breed(params, state.population, lineage, torch.tensor([3, 1]))


class RebuildingScorer:
    """A Ray actor in this process: it rebuilds each generation from its lineage and
    the last generation it scored, and never reads the driver's genomes after that."""

    rebuilds = True

    def __init__(self, local, rebuild):
        self.local, self.rebuild, self.last = local, rebuild, None

    def evaluate(self, population, latents, discriminator, lineage=None, reference=None):
        if lineage is None or lineage.parent_seed is None:
            self.last = whole(population)
        else:
            self.last = self.rebuild(self.last, lineage, None)
        return self.local.evaluate(self.last, latents, discriminator, reference=reference)

    def close(self):
        pass


def test_a_driver_that_breeds_only_what_it_reads_gives_the_local_run_bit_for_bit():
    """With a backend that rebuilds from lineages, the GA breeds only the critic's
    agents, the next parents and the best on the driver."""
    from evogan.run.engine import Evolution

    config = Config(dataset="digits", population=64, elitism=4, samples_per_agent=4,
                    disc_batch=8, progress=False)  # fmt: skip
    local, lazy = Evolution.start(config), Evolution.start(config)
    scorer = RebuildingScorer(lazy.parts.arena.scorer, lazy.parts.trainer.rebuild)
    lazy.parts.arena = dataclasses.replace(lazy.parts.arena, scorer=scorer)
    read = []
    for _ in range(4):
        before = lazy.state
        assert local.step() == lazy.step()
        if isinstance(before.agents, Bred):
            read.append(before.agents.bred)
    # generation 1 goes whole (no lineage before it); then at most the 13 next parents
    # (truncation 0.2, the best among them) and the critic's 8 agents
    assert read[0] == 64 and len(read) == 3 and all(0 < n <= 13 + 8 for n in read[1:]), read
    assert isinstance(lazy.state.agents, Bred) and lazy.state.agents.bred == 0
    assert torch.equal(lazy.best_genome, local.best_genome)
    ours, theirs = (run.parts.trainer.state_dict(run.state) for run in (lazy, local))
    assert ours.keys() == theirs.keys()
    assert all(torch.equal(ours[k], theirs[k]) for k in ("population", "sigma", "fitness"))
