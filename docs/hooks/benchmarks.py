"""mkdocs hook: the Benchmarks page is BENCHMARKS.md, copied at every build.

The file stays where it is (the benchmark scripts write its tables); the page
is generated from it, and every repository file it links to (the result plots
under ``benchmarks/results/``) is copied into the site at the same relative
path, so its links work unchanged.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "BENCHMARKS.md"
PAGE = "benchmarks.md"
LINK = re.compile(r"\]\(([^)#\s]+)\)")


def linked_files(text: str) -> list[str]:
    """Relative links of ``text`` to repository files (not pages, not URLs)."""
    targets = [t for t in LINK.findall(text) if "://" not in t and not t.endswith(".md")]
    return sorted({t for t in targets if (ROOT / t).is_file()})


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    text = SOURCE.read_text(encoding="utf-8")
    files.append(File.generated(config, PAGE, content=text))
    for target in linked_files(text):
        files.append(File.generated(config, target, abs_src_path=str(ROOT / target)))
    return files
