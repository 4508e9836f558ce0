"""Downloads against a local HTTP server on 127.0.0.1 that this test starts and stops."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from sparsett_bench.datasets import download
from sparsett_bench.datasets.download import RemoteFile
from tests.datasets.local_http import Server

DATA = bytes(range(256)) * 4096  # 1 MiB
SHA = hashlib.sha256(DATA).hexdigest()


def remote(tmp_path: Path, *urls: str, sha256: str | None = SHA, size: int | None = len(DATA)):
    return RemoteFile(tmp_path / "data" / "x.zip", tuple(urls), size=size, sha256=sha256)


def test_cut_transfer_resumes_where_it_stopped(server: Server, tmp_path: Path) -> None:
    server.routes["/x.zip"] = DATA
    server.behaviour["/x.zip"] = "cut"
    assert download.fetch(remote(tmp_path, f"{server.url}/x.zip"), retries=1)
    assert (tmp_path / "data" / "x.zip").read_bytes() == DATA
    assert [r for _, r in server.log] == [None, f"bytes={len(DATA) // 2}-"]
    assert not (tmp_path / "data" / "x.zip.part").exists()


def test_second_run_downloads_nothing(server: Server, tmp_path: Path) -> None:
    server.routes["/x.zip"] = DATA
    target = remote(tmp_path, f"{server.url}/x.zip")
    assert download.fetch(target) is True
    assert download.fetch(target) is False
    assert len(server.log) == 1


def test_checksum_mismatch_is_reported_and_the_bytes_are_not_used(
    server: Server, tmp_path: Path
) -> None:
    server.routes["/x.zip"] = DATA[:-1] + b"!"
    with pytest.raises(download.DownloadError, match=f"expected {SHA}"):
        download.fetch(remote(tmp_path, f"{server.url}/x.zip"))
    assert not (tmp_path / "data" / "x.zip").exists()
    assert (tmp_path / "data" / "x.zip.corrupt").read_bytes().endswith(b"!")
    server.routes["/x.zip"] = DATA  # the mirror mended: the kept bad copy goes once this arrives
    assert download.fetch(remote(tmp_path, f"{server.url}/x.zip"))
    assert (tmp_path / "data" / "x.zip").read_bytes() == DATA
    assert not (tmp_path / "data" / "x.zip.corrupt").exists()


def test_failing_mirror_falls_back_to_the_next(server: Server, tmp_path: Path) -> None:
    server.routes["/good/x.zip"] = DATA
    server.behaviour["/bad/x.zip"] = "error"
    urls = (f"{server.url}/bad/x.zip", f"{server.url}/missing/x.zip", f"{server.url}/good/x.zip")
    assert download.fetch(remote(tmp_path, *urls), retries=0)
    assert [p for p, _ in server.log] == ["/bad/x.zip", "/missing/x.zip", "/good/x.zip"]
    with pytest.raises(download.DownloadError) as error:
        download.fetch(remote(tmp_path / "other", *urls[:2]), retries=0)
    assert "500" in str(error.value) and "404" in str(error.value)


def test_server_without_range_support_restarts_cleanly(server: Server, tmp_path: Path) -> None:
    server.routes["/x.zip"] = DATA
    server.behaviour["/x.zip"] = "norange"
    part = tmp_path / "data" / "x.zip.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"garbage from an older attempt")
    assert download.fetch(remote(tmp_path, f"{server.url}/x.zip"))
    assert (tmp_path / "data" / "x.zip").read_bytes() == DATA


def test_google_drive_confirmation_step(server: Server, tmp_path: Path) -> None:
    server.routes["/gdrive"] = DATA
    server.behaviour["/gdrive"] = "gdrive"
    assert download.fetch(remote(tmp_path, f"{server.url}/gdrive?id=abc&export=download"))
    assert (tmp_path / "data" / "x.zip").read_bytes() == DATA
    assert server.log[1][0] == "/gdrive?id=abc&confirm=t&uuid=u1"


def test_html_instead_of_a_file_is_a_failure(server: Server, tmp_path: Path) -> None:
    server.behaviour["/quota"] = "html"
    with pytest.raises(download.DownloadError, match="an HTML page instead of the file"):
        download.fetch(remote(tmp_path, f"{server.url}/quota"), retries=0)
    assert not (tmp_path / "data" / "x.zip").exists()


def test_a_quota_page_after_the_drive_confirmation_is_a_failure(
    server: Server, tmp_path: Path
) -> None:
    server.routes["/gdrive"] = DATA
    server.behaviour["/gdrive"] = "gdrive-quota"
    unpublished = remote(tmp_path, f"{server.url}/gdrive?id=abc", sha256=None, size=None)
    with pytest.raises(download.DownloadError, match="an HTML page instead of the file"):
        download.fetch(unpublished, retries=0)
    assert not (tmp_path / "data" / "x.zip").exists()
    assert not download.is_verified(unpublished)


def test_a_chunked_transfer_cut_short_is_retried(server: Server, tmp_path: Path) -> None:
    server.routes["/x.zip"] = DATA
    server.behaviour["/x.zip"] = "chunked-cut"
    assert download.fetch(remote(tmp_path, f"{server.url}/x.zip"), retries=1)
    assert (tmp_path / "data" / "x.zip").read_bytes() == DATA
    assert len(server.log) == 2


def test_the_token_is_not_sent_to_another_host_on_a_redirect(server: Server, tmp_path: Path):
    server.routes["/moved/x.zip"] = DATA
    server.behaviour["/x.zip"] = "elsewhere"  # 302 to localhost, another host name
    target = RemoteFile(tmp_path / "x.zip", (f"{server.url}/x.zip",), size=len(DATA),
                        sha256=SHA, headers=(("Authorization", "Bearer SECRET"),))  # fmt: skip
    assert download.fetch(target, retries=0)
    assert [p for p, _ in server.log] == ["/x.zip", "/moved/x.zip"]
    assert server.authorization == ["Bearer SECRET", None]


def test_a_stale_part_that_fails_the_checksum_is_fetched_again_whole(
    server: Server, tmp_path: Path
) -> None:
    server.routes["/x.zip"] = DATA
    part = tmp_path / "data" / "x.zip.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"bytes of an older release")  # resumed from, they spoil the checksum
    assert download.fetch(remote(tmp_path, f"{server.url}/x.zip"), retries=1)
    assert (tmp_path / "data" / "x.zip").read_bytes() == DATA
    assert [r for _, r in server.log] == ["bytes=25-", None]


def test_a_complete_part_of_unpublished_size_is_the_file(server: Server, tmp_path) -> None:
    """An earlier run was stopped after the last byte, before the rename: the server answers
    416 (nothing after that byte), which means the part is whole."""
    server.routes["/x.zip"] = DATA
    part = tmp_path / "data" / "x.zip.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(DATA)
    assert download.fetch(remote(tmp_path, f"{server.url}/x.zip", sha256=None, size=None))
    assert (tmp_path / "data" / "x.zip").read_bytes() == DATA
    assert [r for _, r in server.log] == [f"bytes={len(DATA)}-"]


def test_a_missing_file_is_not_asked_for_again(server: Server, tmp_path: Path) -> None:
    with pytest.raises(download.DownloadError, match="HTTP 404"):
        download.fetch(remote(tmp_path, f"{server.url}/gone.zip"), retries=2)
    assert len(server.log) == 1


def test_full_disk_is_refused_before_starting(tmp_path: Path, monkeypatch) -> None:
    usage = shutil.disk_usage(tmp_path)._replace(free=10**6)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage)
    with pytest.raises(download.DiskSpaceError, match=r"1.0 GB needed .* only 1.0 MB free"):
        download.check_free_space(tmp_path / "not" / "yet", 10**9)
    download.check_free_space(tmp_path, 10**5)
