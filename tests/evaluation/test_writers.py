"""The table writers keep any tracker name literal in LaTeX and Markdown."""

from __future__ import annotations


def test_tracker_names_are_escaped_in_latex_and_markdown() -> None:
    from sparsett_bench.evaluation.writers import latex_text, markdown_text

    assert latex_text("Siam_BAN&50%#1 {x}~^$\\") == (
        r"Siam\_BAN\&50\%\#1 \{x\}\textasciitilde{}\textasciicircum{}\$\textbackslash{}"
    )
    assert markdown_text("Da|Siam*RPN`v2`_x\\") == r"Da\|Siam\*RPN\`v2\`_x\\"
