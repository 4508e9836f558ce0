"""Where a benchmark's printed lines are kept: ``--out FILE`` (under ``benchmarks/results/``)."""

from __future__ import annotations

from pathlib import Path


def record(lines: list[str], out: Path | None) -> None:
    """Write ``lines`` to ``out``, making its folder, when ``out`` is given."""
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(lines) + "\n")
