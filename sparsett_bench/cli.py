"""The ``sparsett-bench`` command line: thin Typer commands over the library.

Every option with the same meaning has the same name in every command (``--dataset``,
``--root``, ``--results``, ``--tracker(s)``, ``--model``, ``--device``, ``--workers``). Errors a
user can cause are printed without a traceback and exit with status 2; a failed regression
check exits with status 1. Heavy libraries (torch, matplotlib) are imported only by the
commands that need them, so ``report`` starts fast.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sparsett_bench import __version__
from sparsett_bench.errors import SparsettError

app = typer.Typer(
    help="SparseTT and the five tracking benchmarks, scored exactly by their official protocols.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
error_console = Console(stderr=True)


def _fail(exc: SparsettError | OSError) -> None:
    """Print ``exc`` as a one-line error and exit 2. An `OSError` (a folder given as a file, a
    full disk, no permission) names the file it concerns: the target of a rename over it, else
    the file it was raised for."""
    if isinstance(exc, OSError):
        where = exc.filename2 or exc.filename
        message = f"{where}: {exc.strerror or exc}" if where else str(exc)
    else:
        message = str(exc)
    error_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _csv(value: str | None, option: str) -> list[str] | None:
    """A comma-separated option's names; None when the option is not given."""
    if value is None:
        return None
    names = [part.strip() for part in value.split(",") if part.strip()]
    if not names:
        raise SparsettError(f"{option} {value!r}: no names (expected a,b,...)")
    return names


def _version(value: bool) -> None:
    if value:
        console.print(f"sparsett-bench {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """SparseTT and the five tracking benchmarks, scored exactly by their official protocols."""


@app.command()
def report(
    dataset: Annotated[
        str,
        typer.Option(
            "--dataset", "-d", help="otb2015, uav123, lasot, got10k, trackingnet or synthetic."
        ),
    ],
    root: Annotated[
        Path | None,
        typer.Option(
            help="Dataset root, or an annotation-only folder in the toolkit layout "
            "(<seq>.txt plus att/); a zip of <seq>.txt for TrackingNet."
        ),
    ] = None,
    split: Annotated[
        str | None, typer.Option(help="Split to score (default: test; val for GOT-10k).")
    ] = None,
    results: Annotated[
        Path | None,
        typer.Option(
            help="Folder holding one results folder (or zip) per tracker "
            "\\[default: results/<dataset>; results/<dataset>-<split> for another split]."
        ),
    ] = None,
    trackers: Annotated[
        str | None,
        typer.Option(
            "--trackers",
            "--compare",
            "-t",
            help="Comma-separated trackers to compare \\[default: every tracker found].",
        ),
    ] = None,
    protocol: Annotated[
        str,
        typer.Option(
            help="official (the benchmark's own rules), or the numbers pytracking, pysot or the "
            "got10k toolkit would print."
        ),
    ] = "official",
    strict: Annotated[
        bool,
        typer.Option(
            "--strict/--lenient",
            help="--strict: a missing sequence or a wrong number of frames is an error. "
            "--lenient: missing frames count as failures and extra frames are cut, as the "
            "official toolkits do.",
        ),
    ] = True,
    out: Annotated[
        Path | None,
        typer.Option(help="Where tables and plots go \\[default: results/reports/<dataset>]."),
    ] = None,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Also write every number as JSON to this file.")
    ] = None,
    plots: Annotated[
        bool, typer.Option(help="Draw success/precision and attribute plots (PNG and PDF).")
    ] = True,
    attributes: Annotated[bool, typer.Option(help="Print the per-attribute table.")] = True,
    save_baseline: Annotated[
        Path | None, typer.Option(help="Record these scores as a regression baseline (JSON).")
    ] = None,
    check: Annotated[
        Path | None,
        typer.Option(
            help="Compare with a baseline; exit 1 listing every metric that fell by more than "
            "the tolerance."
        ),
    ] = None,
    tolerance: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            help="Allowed drop in percentage points for --check / stored by --save-baseline "
            "\\[default: the baseline's, else 0.5].",
        ),
    ] = None,
    explain: Annotated[bool, typer.Option(help="Print the protocol's rules.")] = False,
    sequences: Annotated[
        str | None,
        typer.Option(help="Comma-separated sequences to score \\[default: the whole split]."),
    ] = None,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", "-q", help="Print only errors, the regression verdict and --explain's rules."
        ),
    ] = False,
) -> None:
    """Score tracker results under a benchmark's protocol: tables, plots, attributes, checks."""
    from sparsett_bench.evaluation import baseline as gate
    from sparsett_bench.evaluation.report import REPORT_FOLDER, build_report, report_json
    from sparsett_bench.evaluation.writers import write_tables

    try:
        from sparsett_bench.datasets.registry import canonical_name
        from sparsett_bench.evaluation.results_io import default_results_folder

        if (
            check is not None
            and save_baseline is not None
            and check.resolve() == save_baseline.resolve()
        ):
            raise SparsettError(
                f"--save-baseline {save_baseline} would replace the baseline that --check reads: "
                "save the new scores to another file"
            )
        key = canonical_name(dataset)
        results_dir = results or default_results_folder(key, split)
        rep = build_report(
            key,
            results_dir,
            _csv(trackers, "--trackers"),
            root,
            split,
            protocol,
            strict,
            _csv(sequences, "--sequences"),
        )
        if not quiet:
            _print_report(rep, attributes)
        if explain:  # asked for by name, so printed under --quiet too
            console.print(f"[bold]Protocol {rep.protocol.key}[/]")
            console.print(f"  source: {rep.protocol.source}", highlight=False, markup=False)
            for rule in rep.protocol.rules:
                console.print(f"  - {rule}", highlight=False, markup=False)
        out_dir = out or Path("results") / REPORT_FOLDER / key
        stem = f"{key}_{rep.split}_{rep.protocol.toolkit}"
        written = write_tables(rep, out_dir, stem)
        if plots:
            written += _plots(rep, out_dir, stem)
        if json_path is not None:
            from sparsett_bench.atomic import write_text_atomic

            write_text_atomic(json_path, json.dumps(report_json(rep), indent=1) + "\n")
            written.append(json_path)
        if not quiet:
            console.print(
                f"[dim]wrote {len(written)} files to {escape(str(out_dir))}"
                + (f" and {escape(str(json_path))}" if json_path else "")
                + "[/]"
            )
        if save_baseline is not None:
            gate.save_baseline(
                rep, save_baseline, tolerance if tolerance is not None else gate.DEFAULT_TOLERANCE
            )
            console.print(f"baseline saved to {save_baseline}", markup=False)
        if check is not None:
            regressions = gate.check_baseline(rep, check, tolerance)
            if regressions:
                error_console.print(f"[bold red]regression[/] against {escape(str(check))}:")
                for regression in regressions:
                    error_console.print(f"  {regression.describe()}", highlight=False, markup=False)
                raise typer.Exit(1)
            console.print(f"[green]no regression[/] against {escape(str(check))}")
    except (SparsettError, OSError) as exc:
        _fail(exc)


def _print_report(rep, attributes: bool) -> None:
    from sparsett_bench.evaluation.report import attribute_rows, overall_rows
    from sparsett_bench.evaluation.writers import best_values, cell, columns

    cols = columns(rep)
    rows = overall_rows(rep)
    best = best_values(rows, [k for k, _ in cols])
    table = Table(
        title=f"{rep.dataset} {rep.split} ({len(rep.sequences)} sequences) - "
        f"protocol {rep.protocol.key}"
    )
    table.add_column(
        "Tracker", no_wrap=True, min_width=min(40, max(len(e.tracker) for e in rep.evaluations))
    )
    for _, header in cols:
        table.add_column(header, justify="right")
    for row in rows:
        table.add_row(
            escape(str(row["tracker"])),
            *[
                f"[bold green]{cell(row[k])}[/]" if best.get(k) == row[k] else cell(row[k])
                for k, _ in cols
            ],
        )
    console.print(table)
    for evaluation in rep.evaluations:
        for issue in evaluation.issues[:10]:
            error_console.print(
                f"[yellow]warning:[/] {escape(evaluation.tracker)}: {escape(str(issue))}",
                highlight=False,
            )
        if len(evaluation.issues) > 10:
            error_console.print(
                f"[yellow]warning:[/] {escape(evaluation.tracker)}: "
                f"{len(evaluation.issues) - 10} more issues (see the JSON)"
            )
    attr = attribute_rows(rep) if attributes else []
    if attr:
        trackers = [e.tracker for e in rep.ranked()]
        table = Table(title="Success AUC per attribute")
        table.add_column("Attribute")
        table.add_column("Seqs", justify="right")
        for tracker in trackers:
            table.add_column(escape(tracker), justify="right")
        grouped: dict[str, dict[str, object]] = {}
        for r in attr:
            grouped.setdefault(f"{r['attribute']} ({r['name']})", {"n": r["sequences"]})[
                str(r["tracker"])
            ] = r["auc"]
        for name, values in grouped.items():
            top = max(float(values[t]) for t in trackers)
            table.add_row(
                name,
                str(values["n"]),
                *[
                    f"[bold green]{cell(values[t])}[/]" if values[t] == top else cell(values[t])
                    for t in trackers
                ],
            )
        console.print(table)


def _plots(rep, out_dir: Path, stem: str) -> list[Path]:
    from sparsett_bench.evaluation import plots

    title = f"{rep.dataset} {rep.split}"
    written = plots.plot_curves(rep.ranked(), out_dir, title, stem_prefix=f"{stem}_")
    masks = rep.attribute_masks()
    if masks:
        written += plots.plot_attributes(
            rep.ranked(),
            [(a.short, a.long) for a in rep.attributes],
            {s.name: s.attributes for s in rep.sequences},
            out_dir,
            title,
            stem_prefix=f"{stem}_",
        )
    return written


@app.command("datasets")
def datasets_command(
    dataset: Annotated[
        str | None, typer.Option("--dataset", "-d", help="Only this dataset.")
    ] = None,
    root: Annotated[
        Path | None,
        typer.Option(help="Check this root instead of the registry's (with --dataset)."),
    ] = None,
    frames: Annotated[
        bool, typer.Option(help="Also check that the first and last frame of every sequence exist.")
    ] = True,
) -> None:
    """Show each dataset: its root, whether it is present and complete."""
    from sparsett_bench.datasets.registry import ALIASES
    from sparsett_bench.datasets.status import dataset_status

    try:
        if root is not None and dataset is None:
            raise SparsettError("--root is one dataset's root: give --dataset too")
        names = [dataset] if dataset else sorted(set(ALIASES.values()))
        table = Table(title="Datasets")
        for column in ("dataset", "root", "present", "complete", "splits", "access"):
            table.add_column(column)
        problems = []
        for name in names:
            status = dataset_status(name, root if dataset else None, check_frames=frames)
            splits = ", ".join(f"{s.split}: {s.sequences} seqs" for s in status.splits)
            table.add_row(
                status.title,
                escape(str(status.root)),
                "yes" if status.present else "no",
                "[green]yes[/]" if status.complete else "[red]no[/]",
                splits or "-",
                status.access,
            )
            problems += [
                f"{status.title} {s.split}: {s.problem}" for s in status.splits if s.problem
            ]
        console.print(table)
        for problem in problems:
            console.print(f"[yellow]{escape(problem)}[/]", highlight=False)
    except (SparsettError, OSError) as exc:
        _fail(exc)


def _model_and_weights(model: str | None, checkpoint: str | None) -> tuple[str, Path | None]:
    """The configuration and weights `run` and `export` use: the checkpoint's own model (or
    ``--model``), else sparsett-tiny; the given checkpoint, else the model's shipped weights,
    else none."""
    from sparsett_bench.model.weights import (
        DEFAULT_MODEL,
        model_for_checkpoint,
        resolve_checkpoint,
        shipped_checkpoint,
    )

    weights = resolve_checkpoint(checkpoint) if checkpoint else None
    if model is None:
        model = model_for_checkpoint(weights) if weights else DEFAULT_MODEL
    return model, weights or shipped_checkpoint(model)


@app.command()
def export(
    model: Annotated[
        str | None,
        typer.Option(
            help="Model configuration (models/<name>.toml) \\[default: the checkpoint's own, else "
            "sparsett-tiny with its shipped weights]."
        ),
    ] = None,
    checkpoint: Annotated[
        str | None,
        typer.Option(
            help="Weights: this project's checkpoint, an official SparseTT one, or a name "
            "fetched by `download --model` \\[default: the model's shipped weights, else random "
            "ones (seed 0), for testing the graph]."
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="ONNX file \\[default: <model>.onnx].")] = None,
) -> None:
    """Export the per-frame search branch to ONNX and check it with onnxruntime.

    The model and weights are chosen as `run` chooses them."""
    import torch

    from sparsett_bench.model.config import build_model
    from sparsett_bench.model.export import check_onnx, export_search_branch
    from sparsett_bench.model.weights import load_weights

    try:
        model, weights = _model_and_weights(model, checkpoint)
        # seeded: one unseeded draw of random weights in six failed the 1e-4 check here (by
        # 0.43: sparse attention's top-K makes some draws sensitive to rounding)
        torch.manual_seed(0)
        net = build_model(model)
        if weights is not None:
            load_weights(net, weights)
        else:
            error_console.print(f"note: {model} has no shipped weights; exporting random ones")
        path = out or Path(f"{model}.onnx")
        if path.is_dir():
            path = path / f"{model}.onnx"
        elif path.suffix.lower() != ".onnx":  # onnx_out/ reaches here as onnx_out
            raise SparsettError(
                f"--out {out}: give a file name ending in .onnx, or a folder that exists"
            )
        staged = path.with_name(path.name + ".part")
        try:  # only a checked model takes the name: a run may load it unattended
            export_search_branch(net, staged)
            difference = check_onnx(net, staged)
            if difference > 1e-4:
                raise SparsettError(
                    f"{path}: onnxruntime differs from PyTorch by {difference:.2e} (more than "
                    "1e-4); nothing written"
                )
            os.replace(staged, path)
        finally:
            staged.unlink(missing_ok=True)
        console.print(
            f"wrote {path}; onnxruntime vs PyTorch: max |difference| {difference:.2e}", markup=False
        )
    except (SparsettError, OSError) as exc:
        _fail(exc)


@app.command()
def download(
    dataset: Annotated[
        str | None, typer.Argument(help="otb2015, uav123, lasot, got10k or trackingnet.")
    ] = None,
    split: Annotated[
        str, typer.Option(help="Split to fetch (test, train, val, TRAIN_3, ...).")
    ] = "test",
    root: Annotated[
        Path | None, typer.Option(help="Dataset root \\[default: datasets.toml].")
    ] = None,
    results: Annotated[
        str | None,
        typer.Option(
            help="Fetch published raw results instead (e.g. transt) into results/published/."
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            help="Fetch a checkpoint instead (sparsett-got10k, sparsett-fulldata, "
            "swin-t-imagenet) into models/official/."
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print the plan and the space needed; download nothing."),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Download, verify and extract a benchmark, published raw results or a checkpoint.

    Transfers resume, are checked against published sizes and checksums, fall back to the
    next mirror, and are skipped when already done; archives never extract outside the root.
    """
    from sparsett_bench.datasets import sources
    from sparsett_bench.datasets.registry import dataset_info

    try:
        if sum(map(bool, (dataset, results, model))) > 1:
            raise SparsettError(
                "name one thing to fetch: a dataset, --results NAME or --model NAME"
            )
        if results:
            plan = sources.single_file_plan("results", results, Path("results") / "published")
        elif model:
            plan = sources.single_file_plan("models", model, Path("models") / "official")
        elif dataset:
            key_root = root or dataset_info(dataset).root
            plan = sources.dataset_plan(dataset, split, key_root)
        else:
            raise SparsettError("name a dataset, or --results NAME, or --model NAME")
        _print_plan(plan)
        if dry_run:
            return
        with _progress(quiet) as report_progress:
            downloaded, extracted = sources.run_plan(plan, report_progress)
        unchecked = [f for f in plan.files if not f.remote.digest]
        count = f"{len(unchecked)} of {len(plan.files)} files"
        if not unchecked:
            checked = "every file checked against its published checksum"
        elif not any(f.remote.urls for f in unchecked):  # GOT-10k's and UAV123's archives
            checked = (
                f"{count} placed by hand, with no published checksum: only a clean extraction "
                "vouches for them"
            )
        else:
            checked = (
                f"{count} have no published checksum (only their published size, where there "
                "is one, and a clean extraction vouch for them)"
            )
        console.print(
            f"{plan.title}: {downloaded} files downloaded, {extracted} archives extracted; "
            f"{checked}"
        )
    except (SparsettError, OSError) as exc:
        _fail(exc)


def _print_plan(plan) -> None:
    from sparsett_bench.datasets.download import is_verified

    if plan.note:
        console.print(f"[dim]{escape(plan.note)}[/]", highlight=False)
    if plan.instructions and not plan.files:
        console.print(plan.instructions, highlight=False, markup=False)
        return
    table = Table(title=f"{plan.title}: {len(plan.files)} files")
    for column in ("file", "size", "status", "source"):
        table.add_column(column)
    for planned in plan.files[:20]:
        remote = planned.remote
        size = f"{remote.size / 1e9:.2f} GB" if remote.size else "?"
        done = is_verified(remote) or planned.extracted_and_removed
        status = "done" if done else "to fetch" if remote.urls else "local"
        source = escape(remote.urls[0]) if remote.urls else "-"
        table.add_row(escape(remote.path.name), size, status, source)
    console.print(table)
    if len(plan.files) > 20:
        console.print(f"... and {len(plan.files) - 20} more files")
    unknown = f" (+{plan.unknown_sizes} files of unpublished size)" if plan.unknown_sizes else ""
    extracting = any(f.extract_to is not None for f in plan.files)
    console.print(
        f"space needed: {plan.known_bytes / 1e9:.2f} GB to download{unknown}"
        + (", about as much again to extract" if extracting else "")
    )


@contextlib.contextmanager
def _progress(quiet: bool):
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    if quiet or not console.is_terminal:
        yield None
        return
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        tasks: dict[str, int] = {}

        def update(name: str, done: int, total: int | None) -> None:
            if name not in tasks:
                tasks[name] = progress.add_task(escape(name), total=total)
            progress.update(tasks[name], completed=done, total=total)

        yield update


@app.command()
def train(
    out: Annotated[
        Path, typer.Option(help="Run folder: checkpoints, metrics.jsonl, epoch weights.")
    ],
    model: Annotated[
        str, typer.Option(help="Model configuration (models/<name>.toml).")
    ] = "sparsett-swin-t",
    recipe: Annotated[
        str, typer.Option(help="Training recipe: got10k, fulldata, synthetic, or a TOML file.")
    ] = "got10k",
    set_values: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Override a recipe value, e.g. --set schedule.batch_size=8 (repeatable)."
        ),
    ] = None,
    max_steps: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many optimiser steps.")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue from <out>/checkpoint.pth exactly.")
    ] = False,
    device: Annotated[
        str, typer.Option(help="cpu or cuda (under torchrun: one GPU per rank).")
    ] = "cpu",
    precision: Annotated[
        str, typer.Option(help="fp32, bf16 (autocast), or fp16 (CUDA, with a grad scaler).")
    ] = "fp32",
    loader_workers: Annotated[
        int, typer.Option(min=0, help="DataLoader worker processes making the crops.")
    ] = 0,
    threads: Annotated[int | None, typer.Option(min=1, help="PyTorch threads per process.")] = None,
    imagenet: Annotated[
        str | None,
        typer.Option(
            help="ImageNet Swin weights for the backbone (a file, or swin-t-imagenet once "
            "downloaded), as the official training starts."
        ),
    ] = None,
    sync_bn: Annotated[
        bool, typer.Option("--sync-bn", help="SyncBatchNorm across GPU ranks.")
    ] = False,
    channels_last: Annotated[
        bool, typer.Option("--channels-last", help="channels-last memory format (GPU).")
    ] = False,
    nproc: Annotated[
        int, typer.Option(min=1, help="Start this many processes on this machine via torchrun.")
    ] = 1,
    root: Annotated[
        list[str] | None,
        typer.Option(
            help="A dataset's root, as dataset=PATH (repeatable) \\[default: datasets.toml]."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Train SparseTT with the official recipe, on one process or many (torchrun), resumably.

    `sparsett-bench train --nproc N ...` is `torchrun --nproc_per_node N -m sparsett_bench
    train ...`; for several machines call torchrun with its own --nnodes/--rdzv options.
    """
    if nproc > 1:
        import subprocess

        forwarded, skip = [], False
        for arg in sys.argv[sys.argv.index("train") + 1 :]:
            if skip or arg == "--nproc" or arg.startswith("--nproc="):
                skip = arg == "--nproc"
                continue
            forwarded.append(arg)
        command = [
            sys.executable, "-m", "torch.distributed.run", "--standalone",
            f"--nproc_per_node={nproc}", "-m", "sparsett_bench", "train", *forwarded,
        ]  # fmt: skip
        raise typer.Exit(subprocess.call(command))
    from sparsett_bench.model.weights import resolve_checkpoint
    from sparsett_bench.training.recipe import load_recipe, with_overrides
    from sparsett_bench.training.trainer import TrainOptions
    from sparsett_bench.training.trainer import train as run_training

    try:
        roots = {}
        for item in root or []:
            name, sep, path = item.partition("=")
            if not sep:
                raise SparsettError(f"--root {item!r}: expected dataset=PATH")
            roots[name.strip()] = Path(path)
        options = TrainOptions(
            model=model,
            recipe=with_overrides(load_recipe(recipe), set_values or []),
            out=out,
            max_steps=max_steps,
            resume=resume,
            device=device,
            precision=precision,
            loader_workers=loader_workers,
            threads=threads,
            imagenet=resolve_checkpoint(imagenet) if imagenet else None,
            sync_bn=sync_bn,
            channels_last=channels_last,
            roots=roots,
        )
        with _training_progress(quiet) as on_step:
            result = run_training(options, on_step)
        state = "interrupted" if result.interrupted else "done"
        if int(os.environ.get("RANK", 0)) == 0:  # under torchrun, rank 0 speaks for the run
            console.print(
                f"{state} at step {result.step}/{result.total_steps}; "
                f"checkpoint {result.checkpoint}",
                highlight=False,
                markup=False,
            )
        if result.interrupted:
            raise typer.Exit(130)
    except (SparsettError, OSError) as exc:
        _fail(exc)


@contextlib.contextmanager
def _training_progress(quiet: bool):
    """A rich progress bar fed by the trainer's per-step records (rank 0 only)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from sparsett_bench.training.losses import TERMS

    if quiet or int(os.environ.get("RANK", 0)) != 0:
        yield None
        return
    columns = (
        TextColumn("epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]} ({task.fields[terms]})  {task.fields[speed]} pairs/s"),
        TimeRemainingColumn(),
    )  # fmt: skip
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("train", total=None, epoch=0, loss="-", terms="-", speed="-")

        def on_step(record: dict) -> None:
            progress.update(
                task, completed=record["step"], total=record["total_steps"],
                epoch=record["epoch"], loss=f"{record['total']:.4f}",
                terms=" ".join(f"{k} {record[k]:.3f}" for k in TERMS if k in record),
                speed=f"{record['pairs_per_s']:.1f}",
            )  # fmt: skip

        yield on_step


@app.command()
def run(
    dataset: Annotated[
        str,
        typer.Option(
            "--dataset", "-d", help="otb2015, uav123, lasot, got10k, trackingnet or synthetic."
        ),
    ],
    split: Annotated[
        str | None, typer.Option(help="Split to track \\[default: test; val for GOT-10k].")
    ] = None,
    root: Annotated[
        Path | None, typer.Option(help="Dataset root \\[default: datasets.toml].")
    ] = None,
    results: Annotated[
        Path | None,
        typer.Option(
            help="Results folder; <tracker>/ goes inside \\[default: results/<dataset>; "
            "results/<dataset>-<split> for another split]."
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            help="SparseTT configuration (models/<name>.toml) \\[default: the checkpoint's own, "
            "else sparsett-tiny with its shipped weights]."
        ),
    ] = None,
    checkpoint: Annotated[
        str | None,
        typer.Option(
            help="Weights: a sparsett-bench or official SparseTT checkpoint file, or a name "
            "fetched by `download --model` (sparsett-fulldata, sparsett-got10k) \\[default: the "
            "weights shipped for the model]."
        ),
    ] = None,
    tracker: Annotated[
        str | None,
        typer.Option(
            help="Results name, an OpenCV baseline (opencv-csrt, opencv-kcf, opencv-mil, "
            "opencv-medianflow, opencv-tld, opencv-boosting, opencv-mosse), or your own "
            "python:package.module:Class \\[default: the model's name]."
        ),
    ] = None,
    sequences: Annotated[
        str | None,
        typer.Option(help="Comma-separated sequences to track \\[default: the whole split]."),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=0, help="Processes tracking in parallel; 0: one per CPU core, or per GPU."
        ),
    ] = 0,
    threads: Annotated[
        int,
        typer.Option(
            min=1, help="Threads per process (results never depend on --workers; they can on this)."
        ),
    ] = 1,
    device: Annotated[str, typer.Option(help="cpu, cuda, cuda:N or cuda:N,M,...")] = "cpu",
    repeats: Annotated[
        int,
        typer.Option(
            min=1,
            help="Track every sequence N times, into run_001/ ... run_N/ (for trackers that are "
            "not deterministic; GOT-10k test submissions get <seq>_001 ... _00N).",
        ),
    ] = 1,
    precision: Annotated[
        str, typer.Option(help="fp32 (bit-identical to the official), bf16, or fp16 (CUDA).")
    ] = "fp32",
    fold_bn: Annotated[
        bool,
        typer.Option(
            "--fold-bn/--no-fold-bn",
            help="Fold BatchNorm into the convolutions (~9% faster on CPU; scores move ~3e-6).",
        ),
    ] = False,
    fused_kernels: Annotated[
        bool,
        typer.Option(
            "--fused-kernels",
            help="Fused Swin window attention; with --fold-bn on a CPU in fp32, also oneDNN "
            "products with weights laid out once and fused activations (scores move ~3e-6).",
        ),
    ] = False,
    cuda_graphs: Annotated[
        bool, typer.Option("--cuda-graphs", help="Replay the search branch as a CUDA graph.")
    ] = False,
    runtime: Annotated[
        str,
        typer.Option(
            help="torch, or onnxruntime: the search branch on ONNX Runtime's CPU provider "
            "(fp32; faster on CPUs, scores move up to 1e-4)."
        ),
    ] = "torch",
    test_lr: Annotated[
        float | None, typer.Option(help="Override the size update rate \\[default: config].")
    ] = None,
    window_influence: Annotated[
        float | None, typer.Option(help="Override the cosine window weight \\[default: config].")
    ] = None,
    penalty_k: Annotated[
        float | None, typer.Option(help="Override the scale/ratio penalty \\[default: config].")
    ] = None,
    report_at_end: Annotated[
        bool, typer.Option("--report/--no-report", help="Print the report table at the end.")
    ] = True,
) -> None:
    """Run a tracker over a benchmark split: resumable, parallel, timed; then report it.

    Finished sequences are skipped, so an interrupted run continues where it stopped; under
    torchrun each rank takes its share of the sequences.
    """
    from sparsett_bench.datasets.download import file_digest
    from sparsett_bench.datasets.registry import canonical_name
    from sparsett_bench.tracking.benchmark_run import run_benchmark
    from sparsett_bench.tracking.factory import (
        TrackerSpec,
        is_opencv,
        is_python,
        python_tracker,
        tracker_params,
    )

    try:
        key = canonical_name(dataset)
        if tracker is not None and (is_opencv(tracker) or is_python(tracker)):
            model_options = {
                "--model": model is not None, "--checkpoint": checkpoint is not None,
                "--precision": precision != "fp32", "--fold-bn": fold_bn,
                "--fused-kernels": fused_kernels, "--cuda-graphs": cuda_graphs,
                "--runtime": runtime != "torch", "--test-lr": test_lr is not None,
                "--window-influence": window_influence is not None,
                "--penalty-k": penalty_k is not None,
            }  # fmt: skip
            if given := [option for option, used in model_options.items() if used]:
                raise SparsettError(
                    f"{', '.join(given)}: SparseTT options, which --tracker {tracker} does not take"
                )
        if tracker is not None and is_opencv(tracker):
            spec = TrackerSpec(name=tracker, kind=tracker)
        elif tracker is not None and is_python(tracker):
            spec = TrackerSpec(name=python_tracker(tracker).name, kind=tracker)
        else:
            overrides = {
                "test_lr": test_lr, "window_influence": window_influence, "penalty_k": penalty_k
            }  # fmt: skip
            model, weights = _model_and_weights(model, checkpoint)
            spec = TrackerSpec(
                name=tracker or model,
                kind=model,
                checkpoint=str(weights) if weights else None,
                checkpoint_sha256=file_digest(weights) if weights else None,
                params=tracker_params(model, key, overrides),
                precision=precision,
                fold_bn=fold_bn,
                fused_kernels=fused_kernels,
                cuda_graphs=cuda_graphs,
                runtime=runtime,
            )
            if precision == "bf16" and device == "cpu" and runtime == "torch":  # else refused
                from sparsett_bench.model.inference import emulated_bf16_note

                if note := emulated_bf16_note():
                    error_console.print(
                        f"[yellow]note:[/] {escape(note)}", highlight=False, soft_wrap=True
                    )
        summary = run_benchmark(
            key, spec, split=split, root=root, results=results,
            names=_csv(sequences, "--sequences"),
            workers=workers, threads=threads, device=device, repeats=repeats, console=console,
        )  # fmt: skip
        speed = summary.record.get("speed", {})
        console.print(
            f"{spec.name}: {len(summary.tracked)} sequences tracked, "
            f"{len(summary.skipped)} already done; results in {summary.tracker_dir}"
            + (f"; {speed['fps']:.1f} FPS over {speed['frames']} frames" if speed else ""),
            highlight=False,
            markup=False,
        )
        if summary.submission is not None:
            console.print(f"submission written: {summary.submission} (and .zip)", markup=False)
        elif report_at_end and summary.complete:
            from sparsett_bench.evaluation.report import build_report

            rep = build_report(
                key, summary.tracker_dir.parent, [spec.name], root, summary.split,
                names=_csv(sequences, "--sequences"),
            )  # fmt: skip
            _print_report(rep, attributes=False)
    except (SparsettError, OSError) as exc:
        _fail(exc)
    except KeyboardInterrupt:
        error_console.print(
            "interrupted: the finished sequences are kept; the same command goes on from them",
            markup=False,
        )
        raise typer.Exit(130) from None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
