"""Markdown tables of the benchmark results (pasted into BENCHMARKS.md and the README).

Usage: python benchmarks/report.py  -> prints the tables, writes results/tables.md
       python benchmarks/report.py --smoke [--results DIR] [--out DIR]
           -> the tables of DIR's results (default results/) in DIR/tables.md (default a
              temporary folder)
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import RESULTS, add_smoke_options, output_dir


def load(folder: Path, name: str) -> dict[str, Any] | None:
    path = folder / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def throughput_table(result: dict[str, Any]) -> list[str]:
    lines = [
        "| population | evaluation (samples/s) | discriminator ceiling (images/s) | fraction "
        "| evogan generation (s) | article loop generation (s) | speed-up |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {r['population']} | {r['evaluation_samples_per_s']:.0f} "
            f"| {r['ceiling_images_per_s']:.0f} | {100 * r['fraction_of_ceiling']:.0f} % "
            f"| {r['evogan_generation_s']:.2f} | {r['article_loop_generation_s']:.1f} "
            f"| {r['speedup_vs_article']:.1f}x |"
        )
    return lines


def projection_line(result: dict[str, Any]) -> list[str]:
    """The subspace family's weight building as a share of a generation."""
    sub = result.get("subspace")
    if sub is None:
        return []
    command = result.get("subspace_command", result["command"])
    return [
        "",
        f"`{command}`: subspace family (genome {sub['genome_dim']:.0f} -> "
        f"{sub['full_weights']:.0f} weights): "
        f"building {sub['agents_built']:.0f} agents' weights takes "
        f"{1000 * sub['projection_s']:.1f} ms of a {1000 * sub['generation_s']:.0f} ms "
        f"generation ({100 * sub['projection_share']:.1f} %).",
    ]


def memory_table(result: dict[str, Any]) -> list[str]:
    lines = ["| trainer | population | peak RSS (MiB) |", "|---|---:|---:|"]
    for r in result["rows"]:
        lines.append(f"| {r['trainer']} | {r['population']} | {r['peak_rss_mib']:.0f} |")
    return lines


def cell(values: list[Any]) -> str:
    """Mean to two decimals; a dash for results written before the figure existed."""
    known = [v for v in values if v is not None]
    return f"{statistics.mean(known):.2f}" if known else "–"


REFERENCE_METHOD = "dcgan-gradient"  # the gradient tool a user would pick instead
AT_MAX = [("IS", "eval/is"), ("class entropy", "eval/class_entropy"),
          ("class TVD", "eval/class_tvd"), ("precision", "eval/precision"),
          ("recall", "eval/recall")]  # fmt: skip


def median(values: list[Any]) -> str:
    known = [v for v in values if v is not None]
    return f"{statistics.median(known):.2f}" if known else "–"


def marks_of(result: dict[str, Any]) -> tuple[str, list[float], Callable[[float], str]]:
    """The points' mark key, the marks, and their label: minutes, or generations."""
    if "mark_generation" in result["runs"][0]["points"][0]:
        marks = sorted({p["mark_generation"] for run in result["runs"] for p in run["points"]})
        return "mark_generation", marks, lambda m: f"{m:,.0f} gen"
    return "mark_s", result["budgets"], lambda m: f"{m / 60:g} min"


def quality_table(result: dict[str, Any]) -> list[str]:
    """Median over seeds (min-max in brackets) of FID per mark, the rest at the largest.

    A run that keeps its best judged generator (``--keep-best``) is judged on
    it; its last generator's FID at the largest mark is in the last column."""
    ref = result["reference"]
    key, marks, label = marks_of(result)
    methods = list(dict.fromkeys(run["method"] for run in result["runs"]))
    header = "| method | seeds | " + " | ".join(f"FID @ {label(m)}" for m in marks)
    header += "".join(f" | {name} @ {label(marks[-1])}" for name, _ in AT_MAX)
    kept = any("last/eval/fid" in p for run in result["runs"] for p in run["points"])
    header += " | generations |" + (" last FID |" if kept else "")
    lines = [header, "|---|---:|" + "---:|" * (len(marks) + 6 + kept)]
    fid: dict[tuple[str, float], float] = {}
    for method in methods:
        runs = [run for run in result["runs"] if run["method"] == method]
        cells = []
        for mark in marks:
            values = [p["eval/fid"] for run in runs for p in run["points"] if p[key] == mark]
            fid[(method, mark)] = statistics.median(values)
            span = f" ({min(values):.0f}-{max(values):.0f})" if len(values) > 1 else ""
            cells.append(f"{statistics.median(values):.0f}{span}")
        last = [p for run in runs for p in run["points"] if p[key] == marks[-1]]
        cells += [median([p.get(k) for p in last]) for _, k in AT_MAX]
        generations = statistics.median(run["generations"] for run in runs)
        last_fid = f" {median([p.get('last/eval/fid') for p in last])} |" if kept else ""
        lines.append(f"| {method} | {len(runs)} | " + " | ".join(cells)
                     + f" | {generations:.0f} |{last_fid}")  # fmt: skip
    for name, text in (("heldout", "held-out half vs half: a perfect generator"),
                       ("train", "training images: a copier"),
                       ("noise", "uniform noise")):  # fmt: skip
        row = ref[name]
        lines.append(f"| *{text}* | | {row['eval/fid']:.1f} |" + " |" * (len(marks) - 1)
                     + "".join(f" {median([row.get(k)])} |" for _, k in AT_MAX)
                     + " |" + " |" * kept)  # fmt: skip
    if all((REFERENCE_METHOD, m) in fid for m in marks):
        lines.append("")
        for method in methods:
            if method == REFERENCE_METHOD:
                continue
            ratios = ", ".join(
                f"{fid[(method, m)] / fid[(REFERENCE_METHOD, m)]:.2f} at {label(m)}" for m in marks
            )
            lines.append(f"- FID ratio {method} / {REFERENCE_METHOD} (medians): {ratios}")
    return lines


def mixture_table(result: dict[str, Any]) -> list[str]:
    """``--mixture K`` against the single best generator of the same run (1,000 samples)."""
    runs = [run for run in result["runs"] if run.get("mixture")]
    if not runs:
        return []
    lines = ["", "| method | seed | components | FID single → mixture | class TVD single → mixture "
             "| TVD change | mixture weights |",
             "|---|---:|---:|---|---|---:|---|"]  # fmt: skip
    for run in runs:
        m = run["mixture"]
        single, mixed = m["single_best"], m["evolved"]
        change = mixed["class_tvd"] / single["class_tvd"] - 1
        weights = " ".join(f"{w:.2f}" for w in m["weights"])
        lines.append(f"| {run['method']} | {run['seed']} | {m['components']} "
                     f"| {single['fid']:.0f} → {mixed['fid']:.0f} "
                     f"| {single['class_tvd']:.3f} → {mixed['class_tvd']:.3f} | {change:+.0%} "
                     f"| {weights} |")  # fmt: skip
    return lines


def ray_table(result: dict[str, Any]) -> list[str]:
    """Seconds per generation by backend, overhead against local on the same cores, bytes."""
    lines = ["| backend | cores | s / generation | of which scoring | overhead vs local "
             "| genome bytes / agent / generation |",
             "|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for r in result["rows"]:
        scoring = r["evaluation_seconds"]  # None: islands score on their actors
        lines.append(f"| {r['backend']} | {r['cores']} | {r['seconds_per_generation']:.2f} "
                     f"| {'' if scoring is None else f'{scoring:.2f}'} | {r['overhead']:+.0%} "
                     f"| {r['genome_bytes_per_agent']:,.0f} |")  # fmt: skip
    m = result["model"]
    check = m["check_2_workers"]
    lines += ["", f"Model (from the 1-core rows): driver {m['driver_seconds']:.2f} s, scoring "
              f"{m['scoring_seconds_per_agent'] * 1000:.2f} ms per agent, Ray adds "
              f"{m['ray_added_seconds']['full']:.2f} s (full) or "
              f"{m['ray_added_seconds']['compact']:.2f} s (compact). Checked on 2 workers: "
              f"full {check['full']['predicted']:.2f} s predicted, "
              f"{check['full']['measured']:.2f} s measured; compact "
              f"{check['compact']['predicted']:.2f} s predicted, "
              f"{check['compact']['measured']:.2f} s measured. Predicted on M machines at "
              f"{m['bandwidth_bytes_per_s'] / 1e6:.0f} MB/s:", "",
              "| machines | full genomes (s) | compact (s) |", "|---:|---:|---:|"]  # fmt: skip
    by = {(p["machines"], p["transport"]): p["seconds_per_generation"] for p in m["predictions"]}
    for machines in sorted({p["machines"] for p in m["predictions"]}):
        lines.append(f"| {machines} | {by[(machines, 'full')]:.2f} "
                     f"| {by[(machines, 'compact')]:.2f} |")  # fmt: skip
    return lines


def ceiling_table(result: dict[str, Any]) -> list[str]:
    """GLO reconstructions of 1,000 training images, judged like samples."""
    lines = ["| family | genes | fit | FID | class entropy | class TVD | precision | recall |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for r in result["rows"]:
        fit = f"{r['steps']} steps, {r['fit_s']:.0f} s" if "steps" in r else ""
        lines.append(f"| {r['family']} | {r['genes']} | {fit} | {r['eval/fid']:.1f} "
                     f"| {r['eval/class_entropy']:.2f} | {median([r.get('eval/class_tvd')])} "
                     f"| {r['eval/precision']:.2f} | {r['eval/recall']:.2f} |")  # fmt: skip
    return lines


def hybrid_table(result: dict[str, Any]) -> list[str]:
    lines = ["| method | s / generation | generations / s | x a DCGAN step |",
             "|---|---:|---:|---:|"]  # fmt: skip
    for r in result["rows"]:
        seconds, rate = r["seconds_per_generation"], r["generations_per_s"]
        lines.append(f"| {r['method']} | {seconds:.3f} | {rate:.2f} "
                     f"| {r['ratio_to_dcgan_step']:.2f} |")  # fmt: skip
    return lines


def sweep_table(result: dict[str, Any]) -> list[str]:
    lines = ["| setting | seed | generations in the budget | FID | class entropy | class TVD |",
             "|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for r in result["rows"]:
        lines.append(f"| {r['setting']} | {r['seed']} | {r['generations']} "
                     f"| {r['eval/fid']:.1f} | {r['eval/class_entropy']:.2f} "
                     f"| {cell([r.get('eval/class_tvd')])} |")  # fmt: skip
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS,
                        help="folder of the result JSON files (default: results/)")  # fmt: skip
    add_smoke_options(parser)
    args = parser.parse_args()
    # tables.md goes beside the results it renders, unless --out or --smoke say elsewhere
    out = output_dir(args) if args.out or args.smoke else args.results
    sections = []
    for title, name, table in (
        ("Throughput", "throughput", lambda r: throughput_table(r) + projection_line(r)),
        ("Memory", "memory", memory_table),
        (
            "Quality against time (MNIST)",
            "quality_vs_time",
            lambda r: quality_table(r) + mixture_table(r),
        ),
        ("ES with a decaying learning rate (MNIST)", "quality_es_lr_decay", quality_table),
        (
            "Quality against time after issue 13 (MNIST)",
            "quality_issue13",
            lambda r: quality_table(r) + mixture_table(r),
        ),
        (
            "After issue 13: five means on one critic, and feature matching (MNIST)",
            "quality_issue13_extra",
            lambda r: quality_table(r) + mixture_table(r),
        ),
        (
            "An hour: the mnist preset against the DCGAN for 60 minutes (MNIST)",
            "quality_60min",
            quality_table,
        ),
        (
            "Third seed of the preset and the DCGAN; the hybrid kept and with lazy R1 (MNIST)",
            "quality_seed2",
            lambda r: quality_table(r) + mixture_table(r),
        ),
        ("The preset and the DCGAN, 3 seeds in one run (MNIST)", "quality_final", quality_table),
        (
            "The plateau, probe 1: the family by gradient; wider (MNIST)",
            "probe_family",
            quality_table,
        ),
        ("The plateau, probe 2: the game (MNIST)", "probe_game", quality_table),
        ("The plateau, probe 3: other families (MNIST)", "probe_family2", quality_table),
        ("The plateau, probe 4: a slower critic (MNIST)", "probe_critic", quality_table),
        ("Variety: a minibatch-stddev critic by generations (MNIST)", "probe_mbstd", quality_table),
        ("An hour, seeds 1 and 2 of the preset (MNIST)", "quality_60min_seeds12", quality_table),
        ("Jitter: the means' moving average, by generations (MNIST)", "probe_ema", quality_table),
        (
            "Families revisited: a frozen random DCGAN, by generations (MNIST)",
            "probe_frozen",
            quality_table,
        ),
        (
            "Quality against generations: 12,000-generation probes (MNIST)",
            "quality_long_probe",
            quality_table,
        ),
        ("Choosing the demo (digits, 150 s)", "demo_sweep", sweep_table),
        ("Ceiling: what each family can reach at all (MNIST)", "ceiling", ceiling_table),
        ("Cost of the E-GAN hybrid (MNIST, one thread)", "hybrid_cost", hybrid_table),
        ("Choosing the defaults (digits)", "digits_sweep", sweep_table),
        ("Ray: overhead and genome transport (article workload)", "ray_overhead", ray_table),
    ):
        result = load(args.results, name)
        if result is None:
            continue
        m = result["machine"]
        sections.append(f"### {title}\n")
        sections.append(f"`{result['command']}` — {m['date']}, {m['cpu_cores']} cores, "
                        f"torch {m['torch']} ({m['torch_threads']} threads)\n")  # fmt: skip
        sections.append("\n".join(table(result)) + "\n")
    text = "\n".join(sections)
    out.mkdir(parents=True, exist_ok=True)
    (out / "tables.md").write_text(text)
    print(text)
    print(f"wrote {out / 'tables.md'}")


if __name__ == "__main__":
    main()
