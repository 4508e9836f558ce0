"""Download plans from the registry, run against a local Hugging Face look-alike on 127.0.0.1."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest

from sparsett_bench.datasets import sources
from sparsett_bench.errors import SparsettError
from tests.datasets.local_http import Server


def zipped(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, text in members.items():
            z.writestr(name, text)
    return buffer.getvalue()


def publish(server: Server, repo: str, folder: str, files: dict[str, bytes]) -> None:
    """Serve ``files`` as the Hub would: a tree listing with sizes and SHA-256, and resolve."""
    listing = []
    for path, data in files.items():
        listing.append(
            {
                "type": "file",
                "path": path,
                "size": len(data),
                "lfs": {"oid": hashlib.sha256(data).hexdigest(), "size": len(data)},
            }
        )
        server.routes[f"/datasets/{repo}/resolve/main/{path}"] = data
    server.routes[f"/api/datasets/{repo}/tree/main/{folder}"] = json.dumps(listing).encode()


def test_otb_plan_is_one_zip_per_sequence_folder(tmp_path: Path) -> None:
    plan = sources.dataset_plan("otb2015", "test", tmp_path)
    names = [f.remote.path.name for f in plan.files]
    assert len(names) == 98 and "Jogging.zip" in names and "Human4.zip" in names
    basketball = plan.files[names.index("Basketball.zip")]
    assert basketball.remote.urls == (
        "http://cvlab.hanyang.ac.kr/tracker_benchmark/seq/Basketball.zip",
    )
    assert basketball.extract_to == tmp_path


def test_lasot_from_the_hub_with_published_checksums(
    server: Server, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    publish(
        server,
        "l-lt/LaSOT",
        "",
        {
            "airplane.zip": zipped({"airplane/airplane-1/groundtruth.txt": "1,2,3,4\n"}),
            "bear.zip": zipped({"bear/bear-2/groundtruth.txt": "5,6,7,8\n"}),
            "README.md": b"not an archive",
        },
    )
    plan = sources.dataset_plan("lasot", "test", tmp_path)
    assert [f.remote.path.name for f in plan.files] == ["airplane.zip", "bear.zip"]
    assert all(f.remote.sha256 and f.remote.size for f in plan.files)
    assert sources.run_plan(plan) == (2, 2)
    assert (tmp_path / "bear" / "bear-2" / "groundtruth.txt").read_text() == "5,6,7,8\n"
    requests = len(server.log)
    assert sources.run_plan(sources.dataset_plan("lasot", "test", tmp_path)) == (0, 0)
    assert len(server.log) == requests + 1  # only the listing again


def test_trackingnet_is_gated_and_unpacks_sequences_into_frames(
    server: Server, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    with pytest.raises(SparsettError, match="gated on the Hugging Face Hub"):
        sources.dataset_plan("trackingnet", "test", tmp_path)
    monkeypatch.setenv("HF_TOKEN", "secret")
    publish(
        server,
        "SilvioGiancola/TrackingNet",
        "TEST",
        {
            "TEST/anno/abc_0.txt": b"1,2,3,4\n",
            "TEST/zips/abc_0.zip": zipped({"0.jpg": "jpg", "1.jpg": "jpg"}),
        },
    )
    sources.run_plan(sources.dataset_plan("trackingnet", "test", tmp_path))
    assert (tmp_path / "TEST" / "anno" / "abc_0.txt").read_bytes() == b"1,2,3,4\n"
    assert sorted(
        p.name
        for p in (tmp_path / "TEST" / "frames" / "abc_0").iterdir()
        if not p.name.startswith(".")
    ) == ["0.jpg", "1.jpg"]
    assert set(server.authorization) == {"Bearer secret"}
    from sparsett_bench.datasets.loaders import load_sequences

    (abc,) = load_sequences("trackingnet", tmp_path, "test")  # the layout the loader reads
    assert abc.name == "abc_0" and len(abc.frame_paths) == 2


def test_got10k_verifies_and_extracts_what_the_user_placed(tmp_path: Path) -> None:
    plan = sources.dataset_plan("got10k", "val", tmp_path)
    assert plan.files == [] and "got-10k.aitestunion.com" in plan.instructions
    with pytest.raises(SparsettError, match="no archives placed yet"):
        sources.run_plan(plan)
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / "val_data.zip").write_bytes(
        zipped({"list.txt": "GOT-10k_Val_000001\n"})
    )
    assert sources.run_plan(sources.dataset_plan("got10k", "val", tmp_path)) == (0, 1)
    assert (tmp_path / "val" / "list.txt").read_text() == "GOT-10k_Val_000001\n"
    from typer.testing import CliRunner

    from sparsett_bench.cli import app

    said = CliRunner().invoke(
        app, ["download", "got10k", "--split", "val", "--root", str(tmp_path)]
    )
    assert said.exit_code == 0, said.output  # it said every file had been checked
    assert "1 of 1 files placed by hand, with no published checksum" in " ".join(
        said.output.split()
    )


def test_models_and_results_have_real_sources(tmp_path: Path) -> None:
    plan = sources.single_file_plan("models", "sparsett-got10k", tmp_path)
    assert "1YJXPVLCqUjffdV7BdodnBHLafk6m5-US" in plan.files[0].remote.urls[0]
    assert sources.single_file_plan("results", "transt", tmp_path).files[0].extract_to == (
        tmp_path / "transt"
    )
    with pytest.raises(SparsettError, match="unknown model 'nope'"):
        sources.single_file_plan("models", "nope", tmp_path)


def test_download_command_dry_run_then_run(server: Server, tmp_path: Path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from sparsett_bench.cli import app

    monkeypatch.setenv("HF_ENDPOINT", server.url)
    publish(
        server, "l-lt/LaSOT", "", {"cat.zip": zipped({"cat/cat-1/groundtruth.txt": "1,2,3,4\n"})}
    )
    runner = CliRunner()
    dry = runner.invoke(app, ["download", "lasot", "--root", str(tmp_path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "cat.zip" in dry.output and "to fetch" in dry.output
    assert not (tmp_path / "downloads").exists()
    real = runner.invoke(app, ["download", "lasot", "--root", str(tmp_path), "-q"])
    assert real.exit_code == 0, real.output
    assert "1 files downloaded, 1 archives extracted" in real.output
    said = " ".join(real.output.split())
    assert "every file checked against its published checksum" in said  # the Hub's LFS sha256
    assert (tmp_path / "cat" / "cat-1" / "groundtruth.txt").is_file()


def test_a_fetched_archive_that_does_not_extract_is_fetched_anew(server: Server, tmp_path) -> None:
    """No size or checksum is published for OTB's zips: a transfer cut short without a
    Content-Length passes as complete, and only extraction shows it."""
    from sparsett_bench.datasets.download import RemoteFile

    good = zipped({"Basketball/groundtruth_rect.txt": "1,2,3,4\n" * 100})
    server.routes["/Basketball.zip"] = good[: len(good) // 2]
    archive = tmp_path / "downloads" / "Basketball.zip"
    plan = sources.Plan("otb2015 test", [
        sources.PlannedFile(RemoteFile(archive, (f"{server.url}/Basketball.zip",)), tmp_path)
    ])  # fmt: skip
    with pytest.raises(SparsettError, match=r"moved to Basketball\.zip\.corrupt, run download"):
        sources.run_plan(plan)
    assert not archive.exists()
    server.routes["/Basketball.zip"] = good
    assert sources.run_plan(plan) == (1, 1)
    assert (tmp_path / "Basketball" / "groundtruth_rect.txt").is_file()


def test_an_extracted_archive_deleted_to_free_space_is_not_fetched_again(
    server: Server, tmp_path: Path
) -> None:
    from sparsett_bench.datasets.download import RemoteFile

    def plan() -> sources.Plan:
        archive = RemoteFile(tmp_path / "downloads" / "cat.zip", (f"{server.url}/cat.zip",))
        return sources.Plan("lasot test", [sources.PlannedFile(archive, tmp_path)])

    server.routes["/cat.zip"] = zipped({"cat-1/groundtruth.txt": "1,2,3,4\n"})
    assert sources.run_plan(plan()) == (1, 1)
    (tmp_path / "downloads" / "cat.zip").unlink()
    assert sources.run_plan(plan()) == (0, 0) and plan().known_bytes == 0
    assert len(server.log) == 1
    # a new release placed over the old archive is extracted again
    release = {"cat-1/groundtruth.txt": "5,6,7,8\n9,9,9,9\n"}  # another size
    (tmp_path / "downloads" / "cat.zip").write_bytes(zipped(release))
    assert sources.run_plan(plan()) == (0, 1)
    assert (tmp_path / "cat-1" / "groundtruth.txt").read_text() == release["cat-1/groundtruth.txt"]


def test_a_checkpoint_that_is_not_one_is_set_aside(server: Server, tmp_path) -> None:
    """No checksum is published for the official weights: a junk file already there, or a
    web page served in their place, is told by its first bytes."""
    import torch

    from sparsett_bench.datasets.download import RemoteFile

    weights = io.BytesIO()
    torch.save({"state_dict": {"w": torch.zeros(2)}}, weights)
    server.routes["/model.pkl"] = weights.getvalue()
    path = tmp_path / "models" / "model.pkl"
    path.parent.mkdir()
    path.write_text("junk\n")
    plan = sources.Plan("model", [
        sources.PlannedFile(RemoteFile(path, (f"{server.url}/model.pkl",)), None, checkpoint=True)
    ])  # fmt: skip
    refused = r"model\.pkl: not a PyTorch checkpoint .*moved to model\.pkl\.corrupt, run download"
    with pytest.raises(SparsettError, match=refused):
        sources.run_plan(plan)
    assert sources.run_plan(plan) == (1, 0)
    assert torch.load(path, weights_only=True)["state_dict"]["w"].tolist() == [0.0, 0.0]
    assert not path.with_name("model.pkl.corrupt").exists()


def test_space_for_extraction_is_asked_for_archives_only(tmp_path: Path) -> None:
    from sparsett_bench.datasets.download import RemoteFile

    plan = sources.Plan("mixed", [
        sources.PlannedFile(RemoteFile(tmp_path / "a.zip", ("u",), size=100), tmp_path / "a"),
        sources.PlannedFile(RemoteFile(tmp_path / "w.pth", ("u",), size=50), None),
    ])  # fmt: skip
    assert (plan.known_bytes, plan.known_extract_bytes) == (150, 100)
