"""Genome layout, flat <-> module round trips, batched generation against a per-agent loop."""

import pytest
import torch
from conftest import gen, make_generator

from evogan.genome import GenomeLayout, generate, load_genome
from evogan.networks import GENERATORS

KINDS = sorted(GENERATORS)


@pytest.mark.parametrize("kind", KINDS)
def test_layout_matches_parameters(kind):
    model = make_generator(kind)
    layout = GenomeLayout.of(model)
    params = list(model.named_parameters())
    assert layout.size == sum(p.numel() for _, p in params)
    assert layout.names == tuple(name for name, _ in params)
    assert layout.shapes == tuple(p.shape for _, p in params)
    stops = [0] + [b for _, b in layout.segments]
    assert [a for a, _ in layout.segments] == stops[:-1]  # consecutive, from 0
    assert layout.init_std.shape == (layout.size,)
    for (name, p), (a, b) in zip(params, layout.segments, strict=True):
        assert torch.equal(layout.init_std[a:b], torch.full((b - a,), model.init_std(name, p)))


def test_layout_size_by_hand():
    """mlp 5 -> 7 -> 64 with biases: 5*7 + 7 + 7*64 + 64 genes."""
    layout = GenomeLayout.of(make_generator("mlp"))
    assert layout.size == 35 + 7 + 448 + 64
    assert layout.segments == ((0, 35), (35, 42), (42, 490), (490, 554))


@pytest.mark.parametrize("kind", KINDS)
def test_flatten_unflatten_round_trip(kind):
    model = make_generator(kind)
    layout = GenomeLayout.of(model)
    genome = layout.flatten(model)
    assert genome.shape == (layout.size,)
    views = layout.unflatten(genome[None])
    for name, p in model.named_parameters():
        assert torch.equal(views[name][0], p)
    population = layout.random_population(3, rng=gen(1))
    for row in population:
        assert torch.equal(layout.flatten(load_genome(model, layout, row)), row)


def test_unflatten_is_a_view_by_position():
    layout = GenomeLayout.of(make_generator("mlp"))
    population = torch.arange(2 * layout.size, dtype=torch.float32).reshape(2, -1)
    views = layout.unflatten(population)
    assert views["body.0.weight"].shape == (2, 7, 5)
    assert views["body.0.weight"][1, 0, 0].item() == layout.size  # first gene of agent 1
    assert views["body.2.bias"][0, -1].item() == layout.size - 1  # last gene of agent 0


def test_load_genome_writes_every_parameter():
    model = make_generator("basis")
    layout = GenomeLayout.of(model)
    genome = torch.linspace(-1, 1, layout.size)
    loaded = load_genome(model, layout, genome)
    assert loaded is model
    assert torch.equal(torch.cat([p.detach().flatten() for p in model.parameters()]), genome)


def _reference(model, layout, population, latents):
    """One agent at a time through an ordinary module: what ``generate`` must equal."""
    outputs = []
    with torch.no_grad():
        for i, genome in enumerate(population):
            z = latents if latents.dim() == 2 else latents[i]
            outputs.append(load_genome(model, layout, genome)(z).clone())
    return torch.stack(outputs)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shared", [True, False])
@pytest.mark.parametrize("chunk", [256, 3])
def test_generate_equals_per_agent_loop(kind, shared, chunk):
    model = make_generator(kind)
    layout = GenomeLayout.of(model)
    population = layout.random_population(7, rng=gen(3))
    shape = (6, 5) if shared else (7, 6, 5)
    latents = torch.randn(shape, generator=gen(4))
    with torch.no_grad():
        images = generate(model, layout, population, latents, chunk=chunk)
    assert images.shape == (7, 6, 1, 8, 8)
    expected = _reference(model, layout, population, latents)
    torch.testing.assert_close(images, expected, rtol=1e-5, atol=1e-6)
    # Agents really differ: the batch is not one agent repeated.
    assert not torch.allclose(images[0], images[1])


def test_generate_shared_latents_give_each_agent_the_same_z():
    """Two copies of one genome draw identical images from shared latents."""
    model = make_generator("conv")
    layout = GenomeLayout.of(model)
    genome = layout.random_population(1, rng=gen(5))
    with torch.no_grad():
        images = generate(model, layout, genome.repeat(2, 1), torch.randn(4, 5, generator=gen()))
    assert torch.equal(images[0], images[1])


@pytest.mark.parametrize("init", ["scaled", "normal"])
def test_random_population_spread_per_segment(init):
    model = make_generator("basis", hidden=32, init=init)
    layout = GenomeLayout.of(model)
    population = layout.random_population(4000, rng=gen(6))
    assert population.shape == (4000, layout.size)
    for name, (a, b) in zip(layout.names, layout.segments, strict=True):
        want = layout.init_std[a].item()
        piece = population[:, a:b]
        assert piece.std().item() == pytest.approx(want, rel=0.03), name
        assert abs(piece.mean().item()) < 0.05 * want, name


def test_random_population_is_seeded():
    layout = GenomeLayout.of(make_generator("mlp"))
    a = layout.random_population(4, rng=gen(7))
    assert torch.equal(a, layout.random_population(4, rng=gen(7)))
    assert not torch.equal(a, layout.random_population(4, rng=gen(8)))
