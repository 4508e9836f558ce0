"""Run the installed got10k toolkit's own OTB experiment on given annotations and results.

The toolkit reads a full OTB root (``<Seq>/groundtruth_rect*.txt`` and ``<Seq>/img/*.jpg``, it
asserts one image per box and slices David/Football1/Freeman3/Freeman4/Diving itself) and
results from ``<result_dir>/OTB2015/<tracker>/<name>.txt`` under its own names
(``Jogging.1``, ``Skating2.2``, ``Human4``). This module builds exactly that in a scratch
folder, with empty placeholder images, and returns what ``ExperimentOTB.report`` returns.
Shared by the compatibility test and ``benchmarks/report_speed.py``.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np

# got10k slices these image lists itself (experiments read ``img_files[a:b]``).
_IMAGE_COUNT = {"David": 770, "Football1": 74, "Freeman3": 460, "Freeman4": 283, "Diving": 215}


def got10k_name(name: str) -> str:
    """This project's OTB name -> the got10k toolkit's (``Jogging-1`` -> ``Jogging.1``)."""
    if name == "Human4-2":
        return "Human4"
    return name.replace("-", ".")


def _folder_and_gt(name: str) -> tuple[str, str]:
    if "-" in name:
        folder, index = name.split("-")
        return folder, f"groundtruth_rect.{index}.txt"
    return name, "groundtruth_rect.txt"


def _rows(boxes: np.ndarray) -> str:
    return "".join(",".join(repr(float(v)) for v in row) + "\n" for row in boxes)


def build_otb_root(root: Path, annotations: dict[str, np.ndarray]) -> None:
    """An OTB root the toolkit accepts: every 2015 folder exists (so it does not download),
    only the given sequences have ground truth and images."""
    from got10k.datasets import OTB

    for folder in OTB._OTB__version_dict[2015]:  # the toolkit's own (private) list
        (root / folder / "img").mkdir(parents=True, exist_ok=True)
    for name, boxes in annotations.items():
        folder, gt_file = _folder_and_gt(name)
        (root / folder / gt_file).write_text(_rows(boxes))
        images = root / folder / "img"
        count = max(len(boxes), _IMAGE_COUNT.get(folder, 0))
        if len(list(images.iterdir())) < count:
            for index in range(1, count + 1):
                (images / f"{index:04d}.jpg").touch()


def write_results(result_dir: Path, tracker: str, results: dict[str, np.ndarray]) -> None:
    folder = result_dir / "OTB2015" / tracker
    folder.mkdir(parents=True, exist_ok=True)
    for name, boxes in results.items():
        (folder / f"{got10k_name(name)}.txt").write_text(_rows(boxes))


def got10k_otb_report(work: Path, tracker: str, plots: bool = False) -> dict:
    """``ExperimentOTB(work/'otb', 2015).report([tracker])`` with its printing silenced;
    ``plots=False`` skips its matplotlib figures (they do not change the numbers)."""
    from got10k.experiments import ExperimentOTB

    with contextlib.redirect_stdout(io.StringIO()):
        experiment = ExperimentOTB(
            str(work / "otb"),
            version=2015,
            result_dir=str(work / "results"),
            report_dir=str(work / "reports"),
        )
        if not plots:
            experiment.plot_curves = lambda *args, **kwargs: None
        performance = experiment.report([tracker])
    return performance[tracker]
