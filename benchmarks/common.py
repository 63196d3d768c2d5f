"""Shared helpers of the benchmark scripts: machine description, result files, smoke mode.

Every script takes ``--smoke``: the same code path at tiny sizes, in seconds,
so that the tests can run it and ``make bench`` cannot rot. A smoke run writes
its JSON under ``--out`` (a fresh temporary folder by default), never into
``results/``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
MNIST_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import torch  # here: report.py and run_all.py need no torch (a second of start-up)

    return {
        "date": time.strftime("%Y-%m-%d"),
        "cpu_cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "processor": platform.processor() or platform.machine(),
    }


def add_smoke_options(parser: argparse.ArgumentParser) -> None:
    """``--smoke`` and ``--out``, the same for every script."""
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes, seconds: checks that the script still runs")  # fmt: skip
    parser.add_argument("--out", type=Path, default=None,
                        help="folder of the result JSON (default: results/, or a fresh "
                             "temporary folder with --smoke)")  # fmt: skip


def output_dir(args: argparse.Namespace) -> Path:
    """Where this invocation writes: ``--out``, else results/ (a temporary folder if smoke)."""
    if args.out is not None:
        return Path(args.out)
    if args.smoke:
        return Path(tempfile.mkdtemp(prefix="evogan-bench-smoke-"))
    return RESULTS


def write_result(name: str, result: dict[str, Any], folder: Path = RESULTS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **result}, indent=2) + "\n")
    print(f"wrote {path}")
    return path
