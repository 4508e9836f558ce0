"""Every command in README.md and docs/ as written.

```bash`` blocks are run, one line per command, from the project root (commands that need
nothing beyond this checkout and ../shared); ```python`` blocks are executed. ```sh`` blocks
need a downloaded benchmark, a GPU or the internet: there every ``--option`` must be one the
sub-command accepts (checked against its ``--help``), so a renamed option cannot rot the docs."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import shared_path

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").glob("*.md"))


def blocks(page: Path, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", page.read_text(), flags=re.S)


def commands(page: Path, language: str) -> list[str]:
    return [line.strip() for b in blocks(page, language) for line in b.splitlines() if line.strip()]


def run_line(line: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        line, shell=True, cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "COLUMNS": "200"}, check=False, timeout=600,
    )  # fmt: skip


# What the pages' examples write (ignored by git), removed first so that they run as for a
# first-time user: `train` refuses an --out that holds a run unless --resume is given.
EXAMPLE_OUTPUTS = [ROOT / "runs" / "docs-example", ROOT / "results" / "docs-example"]


@pytest.mark.parametrize("page", [p for p in PAGES if blocks(p, "bash")], ids=lambda p: p.name)
def test_bash_commands_run(page: Path) -> None:
    shared_path("sequences", "otb")
    for folder in EXAMPLE_OUTPUTS:
        if any(str(folder.relative_to(ROOT)) in line for line in commands(page, "bash")):
            shutil.rmtree(folder, ignore_errors=True)
    for line in commands(page, "bash"):
        completed = run_line(line)
        assert completed.returncode == 0, f"{page.name}: {line}\n{completed.stderr[-2000:]}"


@pytest.mark.parametrize("page", [p for p in PAGES if blocks(p, "python")], ids=lambda p: p.name)
def test_python_blocks_run(page: Path) -> None:
    shared_path("sequences", "otb")
    for code in blocks(page, "python"):
        completed = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
        )
        assert completed.returncode == 0, f"{page.name}:\n{code}\n{completed.stderr[-2000:]}"


def _help(subcommand: str) -> str:
    return run_line(f"sparsett-bench {subcommand} --help").stdout


@pytest.mark.parametrize("page", [p for p in PAGES if blocks(p, "sh")], ids=lambda p: p.name)
def test_sh_commands_use_existing_options(page: Path) -> None:
    for line in commands(page, "sh"):
        words = shlex.split(line)
        if words[0] == "torchrun":
            words = words[words.index("sparsett_bench") :]
            words[0] = "sparsett-bench"
        assert words[0] == "sparsett-bench", line
        accepted = _help(words[1])
        for option in (w.split("=")[0] for w in words[2:] if w.startswith("--")):
            assert option in accepted, f"{page.name}: {option} not an option of {words[1]}"
