"""Downloading MNIST-format datasets: verified, resumable, never half-written.

Each file is streamed into ``NAME.part``. If a ``.part`` is already there (an
interrupted run), the rest is asked for with an HTTP ``Range`` request; a
server that ignores it sends the whole file, which then replaces the
``.part``. Only once the SHA-256 matches a published digest is the ``.part``
renamed (atomically, ``os.replace``) to ``NAME``, so a file under its final
name is always complete and verified. A wrong digest deletes the ``.part``:
resuming a corrupt file cannot repair it.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Mapping
from http.client import HTTPException
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

from tqdm import tqdm

from evogan.errors import EvoganError

MIRRORS = {
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "fashion-mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
}

# SHA-256 of the gzipped files as the mirrors publish them (TFDS and Keras pin the same).
# The two MNIST t10k files also accept a second digest, that of the copy in the team's
# shared data folder (shared/data/mnist/SHA256SUMS): it decompresses to exactly the same
# IDX bytes but was gzipped again, with another timestamp in its header.
CHECKSUMS: dict[str, dict[str, tuple[str, ...]]] = {
    "mnist": {
        "train-images-idx3-ubyte.gz": (
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        ),
        "train-labels-idx1-ubyte.gz": (
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        ),
        "t10k-images-idx3-ubyte.gz": (
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "167310007f03058885c7e95e6c0b19c20de5c7fd3031f4cbdadc9014a523d80b",
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            "fc607395669ec21321ea83e4b82c0544b7e8e63ff5b34337c06bc0a17cc0da3c",
        ),
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": (
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        ),
        "train-labels-idx1-ubyte.gz": (
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        ),
        "t10k-images-idx3-ubyte.gz": (
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        ),
    },
}
_CHUNK = 1 << 16


def download_dataset(
    name: str,
    directory: str | Path,
    *,
    base_url: str | None = None,
    progress: bool = True,
    files: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> list[Path]:
    """Fetch ``name``'s files into ``directory``, verified; ``files`` maps name → sha256."""
    if name not in CHECKSUMS:
        raise EvoganError(f"cannot download {name!r}: choose from {', '.join(CHECKSUMS)}")
    expected = CHECKSUMS[name] if files is None else {f: (d.lower(),) for f, d in files.items()}
    base = (base_url or MIRRORS[name]).rstrip("/") + "/"
    target = Path(directory)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EvoganError(f"{target}: cannot create the directory: {exc.strerror}") from None
    return [
        _fetch(base + filename, target / filename, digests, progress=progress, timeout=timeout)
        for filename, digests in expected.items()
    ]


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _fetch(
    url: str, path: Path, digests: tuple[str, ...], *, progress: bool, timeout: float
) -> Path:
    """Make ``path`` a verified copy of ``url``, skipping the transfer if it already is."""
    if path.is_file() and sha256(path) in digests:
        if progress:
            tqdm.write(f"{path.name}: already present, checksum OK", file=sys.stderr)
        return path
    part = path.with_name(path.name + ".part")
    _transfer(url, part, timeout=timeout, progress=progress)
    actual = sha256(part)
    if actual not in digests:
        part.unlink()
        raise EvoganError(
            f"{path}: checksum mismatch: expected sha256 {' or '.join(digests)}, got {actual} "
            "(download deleted)"
        )
    try:
        os.replace(part, path)
    except OSError as exc:
        raise EvoganError(f"{path}: cannot move the verified download there: {exc}") from None
    return path


def _transfer(url: str, part: Path, *, timeout: float, progress: bool) -> None:
    """Append the rest of ``url`` to ``part``, or rewrite it if the server ignores Range."""
    offset = part.stat().st_size if part.is_file() else 0
    request = Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    try:
        with urlopen(request, timeout=timeout) as response:
            if response.status != 206:  # the whole file (Range ignored, or not asked for)
                offset = 0
            elif not re.match(rf"bytes {offset}-", response.headers.get("Content-Range", "")):
                part.unlink()
                raise EvoganError(f"{url}: server sent the wrong byte range; run again")
            _copy(url, response, part, offset, progress)
    except HTTPError as exc:
        exc.close()
        if exc.code == 416 and offset:  # nothing after offset: the .part is whole, verify it
            return
        raise EvoganError(f"{url}: HTTP error {exc.code} {exc.reason}") from None
    except (OSError, HTTPException) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise EvoganError(f"{url}: download failed ({reason}); run again to resume") from None


def _copy(url: str, response: Any, part: Path, offset: int, progress: bool) -> None:
    """Stream the response body into ``part`` from ``offset``, checking its length."""
    length = response.headers.get("Content-Length", "")
    expected = int(length) if length.isdigit() else None
    received = 0
    with (
        open(part, "ab" if offset else "wb") as out,
        tqdm(
            total=None if expected is None else offset + expected,
            initial=offset,
            desc=part.name.removesuffix(".part"),
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            disable=not progress,
        ) as bar,
    ):
        while chunk := response.read(_CHUNK):
            out.write(chunk)
            received += len(chunk)
            bar.update(len(chunk))
    if expected is not None and received < expected:
        raise EvoganError(
            f"{url}: connection closed after {offset + received} of {offset + expected} bytes; "
            "run again to resume"
        )
