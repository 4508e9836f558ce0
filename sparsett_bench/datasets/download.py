"""Resumable, verified downloads with mirrors: the machinery behind ``sparsett-bench download``.

A `RemoteFile` names a destination, its mirrors in order of preference, and the size and
checksum when they are published. `fetch` then:

* skips the file when it is already there and verified (a ``.verified`` stamp records the
  size, mtime and digest, so a 90 GB archive is hashed once, not on every run);
* downloads into ``<file>.part``, resuming with an HTTP ``Range`` request when a part
  exists (a server that answers 200 instead of 206 restarts the part cleanly);
* passes Google Drive's "can't scan this file for viruses" page by submitting its
  confirmation form (or its ``download_warning`` cookie); any other HTML page where a file
  was expected (quota, login), before or after that form, is a failure of that mirror;
* sends an ``Authorization`` header (the Hub's token) to the mirror's host only, never to the
  host a redirect leads to;
* checks the size and checksum before renaming the part into place; a mismatch is
  reported with expected and actual values, the bytes are moved aside to ``<file>.corrupt``
  (kept for inspection until a verified copy takes its place, then deleted) and never used;
  when the part had been resumed from an earlier run, the file is fetched once more from its
  first byte;
* retries a dropped connection (resuming; a 404 or 410 is not retried), then tries the next
  mirror, and reports every mirror's reason if all fail; a part the server answers 416 for
  (no byte after it) is the whole file, from a run stopped before its rename.

`check_free_space` refuses to start when the destination's file system lacks the space.
Only the standard library is used (``urllib``), so downloads need nothing extra installed.
"""

from __future__ import annotations

import hashlib
import html.parser
import http.client
import http.cookiejar
import json
import os
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sparsett_bench.atomic import write_text_atomic
from sparsett_bench.errors import SparsettError

CHUNK = 1 << 20


class DownloadError(SparsettError):
    """Every mirror of a file failed; the message lists each mirror's reason."""


class ChecksumError(SparsettError):
    """Downloaded bytes do not match the published size or checksum."""


class DiskSpaceError(SparsettError):
    """Not enough free space for the planned downloads."""


@dataclass(frozen=True)
class RemoteFile:
    path: Path
    urls: tuple[str, ...]
    size: int | None = None
    sha256: str | None = None
    md5: str | None = None
    headers: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def digest_name(self) -> str | None:
        return "sha256" if self.sha256 else "md5" if self.md5 else None

    @property
    def digest(self) -> str | None:
        return (self.sha256 or self.md5 or "").lower() or None


Progress = Callable[[str, int, int | None], None]  # (file name, bytes done, total or None)


def _stamp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.verified")


def is_verified(remote: RemoteFile) -> bool:
    """True when the file is present and matches what a previous verification recorded."""
    path = remote.path
    if not path.is_file():
        return False
    stat = path.stat()
    if remote.size is not None and stat.st_size != remote.size:
        return False
    try:
        stamp = json.loads(_stamp_path(path).read_text())
    except (OSError, json.JSONDecodeError):
        return remote.size is not None and remote.digest is None  # size is all we can check
    return stamp == {
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "digest": remote.digest or "",
    }


def set_aside(remote: RemoteFile) -> Path:
    """Move a verified file that proved unusable (an archive that does not extract: its size
    and digest were not published, so a cut transfer passed) to ``<file>.corrupt`` and forget
    its verification, so that the next `fetch` downloads it anew; returns where it went."""
    corrupt = _set_aside_path(remote.path)
    os.replace(remote.path, corrupt)
    _stamp_path(remote.path).unlink(missing_ok=True)
    return corrupt


def verify(path: Path, remote: RemoteFile) -> None:
    """Raise `ChecksumError` unless ``path`` has the published size and digest."""
    size = path.stat().st_size
    if remote.size is not None and size != remote.size:
        raise ChecksumError(f"{path}: size {size} bytes, expected {remote.size}")
    if remote.digest_name:
        digest = file_digest(path, remote.digest_name)
        if digest != remote.digest:
            raise ChecksumError(f"{path}: {remote.digest_name} {digest}, expected {remote.digest}")


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """The file's hex digest, read in blocks."""
    hasher = hashlib.new(algorithm)
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            hasher.update(block)
    return hasher.hexdigest().lower()


def fetch(
    remote: RemoteFile, progress: Progress | None = None, retries: int = 2, timeout: float = 60.0
) -> bool:
    """Make ``remote.path`` present and verified; returns False when it already was."""
    if is_verified(remote):
        return False
    path = remote.path
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file():  # present but never verified here: check it rather than download
        try:
            verify(path, remote)
            _record(path, remote)
            _set_aside_path(path).unlink(missing_ok=True)
            return False
        except ChecksumError:
            os.replace(path, _set_aside_path(path))
    reasons = []
    for url in remote.urls:
        for attempt in range(retries + 1):
            resumed = _part(path).exists()
            try:
                _transfer(url, remote, progress, timeout)
                part = _part(path)
                verify(part, remote)
                os.replace(part, path)
                _record(path, remote)
                _set_aside_path(path).unlink(missing_ok=True)  # up to a 90 GB archive
                return True
            except ChecksumError as exc:
                part = _part(path)
                if part.exists():
                    os.replace(part, _set_aside_path(path))
                if resumed and attempt < retries:
                    continue  # the stale part may hold other bytes: once more from byte 0
                reasons.append(f"{url}: {exc}")
                break  # the same mirror would serve the same bytes
            except (
                OSError,
                urllib.error.URLError,
                http.client.HTTPException,
                _TransferError,
            ) as exc:
                if isinstance(exc, urllib.error.HTTPError):
                    reason = f"HTTP {exc.code} {exc.reason}"
                else:
                    reason = getattr(exc, "reason", None) or exc
                permanent = isinstance(exc, urllib.error.HTTPError) and exc.code in (404, 410)
                if attempt == retries or permanent:  # a missing file stays missing
                    reasons.append(f"{url}: {reason}")
                    break
                time.sleep(min(2.0**attempt, 10.0) * 0.1)
    raise DownloadError(f"could not download {path.name}:\n  " + "\n  ".join(reasons))


def _part(path: Path) -> Path:
    return path.with_name(path.name + ".part")


def _set_aside_path(path: Path) -> Path:
    """Where the bytes that failed verification (or extraction) of ``path`` are kept."""
    return path.with_name(path.name + ".corrupt")


def _record(path: Path, remote: RemoteFile) -> None:
    stat = path.stat()
    write_text_atomic(
        _stamp_path(path),
        json.dumps(
            {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "digest": remote.digest or ""}
        ),
    )


class _TransferError(Exception):
    pass


def _transfer(url: str, remote: RemoteFile, progress: Progress | None, timeout: float) -> None:
    """Download ``url`` into the part file, resuming what is there."""
    part = _part(remote.path)
    done = part.stat().st_size if part.exists() else 0
    if remote.size is not None and done > remote.size:
        part.unlink()
        done = 0
    if remote.size is not None and done == remote.size:
        return
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _SameHostAuthorization
    )
    try:
        response = _open(opener, url, remote.headers, done, timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and done:  # no byte left after the part's: it is the whole file
            return
        raise
    with response:
        if response.status == 206:
            start = _content_range_start(response.headers.get("Content-Range", ""))
            if start != done:
                raise _TransferError(f"server resumed at byte {start}, not {done}")
            mode = "ab"
        elif response.status == 200:
            done, mode = 0, "wb"  # no resume support: start over
        else:
            raise _TransferError(f"HTTP {response.status}")
        total = _total(response, done, remote.size)
        with part.open(mode) as handle:
            for block in iter(lambda: response.read(CHUNK), b""):
                handle.write(block)
                done += len(block)
                if progress:
                    progress(remote.path.name, done, total)
    if total is not None and done < total:
        raise _TransferError(f"connection closed after {done} of {total} bytes")


def _open(opener, url: str, headers, done: int, timeout: float):
    request = urllib.request.Request(url, headers=dict(headers))
    if done:
        request.add_header("Range", f"bytes={done}-")
    response = opener.open(request, timeout=timeout)
    if _is_html(response):  # no archive is served as HTML
        page = response.read(1 << 20).decode("utf-8", errors="replace")
        response.close()
        confirmed = _google_drive_confirmation(url, page, opener)
        if confirmed is None:
            raise _TransferError(NOT_THE_FILE)
        request = urllib.request.Request(confirmed, headers=dict(headers))
        if done:
            request.add_header("Range", f"bytes={done}-")
        response = opener.open(request, timeout=timeout)
        if _is_html(response):  # past the confirmation, Drive's quota page
            response.close()
            raise _TransferError(NOT_THE_FILE)
    return response


NOT_THE_FILE = "the server sent an HTML page instead of the file (a quota, login or error page)"


def _is_html(response) -> bool:
    return "text/html" in response.headers.get("Content-Type", "")


class _SameHostAuthorization(urllib.request.HTTPRedirectHandler):
    """Follows redirects, dropping ``Authorization`` when one leads to another host: the Hub
    redirects to storage hosts that must not receive the user's token."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if (
            new is not None
            and urllib.parse.urlsplit(newurl).netloc != urllib.parse.urlsplit(req.full_url).netloc
        ):
            for name in [k for k in new.headers if k.lower() == "authorization"]:
                del new.headers[name]
        return new


class _FormParser(html.parser.HTMLParser):
    """The confirmation page's ``<form action=...>`` and its hidden inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = values.get("action")
        elif tag == "input" and values.get("type") == "hidden" and values.get("name"):
            self.fields[values["name"]] = values.get("value") or ""


def _google_drive_confirmation(url: str, page: str, opener) -> str | None:
    """The URL that skips Drive's virus-scan warning, from its form or its cookie."""
    parser = _FormParser()
    parser.feed(page)
    if parser.action and "confirm" in parser.fields:
        action = urllib.parse.urljoin(url, parser.action)
        return f"{action}?{urllib.parse.urlencode(parser.fields)}"
    for cookie in _cookies(opener):
        if cookie.name.startswith("download_warning"):
            return _with_query(url, confirm=cookie.value)
    return None


def _cookies(opener) -> list:
    for handler in opener.handlers:
        if isinstance(handler, urllib.request.HTTPCookieProcessor):
            return list(handler.cookiejar)
    return []


def _with_query(url: str, **params: str) -> str:
    parts = urllib.parse.urlparse(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    query.update(params)
    return urllib.parse.urlunparse(parts._replace(query=urllib.parse.urlencode(query)))


def _content_range_start(value: str) -> int | None:
    try:
        return int(value.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def _total(response, done: int, size: int | None) -> int | None:
    length = response.headers.get("Content-Length")
    if length is not None and length.isdigit():
        return done + int(length)
    return size


def check_free_space(folder: Path, needed: int, margin: float = 0.05) -> None:
    """Refuse (naming the folder, bytes needed and free) unless ``needed`` bytes fit."""
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    if needed * (1 + margin) > free:
        raise DiskSpaceError(
            f"{folder}: {_human(needed)} needed (plus {margin:.0%} margin), "
            f"only {_human(free)} free"
        )


def _human(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if count < 1000 or unit == "TB":
            return f"{count:.1f} {unit}" if unit != "B" else f"{int(count)} B"
        count /= 1000
    return f"{count:.1f} TB"
