"""mkdocs hook: the module table of the Architecture page, from the modules' docstrings.

``<!-- evogan-modules -->`` in a page becomes a table of every module under
``src/evogan`` with the first paragraph of its docstring, read with ``ast``
(nothing is imported), so the table follows the tree as it changes.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "evogan"
MARKER = "<!-- evogan-modules -->"


def summary(path: Path) -> str:
    """The first paragraph of a module's docstring, on one line."""
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    first = " ".join(docstring.split("\n\n")[0].split()).replace("|", "\\|")
    if not first and path.name == "__init__.py":  # a data package, such as presets/
        shipped = sorted(p.name for p in path.parent.iterdir() if p.suffix not in (".py", ""))
        first = f"files shipped with evogan: {', '.join(shipped)}" if shipped else ""
    return first or "(no docstring)"


def module_table(package: Path = PACKAGE) -> str:
    rows = ["| module | what it is |", "|---|---|"]
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package.parent)
        name = relative.parent if path.name == "__init__.py" else relative
        shown = f"{name}/" if path.name == "__init__.py" else str(name)
        rows.append(f"| `{shown}` | {summary(path)} |")
    return "\n".join(rows)


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, module_table())
