"""README.md is the user's door: .ci/run runs exactly its install and test commands."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_ci_runs_exactly_the_readme_install_and_test_commands() -> None:
    commands = readme_commands()
    install = [c for c in commands if "pip install" in c]
    tests = [c for c in commands if "pytest" in c]
    assert len(install) == 1 and len(tests) == 1
    ci = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert install[0] in ci and tests[0] in ci
    assert ci.index(install[0]) < ci.index(tests[0])
    assert "set -euo pipefail" in ci


def test_the_readme_main_command_runs_as_written() -> None:
    """The second set-up command, exactly as printed, prints the AUC the README quotes (to
    the CI gate's tolerance: another OpenCV build can move a crop by a grey level)."""
    import json
    import os
    import subprocess

    readme = (ROOT / "README.md").read_text()
    command = next(c for c in readme_commands() if c.startswith("sparsett-bench "))
    assert command == "sparsett-bench run --dataset synthetic"
    quoted = re.search(r"SparseTT-tiny scores AUC (\d+\.\d+)", readme)
    assert quoted, "the README quotes the shipped model's AUC on the synthetic test split"
    env = {**os.environ, "COLUMNS": "200"}
    completed = subprocess.run(
        command, shell=True, cwd=ROOT, capture_output=True, text=True, env=env, check=False
    )
    assert completed.returncode == 0, completed.stderr
    printed = re.search(r"sparsett-tiny\s*[│|]\s*(\d+\.\d+)", completed.stdout)
    assert printed, completed.stdout
    baseline = json.loads((ROOT / "results" / "baselines" / "synthetic.json").read_text())
    assert abs(float(printed[1]) - float(quoted[1])) <= baseline["tolerance_points"]
