"""Writing a `Report` as Markdown, CSV, LaTeX and JSON tables (all atomically).

Files: ``<stem>.md``, ``<stem>.csv``, ``<stem>.tex``, ``<stem>_attributes.csv`` and
``<stem>.json`` in the output folder. Best values per column are bold in Markdown and LaTeX.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

from sparsett_bench.atomic import write_text_atomic
from sparsett_bench.evaluation.report import Report, attribute_rows, overall_rows, report_json


def columns(report: Report) -> list[tuple[str, str]]:
    """(key, header) of the overall table; FPS columns only when some tracker has times."""
    cols = [(m, report.label(m)) for m in report.metric_names()]
    rows = overall_rows(report)
    if any(not math.isnan(r["fps"]) for r in rows):
        cols += [("fps", "FPS"), ("fps_mean_per_frame", "FPS (mean 1/t)")]
    return cols


def best_values(rows: list[dict[str, object]], keys: list[str]) -> dict[str, float]:
    best = {}
    for key in keys:
        values = [float(r[key]) for r in rows if not math.isnan(float(r[key]))]
        if values:
            best[key] = max(values)
    return best


def cell(value: object, decimals: int = 2) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.{decimals}f}"
    return str(value)


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
    "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}  # fmt: skip


def latex_text(text: str) -> str:
    """``text`` as LaTeX typesets it literally (a tracker named ``Siam_BAN&50%``)."""
    return "".join(_LATEX_SPECIAL.get(char, char) for char in text)


def markdown_text(text: str) -> str:
    """``text`` for a Markdown table cell: ``|`` would end the cell, ``*`` and a backquote
    would start emphasis or code (``_`` inside a word emphasises nothing, and is kept)."""
    return "".join("\\" + char if char in "\\|*`" else char for char in text)


def markdown(report: Report) -> str:
    cols = columns(report)
    rows = overall_rows(report)
    best = best_values(rows, [k for k, _ in cols])
    lines = [
        f"**{report.dataset}** ({report.split}, {len(report.sequences)} sequences), "
        f"protocol `{report.protocol.key}`",
        "",
        "| Tracker | " + " | ".join(h for _, h in cols) + " |",
        "|---|" + "---:|" * len(cols),
    ]
    for row in rows:
        cells = []
        for key, _ in cols:
            text = cell(row[key])
            cells.append(f"**{text}**" if best.get(key) == row[key] else text)
        lines.append(f"| {markdown_text(str(row['tracker']))} | " + " | ".join(cells) + " |")
    attr = attribute_rows(report)
    if attr:
        trackers = [e.tracker for e in report.ranked()]
        for metric, title in (("auc", "Success AUC"), ("precision", "Precision@20")):
            lines += [
                "",
                f"{title} per attribute:",
                "",
                "| Attribute | Seqs | " + " | ".join(map(markdown_text, trackers)) + " |",
                "|---|---:|" + "---:|" * len(trackers),
            ]
            lines += _attribute_lines(attr, trackers, metric)
    return "\n".join(lines) + "\n"


def _attribute_lines(attr: list[dict[str, object]], trackers: list[str], metric: str) -> list[str]:
    by_attr: dict[str, dict[str, object]] = {}
    for r in attr:
        by_attr.setdefault(str(r["attribute"]), {"sequences": r["sequences"]})[
            str(r["tracker"])
        ] = r[metric]
    lines = []
    for short, values in by_attr.items():
        top = max(float(values[t]) for t in trackers)
        cells = [
            f"**{cell(values[t])}**" if values[t] == top else cell(values[t]) for t in trackers
        ]
        lines.append(f"| {short} | {values['sequences']} | " + " | ".join(cells) + " |")
    return lines


def csv_text(rows: list[dict[str, object]]) -> str:
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: cell(v, 4) for k, v in row.items()})
    return buffer.getvalue()


def latex(report: Report) -> str:
    cols = columns(report)
    rows = overall_rows(report)
    best = best_values(rows, [k for k, _ in cols])
    out = [
        "\\begin{tabular}{l" + "r" * len(cols) + "}",
        "\\hline",
        "Tracker & " + " & ".join(latex_text(h) for _, h in cols) + " \\\\",
        "\\hline",
    ]
    for row in rows:
        cells = []
        for key, _ in cols:
            text = cell(row[key])
            cells.append(f"\\textbf{{{text}}}" if best.get(key) == row[key] else text)
        name = latex_text(str(row["tracker"]))
        out.append(f"{name} & " + " & ".join(cells) + " \\\\")
    out += ["\\hline", "\\end{tabular}"]
    return "\n".join(out) + "\n"


def write_tables(report: Report, out_dir: Path, stem: str) -> list[Path]:
    """Write every table format; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {
        f"{stem}.md": markdown(report),
        f"{stem}.csv": csv_text(overall_rows(report)),
        f"{stem}_attributes.csv": csv_text(attribute_rows(report)),
        f"{stem}.tex": latex(report),
        f"{stem}.json": json.dumps(report_json(report), indent=1, allow_nan=True) + "\n",
    }
    written = []
    for name, text in files.items():
        if name.endswith("_attributes.csv") and not text:
            continue
        write_text_atomic(out_dir / name, text)
        written.append(out_dir / name)
    return written
