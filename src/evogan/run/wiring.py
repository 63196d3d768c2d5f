"""Everything a run derives once from its config: data, networks, critic, trainer.

Building this validates the whole config (data files, network spec, operator
names, population size) before anything is written to the run directory.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace

import torch

from evogan.config import RANGES as RANGES  # the docs and tests read it here
from evogan.config import Config, validate
from evogan.data import ImageDataset, load_dataset, parse_subset
from evogan.data.dataset import FLOAT_BYTES, check_fits
from evogan.errors import EvoganError
from evogan.game import LocalScorer, Scorer
from evogan.game.arena import Arena
from evogan.game.critic import SCORING_CHUNK, Critic
from evogan.game.fitness import FITNESS, ON_FEATURES
from evogan.genome import GenomeLayout
from evogan.networks import Generator, GeneratorSpec, build_generator, parse_network
from evogan.quality.keep_best import hold_out
from evogan.schedule import RunClock
from evogan.trainers import Trainer, build_trainer
from evogan.trainers.base import Rebuild
from evogan.trainers.islands import IslandsTrainer

SAMPLE_GRID = 64  # images in each sample grid, from one fixed latent batch


@dataclass
class Components:
    config: Config
    device: torch.device
    data: ImageDataset  # what the run trains on
    validation: ImageDataset | None  # --keep-best's slice, held out of data
    spec: GeneratorSpec
    model: Generator
    layout: GenomeLayout
    critic: Critic
    arena: Arena
    trainer: Trainer
    sample_latents: torch.Tensor  # fixed, so that sample grids of all generations compare
    threads: int  # torch threads while the run trains (set and restored by the engine)
    dropout_rng: torch.Tensor  # initial state of torch's global RNG inside the run (dropout)

    @classmethod
    def build(cls, config: Config) -> Components:
        validate(config)  # ranges and choices, from the rules on the config's fields
        device = resolve_device(config.device)
        subset = parse_subset(config.subset) if config.subset else None
        data = load_dataset(
            config.dataset, data_dir=config.data_dir, subset=subset, image_size=config.image_size
        )
        validation = None
        if config.keep_best:
            data, validation = hold_out(data)
        spec = generator_spec(config, data.image_size)
        check_memory(config, data, spec)
        # Initial weights from the seed without touching the caller's global RNG.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            model = build_generator(spec).to(device)
            model.fit_to(data.images.to(device))  # the pca family's basis; others: nothing
            critic = build_critic(config, data.image_size, device)
            dropout_rng = torch.get_rng_state()  # the critic's dropout continues from here
        layout = GenomeLayout.of(model)
        latents = torch.randn(
            SAMPLE_GRID, spec.latent_dim, generator=torch.Generator().manual_seed(config.seed)
        )
        images = data.images.to(device)
        trainer = build_run_trainer(config, layout, island_critics(config, data.image_size, device))
        rebuild = trainer.rebuilder()
        scorer = build_scorer(config, spec, data.image_size, model, layout, rebuild)
        arena = Arena(
            model=model,
            layout=layout,
            critic=critic,
            scorer=scorer,
            fitness=FITNESS[config.fitness],
            images=images,
            latent_dim=spec.latent_dim,
            samples_per_agent=config.samples_per_agent,
            disc_steps=config.disc_steps,
            disc_warmup=config.disc_warmup,
            disc_batch=config.disc_batch,
            diversity_weight=config.diversity_weight,
            pixel_mmd_weight=config.pixel_mmd_weight,
            on_features=config.fitness in ON_FEATURES,
            instance_noise=config.disc_noise,
            sees_returned=config.disc_sees_returned,
            returned_share=config.disc_returned_share,
            clock=RunClock(config.time_budget, config.generation_limit),
        )
        return cls(
            config=config,
            device=device,
            data=ImageDataset(images, data.labels, data.name),
            validation=validation,
            spec=spec,
            model=model,
            layout=layout,
            critic=critic,
            arena=arena,
            trainer=trainer,
            sample_latents=latents.to(device),
            threads=choose_threads(config.threads, data.image_size),
            dropout_rng=dropout_rng,
        )


def build_critic(config: Config, image_size: int, device: torch.device) -> Critic:
    return Critic(
        image_size,
        filters=config.disc_filters,
        dropout=config.disc_dropout,
        lr=config.disc_lr,
        beta1=config.disc_beta1,
        device=device,
        r1=config.disc_r1,
        r1_every=config.disc_r1_every,
        target_accuracy=config.disc_target_accuracy,
        replay=config.disc_replay,
        minibatch_group=config.disc_minibatch_group,
    )


def island_critics(
    config: Config, image_size: int, device: torch.device
) -> Callable[[int], Critic]:
    """island -> a fresh critic like the run's, its weights drawn from ``seed + island``."""

    def new_critic(island: int) -> Critic:
        with torch.random.fork_rng(devices=[]):  # the caller's global RNG stays untouched
            torch.manual_seed(config.seed + island)
            return build_critic(config, image_size, device)

    return new_critic


def build_run_trainer(
    config: Config, layout: GenomeLayout, new_critic: Callable[[int], Critic]
) -> Trainer:
    """The configured trainer; with ``--islands K``, K of it on a ring (trainers/islands.py)."""
    if config.islands == 1:
        return build_trainer(config, layout)
    if config.backend == "ray":  # an actor per island (evogan.distributed.islands)
        from evogan.distributed.islands import RayIslands

        runner = RayIslands(address=config.ray_address)
        return IslandsTrainer.from_config(config, layout, new_critic, runner)
    return IslandsTrainer.from_config(config, layout, new_critic)


# dcgan: the DCGAN a user would train by gradient. subspace: its forward runs for
# every agent, so it is narrower; at 32 channels a 28 px image costs about what
# the critic's scoring of it costs (~0.1 ms each, one thread; 128 costs 4x that).
DCGAN_CHANNELS = {"dcgan": 128, "subspace": 32, "frozen": 32}


def build_scorer(
    config: Config,
    spec: GeneratorSpec,
    image_size: int,
    model: Generator,
    layout: GenomeLayout,
    rebuild: Rebuild | None = None,
) -> Scorer:
    """The scoring backend: batched in this process, or shards on Ray actors.

    ``rebuild`` is the trainer's ``(parents, lineage, rows) -> population``, if it has one:
    Ray actors then get lineages instead of genomes (``--ray-transport compact``)."""
    if config.backend == "local" or config.islands > 1:  # Ray islands score on their actors
        return LocalScorer(model, layout)
    from evogan.distributed.scorer import RayScorer, WorkerSpec

    if config.fitness in ON_FEATURES:
        raise EvoganError(
            f"--fitness {config.fitness}: reads critic features, which the Ray shard evaluator "
            "does not send back yet; use --backend local, or --islands with --backend ray"
        )
    worker = WorkerSpec(
        spec,
        image_size,
        config.disc_filters,
        config.disc_dropout,
        disc_minibatch_group=config.disc_minibatch_group,
        generator_state=model.fixed_state(),
        rebuild=rebuild,
    )
    workers = config.ray_workers or os.cpu_count() or 1
    return RayScorer(
        worker, workers=workers, address=config.ray_address, transport=config.ray_transport
    )


def generator_spec(config: Config, image_size: int) -> GeneratorSpec:
    network = None
    latent_dim = config.latent_dim
    channels = config.dcgan_channels
    if channels is None:
        channels = DCGAN_CHANNELS.get(config.generator, DCGAN_CHANNELS["dcgan"])
    if config.generator == "mlp":
        default = [[config.latent_dim, config.hidden, "tanh"], [None, image_size**2, "tanh"]]
        network = parse_network(config.network or default)
        latent_dim = network[0].inputs
    return GeneratorSpec(
        kind=config.generator,
        image_size=image_size,
        latent_dim=latent_dim,
        hidden=config.hidden,
        channels=config.channels,
        basis_size=min(config.basis_size, image_size),
        network=network,
        bias=config.bias,
        init=config.init,
        dcgan_channels=channels,
        genome_dim=config.genome_dim,
        components=config.components,
        clusters=config.clusters,
        subspace_seed=config.seed,  # theta0 and P: export rebuilds them from generator.json
    )


SMALL_IMAGE = 16


def choose_threads(threads: int | None, image_size: int) -> int:
    """Threads for torch: small images make ops too short to split across cores.

    Measured on the 8x8 digits: 30 ms a generation on one thread, 530 ms on two
    when another process holds the second core (the threads wait for each other).
    """
    if threads is not None:
        return threads
    return 1 if image_size <= SMALL_IMAGE else (os.cpu_count() or 1)


def resolve_device(name: str) -> torch.device:
    """``--device``: ``auto`` takes the GPU when there is one, so one config fits both."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise EvoganError("--device cuda: no CUDA device is available on this machine")
    return torch.device(name)


check_numbers = validate  # the old name of the config's check, which tests import from here


# Copies of the population a generation holds at once: parents, children, and
# the mutation noise (ES: mean, noise and the mirrored samples).
POPULATION_COPIES = 3
# Floats of the subspace generator's fixed theta0 and sparse P per full weight.
SUBSPACE_FLOATS = 16


def check_memory(
    config: Config, data: ImageDataset, spec: GeneratorSpec, *, limit: int | None = None
) -> None:
    """Refuse sizes whose tensors cannot fit in memory, naming the option that asks for most.

    Rough estimates in bytes of what a generation holds: the population
    ``[pop, genes]``, one generator, one scoring chunk of fakes and reals with
    the critic's activations, a critic step, the critics (one per island) with
    their Adam state.
    """
    genes, weights = count_genes(spec)
    side, filters = data.image_size, config.disc_filters
    image = side * side * FLOAT_BYTES
    activations = image * filters  # two convs, their activations and dropout masks
    critic = filters * (9 * filters + side * side // 16)
    chunk = max(config.samples_per_agent, SCORING_CHUNK)
    copies = SUBSPACE_FLOATS if spec.kind == "subspace" else 2
    needs = [
        ("population", config.population * genes * POPULATION_COPIES * FLOAT_BYTES,
         f"{config.population:,} agents of {genes:,} genes"),
        ("generator", weights * copies * FLOAT_BYTES,
         f"a {spec.kind} generator of {weights:,} weights"),
        ("samples_per_agent", (chunk + config.samples_per_agent) * image
         + SCORING_CHUNK * activations, f"scoring {chunk:,} fakes of {side}x{side}"),
        ("disc_batch", 2 * config.disc_batch * (image + activations),
         f"critic steps on {2 * config.disc_batch:,} images of {side}x{side}"),
        ("disc_filters", 5 * critic * FLOAT_BYTES * config.islands,
         f"{config.islands} critic(s) of {critic:,} weights"),
    ]  # fmt: skip
    option, _, what = max(needs, key=lambda need: need[1])
    total = sum(need for _, need, _ in needs) + data.images.nbytes
    flag = f"--{option.replace('_', '-')} {getattr(config, option)}"
    check_fits(flag, total, f"{what} (with the rest of a generation)", limit=limit)


def count_genes(spec: GeneratorSpec) -> tuple[int, int]:
    """Genes of ``spec`` and weights of the network they set, counted without memory.

    The network is built on PyTorch's meta device (shapes, no storage); a
    subspace genome sets the weights of the dcgan it is a subspace of.
    """
    full = replace(spec, kind="dcgan") if spec.kind == "subspace" else spec
    with torch.device("meta"):
        weights = sum(p.numel() for p in build_generator(full).parameters())
    return (spec.genome_dim if spec.kind == "subspace" else weights), weights
