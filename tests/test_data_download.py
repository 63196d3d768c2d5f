"""The downloader against a real HTTP server on 127.0.0.1 (never the internet)."""

import hashlib
import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from evogan.data import download_dataset, load_dataset
from evogan.data.download import CHECKSUMS, MIRRORS
from evogan.errors import EvoganError

SHARED = Path(__file__).parents[2] / "shared" / "data" / "mnist"
ALPHA = bytes(range(256)) * 40  # 10,240 bytes
BETA = b"made-up dataset file\n" * 300
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=f"no shared MNIST at {SHARED}")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Site:
    """What the test server serves, how it misbehaves, and what it was asked."""

    files: dict[str, bytes] = field(default_factory=dict)
    ignore_range: bool = False
    truncate: set[str] = field(default_factory=set)  # send half the body, then hang up
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (name, Range)
    sent: dict[str, int] = field(default_factory=dict)  # body bytes written per name


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        site: Site = self.server.site  # type: ignore[attr-defined]
        name, wanted = self.path.lstrip("/"), self.headers.get("Range")
        site.requests.append((name, wanted))
        body = site.files.get(name)
        if body is None:
            self.send_error(404)
            return
        start = 0
        if wanted and not site.ignore_range:
            start = int(wanted.removeprefix("bytes=").removesuffix("-"))
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        payload = body[start:]
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if name in site.truncate:
            payload = payload[: len(payload) // 2]
        # counted before writing: the client may finish (and the test assert) before this
        # thread runs another line after the write
        site.sent[name] = site.sent.get(name, 0) + len(payload)
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, Site]]:
    site = Site(files={"alpha.bin": ALPHA, "beta.txt": BETA})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.site = site  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", site
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def fetch(url: str, directory: Path, files: dict[str, str], progress: bool = False) -> list[Path]:
    return download_dataset("mnist", directory, base_url=url, files=files, progress=progress)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.glob("*.part"))


def test_good_files(server: tuple[str, Site], tmp_path: Path) -> None:
    url, site = server
    files = {"alpha.bin": digest(ALPHA), "beta.txt": digest(BETA).upper()}
    paths = fetch(url, tmp_path / "new" / "dir", files, progress=True)
    assert paths == [tmp_path / "new" / "dir" / "alpha.bin", tmp_path / "new" / "dir" / "beta.txt"]
    assert paths[0].read_bytes() == ALPHA and paths[1].read_bytes() == BETA
    assert leftovers(tmp_path / "new" / "dir") == []
    assert site.requests == [("alpha.bin", None), ("beta.txt", None)]


def test_present_files_are_skipped(server: tuple[str, Site], tmp_path: Path) -> None:
    url, site = server
    (tmp_path / "alpha.bin").write_bytes(ALPHA)
    fetch(url, tmp_path, {"alpha.bin": digest(ALPHA)})
    assert site.requests == []


def test_present_but_wrong_file_is_replaced(server: tuple[str, Site], tmp_path: Path) -> None:
    url, site = server
    (tmp_path / "alpha.bin").write_bytes(b"stale")
    fetch(url, tmp_path, {"alpha.bin": digest(ALPHA)})
    assert (tmp_path / "alpha.bin").read_bytes() == ALPHA
    assert site.requests == [("alpha.bin", None)]


def test_checksum_mismatch(server: tuple[str, Site], tmp_path: Path) -> None:
    url, _ = server
    wrong = "0" * 64
    with pytest.raises(EvoganError) as info:
        fetch(url, tmp_path, {"alpha.bin": wrong})
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'alpha.bin'}: checksum mismatch")
    assert wrong in message and digest(ALPHA) in message
    assert list(tmp_path.iterdir()) == []


def test_truncated_transfer_then_resume(server: tuple[str, Site], tmp_path: Path) -> None:
    url, site = server
    site.truncate.add("alpha.bin")
    with pytest.raises(EvoganError, match="connection closed after 5120 of 10240 bytes"):
        fetch(url, tmp_path, {"alpha.bin": digest(ALPHA)})
    assert not (tmp_path / "alpha.bin").exists()
    assert (tmp_path / "alpha.bin.part").read_bytes() == ALPHA[:5120]

    site.truncate.clear()
    fetch(url, tmp_path, {"alpha.bin": digest(ALPHA)})
    assert (tmp_path / "alpha.bin").read_bytes() == ALPHA
    assert site.requests[-1] == ("alpha.bin", "bytes=5120-")
    assert site.sent["alpha.bin"] == 5120 + 5120
    assert leftovers(tmp_path) == []


def test_resume_requests_only_the_rest(server: tuple[str, Site], tmp_path: Path) -> None:
    url, site = server
    (tmp_path / "alpha.bin.part").write_bytes(ALPHA[:3000])
    fetch(url, tmp_path, {"alpha.bin": digest(ALPHA)})
    assert site.requests == [("alpha.bin", "bytes=3000-")]
    assert site.sent == {"alpha.bin": len(ALPHA) - 3000}
    assert (tmp_path / "alpha.bin").read_bytes() == ALPHA
    assert leftovers(tmp_path) == []


def test_server_ignoring_range_restarts(server: tuple[str, Site], tmp_path: Path) -> None:
    url, site = server
    site.ignore_range = True
    (tmp_path / "alpha.bin.part").write_bytes(b"x" * 3000)  # would corrupt a naive append
    fetch(url, tmp_path, {"alpha.bin": digest(ALPHA)})
    assert site.requests == [("alpha.bin", "bytes=3000-")]
    assert (tmp_path / "alpha.bin").read_bytes() == ALPHA
    assert leftovers(tmp_path) == []


def test_complete_part_is_verified(server: tuple[str, Site], tmp_path: Path) -> None:
    url, site = server
    (tmp_path / "alpha.bin.part").write_bytes(ALPHA)  # the server answers 416
    fetch(url, tmp_path, {"alpha.bin": digest(ALPHA)})
    assert site.sent == {}
    assert (tmp_path / "alpha.bin").read_bytes() == ALPHA


def test_corrupt_part_is_deleted(server: tuple[str, Site], tmp_path: Path) -> None:
    url, _ = server
    (tmp_path / "alpha.bin.part").write_bytes(b"x" * 3000)
    with pytest.raises(EvoganError, match="checksum mismatch"):
        fetch(url, tmp_path, {"alpha.bin": digest(ALPHA)})
    assert list(tmp_path.iterdir()) == []
    fetch(url, tmp_path, {"alpha.bin": digest(ALPHA)})  # so the next run starts afresh
    assert (tmp_path / "alpha.bin").read_bytes() == ALPHA


def test_missing_file_on_server(server: tuple[str, Site], tmp_path: Path) -> None:
    url, _ = server
    with pytest.raises(EvoganError, match=r"gone\.bin: HTTP error 404"):
        fetch(url, tmp_path, {"gone.bin": digest(b"")})
    assert list(tmp_path.iterdir()) == []


def test_unreachable_server(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: connection refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(EvoganError, match="download failed") as info:
        fetch(f"http://127.0.0.1:{port}", tmp_path, {"alpha.bin": digest(ALPHA)})
    assert f"http://127.0.0.1:{port}/alpha.bin" in str(info.value)
    assert not (tmp_path / "alpha.bin").exists()


@pytest.mark.parametrize("name", ["digits", "cifar10"])
def test_unknown_dataset(name: str, tmp_path: Path) -> None:
    with pytest.raises(EvoganError, match="choose from mnist, fashion-mnist"):
        download_dataset(name, tmp_path)


def test_published_checksums_are_sha256() -> None:
    for table in CHECKSUMS.values():
        assert sorted(table) == sorted(
            f"{split}-{kind}-ubyte.gz"
            for split in ("train", "t10k")
            for kind in ("images-idx3", "labels-idx1")
        )
        for digests in table.values():
            assert all(len(d) == 64 and int(d, 16) >= 0 for d in digests)


@needs_shared
def test_mnist_checksums_cover_the_shared_copy() -> None:
    for line in (SHARED / "SHA256SUMS").read_text().splitlines():
        expected, name = line.split()
        assert expected in CHECKSUMS["mnist"][name]


@needs_shared
def test_real_t10k_files_with_the_default_table(
    server: tuple[str, Site], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, site = server
    names = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
    for name in names:
        site.files[name] = (SHARED / name).read_bytes()
    # The default mirror and table, cut to the two files that exist here.
    monkeypatch.setitem(MIRRORS, "mnist", url)
    monkeypatch.setitem(CHECKSUMS, "mnist", {name: CHECKSUMS["mnist"][name] for name in names})
    shutil.copy(SHARED / names[1], tmp_path)  # already there: verified, not fetched
    paths = download_dataset("mnist", tmp_path, progress=False)
    assert paths == [tmp_path / name for name in names]
    assert site.requests == [(names[0], None)]
    assert leftovers(tmp_path) == []
    assert len(load_dataset("mnist", data_dir=tmp_path)) == 10000
