"""The run configuration: one frozen, typed, documented record.

Sources, later ones winning: the preset (a TOML file shipped in
``evogan/presets``), the user's ``--config`` TOML file, then command-line
options. Unknown keys and wrong types are errors. Every field's ``help`` is
also its ``--help`` text.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
import types
import typing
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

from evogan.errors import EvoganError

DEFAULT_GENERATIONS = 3000  # when neither --generations nor --time-budget is given


def _opt(default: Any, help: str, **extra: Any) -> Any:
    return field(default=default, metadata={"help": help, **extra})


@dataclass(frozen=True)
class Config:
    """Everything a run needs; ``evogan train --help`` lists the same fields."""

    # data
    dataset: str = _opt("digits", "digits (built in, 8x8), mnist, fashion-mnist or folder:PATH")
    data_dir: str | None = _opt(None, "directory holding the MNIST / Fashion-MNIST files")
    subset: str | None = _opt(None, "index range START:STOP of the images to train on")
    image_size: int | None = _opt(None, "resize images to this side (default: native size)")
    # generator (the genome)
    generator: str = _opt("mlp", "generator architecture: mlp, basis, conv, dcgan or subspace")
    network: str | None = _opt(
        None, 'mlp layer spec as JSON, e.g. [[16,64,"tanh"],[null,784,"tanh"]]'
    )
    latent_dim: int = _opt(8, "size of the latent vector z ~ N(0, I)")
    hidden: int = _opt(
        32, "hidden units of the mlp (when --network is not given) and basis generators"
    )
    channels: int = _opt(4, "feature maps of the conv generator")
    basis_size: int = _opt(8, "basis generator: k x k lowest cosine frequencies")
    dcgan_channels: int | None = _opt(
        None,
        "feature maps after the linear layer of the dcgan (default 128) and subspace "
        "(default 32) generators",
    )
    genome_dim: int = _opt(
        1000, "subspace generator: genes, the dimension of the searched subspace"
    )
    bias: bool = _opt(True, "give generator layers biases (the article has none)")
    init: str = _opt(
        "scaled", "weight init: scaled (1/sqrt(fan_in)) or normal (the article's randn)"
    )
    # training
    trainer: str = _opt(
        "ga",
        "ga (genetic algorithm), es (evolution strategies), gradient (back-propagation) or "
        "egan (E-GAN: gradient steps as mutations, selected by the critic)",
    )
    population: int = _opt(50, "number of agents (generators) per generation")
    islands: int = _opt(
        1,
        "split the population (the total) into this many islands (ga, es) that evolve apart, "
        "each against a critic of its own, and migrate on a ring (1: no islands)",
    )
    migration_every: int = _opt(10, "islands: generations between migrations (0: never)")
    shared_critic: bool = _opt(
        False,
        "islands: every island plays against the run's one critic, which steps once per "
        "generation on fakes of all islands: separate searches of one game, whose bests "
        "--mixture K joins into one generator",
    )
    migrants: int = _opt(1, "islands: best agents each island sends to the next at a migration")
    generations: int | None = _opt(
        None,
        f"stop after this many generations (default {DEFAULT_GENERATIONS}; none with "
        "--time-budget)",
    )
    threshold: float | None = _opt(None, "stop once the best agent's fitness reaches this value")
    time_budget: float | None = _opt(None, "stop after this many seconds of training")
    selection: str = _opt("truncation", "parent selection: truncation or tournament")
    selection_fraction: float = _opt(0.2, "truncation: fraction of the population that survives")
    tournament_size: int = _opt(3, "tournament: agents per tournament")
    elitism: int = _opt(2, "best agents copied unchanged into the next generation")
    crossover: str = _opt("uniform", "single-point, two-point, uniform, layer or blend")
    crossover_rate: float = _opt(0.5, "probability that a pair of parents is crossed")
    mutation: str = _opt("gaussian", "mutation: gaussian or reset (the article's)")
    mutation_rate: float = _opt(0.1, "reset: per-agent probability; gaussian: per-gene probability")
    mutation_sigma: float = _opt(0.3, "gaussian: step size, relative to each gene's init spread")
    sigma_schedule: str = _opt(
        "exponential",
        "constant, exponential (--sigma-decay a generation), annealed (--mutation-sigma to "
        "--sigma-min over the time budget or the generations) or self-adaptive",
    )
    sigma_decay: float = _opt(
        0.997, "exponential schedule: sigma multiplied by this each generation"
    )
    sigma_min: float = _opt(
        0.05, "exponential schedule: lower bound of sigma; annealed: sigma at the end"
    )
    es_sigma: float = _opt(
        0.8, "es: sampling step, relative to each gene's init spread (best of a sweep on MNIST)"
    )
    es_lr: float = _opt(0.4, "es: Adam learning rate of the mean, relative to the init spread")
    es_lr_decay: float = _opt(
        1.0, "es: the mean's learning rate is multiplied by this every generation (1: constant)"
    )
    es_sigma_final: float | None = _opt(
        None,
        "es: sigma at the end of the run, reached exponentially from --es-sigma over the "
        "time budget (or the generations) (default: constant)",
    )
    es_lr_final: float | None = _opt(
        None, "es: learning rate at the end of the run, like --es-sigma-final (default: constant)"
    )
    es_optimizer: str = _opt(
        "adam",
        "es: update of the mean: adam, or clipup (normalised gradient, momentum, speed clipped "
        "to --es-max-speed)",
    )
    es_beta1: float = _opt(0.9, "es: Adam's beta1, or ClipUp's momentum")
    es_max_speed: float | None = _opt(
        None, "es: clipup's maximum speed, scaled with the lr schedule (default 2 x --es-lr)"
    )
    es_adapt: str = _opt("none", "es: per-gene step-size adaptation: none, snes or pgpe")
    es_sigma_lr: float | None = _opt(
        None,
        "es: learning rate of the adapted step sizes (default: snes (3 + ln genes) / "
        "(5 sqrt genes); pgpe 0.1, at most 20 % change per generation)",
    )
    loss_mutation: bool = _opt(
        False, "egan: each parent makes one child under a random loss instead of one per loss"
    )
    # fitness and discriminator
    fitness: str = _opt(
        "logit",
        "logit (mean discriminator logit), accuracy (the article's), features (feature "
        "matching in the critic's last hidden layer) or mmd (MMD in those features)",
    )
    diversity_weight: float = _opt(
        0.0,
        "add this times a diversity score to the fitness: the spread of an agent's fakes "
        "(ga, es), or E-GAN's -log of the critic's gradient norm (egan)",
    )
    samples_per_agent: int = _opt(
        50, "fakes per agent per generation (all agents share the latents)"
    )
    disc_steps: int = _opt(1, "discriminator gradient steps per generation")
    disc_batch: int = _opt(64, "real and fake images per discriminator step (each)")
    disc_lr: float = _opt(2e-4, "discriminator Adam learning rate")
    disc_beta1: float = _opt(0.5, "discriminator Adam beta1")
    gen_lr: float | None = _opt(
        None, "gradient, egan: the generator's Adam learning rate (default: --disc-lr)"
    )
    gen_beta1: float | None = _opt(
        None, "gradient, egan: the generator's Adam beta1 (default: --disc-beta1)"
    )
    disc_filters: int = _opt(64, "discriminator conv filters")
    disc_dropout: float = _opt(0.4, "discriminator dropout")
    disc_r1: float = _opt(
        0.0, "R1 penalty weight gamma on the critic's gradient at real images (0: none)"
    )
    disc_r1_every: int = _opt(
        1, "apply the R1 penalty on every N-th critic step only, N times as strong (lazy R1)"
    )
    disc_noise: float = _opt(
        0.0,
        "instance noise: std of Gaussian noise on the critic's training inputs, falling "
        "linearly to 0 over the run (0: none)",
    )
    disc_target_accuracy: float | None = _opt(
        None,
        "adaptive critic: it steps only while the running mean of its accuracy is below "
        "this (default: every step)",
    )
    disc_replay: int = _opt(
        0, "past fakes kept in a replay buffer; a quarter of each critic batch comes from it"
    )
    disc_sees_returned: bool = _opt(
        False, "a quarter of each critic batch comes from the returned generator (es: the mean)"
    )
    # run
    seed: int = _opt(0, "master seed: the same seed on the same machine gives the same run")
    device: str = _opt("cpu", "cpu or cuda")
    backend: str = _opt(
        "local",
        "where agents are scored: local (this process) or ray (shards on actors; with "
        "--islands, an actor per island)",
    )
    ray_address: str | None = _opt(
        None, "ray: join this cluster (auto or HOST:PORT); default: start a local Ray for the run"
    )
    ray_workers: int | None = _opt(
        None, "ray: actors scoring the population (default: CPUs; with --islands: one per island)"
    )
    ray_transport: str = _opt(
        "auto",
        "ray: compact sends a GA generation as parent indices and seeds (bytes per agent) "
        "that each actor rebuilds; full sends the genomes; auto: compact when joining a "
        "cluster (--ray-address), full on a local Ray",
    )
    threads: int | None = _opt(
        None, "CPU threads (default: 1 for images up to 16 px, whose ops are too small to share)"
    )
    sample_interval: float = _opt(
        5.0,
        "write a sample grid every this many seconds of wall clock, or longer if writing one "
        "takes over 2 % of that (0: first and last only)",
    )
    sample_every: int | None = _opt(
        None, "write one every N generations instead of --sample-interval (0: first and last only)"
    )
    checkpoint_interval: float = _opt(
        60.0,
        "write a resumable checkpoint every this many seconds of wall clock, or longer if "
        "writing one takes over 2 % of that (0: at the end)",
    )
    checkpoint_every: int | None = _opt(
        None, "write one every N generations instead of --checkpoint-interval (0: at the end)"
    )
    progress: bool = _opt(True, "show a live progress bar")
    tensorboard: bool = _opt(
        False, "also write metrics, sample grids and fitness histograms for TensorBoard"
    )
    eval_every: int = _opt(0, "compute FID & co. every N generations (0: never; labelled data)")
    eval_samples: int = _opt(1000, "samples drawn for each of those evaluations")
    mixture: int = _opt(
        0,
        "export the K best generators of the final population as one mixture whose weights "
        "are evolved on FID (0: the single best; labelled data)",
    )
    mixture_steps: int = _opt(30, "(1+1)-ES steps on the mixture weights (one FID each)")
    keep_best: float = _opt(
        0.0,
        "every this many seconds of training, judge the generator by FID against a "
        "validation slice of the training images and keep the best one judged; the run "
        "returns it (0: return the last; labelled data)",
    )
    keep_best_samples: int = _opt(1000, "samples drawn for each of those judgements")

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **changes)

    @property
    def generator_adam(self) -> tuple[float, float]:
        """The generator's Adam (lr, beta1) for gradient and E-GAN: the critic's unless set."""
        lr = self.gen_lr if self.gen_lr is not None else self.disc_lr
        beta1 = self.gen_beta1 if self.gen_beta1 is not None else self.disc_beta1
        return lr, beta1

    @property
    def generation_limit(self) -> int | None:
        """``--generations``; by default 3000, or no limit when a time budget stops the run."""
        if self.generations is not None:
            return self.generations
        return None if self.time_budget is not None else DEFAULT_GENERATIONS


PRESETS_PACKAGE = "evogan.presets"


def preset_names() -> list[str]:
    files = resources.files(PRESETS_PACKAGE).iterdir()
    return sorted(p.name.removesuffix(".toml") for p in files if p.name.endswith(".toml"))


def load_preset(name: str) -> dict[str, Any]:
    if name not in preset_names():
        raise EvoganError(f"--preset: unknown {name!r} (choose from {', '.join(preset_names())})")
    text = resources.files(PRESETS_PACKAGE).joinpath(f"{name}.toml").read_text()
    return tomllib.loads(text)


def load_toml(path: str | Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise EvoganError(f"{path}: config file not found") from None
    except OSError as err:  # a directory, no permission
        raise EvoganError(f"{path}: cannot read: {err.strerror or err}") from None
    except (ValueError, RecursionError) as err:  # TOMLDecodeError; not UTF-8; deep nesting
        raise EvoganError(f"{path}: invalid TOML ({err})") from None


def build_config(*layers: tuple[str, dict[str, Any]]) -> Config:
    """Merge ``(source, values)`` layers over the defaults, checking keys and types."""
    known = {f.name: f for f in fields(Config)}
    values: dict[str, Any] = {}
    for source, layer in layers:
        for key, value in layer.items():
            name = key.replace("-", "_")
            if name not in known:
                raise EvoganError(f"{source}: unknown option {key!r}")
            values[name] = coerce(name, value, _field_type(known[name]), source)
    return Config(**values)


def _field_type(f: dataclasses.Field[Any]) -> Any:
    return typing.get_type_hints(Config)[f.name]


def coerce(name: str, value: Any, kind: Any, source: str) -> Any:
    """Check ``value`` against the field type; ints are accepted for floats."""
    optional = typing.get_origin(kind) in (typing.Union, types.UnionType)
    base = next(t for t in typing.get_args(kind) if t is not type(None)) if optional else kind
    if value is None and optional:
        return None
    if name == "network" and isinstance(value, list):
        try:
            return json.dumps(value)
        except (TypeError, ValueError):  # a TOML date or time has no JSON form
            raise EvoganError(
                f"{source}: option 'network' holds a value with no JSON form"
            ) from None
    if base is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, base) or (base is int and isinstance(value, bool)):
        raise EvoganError(
            f"{source}: option {name!r} must be {base.__name__}, got {type(value).__name__} "
            f"{value!r}"
        )
    return value


def to_toml(config: Config) -> str:
    """The resolved config as TOML (``None`` fields are left out: TOML has no null)."""
    lines = []
    for f in fields(config):
        value = getattr(config, f.name)
        if value is None:
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, str):  # a JSON string is a TOML basic string, but for DEL
            text = json.dumps(value).replace("\x7f", "\\u007f")
        else:
            text = repr(value)
        lines.append(f"{f.name} = {text}")
    return "\n".join(lines) + "\n"
