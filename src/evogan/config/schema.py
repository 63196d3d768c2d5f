"""The run configuration: one frozen, typed record, every option's rules on its line.

``Config`` stays one flat dataclass (``config.es_sigma``), and each field is
declared by ``option`` with its section, default, help, choices, range and
whether ``--resume`` may change it (``config/option.py``). The fields are
written section by section in the order of ``SECTIONS``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from evogan.config.option import SECTION, option, toml_key

DEFAULT_GENERATIONS = 3000  # when neither --generations nor --time-budget is given

COUNT = "[1, inf)"  # counts and sizes
NON_NEGATIVE = "[0, inf)"  # 0 means none, never or off
POSITIVE = "(0, inf)"
FRACTION = "[0, 1]"
BETA = "[0, 1)"  # Adam's beta1 and dropout: 1 would never move


@dataclass(frozen=True)
class Config:
    """Everything a run needs; ``evogan train --help`` lists the same fields by section."""

    # fmt: off
    dataset: str = option(
        "data", "digits", "digits (built in, 8x8), mnist, fashion-mnist or folder:PATH"
    )
    data_dir: str | None = option(
        "data", None, "directory holding the MNIST / Fashion-MNIST files", resume=True
    )
    subset: str | None = option("data", None, "index range START:STOP of the images to train on")
    image_size: int | None = option(
        "data", None, "resize images to this side (default: native size)"
    )

    generator: str = option(
        "generator", "mlp", "generator architecture",
        choices="evogan.networks.generators:GENERATORS",
    )
    network: str | None = option(
        "generator", None, 'mlp layer spec as JSON, e.g. [[16,64,"tanh"],[null,784,"tanh"]]',
        json_list=True,
    )
    latent_dim: int = option(
        "generator", 8, "size of the latent vector z ~ N(0, I)", bounds=COUNT
    )
    hidden: int = option(
        "generator", 32,
        "hidden units of the mlp (when --network is not given), basis and pca generators; "
        "frozen: the rank of its first layer",
        bounds=COUNT,
    )
    channels: int = option(
        "generator", 4, "feature maps of the conv generator", bounds=COUNT
    )
    basis_size: int = option(
        "generator", 8, "basis generator: k x k lowest cosine frequencies", bounds=COUNT
    )
    components: int = option(
        "generator", 64,
        "pca and mppca generators: leading principal components of the training images",
        bounds=COUNT,
    )
    clusters: int = option(
        "generator", 32, "mppca generator: Gaussians in the mixture (k-means on the training "
        "images)", bounds=COUNT,
    )
    dcgan_channels: int | None = option(
        "generator", None,
        "feature maps after the linear layer of the dcgan (default 128), subspace "
        "and frozen (default 32) generators",
        bounds="[2, inf)",
    )
    genome_dim: int = option(
        "generator", 1000, "subspace generator: genes, the dimension of the searched subspace",
        bounds=COUNT,
    )
    bias: bool = option("generator", True, "give generator layers biases (the article has none)")
    init: str = option(
        "generator", "scaled",
        "weight init: scaled (1/sqrt(fan_in)) or normal (the article's randn)",
        choices=("scaled", "normal"),
    )
    gen_lr: float | None = option(
        "generator", None,
        "gradient, egan: the generator's Adam learning rate (default: --disc-lr)",
        bounds=POSITIVE,
    )
    gen_beta1: float | None = option(
        "generator", None, "gradient, egan: the generator's Adam beta1 (default: --disc-beta1)",
        bounds=BETA,
    )

    trainer: str = option(
        "trainer", "ga",
        "ga (genetic algorithm), es (evolution strategies), gradient (back-propagation) or "
        "egan (E-GAN: gradient steps as mutations, selected by the critic)",
        choices="evogan.trainers:TRAINERS",
    )
    population: int = option(
        "trainer", 50, "number of agents (generators) per generation", bounds=COUNT
    )

    generations: int | None = option(
        "stop", None,
        f"stop after this many generations (default {DEFAULT_GENERATIONS}; none with "
        "--time-budget)",
        bounds=COUNT, resume=True,
    )
    threshold: float | None = option(
        "stop", None, "stop once the best agent's fitness reaches this value", resume=True
    )
    time_budget: float | None = option(
        "stop", None, "stop after this many seconds of training", bounds=POSITIVE, resume=True
    )

    islands: int = option(
        "islands", 1,
        "split the population (the total) into this many islands (ga, es) that evolve apart, "
        "each against a critic of its own, and migrate on a ring (1: no islands)",
        bounds=COUNT,
    )
    migration_every: int = option(
        "islands", 10, "islands: generations between migrations (0: never)", bounds=NON_NEGATIVE
    )
    shared_critic: bool = option(
        "islands", False,
        "islands: every island plays against the run's one critic, which steps once per "
        "generation on fakes of all islands: separate searches of one game, whose bests "
        "--mixture K joins into one generator",
    )
    migrants: int = option(
        "islands", 1, "islands: best agents each island sends to the next at a migration",
        bounds=COUNT,
    )

    selection: str = option(
        "ga", "truncation", "parent selection",
        choices="evogan.trainers.operators.selection:SELECTION",
    )
    selection_fraction: float = option(
        "ga", 0.2, "truncation: fraction of the population that survives", bounds="(0, 1]"
    )
    tournament_size: int = option(
        "ga", 3, "tournament: agents per tournament", bounds=COUNT
    )
    elitism: int = option("ga", 2, "best agents copied unchanged into the next generation")
    crossover: str = option(
        "ga", "uniform", "how a crossed pair of parents mixes its genes",
        choices="evogan.trainers.operators.crossover:CROSSOVER",
    )
    crossover_rate: float = option(
        "ga", 0.5, "probability that a pair of parents is crossed", bounds=FRACTION
    )
    mutation: str = option(
        "ga", "gaussian", "mutation operator (reset is the article's)",
        choices="evogan.trainers.operators.mutation:MUTATION",
    )
    mutation_rate: float = option(
        "ga", 0.1, "reset: per-agent probability; gaussian: per-gene probability",
        bounds=FRACTION,
    )
    mutation_sigma: float = option(
        "ga", 0.3, "gaussian: step size, relative to each gene's init spread", bounds=NON_NEGATIVE
    )
    sigma_schedule: str = option(
        "ga", "exponential",
        "constant, exponential (--sigma-decay a generation), annealed (--mutation-sigma to "
        "--sigma-min over the time budget or the generations) or self-adaptive",
        choices="evogan.trainers.ga:SIGMA_SCHEDULE_NAMES",
    )
    sigma_decay: float = option(
        "ga", 0.997, "exponential schedule: sigma multiplied by this each generation",
        bounds="(0, 1]",
    )
    sigma_min: float = option(
        "ga", 0.05, "exponential schedule: lower bound of sigma; annealed: sigma at the end",
        bounds=NON_NEGATIVE,
    )

    es_sigma: float = option(
        "es", 0.8,
        "es: sampling step, relative to each gene's init spread (best of a sweep on MNIST)",
        bounds=POSITIVE,
    )
    es_lr: float = option(
        "es", 0.4, "es: Adam learning rate of the mean, relative to the init spread",
        bounds=POSITIVE,
    )
    es_lr_decay: float = option(
        "es", 1.0,
        "es: the mean's learning rate is multiplied by this every generation (1: constant)",
        bounds="(0, 1]",
    )
    es_sigma_final: float | None = option(
        "es", None,
        "es: sigma at the end of the run, reached exponentially from --es-sigma over the "
        "time budget (or the generations) (default: constant)",
        bounds=POSITIVE,
    )
    es_lr_final: float | None = option(
        "es", None,
        "es: learning rate at the end of the run, like --es-sigma-final (default: constant)",
        bounds=POSITIVE,
    )
    es_optimizer: str = option(
        "es", "adam",
        "es: update of the mean: adam, or clipup (normalised gradient, momentum, speed clipped "
        "to --es-max-speed)",
        choices="evogan.trainers.es:OPTIMIZERS",
    )
    es_beta1: float = option("es", 0.9, "es: Adam's beta1, or ClipUp's momentum", bounds=BETA)
    es_max_speed: float | None = option(
        "es", None, "es: clipup's maximum speed, scaled with the lr schedule (default 2 x --es-lr)",
        bounds=POSITIVE,
    )
    es_mean_ema: float = option(
        "es", 0.0,
        "es: return a moving average of the means with this decay per generation (e.g. "
        "0.99), not the last mean, which jitters with each noisy step (0: the mean)",
        bounds="[0, 1)",
    )
    es_adapt: str = option(
        "es", "none", "es: per-gene step-size adaptation (none: one sigma for all genes)",
        choices="evogan.trainers.es:ADAPTATIONS",
    )
    es_sigma_lr: float | None = option(
        "es", None,
        "es: learning rate of the adapted step sizes (default: snes (3 + ln genes) / "
        "(5 sqrt genes); pgpe 0.1, at most 20 % change per generation)",
        bounds=POSITIVE,
    )

    loss_mutation: bool = option(
        "egan", False,
        "egan: each parent makes one child under a random loss instead of one per loss",
    )

    fitness: str = option(
        "critic", "logit",
        "logit (mean discriminator logit), nonsaturating (mean log sigmoid of it: the "
        "gradient generator's loss), accuracy (the article's), features (feature matching "
        "in the critic's last hidden layer) or mmd (MMD in those features)",
        choices="evogan.game.fitness:FITNESS",
    )
    diversity_weight: float = option(
        "critic", 0.0,
        "add this times a diversity score to the fitness: the spread of an agent's fakes "
        "(ga, es), or E-GAN's -log of the critic's gradient norm (egan)",
        bounds=NON_NEGATIVE,
    )
    pixel_mmd_weight: float = option(
        "critic", 0.0,
        "ga, es: subtract this times the squared MMD between an agent's fakes and 128 real "
        "images in pixels (Gaussian kernel) from its fitness: a term no critic can stop "
        "rewarding, which falls only as the fakes cover the real images' variety",
        bounds=NON_NEGATIVE,
    )
    samples_per_agent: int = option(
        "critic", 50, "fakes per agent per generation (all agents share the latents)",
        bounds=COUNT,
    )
    disc_steps: int = option(
        "critic", 1, "discriminator gradient steps per generation", bounds=NON_NEGATIVE
    )
    disc_warmup: int = option(
        "critic", 0,
        "extra discriminator steps in the first generation, before any agent is scored: "
        "evolution starts against a critic that already tells fakes from real images (1000 "
        "on the mnist preset: no gain, the fit's early drift is the search's own)",
        bounds=NON_NEGATIVE,
    )
    disc_batch: int = option(
        "critic", 64, "real and fake images per discriminator step (each)", bounds=COUNT
    )
    disc_lr: float = option("critic", 2e-4, "discriminator Adam learning rate", bounds=POSITIVE)
    disc_beta1: float = option("critic", 0.5, "discriminator Adam beta1", bounds=BETA)
    disc_filters: int = option(
        "critic", 64, "discriminator conv filters", bounds=COUNT
    )
    disc_dropout: float = option("critic", 0.4, "discriminator dropout", bounds=BETA)
    disc_r1: float = option(
        "critic", 0.0,
        "R1 penalty weight gamma on the critic's gradient at real images (0: none)",
        bounds=NON_NEGATIVE,
    )
    disc_r1_every: int = option(
        "critic", 1,
        "apply the R1 penalty on every N-th critic step only, N times as strong (lazy R1)",
        bounds=COUNT,
    )
    disc_noise: float = option(
        "critic", 0.0,
        "instance noise: std of Gaussian noise on the critic's training inputs, falling "
        "linearly to 0 over the run (0: none)",
        bounds=NON_NEGATIVE,
    )
    disc_target_accuracy: float | None = option(
        "critic", None,
        "adaptive critic: it steps only while the running mean of its accuracy is below "
        "this (default: every step)",
        bounds="(0, 1]",
    )
    disc_replay: int = option(
        "critic", 0,
        "past fakes kept in a replay buffer; a quarter of each critic batch comes from it",
        bounds=NON_NEGATIVE,
    )
    disc_minibatch_group: int = option(
        "critic", 0,
        "minibatch stddev: the critic judges this many images at once, seeing their spread "
        "(one agent's fakes together; must divide --samples-per-agent and --disc-batch; "
        "0: each image alone)",
        bounds=NON_NEGATIVE,
    )
    disc_sees_returned: bool = option(
        "critic", False,
        "part of each critic batch (--disc-returned-share) comes from the returned "
        "generator (es: the mean)",
    )
    disc_returned_share: float = option(
        "critic", 0.25,
        "with --disc-sees-returned: the share of each critic batch drawn by the returned "
        "generator (1: the critic plays the returned generator alone, as in a GAN)",
        bounds="(0, 1]",
    )

    seed: int = option(
        "run", 0, "master seed: the same seed on the same machine gives the same run",
        bounds="[0, 4294967295]",  # torch takes 64 bits; Streams multiplies it by 1000
    )
    device: str = option(
        "run", "cpu", "where the tensors live (auto: cuda when one is available, else cpu)",
        choices=("cpu", "cuda", "auto"), resume=True,
    )
    threads: int | None = option(
        "run", None,
        "CPU threads (default: 1 for images up to 16 px, whose ops are too small to share)",
        bounds="[1, 1024]",  # torch takes a C int; each thread is an OS thread
        resume=True,
    )

    backend: str = option(
        "ray", "local",
        "where agents are scored: local (this process) or ray (shards on actors; with "
        "--islands, an actor per island)",
        choices=("local", "ray"), resume=True,
    )
    ray_address: str | None = option(
        "ray", None,
        "ray: join this cluster (auto or HOST:PORT); default: start a local Ray for the run",
        resume=True,
    )
    ray_workers: int | None = option(
        "ray", None,
        "ray: actors scoring the population (default: CPUs; with --islands: one per island)",
        bounds=COUNT, resume=True,
    )
    ray_transport: str = option(
        "ray", "auto",
        "ray: compact sends a GA generation as parent indices and seeds (bytes per agent) "
        "that each actor rebuilds; full sends the genomes; auto: compact when joining a "
        "cluster (--ray-address), full on a local Ray",
        choices="evogan.distributed.scorer:TRANSPORTS", resume=True,
    )

    sample_interval: float = option(
        "outputs", 5.0,
        "write a sample grid every this many seconds of wall clock, or longer if writing one "
        "takes over 2 % of that (0: first and last only)",
        bounds=NON_NEGATIVE, resume=True,
    )
    sample_every: int | None = option(
        "outputs", None,
        "write one every N generations instead of --sample-interval (0: first and last only)",
        bounds=NON_NEGATIVE, resume=True,
    )
    checkpoint_interval: float = option(
        "outputs", 60.0,
        "write a resumable checkpoint every this many seconds of wall clock, or longer if "
        "writing one takes over 2 % of that (0: at the end)",
        bounds=NON_NEGATIVE, resume=True,
    )
    checkpoint_every: int | None = option(
        "outputs", None,
        "write one every N generations instead of --checkpoint-interval (0: at the end)",
        bounds=NON_NEGATIVE, resume=True,
    )
    progress: bool = option("outputs", True, "show a live progress bar", resume=True)
    tensorboard: bool = option(
        "outputs", False,
        "also write metrics, sample grids and fitness histograms for TensorBoard",
        resume=True,
    )

    eval_every: int = option(
        "quality", 0, "compute FID & co. every N generations (0: never; labelled data)",
        bounds=NON_NEGATIVE, resume=True,
    )
    eval_samples: int = option(
        "quality", 1000, "samples drawn for each of those evaluations",
        bounds="[10, inf)", resume=True,
    )
    mixture: int = option(
        "quality", 0,
        "export the K best generators of the final population as one mixture whose weights "
        "are evolved on FID (0: the single best; labelled data)",
        bounds=NON_NEGATIVE, resume=True,
    )
    mixture_steps: int = option(
        "quality", 30, "(1+1)-ES steps on the mixture weights (one FID each)",
        bounds=NON_NEGATIVE, resume=True,
    )
    keep_best: float = option(
        "quality", 0.0,
        "every this many seconds of training, judge the generator by FID against a "
        "validation slice of the training images and keep the best one judged; the run "
        "returns it (0: return the last; labelled data)",
        bounds=NON_NEGATIVE,
    )
    keep_best_samples: int = option(
        "quality", 5000,
        "samples drawn for each of those judgements (5000: 1.5 s on one core for MNIST, and "
        "ranks a run's generators as the benchmark's judge does far better than 1000)",
        bounds="[10, inf)",
    )
    keep_best_confirm: bool = option(
        "quality", True,
        "judge a generator that looks better than the kept one again on other samples, and "
        "keep it only if the mean of both judgements still beats the kept one's",
    )
    keep_best_margin: float = option(
        "quality", 0.0,
        "a judged generator replaces the kept one only if its FID is lower by more than "
        "this fraction of the kept one's (0.05: 5 %); the validation judge and a held-out "
        "one disagree by a few FID",
        bounds="[0, 1)",
    )
    keep_best_restart: int = option(
        "quality", 0,
        "after this many judgements in a row keep nothing new, the search restarts from the "
        "kept generator (ES's mean or E-GAN's leading parent, with fresh momentum), as "
        "Population Based Training exploits its best checkpoint (0: never; only --trainer es "
        "or egan with --keep-best, it does nothing otherwise)",
        bounds=NON_NEGATIVE,
    )

    # fmt: on

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **changes)

    def section(self, name: str) -> dict[str, Any]:
        """One section's options by their key in its TOML table (``es_sigma`` is ``sigma``)."""
        if name not in SECTION:
            raise KeyError(f"no section {name!r} (sections: {', '.join(SECTION)})")
        chosen = (f for f in dataclasses.fields(self) if f.metadata["section"] == name)
        return {toml_key(f): getattr(self, f.name) for f in chosen}

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
