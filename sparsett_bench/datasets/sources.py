"""From the registry's ``download`` tables to a concrete plan: which files, from where, how big,
and where each archive is extracted. `run_plan` then fetches and extracts (see `download` and
`archives`); ``--dry-run`` only prints the plan.

Hugging Face repositories are listed through the Hub's tree API, which also gives every
file's size and, for LFS files, its SHA-256: those are the published checksums we verify.
``HF_ENDPOINT`` (the variable huggingface_hub uses) points the listing and the downloads at a
mirror.
"""

from __future__ import annotations

import fnmatch
import json
import os
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sparsett_bench.datasets.archives import CorruptArchiveError, extract, is_extracted
from sparsett_bench.datasets.download import (
    RemoteFile,
    check_free_space,
    fetch,
    is_verified,
    set_aside,
)
from sparsett_bench.datasets.registry import canonical_name, dataset_info, registry_table
from sparsett_bench.errors import InputFileError, SparsettError

DOWNLOADS = "downloads"


@dataclass(frozen=True)
class PlannedFile:
    remote: RemoteFile
    extract_to: Path | None  # None: keep the file as it is
    checkpoint: bool = False  # a PyTorch checkpoint (no published checksum: its bytes tell)

    @property
    def extracted_and_removed(self) -> bool:
        """Extracted, then the archive deleted to free the space: nothing left to fetch."""
        return (
            self.extract_to is not None
            and not self.remote.path.exists()
            and is_extracted(self.remote.path, self.extract_to)
        )


@dataclass
class Plan:
    title: str
    files: list[PlannedFile] = field(default_factory=list)
    instructions: str | None = None
    note: str | None = None

    @property
    def known_bytes(self) -> int:
        """Bytes still to download, where their sizes are published."""
        return sum(f.remote.size or 0 for f in self._to_fetch())

    @property
    def known_extract_bytes(self) -> int:
        """About as many bytes again for the archives among them, once extracted."""
        return sum(f.remote.size or 0 for f in self._to_fetch() if f.extract_to is not None)

    def _to_fetch(self) -> list[PlannedFile]:
        return [f for f in self.files if not is_verified(f.remote) and not f.extracted_and_removed]

    @property
    def unknown_sizes(self) -> int:
        return sum(f.remote.size is None for f in self.files)


def hf_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def _otb_folders() -> list[str]:
    from sparsett_bench.datasets.otb2015 import SPECS

    return sorted({spec["folder"] for spec in SPECS.values()})


ITEM_LISTS: dict[str, Callable[[], list[str]]] = {"otb2015-folders": _otb_folders}


def dataset_plan(
    dataset: str,
    split: str,
    root: Path,
    list_repo: Callable[[str, str, dict], list[dict]] | None = None,
) -> Plan:
    """The plan to bring ``dataset``'s ``split`` into ``root``."""
    name = canonical_name(dataset)
    if name == "synthetic":
        raise SparsettError(
            "synthetic is rendered on this machine on first use (run --dataset synthetic): "
            "nothing to download"
        )
    splits = dataset_info(name).splits
    if name != "trackingnet" and split not in splits:  # TrackingNet's chunks are checked below
        raise SparsettError(f"{name} has no split {split!r} (its splits: {', '.join(splits)})")
    table = registry_table(name, "download")
    kind = table.get("kind")
    plan = Plan(f"{name} {split}", note=table.get("note"))
    if kind == "template":
        for item in ITEM_LISTS[table["items"]]():
            urls = tuple(url.format(item=item) for url in table["urls"])
            archive = root / DOWNLOADS / f"{item}.zip"
            plan.files.append(PlannedFile(RemoteFile(archive, urls), root))
    elif kind == "huggingface":
        plan.files += _huggingface_files(table, split, root, list_repo or list_hf_folder)
    elif kind == "manual":
        plan.instructions = (
            table["instructions"].replace("<root>", str(root)).replace("<split>", split)
        )
        patterns = table.get("archives", {}).get(split, [])
        folder = root / DOWNLOADS
        found = (
            sorted(
                p for p in folder.iterdir() if any(fnmatch.fnmatch(p.name, pat) for pat in patterns)
            )
            if folder.is_dir()
            else []
        )
        target = root / split if name == "got10k" else root
        plan.files += [PlannedFile(RemoteFile(p, ()), target) for p in found]
    else:
        raise SparsettError(f"datasets.toml: [{name}.download] has unknown kind {kind!r}")
    return plan


def _chunks(split: str) -> list[str]:
    from sparsett_bench.datasets.trackingnet import chunks_for

    return list(chunks_for(split))


def _huggingface_files(table: dict, split: str, root: Path, list_repo) -> list[PlannedFile]:
    headers = {}
    if table.get("token_env"):
        token = os.environ.get(table["token_env"])
        if not token:
            raise SparsettError(
                f"{table['repo']} is gated on the Hugging Face Hub: accept its "
                f"terms on the dataset page and set {table['token_env']}"
            )
        headers["Authorization"] = f"Bearer {token}"
    folders = (
        [table["folder"].format(chunk=c) for c in _chunks(split)]
        if "{chunk}" in table["folder"]
        else [table["folder"]]
    )
    files = []
    for folder in folders:
        for entry in list_repo(table["repo"], folder, headers):
            path = entry["path"]
            if entry.get("type") != "file" or not path.endswith(table.get("suffix", "")):
                continue
            lfs = entry.get("lfs") or {}
            url = (
                f"{hf_endpoint()}/datasets/{table['repo']}/resolve/main/{urllib.parse.quote(path)}"
            )
            target = _extract_target(table, path, root)
            remote = RemoteFile(
                # an archive waits in downloads/ for extraction; any other file (TrackingNet's
                # <chunk>/anno/*.txt) goes where the dataset's layout has it
                root / DOWNLOADS / path if target is not None else root / path,
                (url,),
                size=entry.get("size"),
                sha256=lfs.get("oid"),
                headers=tuple(headers.items()),
            )
            files.append(PlannedFile(remote, target))
    return files


def _extract_target(table: dict, path: str, root: Path) -> Path | None:
    if not path.endswith(".zip"):
        return None
    pure = Path(path)
    if "zips_into" in table:
        chunk = pure.parts[0]
        return root / table["zips_into"].format(chunk=chunk, stem=pure.stem)
    return root


def list_hf_folder(repo: str, folder: str, headers: dict) -> list[dict]:
    """Every file under ``folder`` of a Hub dataset repository (recursively, all pages)."""
    url = f"{hf_endpoint()}/api/datasets/{repo}/tree/main/{urllib.parse.quote(folder)}"
    url += "?recursive=true"
    entries: list[dict] = []
    while url:
        request = urllib.request.Request(url, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                entries += json.loads(response.read())
                url = _next_link(response.headers.get("Link", ""))
        except (OSError, json.JSONDecodeError) as exc:
            raise SparsettError(
                f"could not list {repo}/{folder} on {hf_endpoint()}: {exc}"
            ) from None
    return entries


def _next_link(header: str) -> str | None:
    for part in header.split(","):
        if 'rel="next"' in part:
            return part.split(";")[0].strip().strip("<>")
    return None


def single_file_plan(section: str, name: str, folder: Path) -> Plan:
    """``results.<name>`` or ``models.<name>``: one file into ``folder``."""
    try:
        table = registry_table(section, name)
    except SparsettError:
        known = ", ".join(sorted(registry_table(section)))
        raise SparsettError(f"unknown {section[:-1]} {name!r}; known: {known}") from None
    remote = RemoteFile(
        folder / table["file"],
        tuple(table["urls"]),
        size=table.get("size"),
        sha256=table.get("sha256"),
        md5=table.get("md5"),
    )
    extract_to = folder / name if table["file"].endswith(".zip") else None
    planned = PlannedFile(remote, extract_to, checkpoint=section == "models")
    return Plan(table.get("title", name), [planned])


def _looks_like_checkpoint(path: Path) -> bool:
    """``torch.save``'s zip format, or its legacy pickle (protocol 2 and up)."""
    with path.open("rb") as handle:
        head = handle.read(4)
    return head == b"PK\x03\x04" or (len(head) == 4 and head[0] == 0x80 and head[1] >= 2)


def run_plan(plan: Plan, progress=None) -> tuple[int, int]:
    """Fetch and extract everything; returns (files downloaded, archives extracted)."""
    if not plan.files:
        if plan.instructions:
            raise SparsettError(f"{plan.title}: no archives placed yet (see the instructions)")
        raise SparsettError(f"{plan.title}: nothing to download")
    folder = plan.files[0].remote.path.parent
    check_free_space(folder, plan.known_bytes + plan.known_extract_bytes)
    downloaded = extracted = 0
    for planned in plan.files:
        if planned.extracted_and_removed:
            continue
        if planned.remote.urls:
            downloaded += fetch(planned.remote, progress)
        elif not planned.remote.path.is_file():
            raise InputFileError(planned.remote.path, "expected archive is missing")
        if planned.checkpoint and not _looks_like_checkpoint(planned.remote.path):
            corrupt = set_aside(planned.remote)
            raise SparsettError(
                f"{planned.remote.path}: not a PyTorch checkpoint (a web page, or cut short?); "
                f"moved to {corrupt.name}, run download again to fetch it anew"
            )
        if planned.extract_to is not None and not is_extracted(
            planned.remote.path, planned.extract_to
        ):
            try:
                extracted += extract(planned.remote.path, planned.extract_to)
            except CorruptArchiveError as exc:
                if not planned.remote.urls:  # the user's own copy: theirs to replace
                    raise SparsettError(f"{exc}; replace the file") from None
                corrupt = set_aside(planned.remote)
                raise SparsettError(
                    f"{exc}; moved to {corrupt.name}, run download again to fetch it anew"
                ) from None
    return downloaded, extracted
