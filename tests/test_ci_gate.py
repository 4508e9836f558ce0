"""The AUC regression gate of .ci/run really gates: the shipped model's results on the gate's
sequences pass `report --check results/baselines/synthetic.json`, degraded ones fail. Both
run on the AVX2 kernels the baseline was recorded with, as .ci/run does."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from tests.conftest import REFERENCE_KERNELS

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "results" / "baselines" / "synthetic.json"


def gate_sequences() -> str:
    match = re.search(r"^GATE_SEQUENCES=(\S+)$", (ROOT / ".ci" / "run").read_text(), flags=re.M)
    assert match, ".ci/run names the gate's sequences"
    return match[1]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sparsett_bench", *args], cwd=ROOT, capture_output=True,
        text=True, env={**os.environ, **REFERENCE_KERNELS, "COLUMNS": "200"}, check=False,
    )  # fmt: skip


def test_the_gate_passes_real_results_and_fails_degraded_ones(tmp_path) -> None:
    sequences = gate_sequences()
    assert json.loads(BASELINE.read_text())["sequences"] == sequences.split(",")
    tracked = cli("run", "--dataset", "synthetic", "--sequences", sequences,
                  "--results", str(tmp_path), "--no-report")  # fmt: skip
    assert tracked.returncode == 0, tracked.stderr
    check = ["report", "--dataset", "synthetic", "--sequences", sequences, "--compare",
             "sparsett-tiny", "--no-plots", "--quiet", "--check", str(BASELINE),
             "--out", str(tmp_path / "reports")]  # fmt: skip
    passed = cli(*check, "--results", str(tmp_path))
    assert passed.returncode == 0, passed.stderr + passed.stdout
    assert "no regression" in passed.stdout
    degraded = tmp_path / "degraded" / "sparsett-tiny"
    shutil.copytree(tmp_path / "sparsett-tiny", degraded)
    for path in degraded.glob("synthetic-test-*[0-9].txt"):
        boxes = np.loadtxt(path, delimiter=",", ndmin=2)
        boxes[1::2, :2] += 25.0  # every other frame 25 px off
        np.savetxt(path, boxes, delimiter=",", fmt="%.4f")
    failed = cli(*check, "--results", str(degraded.parent))
    assert failed.returncode == 1, failed.stderr + failed.stdout
    assert "regression" in failed.stderr and "sparsett-tiny" in failed.stderr
