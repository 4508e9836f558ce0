"""Archives are extracted only inside their target folder, and only once."""

from __future__ import annotations

import io
import random
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from sparsett_bench.datasets import archives
from sparsett_bench.datasets.archives import CorruptArchiveError, UnsafeArchiveError, extract


def make_zip(path: Path, members: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, target)
    return path


def make_tar(path: Path, members: dict[str, bytes], symlinks=None, hardlinks=None) -> Path:
    with tarfile.open(path, "w:gz") as t:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        for kind, links in ((tarfile.SYMTYPE, symlinks or {}), (tarfile.LNKTYPE, hardlinks or {})):
            for name, target in links.items():
                info = tarfile.TarInfo(name)
                info.type, info.linkname = kind, target
                t.addfile(info)
    return path


def test_good_archives_extract_once(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / "Couple.zip",
        {"Couple/img/0001.jpg": b"jpg", "Couple/groundtruth_rect.txt": b"1,2,3,4\n"},
        links={"Couple/img/latest.jpg": "0001.jpg"},
    )
    target = tmp_path / "otb"
    assert extract(archive, target) is True
    assert (target / "Couple" / "groundtruth_rect.txt").read_text() == "1,2,3,4\n"
    assert extract(archive, target) is False  # stamped: not again
    tar = make_tar(
        tmp_path / "a.tar.gz",
        {"lasot/airplane-1/groundtruth.txt": b"1,2,3,4\n"},
        symlinks={"lasot/airplane-1/gt.txt": "groundtruth.txt"},
    )
    assert extract(tar, target)
    assert (target / "lasot" / "airplane-1" / "groundtruth.txt").is_file()
    assert not [p for p in target.iterdir() if p.name.startswith(".") and p.is_dir()]


@pytest.mark.parametrize(
    ("builder", "message"),
    [
        (lambda p: make_zip(p / "a.zip", {"../evil.txt": b"x"}), "'../evil.txt' would be written"),
        (lambda p: make_zip(p / "a.zip", {"/etc/evil": b"x"}), "'/etc/evil' would be written"),
        (lambda p: make_zip(p / "a.zip", {"C:/evil": b"x"}), "'C:/evil' would be written"),
        (
            lambda p: make_zip(p / "a.zip", {"ok.txt": b"x"}, links={"l": "../../outside"}),
            "link 'l' -> '../../outside' points outside",
        ),
        (
            lambda p: make_tar(p / "a.tgz", {"ok": b"x"}, symlinks={"d/l": "../../x"}),
            "link 'd/l' -> '../../x' points outside",
        ),
        (
            lambda p: make_tar(p / "a.tgz", {"ok": b"x"}, symlinks={"l": "/etc/passwd"}),
            "points outside",
        ),
        (
            lambda p: make_tar(p / "a.tgz", {"ok": b"x"}, hardlinks={"h": "../../etc/passwd"}),
            "would be written outside",
        ),
    ],
)
def test_escaping_members_are_refused_and_nothing_is_written(
    tmp_path: Path, builder, message: str
) -> None:
    archive = builder(tmp_path)
    target = tmp_path / "root"
    with pytest.raises(UnsafeArchiveError, match=message):
        extract(archive, target)
    assert list(target.iterdir()) == []
    assert not (tmp_path / "evil.txt").exists()


def test_interrupted_extraction_is_not_marked_done(tmp_path: Path, monkeypatch) -> None:
    archive = make_zip(tmp_path / "a.zip", {"a/x.txt": b"x", "b/y.txt": b"y"})
    target = tmp_path / "root"

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(archives, "write_text_atomic", crash)
    with pytest.raises(KeyboardInterrupt):
        extract(archive, target)
    assert not archives.is_extracted(archive, target)
    monkeypatch.undo()
    assert extract(archive, target) is True
    assert (target / "b" / "y.txt").read_text() == "y"


def test_damaged_archives_are_one_error_naming_them(tmp_path: Path) -> None:
    good = make_zip(tmp_path / "good.zip", {"a/x.txt": b"1,2,3,4\n" * 1000})
    data = bytearray(good.read_bytes())
    data[data.index(b"1,2,3,4")] ^= 1  # one flipped bit in the stored member
    (tmp_path / "flipped.zip").write_bytes(bytes(data))
    noise = random.Random(0).randbytes(50_000)  # incompressible, so a cut loses data
    tar = make_tar(tmp_path / "whole.tar.gz", {"a/x.bin": noise}).read_bytes()
    (tmp_path / "cut.tar.gz").write_bytes(tar[: len(tar) // 2])
    (tmp_path / "page.zip").write_bytes(b"<html>Quota exceeded</html>")
    for name, reason in (("flipped.zip", "Bad CRC-32"), ("cut.tar.gz", "cannot be extracted"),
                         ("page.zip", "not a zip or tar archive")):  # fmt: skip
        target = tmp_path / name.split(".")[0]
        with pytest.raises(CorruptArchiveError, match=f"{name}.*{reason}"):
            extract(tmp_path / name, target)
        assert not any(target.iterdir())  # nothing half-extracted, no stamp
