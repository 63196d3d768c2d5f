"""The ``evogan`` command line: train, sample, data download.

``evogan train`` has one option per config field (their help is the field's
documentation); values come from the defaults, then ``--preset``, then
``--config FILE.toml``, then the options given on the command line.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
import typing
from pathlib import Path
from typing import Any

import click
import numpy as np

from evogan.config import (
    SECTION,
    Config,
    build_config,
    choices_of,
    flag,
    load_preset,
    load_toml,
    preset_names,
    unknown_choice,
)
from evogan.errors import EvoganError
from evogan.memory import keep_freed_memory
from evogan.outputs.paths import check_directory, check_file, make_directory, writing

FLAG_TYPES = {int: click.INT, float: click.FLOAT, str: click.STRING}
COMMAND_SECTION = "Command"  # the --help heading of the options that are not config fields


class Names(click.Choice[str]):
    """A config option's choices; a wrong name is refused in the config's own words."""

    def get_invalid_choice_message(self, value: Any, ctx: click.Context | None) -> str:
        return unknown_choice(value, tuple(map(str, self.choices)))


class SectionedCommand(click.Command):
    """``--help`` with one heading per config section (click has no option groups)."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        sections = {
            f.name: SECTION[f.metadata["section"]].title for f in dataclasses.fields(Config)
        }
        groups: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None:
                title = sections.get(param.name or "", COMMAND_SECTION)
                groups.setdefault(title, []).append(record)
        for title, records in groups.items():
            with formatter.section(title):
                formatter.write_dl(records)


def config_options(command: Any) -> Any:
    """Decorate ``command`` with one ``--option`` per config field, its choices a ``Names``."""
    hints = typing.get_type_hints(Config)
    for f in reversed(dataclasses.fields(Config)):
        kind = hints[f.name]
        base = next((t for t in typing.get_args(kind) if t is not type(None)), kind)
        name = flag(f.name)
        shown = "" if f.default is None else f" [default: {f.default}]"
        text = f.metadata["help"] + shown
        choices = choices_of(f)
        if base is bool:
            option = click.option(f"{name}/--no-{name[2:]}", f.name, default=None, help=text)
        else:
            values = Names(choices) if choices is not None else FLAG_TYPES[base]
            option = click.option(name, f.name, type=values, default=None, help=text)
        command = option(command)
    return command


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="evogan")
def cli() -> None:
    """Evolve GAN generators with a genetic algorithm."""


@cli.command(cls=SectionedCommand)
@click.option("--preset", type=Names(preset_names()), help="start from a shipped preset")
@click.option("--config", "config_file", type=click.Path(), help="TOML file of options")
@click.option("--out", type=click.Path(), help="run directory [default: runs/<date-time>]")
@click.option("--resume", type=click.Path(), help="continue the run in this directory")
@config_options
def train(
    preset: str | None, config_file: str | None, out: str | None, resume: str | None, **flags: Any
) -> None:
    """Evolve a population of generators; write samples, metrics and the best generator."""
    from evogan.outputs.callbacks import ProgressBar, RunDirectory
    from evogan.run.checkpoint import check_overrides
    from evogan.run.checkpoint import resume as resume_run
    from evogan.run.engine import Evolution, evolve_run

    given = {name: value for name, value in flags.items() if value is not None}
    if resume:
        if preset or config_file or out:
            raise EvoganError("--resume takes the run's own config: drop --preset/--config/--out")
        check_overrides(given)
        run = resume_run(Path(resume), given)
        directory = Path(resume)
    else:
        config = build_config(
            ("--preset " + (preset or ""), load_preset(preset) if preset else {}),
            (str(config_file), load_toml(config_file) if config_file else {}),
            ("command line", given),
        )
        directory = Path(out) if out else Path("runs") / time.strftime("%Y%m%d-%H%M%S")
        check_directory("--out", directory)
        check_fresh_directory(directory)
        run = Evolution.start(config)  # validates everything before a file is written
    callbacks: list[Any] = []
    evaluator = None
    if run.config.eval_every or run.config.mixture:
        from evogan.quality.evaluate import QualityCallback, build_evaluator

        evaluator, _ = build_evaluator(run.config)  # before training: labelled data or an error
    if evaluator is not None and run.config.eval_every:
        every, count = run.config.eval_every, run.config.eval_samples
        callbacks.append(QualityCallback(evaluator, every=every, samples=count))
    callbacks.append(RunDirectory(directory))
    if run.config.tensorboard:
        from evogan.outputs.tensorboard import TensorBoard

        callbacks.append(TensorBoard(directory))
    if run.config.progress:
        callbacks.append(ProgressBar())
    make_directory("--resume" if resume else "--out", directory)
    keep_freed_memory()  # the command's own process (evogan.evolve leaves its caller's)
    result = evolve_run(run, callbacks)
    if evaluator is not None and run.config.mixture:
        export_mixture(run, evaluator, directory)
    reason = ", ".join(f"{key} {value:g}" for key, value in result.stop.items())
    click.echo(
        f"stopped ({reason}) after {result.generations} generations; best fitness "
        f"{result.best_fitness:.4g}; outputs in {directory}/"
    )


def export_mixture(run: Any, evaluator: Any, directory: Path) -> None:
    """Replace the run's exported generator by the evolved mixture of its K best."""
    from evogan.quality.evolved_mixture import build_mixture
    from evogan.run.export import save_generator

    k, steps = run.config.mixture, run.config.mixture_steps
    mixture, report = build_mixture(run, evaluator, k, steps=steps)
    save_generator(mixture, directory)
    (directory / "mixture.json").write_text(json.dumps(report, indent=2) + "\n")
    single, evolved = report["single_best"], report["evolved"]
    click.echo(
        f"mixture of {k}: FID {single['fid']:.1f} -> {evolved['fid']:.1f}, class TVD "
        f"{single['class_tvd']:.3f} -> {evolved['class_tvd']:.3f} (single best -> mixture)"
    )


def check_fresh_directory(directory: Path) -> None:
    """Refuse to start a new run over an existing one: nothing written is destroyed."""
    if directory.exists() and any(directory.iterdir()):
        raise EvoganError(
            f"--out {directory}: directory exists and is not empty "
            "(use --resume to continue it, or another --out)"
        )


@cli.command()
@click.argument("run_dir", type=click.Path())
@click.option("-n", "count", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("-o", "output", type=click.Path(), required=True, help="out.png or out.npy")
@click.option("--seed", type=int, default=0, show_default=True, help="seed of the latents")
def sample(run_dir: str, count: int, output: str, seed: int) -> None:
    """Draw N images from a run's best generator into a PNG grid or an .npy array."""
    from evogan.outputs import plots
    from evogan.run.export import load_generator
    from evogan.run.export import sample as draw

    suffix = Path(output).suffix.lower()
    if suffix not in (".png", ".npy"):
        raise EvoganError(f"-o {output}: the file must end in .png or .npy")
    check_file("-o", Path(output))
    images = draw(load_generator(Path(run_dir)), count, seed=seed)
    with writing("-o", Path(output)):
        Path(output).parent.mkdir(parents=True, exist_ok=True)  # np.save makes no folder
        if suffix == ".png":
            plots.save_grid(images, Path(output))
        else:
            np.save(output, images.numpy())
    click.echo(f"wrote {count} samples to {output}")


@cli.command()
@click.argument("run_dir", type=click.Path())
@click.option("-n", "count", type=click.IntRange(min=10), default=5000, show_default=True)
@click.option("--cache-dir", type=click.Path(), help="where evaluation classifiers are cached")
def evaluate(run_dir: str, count: int, cache_dir: str | None) -> None:
    """Sample quality of a run: FID, IS, class coverage, precision/recall, memorisation."""
    from evogan.outputs.callbacks import CONFIG
    from evogan.quality.evaluate import (
        EVAL_FILE,
        build_evaluator,
        format_table,
        report_dict,
        write_eval,
    )
    from evogan.run.export import load_generator
    from evogan.run.export import sample as draw

    directory = Path(run_dir)
    config = build_config((str(directory / CONFIG), load_toml(directory / CONFIG)))
    generator = load_generator(directory)
    check_file("RUN_DIR", directory / EVAL_FILE)  # before the minutes the evaluation takes
    if cache_dir:
        check_directory("--cache-dir", Path(cache_dir))
    evaluator, note = build_evaluator(config, Path(cache_dir) if cache_dir else None)
    report = evaluator.evaluate(draw(generator, count, seed=12345))
    reference = evaluator.reference()
    click.echo(f"{count} samples; {note}; classifier accuracy {report.classifier_accuracy:.3f}")
    click.echo(format_table({"samples": report, **reference}))
    result: dict[str, object] = {"samples": report_dict(report), "note": note}
    result |= {name: report_dict(r) for name, r in reference.items()}
    with writing("RUN_DIR", directory / EVAL_FILE):
        written = write_eval(directory, result)
    click.echo(f"wrote {written}")


@cli.group()
def data() -> None:
    """Datasets: fetch MNIST-format files."""


@data.command()
@click.argument("name", type=click.Choice(["mnist", "fashion-mnist"]))
@click.argument("directory", type=click.Path())
@click.option("--base-url", help="a mirror serving the standard file names")
def download(name: str, directory: str, base_url: str | None) -> None:
    """Download NAME into DIRECTORY, verifying the published SHA-256 (resumable)."""
    from evogan.data import download_dataset

    check_directory("DIRECTORY", Path(directory))
    paths = download_dataset(name, Path(directory), base_url=base_url)
    click.echo(f"{name}: {len(paths)} files verified in {directory}")


def main() -> None:
    """Entry point: user errors are one line on stderr and exit code 2, no traceback."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.BadParameter as err:  # a value click refuses: one line, like the config's
        click.echo(f"evogan: error: {bad_value(err)}", err=True)
        sys.exit(2)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except EvoganError as err:
        click.echo(f"evogan: error: {err}", err=True)
        sys.exit(2)


def bad_value(err: click.BadParameter) -> str:
    """``--flag: what is wrong``, the shape of the config's own messages."""
    param = err.param
    if isinstance(err, click.MissingParameter) or param is None:
        return err.format_message()
    where = param.opts[0] if isinstance(param, click.Option) else param.human_readable_name
    return f"{where}: {err.message}"


if __name__ == "__main__":
    main()
