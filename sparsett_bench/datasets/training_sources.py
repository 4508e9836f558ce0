"""The training-only sources of the SparseTT full-data recipe: ILSVRC VID, ILSVRC DET, COCO.

They are read as the recipe samples them (video_analyst's samplers): a VID *track* (one
``trackid`` of one video) is a `Sequence` over every frame of its video, NaN where the track
is not annotated; a DET or COCO *object* is a one-frame `Sequence` whose template and search
come from the same image. Boxes are ``x, y, w, h`` with ``w = xmax - xmin`` from the XML
corners (VID/DET) and COCO's own ``[x, y, w, h]``; COCO crowd annotations are skipped.

Layouts (as distributed):

* ``ILSVRC2015/Data/VID/{train/ILSVRC2015_VID_train_000k,val}/<video>/%06d.JPEG`` with
  ``Annotations/VID/...`` one XML per frame; the recipe's ``train_val`` is both splits.
* ``ILSVRC2015/Data/DET/train/...`` (nested folders) with ``Annotations/DET/train/...`` XML.
* ``coco/train2017/*.jpg`` with ``coco/annotations/instances_train2017.json``.

Parsing VID's million XML files takes minutes, so each source's parsed index is kept as one
JSON file in the cache folder (``<cache>/sources``), keyed by the annotation folder's path and
its top-level listing. Files added deeper inside (a partial extraction completed later) are
not noticed: pass ``rebuild=True`` then, or delete the index.
"""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from sparsett_bench.atomic import write_text_atomic
from sparsett_bench.datasets.sequence import Sequence
from sparsett_bench.errors import InputFileError
from sparsett_bench.parse_cache import cache_root


def _xml_objects(path: Path) -> tuple[tuple[int, int], list[tuple[str, list[float]]]]:
    """``((width, height), [(trackid or name, [x, y, w, h]), ...])`` of one ILSVRC XML file."""
    try:
        tree = ElementTree.parse(path)
    except (ElementTree.ParseError, OSError) as exc:
        raise InputFileError(path, f"unreadable annotation XML: {exc}") from None
    root = tree.getroot()
    try:
        size = root.find("size")
        image_size = (int(size.findtext("width")), int(size.findtext("height")))
        objects = []
        for item in root.iter("object"):
            box = item.find("bndbox")
            x1, y1, x2, y2 = (float(box.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax"))
            key = item.findtext("trackid") or item.findtext("name") or ""
            objects.append((key, [x1, y1, x2 - x1, y2 - y1]))
    except (AttributeError, TypeError, ValueError):
        raise InputFileError(path, "expected <size> and <object><bndbox> with numbers") from None
    return image_size, objects


def _index_path(kind: str, folder: Path, listing: Iterable[str]) -> Path | None:
    root = cache_root()
    if root is None:
        return None
    digest = hashlib.sha256("\n".join([str(folder.resolve()), *listing]).encode()).hexdigest()
    return root / "sources" / f"{kind}-{digest[:24]}.json"


def _cached_index(kind: str, folder: Path, build, rebuild: bool = False) -> list:
    listing = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    if not listing:
        raise InputFileError(folder, f"no {kind} annotations found")
    path = _index_path(kind, folder, listing)
    if path is None:
        return build()
    if path.is_file() and not rebuild:
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError:
            pass
    index = build()
    write_text_atomic(path, json.dumps(index))
    return index


def load_vid(
    root: str | Path, splits: tuple[str, ...] = ("train", "val"), rebuild: bool = False
) -> list[Sequence]:
    """ILSVRC VID tracks; ``root`` is the ``ILSVRC2015`` folder."""
    root = Path(root)
    sequences = []
    for split in splits:
        annotations = root / "Annotations" / "VID" / split
        index = _cached_index(
            f"vid-{split}", annotations, lambda a=annotations: _vid_index(a), rebuild
        )
        for video, size, frames, tracks in index:
            data = root / "Data" / "VID" / split / video
            for trackid, rows in tracks.items():
                boxes = np.full((frames, 4), np.nan)
                for frame, box in rows:
                    boxes[frame] = box
                sequences.append(
                    Sequence(
                        name=f"{video.replace('/', '_')}_{trackid}",
                        boxes=boxes,
                        absent=np.isnan(boxes).any(axis=1),
                        image_size=tuple(size),
                        frame_paths_fn=_numbered_frames(data, frames),
                    )
                )
    return sequences


def _vid_index(annotations: Path) -> list:
    videos = sorted({p.parent for p in annotations.rglob("*.xml")})
    index = []
    for video in videos:
        files = sorted(video.glob("*.xml"))
        tracks: dict[str, list] = {}
        size = (0, 0)
        for frame, path in enumerate(files):
            size, objects = _xml_objects(path)
            for trackid, box in objects:
                tracks.setdefault(trackid, []).append((frame, box))
        index.append((video.relative_to(annotations).as_posix(), size, len(files), tracks))
    return index


def _numbered_frames(folder: Path, count: int):
    def frames() -> list[Path]:
        return [folder / f"{i:06d}.JPEG" for i in range(count)]

    return frames


def load_det(root: str | Path, rebuild: bool = False) -> list[Sequence]:
    """ILSVRC DET training objects, one single-frame `Sequence` each."""
    root = Path(root)
    annotations = root / "Annotations" / "DET" / "train"
    index = _cached_index("det-train", annotations, lambda: _det_index(annotations), rebuild)
    return [
        _still(f"{relative}_{k}", root / "Data" / "DET" / "train" / f"{relative}.JPEG", size, box)
        for relative, size, objects in index
        for k, box in enumerate(objects)
    ]


def _det_index(annotations: Path) -> list:
    index = []
    for path in sorted(annotations.rglob("*.xml")):
        size, objects = _xml_objects(path)
        if objects:
            relative = path.relative_to(annotations).with_suffix("").as_posix()
            index.append((relative, size, [box for _, box in objects]))
    return index


def load_coco(root: str | Path, split: str = "train2017") -> list[Sequence]:
    """COCO objects (crowd annotations skipped), one single-frame `Sequence` each."""
    root = Path(root)
    path = root / "annotations" / f"instances_{split}.json"
    try:
        document = json.loads(path.read_text())
        images = {im["id"]: im for im in document["images"]}
        objects = [a for a in document["annotations"] if not a.get("iscrowd", 0)]
    except FileNotFoundError:
        raise InputFileError(path, "missing COCO annotation file") from None
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise InputFileError(path, f"not a COCO instances file: {exc}") from None
    sequences = []
    for item in objects:
        image = images.get(item["image_id"])
        if image is None:
            raise InputFileError(
                path, f"annotation {item.get('id')} names unknown image {item['image_id']}"
            )
        sequences.append(
            _still(
                f"{Path(image['file_name']).stem}_{item['id']}",
                root / split / image["file_name"],
                (image["width"], image["height"]),
                item["bbox"],
            )
        )
    return sequences


def _still(name: str, image: Path, size, box) -> Sequence:
    return Sequence(
        name=name,
        boxes=np.asarray([box], float),
        absent=np.zeros(1, bool),
        image_size=(int(size[0]), int(size[1])),
        frame_paths_fn=lambda: [image],
    )
