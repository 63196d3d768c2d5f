"""`make bench`: every benchmark in turn, then the tables of BENCHMARKS.md.

Takes about 2.75 hours on 2 cores (the quality runs dominate: 15 runs of 10
minutes, two at a time; keep_best_judge.py's two 6,000-generation runs, side by
side, add about 15 minutes).

``--smoke`` runs every script's smoke mode instead (seconds each), writing into
``--out`` (a temporary folder by default), and report.py renders those results:
what the tests run so that ``make bench`` cannot rot.

Usage: python benchmarks/run_all.py [--smoke] [--out DIR] [--only SCRIPT ...]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from common import add_smoke_options, output_dir

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    "throughput.py",
    "memory.py",
    "ceiling.py",
    "hybrid_cost.py",
    "ray_overhead.py",
    "quality_vs_time.py",
    "digits_sweep.py",
    "keep_best_judge.py",
    "keep_best_margin.py",
    "mppca_fit.py",
    "report.py",
]
NO_SMOKE: set[str] = set()  # scripts without --smoke, skipped by run_all --smoke


def command(script: str, smoke_out: Path | None) -> list[str]:
    """The command line of ``script``; in smoke mode, writing into (and reporting) smoke_out."""
    line = [sys.executable, str(HERE / script)]
    if smoke_out is not None:
        line += ["--smoke", "--out", str(smoke_out)]
        if script == "report.py":  # the tables of this smoke run's results
            line += ["--results", str(smoke_out)]
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=SCRIPTS, metavar="SCRIPT",
                        help="only these scripts (in the order above)")  # fmt: skip
    add_smoke_options(parser)
    args = parser.parse_args()
    if args.out is not None and not args.smoke:
        parser.error("--out needs --smoke (the full benchmarks write into results/)")
    smoke_out = output_dir(args) if args.smoke else None
    for script in SCRIPTS:
        if args.only and script not in args.only:
            continue
        if smoke_out is not None and script in NO_SMOKE:
            print(f"== {script}: no smoke mode, skipped", flush=True)
            continue
        print(f"== {script}", flush=True)
        subprocess.run(command(script, smoke_out), check=True, cwd=HERE)


if __name__ == "__main__":
    main()
