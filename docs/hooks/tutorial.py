"""mkdocs hook: the Tutorial page, rendered from the jupytext script ``docs/tutorial.py``.

``<!-- evogan-tutorial -->`` in a page becomes the script's cells: markdown
cells as text, code cells as Python blocks. The script is what CI runs
(tests/test_tutorial.py), so the page shows code that works.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve().parents[1] / "tutorial.py"
MARKER = "<!-- evogan-tutorial -->"


def cells(source: str) -> list[tuple[str, str]]:
    """``(kind, text)`` per ``# %%`` cell; kind is ``markdown`` or ``code``."""
    found: list[tuple[str, list[str]]] = []
    for line in source.splitlines():
        if line.startswith("# %%"):
            found.append(("markdown" if "[markdown]" in line else "code", []))
        elif found:
            found[-1][1].append(line)
    return [(kind, "\n".join(lines).strip()) for kind, lines in found]


def render(source: str) -> str:
    parts = []
    for kind, text in cells(source):
        if kind == "markdown":
            parts.append(
                "\n".join(line.removeprefix("#").removeprefix(" ") for line in text.splitlines())
            )
        elif text:
            parts.append(f"```python\n{text}\n```")
    return "\n\n".join(parts)


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, render(SCRIPT.read_text(encoding="utf-8")))
