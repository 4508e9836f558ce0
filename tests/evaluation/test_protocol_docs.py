"""docs/protocols.md carries the rules generated from the code: the two must not drift."""

from __future__ import annotations

from pathlib import Path

from sparsett_bench.evaluation.protocols import rules_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocols.md"


def test_protocol_rules_in_docs_match_the_code() -> None:
    text = DOC.read_text()
    marker = "## Rules of every protocol\n\n"
    assert marker in text
    assert text.split(marker, 1)[1] == rules_markdown(), (
        "docs/protocols.md is stale: regenerate its last section from rules_markdown()"
    )
