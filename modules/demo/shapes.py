"""Procedural, seeded captioned images of coloured shapes: the demo model's training data.

Everything is a pure function of its arguments: `scene_from_seed(seed)` picks what is in the picture,
`render(scene)` draws it, `caption(scene)` describes it in plain English and `scene_from_prompt(text)`
reads such a description back (the benchmark uses it to know what a prompt asked for).
`write_dataset(folder, count, seed)` writes `000000.png` + `000000.txt` pairs, the layout of any folder
of captioned images (kohya / A1111 training folders use the same).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

RGB = tuple[int, int, int]

COLOURS: MappingProxyType[str, RGB] = MappingProxyType({
    "red": (220, 30, 30),
    "green": (30, 160, 50),
    "blue": (30, 70, 230),
    "yellow": (245, 225, 30),
    "orange": (250, 135, 20),
    "purple": (130, 40, 170),
    "pink": (250, 140, 200),
    "brown": (120, 70, 30),
    "white": (245, 245, 245),
    "black": (15, 15, 15),
    "gray": (128, 128, 128),
    "cyan": (30, 210, 225),
})
KINDS = ("circle", "square", "triangle")
SIZES = ("small", "large")
POSITIONS = ("centre", "left", "right", "top", "bottom", "top left", "top right", "bottom left", "bottom right")

# (x, y) of each position as a fraction of the image; y grows downwards
ANCHORS: MappingProxyType[str, tuple[float, float]] = MappingProxyType({
    "centre": (0.5, 0.5), "left": (0.27, 0.5), "right": (0.73, 0.5), "top": (0.5, 0.27), "bottom": (0.5, 0.73),
    "top left": (0.27, 0.27), "top right": (0.73, 0.27), "bottom left": (0.27, 0.73), "bottom right": (0.73, 0.73),
})
RADIUS: MappingProxyType[str, tuple[float, float]] = MappingProxyType({"small": (0.085, 0.105), "large": (0.16, 0.19)})
JITTER = 0.03  # largest random offset of a shape from its anchor
MARGIN = 0.03  # shapes keep this far from the image border
TWO_SHAPES_P = 0.3
SUPERSAMPLE = 4

POSITION_PHRASES: MappingProxyType[str, tuple[str, ...]] = MappingProxyType({
    "centre": ("in the centre", "in the center", "in the middle"),
    "left": ("on the left", "at the left"),
    "right": ("on the right", "at the right"),
    "top": ("at the top",),
    "bottom": ("at the bottom",),
    "top left": ("at the top left", "in the top left corner"),
    "top right": ("at the top right", "in the top right corner"),
    "bottom left": ("at the bottom left", "in the bottom left corner"),
    "bottom right": ("at the bottom right", "in the bottom right corner"),
})
SYNONYMS: MappingProxyType[str, str] = MappingProxyType({
    "grey": "gray", "center": "centre", "middle": "centre", "big": "large", "tiny": "small",
    "circles": "circle", "squares": "square", "triangles": "triangle",
})


@dataclass(frozen=True)
class Shape:
    kind: str
    colour: str
    position: str | None = None  # None: not specified (a parsed prompt); rendered in the centre
    size: str | None = None  # None: not specified; rendered large


@dataclass(frozen=True)
class Scene:
    """What an image shows. shapes[0] is the main (largest) shape. jitter seeds the small random
    offsets and radii used by render(); style seeds the caption's wording."""

    background: str | None
    shapes: tuple[Shape, ...]
    jitter: int = 0
    style: int = 0

    @property
    def main(self) -> Shape:
        return self.shapes[0]


@dataclass(frozen=True)
class Placed:
    """A shape's geometry in fractions of the image: centre (x, y), half width and half height."""

    shape: Shape
    x: float
    y: float
    half_w: float
    half_h: float

    def box(self) -> tuple[float, float, float, float]:
        return (self.x - self.half_w, self.y - self.half_h, self.x + self.half_w, self.y + self.half_h)


def _half_extent(kind: str, radius: float) -> tuple[float, float]:
    if kind == "square":
        return 0.9 * radius, 0.9 * radius
    if kind == "triangle":
        return 1.1 * radius, radius
    return radius, radius


def layout(scene: Scene) -> list[Placed]:
    """Where each shape goes (deterministic for a scene): anchor + jitter, kept inside the margins."""
    rng = random.Random(scene.jitter)
    placed = []
    for shape in scene.shapes:
        radius = rng.uniform(*RADIUS[shape.size or "large"])
        half_w, half_h = _half_extent(shape.kind, radius)
        ax, ay = ANCHORS[shape.position or "centre"]
        x = min(max(ax + rng.uniform(-JITTER, JITTER), MARGIN + half_w), 1 - MARGIN - half_w)
        y = min(max(ay + rng.uniform(-JITTER, JITTER), MARGIN + half_h), 1 - MARGIN - half_h)
        placed.append(Placed(shape, x, y, half_w, half_h))
    return placed


def _apart(a: Placed, b: Placed, gap: float = 0.04) -> bool:
    ax0, ay0, ax1, ay1 = a.box()
    bx0, by0, bx1, by1 = b.box()
    return ax1 + gap <= bx0 or bx1 + gap <= ax0 or ay1 + gap <= by0 or by1 + gap <= ay0


def scene_from_seed(seed: int) -> Scene:
    """A random scene: one shape (70%) or two shapes that do not touch, never the background's colour."""
    rng = random.Random(f"scene-{seed}")
    background = rng.choice(list(COLOURS))
    colours = [c for c in COLOURS if c != background]
    if rng.random() < TWO_SHAPES_P:
        for attempt in range(50):
            first, second = rng.sample(colours, 2)
            sizes = sorted([rng.choice(SIZES), rng.choice(SIZES)], key=SIZES.index, reverse=True)
            shapes = (Shape(rng.choice(KINDS), first, rng.choice(POSITIONS), sizes[0]),
                      Shape(rng.choice(KINDS), second, rng.choice(POSITIONS), sizes[1]))
            scene = Scene(background, shapes, jitter=seed * 64 + attempt, style=seed)
            a, b = layout(scene)
            if _apart(a, b):
                return scene
    shape = Shape(rng.choice(KINDS), rng.choice(colours), rng.choice(POSITIONS), rng.choice(SIZES))
    return Scene(background, (shape,), jitter=seed * 64, style=seed)


def render(scene: Scene, size: int = 128) -> Image.Image:
    """The scene as an RGB image of size x size (drawn at 4x and averaged down, so edges are smooth)."""
    from PIL import Image, ImageDraw

    big = size * SUPERSAMPLE
    image = Image.new("RGB", (big, big), COLOURS[scene.background or "white"])
    draw = ImageDraw.Draw(image)
    for p in layout(scene):
        x0, y0, x1, y1 = (v * big for v in p.box())
        fill = COLOURS[p.shape.colour]
        if p.shape.kind == "circle":
            draw.ellipse((x0, y0, x1, y1), fill=fill)
        elif p.shape.kind == "square":
            draw.rectangle((x0, y0, x1, y1), fill=fill)
        else:
            draw.polygon([((x0 + x1) / 2, y0), (x1, y1), (x0, y1)], fill=fill)
    return image.resize((size, size), Image.Resampling.BOX)


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _describe(shape: Shape, rng: random.Random, with_position: bool, with_size: bool) -> str:
    words = []
    if with_size and shape.size:
        words.append("big" if shape.size == "large" and rng.random() < 0.2 else shape.size)
    words += [shape.colour, shape.kind]
    text = f"{_article(words[0])} {' '.join(words)}"
    if with_position and shape.position:
        text += " " + rng.choice(POSITION_PHRASES[shape.position])
    return text


def caption(scene: Scene) -> str:
    """Plain English, e.g. "a small green triangle at the top left on a white background" or
    "a red circle on the left and a blue square on the right on a yellow background".
    Most captions name every attribute; some leave out position, size or background (scene.style decides)."""
    rng = random.Random(f"caption-{scene.style}")
    with_position = rng.random() < 0.85
    with_size = rng.random() < 0.8
    with_background = rng.random() < 0.93
    shapes = list(scene.shapes)
    if len(shapes) > 1 and rng.random() < 0.5:
        shapes.reverse()
    text = " and ".join(_describe(s, rng, with_position, with_size) for s in shapes)
    if with_background and scene.background:
        text += f" on {_article(scene.background)} {scene.background} background"
    return text


def full_caption(scene: Scene) -> str:
    """A caption naming every attribute (the form the benchmark prompts use)."""
    parts = [_describe(s, random.Random(f"caption-{scene.style}"), True, True) for s in scene.shapes]
    return " and ".join(parts) + f" on {_article(scene.background or 'white')} {scene.background or 'white'} background"


_BACKGROUND = re.compile(r"\b(?:on|against|over)?\s*(?:an?|the)?\s*(\w+) background\b")
_CORNER = re.compile(r"\b(top|bottom) (left|right)\b")
_SIDE = re.compile(r"\b(left|right|top|bottom|centre)\b")


def _normalise(text: str) -> str:
    words = re.sub(r"[^a-z ]+", " ", text.lower()).split()
    return " ".join(SYNONYMS.get(w, w) for w in words)


def _parse_shape(part: str) -> Shape | None:
    words = part.split()
    kind = next((w for w in words if w in KINDS), None)
    if kind is None:
        return None
    colour = next((w for w in words if w in COLOURS), None)
    size = next((w for w in words if w in SIZES), None)
    corner = _CORNER.search(part)
    side = _SIDE.search(part)
    position = f"{corner[1]} {corner[2]}" if corner else (side[1] if side else None)
    return Shape(kind, colour or "", position, size)


def scene_from_prompt(text: str) -> Scene | None:
    """What a caption-style prompt asks for, or None if it names no shape. Unnamed attributes are None
    (a shape's colour is "" when not named)."""
    text = _normalise(text)
    background = None
    found = _BACKGROUND.search(text)
    if found and found[1] in COLOURS:
        background = found[1]
        text = text[: found.start()] + " " + text[found.end():]
    shapes = [s for s in (_parse_shape(p) for p in re.split(r"\band\b|,", text)) if s is not None]
    return Scene(background, tuple(shapes)) if shapes else None


def dataset_scene(seed: int, index: int) -> Scene:
    """Scene number index of the dataset written with this seed."""
    return scene_from_seed(seed * 1_000_000 + index)


def _write_range(args: tuple[str, int, int, int, int]) -> None:
    folder, seed, start, stop, size = args
    for i in range(start, stop):
        scene = dataset_scene(seed, i)
        render(scene, size).save(Path(folder) / f"{i:06d}.png", compress_level=1)
        (Path(folder) / f"{i:06d}.txt").write_text(caption(scene) + "\n", encoding="utf-8")


def _chunks(count: int, parts: int) -> Iterator[tuple[int, int]]:
    step = max(1, -(-count // parts))
    for start in range(0, count, step):
        yield start, min(count, start + step)


def write_dataset(folder: Path | str, count: int, seed: int = 0, size: int = 128, workers: int = 0) -> Path:
    """Write count image/caption pairs (000000.png + 000000.txt, …) and, last, dataset.json describing them.
    A folder whose dataset.json already matches is left as it is. workers > 1 renders in parallel in
    spawned processes (so a calling script needs the usual `if __name__ == "__main__":` guard)."""
    folder = Path(folder)
    marker = folder / "dataset.json"
    info = {"generator": "modules.demo.shapes", "count": count, "seed": seed, "size": size}
    if marker.is_file() and json.loads(marker.read_text(encoding="utf-8")) == info:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [(str(folder), seed, a, b, size) for a, b in _chunks(count, max(1, workers) * 8)]
    if workers > 1:
        from multiprocessing import get_context

        with get_context("spawn").Pool(workers) as pool:
            pool.map(_write_range, jobs)
    else:
        for job in jobs:
            _write_range(job)
    marker.write_text(json.dumps(info), encoding="utf-8")
    return folder


def benchmark_scenes(count: int, seed: int = 10_000) -> list[Scene]:
    """count single-shape scenes with every attribute set, distinct from the training seeds' scenes."""
    rng = random.Random(f"benchmark-{seed}")
    scenes: list[Scene] = []
    for i in range(count):
        background = rng.choice(list(COLOURS))
        colour = rng.choice([c for c in COLOURS if c != background])
        shape = Shape(rng.choice(KINDS), colour, rng.choice(POSITIONS), rng.choice(SIZES))
        scenes.append(Scene(background, (shape,), jitter=seed + i, style=seed + i))
    return scenes
