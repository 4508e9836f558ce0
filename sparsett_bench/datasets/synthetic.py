"""``synthetic``: a procedurally generated tracking benchmark that needs no download.

Every sequence is a pure function of ``(split, index)``: its random stream is
``SeedSequence([SEED, split code, index])``, frames are built with integer/float64 numpy
arithmetic only (no resampling library whose SIMD paths could differ between machines), so
the same sequence is byte-identical everywhere. The train and test splits draw from different
streams and never share a sequence.

A scene is a textured background (multi-octave value noise in a random palette, larger than
the frame so the camera can pan) and a textured target (ellipse, rectangle or diamond) moving
on a smooth random path, optionally with: an occluder bar crossing it, a path leaving the
frame, scale and aspect-ratio drift, non-rigid deformation, brightness changes, look-alike
distractors, and a small size. Boxes are ``x, y, w, h`` of the target's full extent in
0-based pixel coordinates (the benchmark-wide convention: centre = xy + (wh - 1) / 2); rows are
NaN while the target is fully occluded or fully out of view.

Attributes are *measured* on the generated sequence, not copied from its recipe:
``OCC`` some frame has 10-90 % of the target hidden by the occluder; ``FOC`` some frame has it
fully hidden; ``OV`` some frame has it fully outside the image; ``SV`` the largest visible
box area is over 2x the smallest; ``ARC`` some aspect ratio leaves [0.5, 2] x the first
frame's; ``FM`` some centre moves more than max(20 px, half the box size) between consecutive
frames; ``DEF`` the shape is deformed by at least 15 %; ``IV`` the brightness gain spans more
than 0.35; ``BC`` a look-alike comes within two box sizes of the target; ``LR`` some visible
box is smaller than 1,000 px (LaSOT's rule).

On disk: ``<root>/<split>/<seq>/img/%06d.png``, ``groundtruth.txt`` (comma, ``nan`` rows),
``absent.txt`` and ``attributes.txt``; a sequence folder appears only complete (written under
a temporary name, then renamed), so an interrupted generation is regenerated, never loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sparsett_bench.atomic import atomic_folder
from sparsett_bench.box_files import format_rows
from sparsett_bench.datasets.registry import dataset_info
from sparsett_bench.datasets.sequence import Sequence
from sparsett_bench.errors import InputFileError, SparsettError

SEED = 20221
SPLITS = {"test": (1, 24, 150), "train": (2, 2000, 100)}  # split code, sequences, frames
WIDTH, HEIGHT = 480, 360


@dataclass(frozen=True)
class Recipe:
    """What a sequence is made of; drawn from its random stream."""

    frames: int
    shape: int  # 0 ellipse, 1 rectangle, 2 diamond
    size: float  # initial sqrt(area) in px
    aspect: float
    speed: float  # px per frame
    scale_drift: float
    aspect_drift: float
    deform: float
    occluder: bool
    occluder_width: float
    leaves_view: bool
    illumination: float
    distractors: int


@dataclass
class Track:
    """The simulated scene: per-frame target geometry and everything that covers it."""

    centers: np.ndarray  # (N, 2)
    sizes: np.ndarray  # (N, 2) w, h before deformation
    occluder_x: np.ndarray  # (N,) left edge of the vertical occluder bar (or -inf)
    camera: np.ndarray  # (N, 2) top-left of the frame in the background canvas
    gain: np.ndarray  # (N,) brightness multiplier
    distractor_centers: np.ndarray  # (D, N, 2)


def sequence_name(split: str, index: int) -> str:
    return f"synthetic-{split}-{index:04d}"


def _rng(split: str, index: int) -> np.random.Generator:
    if split not in SPLITS:
        raise SparsettError(f"synthetic splits are {', '.join(SPLITS)}, not {split!r}")
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence([SEED, SPLITS[split][0], index]))
    )


def draw_recipe(rng: np.random.Generator, frames: int) -> Recipe:
    return Recipe(
        frames=frames,
        shape=int(rng.integers(0, 3)),
        size=float(rng.choice([rng.uniform(18, 30), rng.uniform(32, 80)], p=[0.25, 0.75])),
        aspect=float(np.exp(rng.uniform(-0.6, 0.6))),
        speed=float(rng.choice([rng.uniform(0.5, 3.0), rng.uniform(8.0, 16.0)], p=[0.7, 0.3])),
        scale_drift=float(rng.choice([0.0, rng.uniform(0.4, 1.0)], p=[0.5, 0.5])),
        aspect_drift=float(rng.choice([0.0, rng.uniform(0.5, 1.0)], p=[0.6, 0.4])),
        deform=float(rng.choice([0.0, rng.uniform(0.15, 0.3)], p=[0.6, 0.4])),
        occluder=bool(rng.random() < 0.45),
        occluder_width=float(rng.uniform(0.6, 3.0)),
        leaves_view=bool(rng.random() < 0.25),
        illumination=float(rng.choice([0.0, rng.uniform(0.4, 0.7)], p=[0.6, 0.4])),
        distractors=int(rng.choice([0, 1, 2], p=[0.5, 0.3, 0.2])),
    )


def _smooth_path(
    rng: np.random.Generator,
    frames: int,
    speed: float,
    start: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
) -> np.ndarray:
    """A random walk with inertia, reflected into [low, high]."""
    heading = rng.uniform(0, 2 * np.pi)
    turns = np.cumsum(rng.normal(0, 0.25, frames))
    steps = speed * np.stack([np.cos(heading + turns), np.sin(heading + turns)], axis=1)
    path = start + np.cumsum(steps, axis=0) - steps[0]
    span = high - low
    folded = np.mod(path - low, 2 * span)
    return low + np.where(folded > span, 2 * span - folded, folded)


def simulate(recipe: Recipe, rng: np.random.Generator) -> Track:
    n = recipe.frames
    base = np.array([recipe.size * np.sqrt(recipe.aspect), recipe.size / np.sqrt(recipe.aspect)])
    scale = np.exp(recipe.scale_drift * np.sin(np.linspace(0, rng.uniform(1.5, 3.0), n)))
    aspect = np.exp(recipe.aspect_drift * np.sin(np.linspace(0, rng.uniform(1.5, 3.0), n)))
    sizes = base * scale[:, None] * np.stack([np.sqrt(aspect), 1 / np.sqrt(aspect)], axis=1)
    margin = sizes.max(axis=0) / 2 + 4
    low, high = margin, np.array([WIDTH, HEIGHT]) - margin
    if recipe.leaves_view:  # the path may run well outside the image
        low, high = -margin * 1.5 - 40, np.array([WIDTH, HEIGHT]) + margin * 1.5 + 40
    start = rng.uniform(margin, np.array([WIDTH, HEIGHT]) - margin)
    centers = _smooth_path(rng, n, recipe.speed, start, low, high)
    if recipe.leaves_view:  # guarantee an exit: push the middle third out of the frame
        third = slice(n // 3, 2 * n // 3)
        push = np.linspace(0, 1, third.stop - third.start)
        centers[third, 0] = centers[third, 0] + np.sin(np.pi * push) * (WIDTH + 2 * margin[0])
    occluder_x = np.full(n, -np.inf)
    if recipe.occluder:
        width = recipe.occluder_width * recipe.size
        speed = float(rng.choice([-2.0, 2.0]))
        pass_frame = rng.integers(n // 4, 3 * n // 4)
        occluder_x = centers[pass_frame, 0] - width / 2 + (np.arange(n) - pass_frame) * speed
        left, right = centers[0, 0] - sizes[0, 0] / 2 - 2, centers[0, 0] + sizes[0, 0] / 2 + 2
        if occluder_x[0] < right and occluder_x[0] + width > left:  # frame 1 must be clear
            start = left - width if speed > 0 else right
            occluder_x = start + np.arange(n) * speed
    camera = _smooth_path(
        rng,
        n,
        1.0,
        np.array([WIDTH / 4, HEIGHT / 4]),
        np.zeros(2),
        np.array([WIDTH / 2, HEIGHT / 2]),
    )
    phase = rng.uniform(0, 2 * np.pi)
    gain = 1.0 + 0.5 * recipe.illumination * np.sin(phase + np.linspace(0, 2 * np.pi, n))
    distractors = (
        np.stack(
            [
                centers
                + _smooth_path(
                    rng, n, 1.5, rng.normal(0, 40, 2), np.full(2, -90.0), np.full(2, 90.0)
                )
                for _ in range(recipe.distractors)
            ]
        )
        if recipe.distractors
        else np.zeros((0, n, 2))
    )
    return Track(centers, sizes, occluder_x, camera, gain, distractors)


def _value_noise(rng: np.random.Generator, height: int, width: int, octaves: int = 4) -> np.ndarray:
    """Multi-octave value noise in [0, 1], bilinear interpolation in float64 numpy."""
    out = np.zeros((height, width))
    for octave in range(octaves):
        cells = 2 ** (octave + 2)
        grid = rng.random((cells + 1, cells + 1))
        ys, xs = np.linspace(0, cells, height), np.linspace(0, cells, width)
        y0, x0 = np.minimum(ys.astype(int), cells - 1), np.minimum(xs.astype(int), cells - 1)
        fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
        top = grid[y0][:, x0] * (1 - fx) + grid[y0][:, x0 + 1] * fx
        bottom = grid[y0 + 1][:, x0] * (1 - fx) + grid[y0 + 1][:, x0 + 1] * fx
        out += (top * (1 - fy) + bottom * fy) / 2**octave
    return out / out.max()


def _palette_image(rng: np.random.Generator, noise: np.ndarray) -> np.ndarray:
    colours = rng.uniform(0, 255, (3, 3))
    t = noise[..., None]
    return np.where(
        t < 0.5,
        colours[0] + (colours[1] - colours[0]) * (2 * t),
        colours[1] + (colours[2] - colours[1]) * (2 * t - 1),
    )


def _shape_mask(shape: int, h: int, w: int, deform: float, phase: float) -> np.ndarray:
    ys = (np.arange(h) + 0.5) / h * 2 - 1
    xs = (np.arange(w) + 0.5) / w * 2 - 1
    xs = xs[None, :] * (1 + deform * np.sin(3 * ys[:, None] + phase))  # deform 0: rigid
    ys = ys[:, None]
    if shape == 0:
        return xs**2 + ys**2 <= 1
    if shape == 1:
        return (np.abs(xs) <= 1) & (np.abs(ys) <= 1) & np.ones_like(xs * ys, bool)
    return np.abs(xs) + np.abs(ys) <= 1


def target_pixels(recipe: Recipe, track: Track, frame: int) -> tuple[np.ndarray, int, int]:
    """The target's mask in ``frame`` and its top-left corner in frame coordinates."""
    w, h = np.maximum(np.round(track.sizes[frame]).astype(int), 2)
    mask = _shape_mask(recipe.shape, h, w, recipe.deform, 0.25 * frame)
    cx, cy = track.centers[frame]
    return mask, round(cy - (h - 1) / 2), round(cx - (w - 1) / 2)


def _occluder_span(recipe: Recipe, track: Track, frame: int) -> tuple[int, int] | None:
    x = track.occluder_x[frame]
    if not np.isfinite(x):
        return None
    right = x + recipe.occluder_width * recipe.size
    return int(np.clip(round(x), 0, WIDTH)), int(np.clip(round(right), 0, WIDTH))


class Scene:
    """Renders the frames of one simulated sequence."""

    def __init__(self, recipe: Recipe, track: Track, rng: np.random.Generator) -> None:
        self.recipe, self.track = recipe, track
        canvas = _value_noise(rng, HEIGHT * 3 // 2, WIDTH * 3 // 2, octaves=6)
        self.background = _palette_image(rng, canvas)
        self.texture = _palette_image(rng, _value_noise(rng, 128, 128, octaves=3))
        self.look_alike = np.clip(self.texture * rng.uniform(0.85, 1.15, 3), 0, 255)
        self.occluder_colour = rng.uniform(0, 255, 3)

    def _paste(
        self, image: np.ndarray, texture: np.ndarray, mask: np.ndarray, top: int, left: int
    ) -> np.ndarray:
        """Paint ``texture`` through ``mask`` at (top, left); returns the painted-pixel mask."""
        h, w = mask.shape
        painted = np.zeros(image.shape[:2], bool)
        y0, x0, y1, x1 = max(top, 0), max(left, 0), min(top + h, HEIGHT), min(left + w, WIDTH)
        if y0 >= y1 or x0 >= x1:
            return painted
        sub = mask[y0 - top : y1 - top, x0 - left : x1 - left]
        ty = (np.arange(y0, y1) - top) * 127 // max(h - 1, 1)
        tx = (np.arange(x0, x1) - left) * 127 // max(w - 1, 1)
        region = image[y0:y1, x0:x1]
        region[sub] = texture[ty][:, tx][sub]
        painted[y0:y1, x0:x1] = sub
        return painted

    def render(self, frame: int) -> tuple[np.ndarray, int, int]:
        """BGR uint8 frame, and the target's visible and total pixel counts."""
        cam = np.round(self.track.camera[frame]).astype(int)
        image = self.background[cam[1] : cam[1] + HEIGHT, cam[0] : cam[0] + WIDTH].copy()
        mask, top, left = target_pixels(self.recipe, self.track, frame)
        for distractor in self.track.distractor_centers:
            dx, dy = distractor[frame]
            dtop = round(dy - (mask.shape[0] - 1) / 2)
            dleft = round(dx - (mask.shape[1] - 1) / 2)
            self._paste(image, self.look_alike, mask, dtop, dleft)
        painted = self._paste(image, self.texture, mask, top, left)
        span = _occluder_span(self.recipe, self.track, frame)
        if span is not None:
            x0, x1 = span
            image[:, x0:x1] = self.occluder_colour
            painted[:, x0:x1] = False
        image *= self.track.gain[frame]
        return np.clip(image, 0, 255).astype(np.uint8), int(painted.sum()), int(mask.sum())


@dataclass
class Generated:
    """A simulated sequence: its ground truth now, its pixels on demand (`scene`)."""

    name: str
    split: str
    index: int
    boxes: np.ndarray
    absent: np.ndarray
    attributes: tuple[str, ...]
    recipe: Recipe
    track: Track

    def scene(self) -> Scene:
        """The renderer (its textures come after the track in the same random stream)."""
        rng = _rng(self.split, self.index)
        recipe = draw_recipe(rng, self.recipe.frames)
        return Scene(recipe, simulate(recipe, rng), rng)


def generate(split: str, index: int, frames: int | None = None) -> Generated:
    """Simulate one sequence: geometry and ground truth only, no pixels (milliseconds)."""
    rng = _rng(split, index)
    recipe = draw_recipe(rng, frames or SPLITS[split][2])
    track = simulate(recipe, rng)
    extent, visible_fraction = _measure(recipe, track)
    absent = visible_fraction == 0
    attributes = _attributes(recipe, track, extent, visible_fraction)
    boxes = extent.copy()
    boxes[absent] = np.nan
    return Generated(
        sequence_name(split, index), split, index, boxes, absent, attributes, recipe, track
    )


def _measure(recipe: Recipe, track: Track) -> tuple[np.ndarray, np.ndarray]:
    """Boxes of the target's full extent and the visible fraction of its pixels per frame,
    computed from the same masks the renderer paints."""
    n = recipe.frames
    boxes = np.zeros((n, 4))
    visible = np.zeros(n)
    for frame in range(n):
        mask, top, left = target_pixels(recipe, track, frame)
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        boxes[frame] = (
            left + cols[0],
            top + rows[0],
            cols[-1] - cols[0] + 1,
            rows[-1] - rows[0] + 1,
        )
        # the mask's columns that land in the image, minus the occluder's
        column_counts = mask[max(-top, 0) : max(HEIGHT - top, 0)].sum(axis=0)
        xs = left + np.arange(mask.shape[1])
        shown = (xs >= 0) & (xs < WIDTH)
        span = _occluder_span(recipe, track, frame)
        if span is not None:
            shown &= (xs < span[0]) | (xs >= span[1])
        visible[frame] = column_counts[shown].sum() / max(mask.sum(), 1)
    return boxes, visible


def _attributes(
    recipe: Recipe, track: Track, extent: np.ndarray, visible: np.ndarray
) -> tuple[str, ...]:
    """See the module docstring; ``extent`` holds every frame's full box, hidden or not."""
    shown = visible > 0
    w, h = extent[shown, 2], extent[shown, 3]
    area = w * h
    in_frame = _inside_fraction(extent)
    occluded_part = np.where(shown, 1 - visible / np.maximum(in_frame, 1e-9), 0)
    ratio = (w / h) / (w[0] / h[0]) if len(w) else np.ones(1)
    boxes = np.where(shown[:, None], extent, np.nan)
    centre = boxes[:, :2] + (boxes[:, 2:] - 1) / 2
    step = np.hypot(*np.diff(centre, axis=0).T)
    size = np.sqrt(boxes[1:, 2] * boxes[1:, 3])
    near = np.inf
    for distractor in track.distractor_centers:
        gap = np.hypot(*(distractor[shown] - track.centers[shown]).T)
        near = min(near, float(np.min(gap / np.sqrt(area))))
    flags = {
        "OCC": bool(np.any((occluded_part > 0.1) & (occluded_part < 0.9) & shown)),
        "FOC": bool(np.any((in_frame > 0) & (visible == 0))),
        "OV": bool(np.any(in_frame == 0)),
        "SV": bool(len(area) and area.max() > 2 * area.min()),
        "ARC": bool(np.any((ratio < 0.5) | (ratio > 2.0))),
        "FM": bool(np.any(step > np.maximum(20.0, 0.5 * size))),
        "DEF": recipe.deform >= 0.15,
        "IV": bool(track.gain.max() - track.gain.min() > 0.35),
        "BC": near < 2.0,
        "LR": bool(len(area) and area.min() < 1000),
    }
    order = [a.short for a in dataset_info("synthetic").attributes]
    return tuple(a for a in order if flags.get(a))


def _inside_fraction(boxes: np.ndarray) -> np.ndarray:
    """Fraction of each full-extent box that lies inside the image."""
    x1, y1 = np.clip(boxes[:, 0], 0, WIDTH), np.clip(boxes[:, 1], 0, HEIGHT)
    x2 = np.clip(boxes[:, 0] + boxes[:, 2], 0, WIDTH)
    y2 = np.clip(boxes[:, 1] + boxes[:, 3], 0, HEIGHT)
    with np.errstate(invalid="ignore"):
        fraction = (x2 - x1) * (y2 - y1) / (boxes[:, 2] * boxes[:, 3])
    return np.nan_to_num(fraction, nan=0.0)


def write_sequence(generated: Generated, folder: Path) -> None:
    """Render every frame and write the sequence folder atomically (temp folder, rename)."""
    import cv2

    with atomic_folder(folder) as staging:
        (staging / "img").mkdir()
        scene = generated.scene()
        for frame in range(len(generated.boxes)):
            image, _, _ = scene.render(frame)
            if not cv2.imwrite(str(staging / "img" / f"{frame + 1:06d}.png"), image):
                raise InputFileError(staging, "could not write a PNG frame (disk full?)")
        (staging / "groundtruth.txt").write_bytes(format_rows(generated.boxes))
        (staging / "absent.txt").write_text("".join(f"{int(a)}\n" for a in generated.absent))
        (staging / "attributes.txt").write_text(",".join(generated.attributes) + "\n")


def load(root: str | Path, split: str = "test", names: list[str] | None = None) -> list[Sequence]:
    """The split's sequences (only ``names``, any spelling, when given: the others are not
    even simulated); their frames are rendered to ``root/<split>/<seq>`` the first time
    anything asks for them."""
    from sparsett_bench.datasets._files import select

    root = Path(root)
    if split not in SPLITS:
        raise SparsettError(f"synthetic splits are {', '.join(SPLITS)}, not {split!r}")
    every = [sequence_name(split, index) for index in range(SPLITS[split][1])]
    chosen = set(select(every, names))
    return [
        _sequence(root / split, split, index) for index, name in enumerate(every) if name in chosen
    ]


def _sequence(base: Path, split: str, index: int) -> Sequence:
    """Ground truth is always simulated (milliseconds, and never stale); the frames are
    rendered into ``base/<name>`` the first time they are asked for."""
    generated = generate(split, index)
    folder = base / generated.name

    def frames() -> list[Path]:
        if not (folder / "groundtruth.txt").is_file():
            write_sequence(generated, folder)
        return [folder / "img" / f"{i + 1:06d}.png" for i in range(len(generated.boxes))]

    return Sequence(
        name=generated.name,
        boxes=generated.boxes,
        absent=generated.absent,
        attributes=generated.attributes,
        frame_paths_fn=frames,
        image_size=(WIDTH, HEIGHT),
    )
