"""Where a command writes: checked before the work, and the write itself guarded.

A path that cannot be written (below a regular file, in a read-only folder, a folder
where a file is wanted) is one ``EvoganError`` naming the option that gave it, not a
traceback after minutes of training or sampling. The checks create nothing, so bad
input leaves no trace; ``make_directory`` and ``writing`` turn the ``OSError`` of a
real write (a disk that filled meanwhile) into the same one line.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from evogan.errors import EvoganError


def check_directory(option: str, directory: Path) -> None:
    """Refuse ``directory`` if it cannot be created and written into; creates nothing."""
    reason = _unwritable(directory)
    if reason:
        raise refusal(option, directory, reason)


def check_file(option: str, path: Path) -> None:
    """Refuse ``path`` as a file to write: a folder is there, or its own cannot be made."""
    reason = _unwritable(path.parent, file=path)
    if reason:
        raise refusal(option, path, reason)


def make_directory(option: str, directory: Path) -> Path:
    """``directory``, created with its parents."""
    with writing(option, directory):
        directory.mkdir(parents=True, exist_ok=True)
    return directory


@contextmanager
def writing(option: str, path: Path) -> Iterator[None]:
    """Writes to ``path`` whose ``OSError`` becomes one line naming ``option``."""
    try:
        yield
    except OSError as err:
        raise refusal(option, path, err.strerror or str(err)) from None


def refusal(option: str, path: Path, reason: str) -> EvoganError:
    """The one line: ``--out runs/x: cannot write there (runs is not a directory)``."""
    return EvoganError(f"{option} {path}: cannot write there ({reason})")


def _unwritable(directory: Path, file: Path | None = None) -> str | None:
    """Why ``directory`` (and ``file`` in it) cannot be made or written, or None: the
    nearest path that exists, at or above it, must be a folder this process may write,
    and each name to create below it must fit the file system."""
    existing, new = directory, [file.name] if file else []
    try:
        if file is not None and file.is_dir():
            return "it is a directory"
        while not existing.exists() and existing != existing.parent:
            existing, new = existing.parent, [existing.name, *new]
        if not existing.is_dir():
            return f"{existing} is not a directory"
        longest = os.pathconf(existing, "PC_NAME_MAX")
    except OSError as err:
        return err.strerror or str(err)
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing} is not writable"
    if any(len(os.fsencode(name)) > longest for name in new):
        return f"a name longer than {longest} bytes"
    return None


__all__ = ["check_directory", "check_file", "make_directory", "refusal", "writing"]
