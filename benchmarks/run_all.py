"""`make bench`: every benchmark in turn, then the tables of BENCHMARKS.md.

Takes about 2.5 hours on 2 cores (the quality runs dominate: 15 runs of 10
minutes, two at a time).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    "throughput.py",
    "memory.py",
    "ceiling.py",
    "hybrid_cost.py",
    "ray_overhead.py",
    "quality_vs_time.py",
    "digits_sweep.py",
    "report.py",
]

if __name__ == "__main__":
    for script in SCRIPTS:
        print(f"== {script}", flush=True)
        subprocess.run([sys.executable, str(HERE / script)], check=True, cwd=HERE)
