"""How fast is `report`? Two measurements in one run, printed as a table with ratios.

Both use the code paths of `report` (`evaluation.snapshots`).

(a) LaSOT scale: 280 sequences of LaSOT length (the real annotations and ATOM's raw results
    from ../shared/data when present, else 280 generated sequences of 2,500 frames), timed
    as reading the annotations, reading the results, and scoring (evaluate + every score).
    Target: one tracker's 280 sequences well under a second.
(b) OTB100, SiamBAN's raw results: this project (annotations + results + scores, got10k
    protocol) against the installed got10k toolkit's ExperimentOTB.report on the same input
    (its placeholder dataset folder is built beforehand and not timed; its plotting is
    switched off, which only flatters it). The numbers must be identical. Target: >= 20x.

Every measurement is taken twice: "cold", with the parse cache off (every file parsed, as on
a first run), and "warm", with the parse cache filled (a repeated report: the normal case for
annotations, and for results that are re-scored, compared or gated in CI; the cache's index
files are read from disk on every repeat, as in a new process).

Run: python benchmarks/report_speed.py [--repeat 5] [--out benchmarks/results/report_speed.txt]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.recording import record  # noqa: E402
from sparsett_bench import parse_cache  # noqa: E402
from sparsett_bench.datasets.loaders import load_sequences  # noqa: E402
from sparsett_bench.datasets.sequence import Sequence  # noqa: E402
from sparsett_bench.evaluation import snapshots  # noqa: E402
from sparsett_bench.evaluation.evaluate import evaluate  # noqa: E402
from sparsett_bench.evaluation.protocols import get_protocol  # noqa: E402
from sparsett_bench.evaluation.results_io import load_tracker_results  # noqa: E402
from sparsett_bench.machine import cpu_model  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"


def timed(function: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    """(median, min) seconds over ``repeat`` calls, and the last result. Before each call the
    in-memory parse-cache indexes are dropped, so a warm call reads them from disk as a new
    ``report`` process would."""
    times, result = [], None
    for _ in range(repeat):
        parse_cache.forget()
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), result


def synthetic_lasot(folder: Path, count: int = 280, frames: int = 2500) -> tuple[Path, Path]:
    """Annotations in the LaSOT toolkit layout plus a tracker's results, random but plausible."""
    rng = np.random.default_rng(0)
    annotations, results = folder / "annos", folder / "results" / "tracker"
    for path in (annotations / "absent", annotations / "att", results):
        path.mkdir(parents=True)
    from sparsett_bench.datasets.lasot import TEST_NAMES

    for name in TEST_NAMES[:count]:
        steps = rng.normal(0, 2, (frames, 2)).cumsum(axis=0) + 300
        gt = np.column_stack([steps, np.full((frames, 2), 60.0)]).round()
        pred = gt + rng.normal(0, 8, gt.shape)
        np.savetxt(annotations / f"{name}.txt", gt, fmt="%d", delimiter=",")
        np.savetxt(annotations / "absent" / f"{name}.txt", rng.random(frames) < 0.03, fmt="%d")
        np.savetxt(results / f"{name}.txt", pred, fmt="%.4f", delimiter=",")
    return annotations, results


def with_cache(setting: str) -> None:
    """Point the parse cache at ``setting`` (a folder, or "off") for the following calls."""
    os.environ["SPARSETT_CACHE_DIR"] = setting


def lasot_scale(repeat: int, warm: bool) -> tuple[str, list[tuple[str, float, float]]]:
    real = (SHARED / "annotations" / "lasot_test").is_dir()
    with tempfile.TemporaryDirectory() as tmp:
        if real:
            annotations, results = (
                SHARED / "annotations" / "lasot_test",
                SHARED / "raw_results" / "lasot" / "ATOM",
            )
        else:
            annotations, results = synthetic_lasot(Path(tmp))
        if warm:  # fill the cache
            load_tracker_results(results, [s.name for s in load_sequences("lasot", annotations)])
        a_med, a_min, sequences = timed(
            lambda: snapshots.annotations("lasot", annotations, "test"), repeat
        )
        names = [s.name for s in sequences]
        r_med, r_min, found = timed(
            lambda: snapshots.tracker_results(results, names, "ATOM"), repeat
        )
        protocol = get_protocol("lasot")

        def score() -> dict:
            evaluation = evaluate(sequences, found, protocol)
            evaluation.sequence_scores()
            return evaluation.scores()

        s_med, s_min, scores = timed(score, repeat)
    frames = sum(len(s) for s in sequences)
    source = "real annotations, ATOM results" if real else "generated"
    header = (
        f"(a) LaSOT scale: {len(sequences)} sequences, {frames:,} frames ({source}); "
        f"AUC {scores['auc']:.4f}"
    )
    return header, [
        ("read annotations", a_med, a_min),
        ("read one tracker's results", r_med, r_min),
        ("score (evaluate + all scores)", s_med, s_min),
        ("one tracker: results + scores", r_med + s_med, r_min + s_min),
        ("total incl. annotations", a_med + r_med + s_med, a_min + r_min + s_min),
    ]


def otb_against_got10k(repeat: int, warm: bool) -> tuple[str, list, float, bool]:
    sys.path.insert(0, str(ROOT / "tests"))
    import got10k_reference as ref

    annotations = SHARED / "annotations" / "otb100"
    results_dir = SHARED / "raw_results" / "otb100" / "SiamBAN"
    protocol = get_protocol("otb2015", "got10k")

    def ours() -> dict:
        sequences: list[Sequence] = snapshots.annotations("otb2015", annotations, "test")
        found = snapshots.tracker_results(results_dir, [s.name for s in sequences], "SiamBAN")
        evaluation = evaluate(sequences, found, protocol)
        evaluation.sequence_scores()
        return {"curve": evaluation.curves()["success"], **evaluation.scores()}

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sequences = load_sequences("otb2015", annotations)
        found = load_tracker_results(results_dir, [s.name for s in sequences])
        ref.build_otb_root(work / "otb", {s.name: s.boxes for s in sequences})
        ref.write_results(
            work / "results", "SiamBAN", {n: r.boxes for n, r in found.sequences.items()}
        )
        if warm:
            ours()
        o_med, o_min, mine = timed(ours, repeat)
        g_med, g_min, theirs = timed(lambda: ref.got10k_otb_report(work, "SiamBAN"), repeat)
    identical = (
        np.array_equal(mine["curve"], theirs["overall"]["success_curve"])
        and mine["auc"] == theirs["overall"]["success_score"]
        and mine["precision"] == theirs["overall"]["precision_score"]
    )
    overall = theirs["overall"]
    header = (
        f"(b) OTB100 SiamBAN: AUC {mine['auc']:.6f} (got10k {overall['success_score']:.6f}), "
        f"P@20 {mine['precision']:.6f} (got10k {overall['precision_score']:.6f})"
    )
    rows = [
        ("sparsett-bench (annotations + results + scores)", o_med, o_min),
        ("got10k ExperimentOTB.report (no plots)", g_med, g_min),
    ]
    return header, rows, g_med / o_med, identical


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None, help="also write the output here")
    args = parser.parse_args()
    lines: list[str] = []

    def say(text: str = "") -> None:
        print(text)
        lines.append(text)

    say(
        f"report_speed on {platform.node() or 'this machine'}, {datetime.date.today()}: "
        f"{cpu_model()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"numpy {np.__version__}; "
        f"median (min) of {args.repeat} runs"
    )
    with tempfile.TemporaryDirectory() as cache:
        for mode, setting in (
            ("cold: parse cache off", "off"),
            ("warm: parse cache filled", cache),
        ):
            with_cache(setting)
            say(f"--- {mode}")
            header, rows_a = lasot_scale(args.repeat, warm=setting != "off")
            say(header)
            for label, med, low in rows_a:
                say(f"  {label:<48} {med:8.3f} s ({low:.3f})")
            say(f"  one tracker (target: well under 1 s): {rows_a[3][1]:.3f} s")
            if not (SHARED / "raw_results" / "otb100" / "SiamBAN").is_dir():
                say("(b) skipped: ../shared/data/raw_results/otb100 not available")
                continue
            header, rows_b, ratio, identical = otb_against_got10k(args.repeat, setting != "off")
            say(header)
            for label, med, low in rows_b:
                say(f"  {label:<48} {med:8.3f} s ({low:.3f})")
            say(
                f"  speed-up over the got10k toolkit: {ratio:.1f}x (target >= 20x); "
                f"identical numbers: {identical}"
            )
    record(lines, args.out)


if __name__ == "__main__":
    main()
