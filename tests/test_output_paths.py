"""Output paths: refused in one line naming the option, before anything is written."""

import errno
import os
from pathlib import Path

import pytest

from evogan.errors import EvoganError
from evogan.outputs.paths import check_directory, check_file, make_directory, writing


def test_a_path_below_a_regular_file_is_refused_and_nothing_is_made(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    with pytest.raises(EvoganError, match=rf"^--out {tmp_path}/f/a/b: cannot write there "
                       rf"\({tmp_path}/f is not a directory\)$"):  # fmt: skip
        check_directory("--out", tmp_path / "f" / "a" / "b")
    with pytest.raises(EvoganError, match=r"^-o .*/f/x.png: cannot write there \(.*/f is not a"):
        check_file("-o", tmp_path / "f" / "x.png")
    assert [p.name for p in tmp_path.iterdir()] == ["f"]


def test_a_directory_where_a_file_belongs_and_a_file_where_a_directory_does(
    tmp_path: Path,
) -> None:
    (tmp_path / "d.png").mkdir()
    (tmp_path / "f").write_text("")
    with pytest.raises(EvoganError, match=r"d.png: cannot write there \(it is a directory\)$"):
        check_file("-o", tmp_path / "d.png")
    with pytest.raises(EvoganError, match=r"^DIRECTORY .*/f: cannot write there \(.*/f is not"):
        check_directory("DIRECTORY", tmp_path / "f")


def test_a_name_too_long_is_refused_even_below_folders_not_yet_made(tmp_path: Path) -> None:
    path = tmp_path / "new" / ("x" * 300) / "run"
    with pytest.raises(EvoganError, match=r"cannot write there \(a name longer than \d+ bytes\)"):
        check_directory("--out", path)
    assert list(tmp_path.iterdir()) == []


def test_a_read_only_folder_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through ``os.access``: root may write anywhere, so the bits alone prove nothing here."""
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != tmp_path)
    with pytest.raises(EvoganError, match=rf"\({tmp_path} is not writable\)$"):
        check_file("-o", tmp_path / "new" / "x.npy")


def test_good_paths_pass_and_a_directory_is_made(tmp_path: Path) -> None:
    check_directory("--out", tmp_path / "a" / "b")
    check_file("-o", tmp_path / "a" / "x.png")
    check_directory("--out", Path("relative") / "run")  # below the working directory
    assert make_directory("--out", tmp_path / "a" / "b").is_dir()


def test_an_os_error_while_writing_is_one_line() -> None:
    full = r"^-o out.npy: cannot write there \(No space left"
    with pytest.raises(EvoganError, match=full), writing("-o", Path("out.npy")):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
