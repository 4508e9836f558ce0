"""The training loop on the real OTB sequences with sparsett-tiny: exact resume after an
interrupt, and a 2-process gloo run equal to a 1-process run with the same total batch."""

from __future__ import annotations

import copy
import math
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from sparsett_bench.errors import SparsettError
from sparsett_bench.training.recipe import load_recipe
from sparsett_bench.training.trainer import (
    TrainOptions,
    lr_at,
    schedule_extension_error,
    train,
)
from tests.conftest import needs_gpus, shared_path


@pytest.fixture(scope="module")
def recipe() -> dict:
    """The official recipe shrunk to seconds: 4 pairs per step in BatchNorm batches of 2,
    pairs drawn from the four real OTB sequences."""
    root = shared_path("sequences", "otb")
    recipe = copy.deepcopy(load_recipe("got10k"))
    recipe["schedule"].update(batch_size=4, bn_batch=2, pairs_per_epoch=12, epochs=2)
    recipe["optimizer"]["lr_stages"] = [[1, 1e-4], [2, 1e-5]]
    recipe["sources"] = [{
        "dataset": "otb2015", "split": "test", "root": str(root), "ratio": 1.0,
        "sequences": ["Couple", "Crossing", "Football1", "Basketball"],
    }]  # fmt: skip
    return recipe


def options(recipe: dict, out: Path, **overrides) -> TrainOptions:
    return TrainOptions(model="sparsett-tiny", recipe=recipe, out=out, threads=1, **overrides)


def weights(out: Path) -> dict[str, torch.Tensor]:
    return torch.load(out / "checkpoint.pth", weights_only=True)["model"]


def logged_losses(out: Path) -> list[float]:
    import json

    return [json.loads(line)["total"] for line in (out / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def uninterrupted(recipe, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("uninterrupted")
    result = train(options(recipe, out))
    assert (result.step, result.total_steps, result.interrupted) == (6, 6, False)
    return out


def test_the_official_learning_rate_stages() -> None:
    stages = load_recipe("got10k")["optimizer"]["lr_stages"]
    assert [lr_at(stages, e) for e in (0, 9, 10, 14, 15, 19)] == [
        1e-4, 1e-4, 1e-5, 1e-5, 1e-6, 1e-6
    ]  # fmt: skip


def test_a_run_logs_every_step_and_saves_each_epoch(uninterrupted: Path) -> None:
    import json

    lines = [json.loads(x) for x in (uninterrupted / "metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == [1, 2, 3, 4, 5, 6]
    assert [x["lr"] for x in lines] == [1e-4] * 3 + [1e-5] * 3
    assert all(x["total"] > 0 for x in lines)
    assert (uninterrupted / "epoch-00.pth").is_file() and (uninterrupted / "epoch-01.pth").is_file()
    from sparsett_bench.model.config import build_model

    assert build_model("sparsett-tiny").load(uninterrupted / "epoch-01.pth") == "sparsett-tiny"
    assert (uninterrupted / "latest.pth").read_bytes() == (
        uninterrupted / "epoch-01.pth"
    ).read_bytes()


def test_a_run_stopped_mid_epoch_leaves_weights_to_run_and_resumes_in_its_precision(
    recipe, tmp_path
) -> None:
    from sparsett_bench.model.config import build_model

    result = train(options(recipe, tmp_path, max_steps=2))  # epochs are 3 steps long
    assert result.step == 2 and not list(tmp_path.glob("epoch-*.pth"))
    assert build_model("sparsett-tiny").load(tmp_path / "latest.pth") == "sparsett-tiny"
    with pytest.raises(SparsettError, match=r"trained under --precision fp32; resume with it"):
        train(options(recipe, tmp_path, resume=True, precision="bf16"))


def test_interrupted_then_resumed_ends_with_the_same_weights(recipe, uninterrupted, tmp_path):
    def interrupt_after_step_4(record: dict) -> None:
        if record["step"] == 4:  # mid-epoch: the sampler position must be restored too
            os.kill(os.getpid(), signal.SIGINT)

    first = train(options(recipe, tmp_path), interrupt_after_step_4)
    assert first.interrupted and first.step == 4
    second = train(options(recipe, tmp_path, resume=True))
    assert second.step == 6 and not second.interrupted
    reference = weights(uninterrupted)
    resumed = weights(tmp_path)
    assert all(torch.equal(resumed[k], reference[k]) for k in reference)
    import json

    steps = [json.loads(x)["step"] for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5, 6]


def extended(recipe: dict, lr_stages: list) -> dict:
    longer = copy.deepcopy(recipe)
    longer["schedule"]["epochs"] = 3
    longer["optimizer"]["lr_stages"] = lr_stages
    return longer


def test_a_longer_schedule_resumes_a_finished_run_as_one_run_of_it(recipe, uninterrupted, tmp_path):
    longer = extended(recipe, [[1, 1e-4], [2, 1e-5], [3, 1e-4]])  # a restart in epoch 2
    shutil.copytree(uninterrupted, tmp_path / "extended")
    result = train(options(longer, tmp_path / "extended", resume=True))
    assert (result.step, result.total_steps) == (9, 9)
    train(options(longer, tmp_path / "fresh"))
    reference, resumed = weights(tmp_path / "fresh"), weights(tmp_path / "extended")
    assert all(torch.equal(resumed[k], reference[k]) for k in reference)


def test_an_extension_must_keep_the_epochs_already_run(recipe) -> None:
    changes_epoch_1 = extended(recipe, [[1, 1e-4], [3, 1e-3]])
    error = schedule_extension_error(recipe, changes_epoch_1, epochs_run=2)
    assert error is not None and "epoch 1 lr 0.001" in error and "ran at 1e-05" in error
    assert schedule_extension_error(recipe, changes_epoch_1, epochs_run=1) is None
    other_batch = copy.deepcopy(recipe)
    other_batch["schedule"]["batch_size"] = 8
    error = schedule_extension_error(recipe, other_batch, epochs_run=1)
    assert error is not None and "another recipe (differs in: schedule.batch_size)" in error


def test_resuming_past_the_end_of_a_shorter_schedule_is_refused(recipe, uninterrupted, tmp_path):
    shorter = copy.deepcopy(recipe)
    shorter["schedule"]["epochs"] = 1
    shutil.copytree(uninterrupted, tmp_path / "run")
    with pytest.raises(SparsettError, match="already at step 6, past this schedule's 3"):
        train(options(shorter, tmp_path / "run", resume=True))


def test_training_into_a_run_without_resume_is_refused_and_changes_nothing(
    recipe, uninterrupted, tmp_path
):
    shutil.copytree(uninterrupted, tmp_path / "run")
    before = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir() if p.is_file()}
    with pytest.raises(SparsettError, match=r"checkpoint\.pth: a training run is already here"):
        train(options(recipe, tmp_path / "run", max_steps=1))
    after = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir() if p.is_file()}
    assert after == before


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("schedule.batch_size=abc", "schedule.batch_size = 'abc': expected a positive integer"),
        ("schedule.batch_size=0", "schedule.batch_size = 0: expected a positive integer"),
        ("schedule.batch_size=4.5", "schedule.batch_size = 4.5: expected a positive integer"),
        ("optimizer.lr=abc", "optimizer.lr = 'abc': expected a number above 0"),
        ("optimizer.lr_stages=[1, 2]", "lr_stages = [1, 2]: expected a list of [last epoch, lr]"),
        ("sampling.negative_ratio=2", "negative_ratio = 2: expected a fraction from 0 to 1"),
        ("schedule.pairs_per_epoch=8", "less than one batch of schedule.batch_size = 32"),
    ],
)
def test_recipe_values_the_trainer_cannot_run_with_are_refused_by_name(
    assignment, message, tmp_path
) -> None:
    from sparsett_bench.training.recipe import check_recipe, with_overrides

    for name in ("got10k", "fulldata", "synthetic"):
        check_recipe(load_recipe(name))
    bad = with_overrides(load_recipe("synthetic"), [assignment])
    with pytest.raises(SparsettError, match=re.escape(message)):
        train(TrainOptions(model="sparsett-tiny", recipe=bad, out=tmp_path / "run"))
    assert not (tmp_path / "run").exists()


def test_a_recipe_without_loss_weights_trains_with_the_official_ones(recipe, tmp_path) -> None:
    """(It stopped on a KeyError; a misspelt section is refused, as a misspelt weight is.)"""
    without = {k: v for k, v in recipe.items() if k != "loss"}
    for run, used in (("official", recipe), ("without", without)):
        assert train(options(used, tmp_path / run, max_steps=1)).step == 1
    assert logged_losses(tmp_path / "without") == logged_losses(tmp_path / "official")
    with pytest.raises(SparsettError, match=r"recipe: unknown \['losses'\]; known: \["):
        train(options({**without, "losses": recipe["loss"]}, tmp_path / "misspelt"))


def test_a_root_for_a_dataset_the_recipe_does_not_use_is_refused(recipe, tmp_path) -> None:
    from sparsett_bench.training.recipe import load_sources

    with pytest.raises(
        SparsettError, match=r"--root lasot: not a source of this recipe \(its sources: otb2015\)"
    ):
        load_sources(recipe, {"lasot": tmp_path})


def test_two_gloo_processes_match_one_process(recipe, tmp_path) -> None:
    recipe_file = tmp_path / "recipe.toml"
    recipe_file.write_text(_toml(recipe))
    common = ["--model", "sparsett-tiny", "--recipe", str(recipe_file), "--max-steps", "2",
              "--threads", "1", "--quiet"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for nproc, out in ((1, tmp_path / "one"), (2, tmp_path / "two")):
        completed = subprocess.run(
            [sys.executable, "-m", "sparsett_bench", "train", "--out", str(out),
             "--nproc", str(nproc), *common],
            capture_output=True, text=True, env=env, check=False,
        )  # fmt: skip
        assert completed.returncode == 0, completed.stderr[-3000:]
    one, two = weights(tmp_path / "one"), weights(tmp_path / "two")
    from sparsett_bench.model.config import build_model

    parameters = [name for name, _ in build_model("sparsett-tiny").named_parameters()]
    assert any(not torch.equal(one[k], load_initial(k)) for k in parameters)
    for key in parameters:
        torch.testing.assert_close(two[key], one[key], rtol=1e-4, atol=1e-6, msg=key)
    # BatchNorm's running statistics: each rank's BatchNorm batches of each step replayed in
    # one process's order (rank 0's alone were up to 0.19 off)
    statistics = [k for k in one if k.endswith(("running_mean", "running_var"))]
    assert statistics and any(not torch.equal(one[k], load_initial(k)) for k in statistics)
    for key in statistics:
        torch.testing.assert_close(two[key], one[key], rtol=1e-5, atol=1e-6, msg=key)
    for key in (k for k in one if k.endswith("num_batches_tracked")):
        assert int(two[key]) == int(one[key]) == 4, key  # 2 steps of 2 BatchNorm batches


# One rank of two is interrupted after its first step; torchrun signals each worker itself, at
# its own moment, so this is what a Ctrl-C or a SIGTERM of the job can come to.
ONE_RANK_INTERRUPTED = """
import os, signal, sys
from pathlib import Path
import sparsett_bench.training.trainer as trainer
from sparsett_bench.training.recipe import load_recipe

step = trainer._step
def step_then_interrupt_rank_1(*args, **kwargs):
    losses = step(*args, **kwargs)
    if os.environ["RANK"] == "1":
        os.kill(os.getpid(), signal.SIGINT)
    return losses
trainer._step = step_then_interrupt_rank_1
options = trainer.TrainOptions(
    model="sparsett-tiny", recipe=load_recipe(sys.argv[1]), out=Path(sys.argv[2]), threads=1
)
result = trainer.train(options)
outcome = Path(sys.argv[2]) / f"rank-{os.environ['RANK']}.txt"  # the ranks share one stdout
outcome.write_text(f"{result.step} {result.interrupted}")
"""


def test_a_signal_on_one_rank_stops_every_rank_after_the_same_step(recipe, tmp_path) -> None:
    """A rank that left the loop alone had the other wait in the next step's collectives."""
    recipe_file, script = tmp_path / "recipe.toml", tmp_path / "interrupt_rank_1.py"
    recipe_file.write_text(_toml(recipe))
    script.write_text(ONE_RANK_INTERRUPTED)
    job = subprocess.Popen(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         str(script), str(recipe_file), str(tmp_path / "run")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    try:
        _, stderr = job.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(job.pid, signal.SIGKILL)  # torchrun and both ranks
        job.communicate()
        pytest.fail("the ranks did not stop together: one waited for the other")
    assert job.returncode == 0, stderr[-3000:]
    for rank in (0, 1):  # step, interrupted
        assert (tmp_path / "run" / f"rank-{rank}.txt").read_text() == "1 True", rank
    checkpoint = torch.load(tmp_path / "run" / "checkpoint.pth", weights_only=True)
    assert checkpoint["step"] == 1


def test_training_devices_under_torchrun_and_alone(monkeypatch) -> None:
    from sparsett_bench.training.trainer import _training_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "set_device", lambda device: None)
    assert _training_device("cpu", 4, 3) == torch.device("cpu")
    assert _training_device("cuda", 1, 0) == torch.device("cuda", 0)
    assert _training_device("cuda:1", 1, 0) == torch.device("cuda", 1)
    # a rank per GPU; where a launcher shows each process one GPU, LOCAL_RANK 3 is its GPU 0
    assert _training_device("cuda", 4, 1) == torch.device("cuda", 1)
    assert _training_device("cuda", 4, 3) == torch.device("cuda", 1)
    with pytest.raises(SparsettError, match=r"--device cuda:2: PyTorch sees 2 CUDA device"):
        _training_device("cuda:2", 1, 0)
    with pytest.raises(SparsettError, match=r"--device cuda:0,1: expected cpu, cuda or cuda:N"):
        _training_device("cuda:0,1", 1, 0)


def test_sync_bn_on_the_cpu_is_refused_before_any_process_group(
    recipe, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    with pytest.raises(SparsettError, match=r"--sync-bn needs CUDA"):
        train(options(recipe, tmp_path, sync_bn=True))
    assert not torch.distributed.is_initialized()


@needs_gpus(1)
@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_half_precision_training_on_cuda_logs_the_fp32_losses(recipe, tmp_path, precision):
    """The first step's loss comes before any update, so autocast alone moves it (the top-K
    attention's scatter raised a dtype error under CUDA autocast before)."""
    for run_precision in ("fp32", precision):
        train(options(recipe, tmp_path / run_precision, max_steps=2, device="cuda",
                      precision=run_precision))  # fmt: skip
    fp32, half = logged_losses(tmp_path / "fp32"), logged_losses(tmp_path / precision)
    assert len(half) == 2 and all(math.isfinite(v) for v in half)
    assert half[0] == pytest.approx(fp32[0], rel=2e-2)


@needs_gpus(2)
def test_two_nccl_processes_log_the_losses_of_one_process(recipe, tmp_path) -> None:
    """Step 1's loss comes before any update: the ranks' halves of the batch, reduced, are the
    one process's whole batch (the reduction's CPU tensor stopped NCCL runs there); step 2's
    holds one update, in which GPU kernels may round otherwise."""
    recipe_file = tmp_path / "recipe.toml"
    recipe_file.write_text(_toml(recipe))
    for nproc, out in ((1, tmp_path / "one"), (2, tmp_path / "two")):
        completed = subprocess.run(
            [sys.executable, "-m", "sparsett_bench", "train", "--out", str(out), "--nproc",
             str(nproc), "--model", "sparsett-tiny", "--recipe", str(recipe_file),
             "--max-steps", "2", "--device", "cuda", "--quiet"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert completed.returncode == 0, completed.stderr[-3000:]
    one, two = logged_losses(tmp_path / "one"), logged_losses(tmp_path / "two")
    assert two[0] == pytest.approx(one[0], rel=1e-5)
    assert two[1] == pytest.approx(one[1], rel=1e-3)


def load_initial(key: str) -> torch.Tensor:
    from sparsett_bench.model.config import build_model

    torch.manual_seed(1000000007)
    return build_model("sparsett-tiny").state_dict()[key]


def _toml(recipe: dict) -> str:
    """The small recipe as TOML (values are numbers, strings and lists of them)."""
    lines = []
    for section, table in recipe.items():
        if isinstance(table, dict):
            lines.append(f"[{section}]")
            lines += [f"{k} = {_value(v)}" for k, v in table.items()]
        elif isinstance(table, list):
            for entry in table:
                lines.append(f"[[{section}]]")
                lines += [f"{k} = {_value(v)}" for k, v in entry.items()]
        else:
            lines.insert(0, f"{section} = {_value(table)}")
    return "\n".join(lines) + "\n"


def _value(value) -> str:
    import json

    return json.dumps(value)
