"""Markdown tables of the benchmark results (pasted into BENCHMARKS.md and the README).

Usage: python benchmarks/report.py  -> prints the tables, writes results/tables.md
"""

from __future__ import annotations

import json
import statistics
from typing import Any

from common import RESULTS


def load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
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


def memory_table(result: dict[str, Any]) -> list[str]:
    lines = ["| trainer | population | peak RSS (MiB) |", "|---|---:|---:|"]
    for r in result["rows"]:
        lines.append(f"| {r['trainer']} | {r['population']} | {r['peak_rss_mib']:.0f} |")
    return lines


def cell(values: list[Any]) -> str:
    """Mean to two decimals; a dash for results written before the figure existed."""
    known = [v for v in values if v is not None]
    return f"{statistics.mean(known):.2f}" if known else "–"


def quality_table(result: dict[str, Any]) -> list[str]:
    ref = result["reference"]
    budgets = result["budgets"]
    methods = list(dict.fromkeys(run["method"] for run in result["runs"]))
    header = "| method | " + " | ".join(f"FID @ {b / 60:g} min" for b in budgets)
    header += " | class entropy @ max | class TVD @ max | generations |"
    lines = [header, "|---|" + "---:|" * (len(budgets) + 3)]
    fid: dict[tuple[str, float], list[float]] = {}
    for method in methods:
        runs = [run for run in result["runs"] if run["method"] == method]
        cells = []
        for budget in budgets:
            values = [p["eval/fid"] for run in runs for p in run["points"] if p["mark_s"] == budget]
            fid[(method, budget)] = values
            spread = statistics.pstdev(values) if len(values) > 1 else 0.0
            cells.append(f"{statistics.mean(values):.0f} ± {spread:.0f}")
        last = [p for run in runs for p in run["points"] if p["mark_s"] == budgets[-1]]
        entropy = cell([p["eval/class_entropy"] for p in last])
        tvd = cell([p.get("eval/class_tvd") for p in last])
        generations = statistics.mean(run["generations"] for run in runs)
        lines.append(f"| {method} | " + " | ".join(cells)
                     + f" | {entropy} | {tvd} | {generations:.0f} |")  # fmt: skip
    for name, label in (("heldout", "held-out half vs half: a perfect generator"),
                        ("train", "training images: a copier")):  # fmt: skip
        tvd = cell([ref[name].get("eval/class_tvd")])
        lines.append(
            f"| *{label}* | {ref[name]['eval/fid']:.1f} |"
            + " |" * (len(budgets) - 1)
            + f" {ref[name]['eval/class_entropy']:.2f} | {tvd} | |"
        )
    lines.append(
        f"| *uniform noise* | {ref['noise']['eval/fid']:.0f} |"
        + " |" * len(budgets)
        + f" {cell([ref['noise'].get('eval/class_tvd')])} | |"
    )
    if ("ga-default", budgets[0]) in fid and ("gradient", budgets[0]) in fid:
        ratios = [
            statistics.mean(fid[("ga-default", b)]) / statistics.mean(fid[("gradient", b)])
            for b in budgets
        ]
        lines.append("")
        pairs = zip(ratios, budgets, strict=True)
        lines.append(
            "FID ratio GA / gradient: " + ", ".join(f"{r:.2f} at {b / 60:g} min" for r, b in pairs)
        )
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
    sections = []
    for title, name, table in (
        ("Throughput", "throughput", throughput_table),
        ("Memory", "memory", memory_table),
        ("Quality against time (MNIST)", "quality_vs_time", quality_table),
        ("Choosing the defaults (digits)", "digits_sweep", sweep_table),
    ):
        result = load(name)
        if result is None:
            continue
        m = result["machine"]
        sections.append(f"### {title}\n")
        sections.append(f"`{result['command']}` — {m['date']}, {m['cpu_cores']} cores, "
                        f"torch {m['torch']} ({m['torch_threads']} threads)\n")  # fmt: skip
        sections.append("\n".join(table(result)) + "\n")
    text = "\n".join(sections)
    (RESULTS / "tables.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
