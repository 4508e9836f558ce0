"""The training loop: the official recipe, on one process or many (torchrun), resumable.

One optimiser step takes ``batch_size`` pairs, split evenly over the ranks; each rank runs its
share in BatchNorm batches of ``bn_batch`` pairs (the official DataParallel split: 16 per GPU
for the GOT-10k recipe, 8 for the full-data one), accumulating gradients. The focal and IoU
losses are normalised by the positives of the *whole* step (all ranks), as the official loss on
gathered outputs is, and multiplied by the number of ranks to undo DistributedDataParallel's
gradient average: a 2-process run computes the same step as a 1-process run, up to float
summation order. Dropout draws are seeded per (step, BatchNorm batch), so they match too, and
the BatchNorm running statistics are those of one process (`SequentialRunningStats`).

Checkpoints (``checkpoint.pth``: model, optimiser, grad scaler, step, recipe, RNG states) are
written atomically by rank 0 at every epoch end, at the end, and when SIGINT/SIGTERM arrives
(after the current step); ``resume=True`` continues from it exactly: pairs are a function of
(seed, epoch, index), so the sampler position is the step. Each epoch's weights are also saved
in the project's model format (``epoch-NN.pth``, for ``run --checkpoint``), and so are the
weights of every checkpoint (``latest.pth``: a run stopped by ``--max-steps`` or a signal
mid-epoch has no ``epoch-NN.pth`` yet). A resume under another ``precision`` is refused.
"""

from __future__ import annotations

import copy
import io
import math
import os
import signal
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from sparsett_bench.atomic import write_bytes_atomic
from sparsett_bench.errors import InputFileError, SparsettError
from sparsett_bench.model.sparsett import TRAIN_FORMAT
from sparsett_bench.training.metrics_log import MetricsLog


@dataclass
class TrainOptions:
    model: str
    recipe: dict
    out: Path
    max_steps: int | None = None
    resume: bool = False
    device: str = "cpu"
    precision: str = "fp32"
    loader_workers: int = 0
    threads: int | None = None
    imagenet: Path | None = None
    sync_bn: bool = False
    channels_last: bool = False
    log_every: int = 1
    roots: dict[str, Path] = field(default_factory=dict)


@dataclass
class TrainResult:
    step: int
    total_steps: int
    interrupted: bool
    checkpoint: Path | None
    last_losses: dict[str, float]


class PairForward(nn.Module):
    """Template and search crops in, the training outputs of the model out (one module, so
    DistributedDataParallel sees the whole forward)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.model.track(x, self.model.template(z))


def lr_at(stages: list[list[float]], epoch: int) -> float:
    """The official MultiStageLR: the lr of the first stage whose end epoch is after ``epoch``."""
    for end, lr in stages:
        if epoch < end:
            return float(lr)
    return float(stages[-1][1])


def param_groups(model: nn.Module, lr: float, weight_decay: float, backbone_multiplier: float):
    """Backbone parameters at ``lr x backbone_multiplier``; weight decay on every parameter."""
    backbone = [p for n, p in model.named_parameters() if n.startswith("backbone.")]
    rest = [p for n, p in model.named_parameters() if not n.startswith("backbone.")]
    return [
        {"params": backbone, "lr": lr * backbone_multiplier, "multiplier": backbone_multiplier},
        {"params": rest, "lr": lr, "multiplier": 1.0},
    ]


def _distributed() -> tuple[int, int, int]:
    return (
        int(os.environ.get("RANK", 0)),
        int(os.environ.get("WORLD_SIZE", 1)),
        int(os.environ.get("LOCAL_RANK", 0)),
    )


def _training_device(requested: str, world_size: int, local_rank: int) -> torch.device:
    """This process's device: under torchrun a CUDA run takes GPU ``LOCAL_RANK`` (modulo the
    GPUs it sees, for launchers that leave each process one), alone the GPU asked for."""
    try:
        device = torch.device(requested)
    except RuntimeError:
        raise SparsettError(f"--device {requested}: expected cpu, cuda or cuda:N") from None
    if device.type not in ("cpu", "cuda"):
        raise SparsettError(f"--device {requested}: expected cpu, cuda or cuda:N")
    if device.type == "cpu":
        return device
    if not torch.cuda.is_available():
        raise SparsettError(f"--device {requested}: PyTorch sees no CUDA device here")
    visible = torch.cuda.device_count()
    index = local_rank % visible if world_size > 1 else (device.index or 0)
    if index >= visible:
        raise SparsettError(f"--device {requested}: PyTorch sees {visible} CUDA device(s)")
    device = torch.device("cuda", index)
    torch.cuda.set_device(device)
    return device


def _any_rank(flag: bool, world_size: int, device: torch.device) -> bool:
    """Whether ``flag`` is set on any rank. A signal reaches the ranks at different moments,
    and a rank that left the loop alone would leave the others waiting in the next step's
    collectives until NCCL's timeout; so every rank stops after the same step."""
    if world_size == 1:
        return flag
    value = torch.tensor([float(flag)], device=device)
    torch.distributed.all_reduce(value, op=torch.distributed.ReduceOp.MAX)
    return bool(value.item())


class _StopFlag:
    """SIGINT/SIGTERM ask for a checkpoint after the current step instead of dying mid-way."""

    def __init__(self) -> None:
        self.raised = False
        self._previous: dict[int, object] = {}

    def __enter__(self) -> _StopFlag:
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        self.raised = True

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


def train(options: TrainOptions, on_step: Callable[[dict], None] | None = None) -> TrainResult:
    from sparsett_bench.model.config import build_model, load_config
    from sparsett_bench.training.augment import CropConfig
    from sparsett_bench.training.data import PairDataset, StepBatches
    from sparsett_bench.training.losses import training_losses
    from sparsett_bench.training.recipe import check_recipe, load_sources
    from sparsett_bench.training.running_stats import SequentialRunningStats
    from sparsett_bench.training.sampler import PairSampler

    recipe = options.recipe
    check_recipe(recipe)
    schedule, optim_cfg = recipe["schedule"], recipe["optimizer"]
    rank, world_size, local_rank = _distributed()
    batch_size, bn_batch = int(schedule["batch_size"]), int(schedule["bn_batch"])
    if batch_size % world_size:
        raise SparsettError(f"batch size {batch_size} does not split over {world_size} processes")
    share = batch_size // world_size
    bn_batch = min(bn_batch, share)
    if share % bn_batch:
        raise SparsettError(
            f"{share} pairs per process do not split into BatchNorm batches of {bn_batch}"
        )
    device = _training_device(options.device, world_size, local_rank)
    if options.sync_bn and world_size > 1 and device.type != "cuda":
        raise SparsettError("--sync-bn needs CUDA (SyncBatchNorm runs on GPUs only)")
    if options.precision not in ("fp32", "bf16", "fp16"):
        raise SparsettError(f"unknown precision {options.precision!r} (fp32, bf16 or fp16)")
    if options.precision == "fp16" and device.type != "cuda":
        raise SparsettError("fp16 training needs CUDA; on the CPU use bf16 or fp32")
    if options.threads:
        torch.set_num_threads(options.threads)
    owns_process_group = world_size > 1 and not torch.distributed.is_initialized()
    if owns_process_group:
        torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")

    seed = int(schedule["seed"])
    torch.manual_seed(seed)  # the initial weights: identical on every rank
    config = load_config(options.model)
    model = build_model(options.model)
    if options.imagenet is not None:
        model.load_imagenet_backbone(options.imagenet)
    if options.sync_bn and world_size > 1:
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    model = model.to(device).train()
    if options.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(
        param_groups(
            model, float(optim_cfg["lr"]), float(optim_cfg["weight_decay"]),
            float(optim_cfg["backbone_lr_multiplier"]),
        ),
        lr=float(optim_cfg["lr"]),
        weight_decay=float(optim_cfg["weight_decay"]),
    )  # fmt: skip
    scaler = torch.amp.GradScaler(device.type, enabled=options.precision == "fp16")
    steps_per_epoch = int(schedule["pairs_per_epoch"]) // batch_size
    total_steps = steps_per_epoch * int(schedule["epochs"])
    if options.max_steps is not None:
        total_steps = min(total_steps, options.max_steps)
    options.out.mkdir(parents=True, exist_ok=True)
    checkpoint_path = options.out / "checkpoint.pth"
    step = 0
    if not options.resume and checkpoint_path.exists():
        raise InputFileError(
            checkpoint_path,
            "a training run is already here: continue it with --resume, or train into another "
            "--out (nothing was changed)",
        )
    if options.resume:
        step = _restore(checkpoint_path, model, optimizer, scaler, options, steps_per_epoch)
        if step > total_steps:
            raise SparsettError(
                f"{checkpoint_path}: already at step {step}, past this schedule's {total_steps}"
            )
    forward = PairForward(model)
    running_stats = None
    if world_size > 1:
        forward = nn.parallel.DistributedDataParallel(
            forward,
            device_ids=[device.index] if device.type == "cuda" else None,
            broadcast_buffers=False,  # each rank's statistics: combined after each step
        )
        if not options.sync_bn:
            running_stats = SequentialRunningStats(model, world_size)
    sampler = PairSampler(
        load_sources(recipe, options.roots), float(recipe["sampling"]["negative_ratio"]), seed
    )
    dataset = PairDataset(
        sampler, steps_per_epoch * batch_size, CropConfig(
            z_size=config["input"]["template_size"], x_size=config["input"]["search_size"],
            context_amount=config["input"]["context_amount"],
        ),
        score_size=config["neck"]["x_size"], stride=config["input"]["stride"],
    )  # fmt: skip
    weights = recipe.get("loss")  # None: the official weights
    autocast = (
        torch.autocast(
            device.type, dtype=torch.bfloat16 if options.precision == "bf16" else torch.float16
        )
        if options.precision != "fp32"
        else nullcontext()
    )
    log = MetricsLog(options.out, step) if rank == 0 else None
    last: dict[str, float] = {}
    interrupted = False
    with _StopFlag() as stop, log or nullcontext():
        while step < total_steps and not interrupted:
            epoch = step // steps_per_epoch
            dataset.epoch = epoch
            epoch_end = min((epoch + 1) * steps_per_epoch, total_steps)
            loader = torch.utils.data.DataLoader(
                dataset,
                batch_sampler=StepBatches(
                    epoch_end - epoch * steps_per_epoch, batch_size, rank, world_size,
                    first_step=step - epoch * steps_per_epoch,
                ),
                num_workers=options.loader_workers,
                persistent_workers=False,
            )  # fmt: skip
            waited_from = time.perf_counter()
            for batch in loader:
                started = time.perf_counter()
                lr = lr_at(optim_cfg["lr_stages"], epoch)
                for group in optimizer.param_groups:
                    group["lr"] = lr * group["multiplier"]
                last = _step(
                    forward, optimizer, scaler, batch, bn_batch, weights, autocast, device,
                    world_size, rank, seed, step, float(optim_cfg.get("grad_clip", 0.0)),
                    training_losses, running_stats,
                )  # fmt: skip
                step += 1
                finished = time.perf_counter()
                record = {
                    "step": step, "epoch": epoch, "lr": lr,
                    "pairs_per_s": batch_size / (finished - waited_from),
                    "data_wait_s": started - waited_from, **last,
                }  # fmt: skip
                if log is not None:
                    if step % options.log_every == 0 or step == total_steps:
                        log.write(record)
                    if on_step:
                        on_step(record | {"total_steps": total_steps})
                waited_from = time.perf_counter()  # the log's own time is not a data wait
                if _any_rank(stop.raised, world_size, device):
                    interrupted = True
                    break
            if rank == 0 and (step % steps_per_epoch == 0 or step == total_steps or interrupted):
                _save(checkpoint_path, model, optimizer, scaler, step, options)
                model.save(options.out / LATEST_WEIGHTS, options.model)
                if step % steps_per_epoch == 0:
                    model_path = options.out / f"epoch-{step // steps_per_epoch - 1:02d}.pth"
                    model.save(model_path, options.model)
    if world_size > 1:
        torch.distributed.barrier()
    if owns_process_group:
        torch.distributed.destroy_process_group()
    return TrainResult(step, total_steps, interrupted, checkpoint_path if rank == 0 else None, last)


def _step(forward, optimizer, scaler, batch, bn_batch, weights, autocast, device, world_size,
          rank, seed, step, grad_clip, training_losses,
          running_stats) -> dict[str, float]:  # fmt: skip
    """One optimiser step over this rank's share, in BatchNorm batches (see the module doc)."""
    batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
    if running_stats is not None:
        running_stats.snapshot()
    positives = (batch["cls_gt"] == 1).sum().to(torch.float64)
    if world_size > 1:
        torch.distributed.all_reduce(positives)
    normaliser = max(1.0, float(positives))
    optimizer.zero_grad(set_to_none=True)
    totals: dict[str, float] = {}
    chunks = range(0, batch["z"].shape[0], bn_batch)
    for number, start in enumerate(chunks):
        part = {k: v[start : start + bn_batch] for k, v in batch.items()}
        # dropout: seeded by the BatchNorm batch's place in the whole step, so it is the same
        # however the step is split over ranks
        global_number = rank * len(chunks) + number
        torch.manual_seed(hash((seed, step, global_number)) % (2**63))
        sync = nullcontext()
        if world_size > 1 and number < len(chunks) - 1:
            sync = forward.no_sync()
        with sync:
            with autocast:
                out = forward(part["z"], part["x"])
            terms = training_losses(out, part["cls_gt"], part["box_gt"], weights, normaliser)
            scaler.scale(terms["total"] * world_size).backward()
        for name, value in terms.items():
            totals[name] = totals.get(name, 0.0) + float(value.detach())
    if running_stats is not None:
        running_stats.combine(len(chunks))
    if grad_clip > 0:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(forward.parameters(), grad_clip)
    scaler.step(optimizer)
    scaler.update()
    if world_size > 1:
        values = torch.tensor(list(totals.values()), dtype=torch.float64, device=device)
        torch.distributed.all_reduce(values)  # NCCL reduces CUDA tensors only
        totals = dict(zip(totals, values.tolist(), strict=True))
    if not all(math.isfinite(v) for v in totals.values()):
        raise SparsettError(f"step {step + 1}: non-finite loss {totals}")
    return totals


LATEST_WEIGHTS = "latest.pth"  # the weights of the last checkpoint, for run --checkpoint


def _save(path: Path, model, optimizer, scaler, step: int, options: TrainOptions) -> None:
    buffer = io.BytesIO()
    state = {
        "format": TRAIN_FORMAT,
        "model_name": options.model,
        "recipe": options.recipe,
        "precision": options.precision,
        "step": step,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scaler": scaler.state_dict(),
        "torch_rng": torch.get_rng_state(),
    }
    torch.save(state, buffer)
    write_bytes_atomic(path, buffer.getvalue())


def _restore(
    path: Path, model, optimizer, scaler, options: TrainOptions, steps_per_epoch: int
) -> int:
    from sparsett_bench.model.sparsett import read_checkpoint

    if not path.is_file():
        raise InputFileError(path, "no training checkpoint to resume from")
    state = read_checkpoint(path)
    if not isinstance(state, dict) or state.get("format") != TRAIN_FORMAT:
        raise InputFileError(path, f"not a {TRAIN_FORMAT} checkpoint")
    step = int(state["step"])
    if state["model_name"] != options.model:
        raise SparsettError(
            f"{path}: saved for model {state['model_name']!r}, not {options.model!r}"
        )
    if state.get("precision", options.precision) != options.precision:
        raise SparsettError(
            f"{path}: trained under --precision {state['precision']}; resume with it (another "
            "precision would continue a different run)"
        )
    refusal = schedule_extension_error(
        state["recipe"], options.recipe, math.ceil(step / steps_per_epoch)
    )
    if refusal:
        raise SparsettError(f"{path}: {refusal}")
    model.load_checked(state["model"], path)
    optimizer.load_state_dict(state["optimizer"])
    scaler.load_state_dict(state["scaler"])
    torch.set_rng_state(state["torch_rng"])
    return step


def _differing_keys(old: dict, new: dict) -> list[str]:
    """``section.key`` of every top-level or second-level value that differs (``sources`` as a
    whole)."""
    keys = []
    for section in sorted(set(old) | set(new)):
        before, after = old.get(section), new.get(section)
        if isinstance(before, dict) and isinstance(after, dict):
            keys += [f"{section}.{key}" for key in sorted(set(before) | set(after))
                     if before.get(key) != after.get(key)]  # fmt: skip
        elif before != after:
            keys.append(section)
    return keys


def schedule_extension_error(saved: dict, recipe: dict, epochs_run: int) -> str | None:
    """Why ``recipe`` cannot continue a run saved with ``saved`` after ``epochs_run`` (partly)
    trained epochs, or None when it can: it may only change ``schedule.epochs`` and
    ``optimizer.lr_stages``, and only so that every epoch already run had the same learning
    rate. Resuming is then exactly what a fresh run of ``recipe`` would have done."""

    def fixed_part(values: dict) -> dict:
        values = copy.deepcopy(values)
        values.get("schedule", {}).pop("epochs", None)
        values.get("optimizer", {}).pop("lr_stages", None)
        return values

    old_fixed, new_fixed = fixed_part(saved), fixed_part(recipe)
    if old_fixed != new_fixed:
        differing = ", ".join(_differing_keys(old_fixed, new_fixed))
        return (
            f"saved with another recipe (differs in: {differing}); "
            "resume with the same --recipe and --set options (only schedule.epochs and "
            "optimizer.lr_stages may change, to extend the run)"
        )
    old, new = saved["optimizer"]["lr_stages"], recipe["optimizer"]["lr_stages"]
    for epoch in range(epochs_run):
        if lr_at(old, epoch) != lr_at(new, epoch):
            return (
                f"the new optimizer.lr_stages give epoch {epoch} lr {lr_at(new, epoch)}, but it "
                f"ran at {lr_at(old, epoch)}; an extended schedule must keep the epochs run"
            )
    return None
