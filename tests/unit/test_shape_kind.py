"""The shape-kind reader (modules/demo/shape_kind.py) on shapes drawn at 64x64: clean circles, squares and
triangles are read as such; a four-lobed blob, a strongly rounded square and noise are "other"."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image, ImageDraw

from modules.demo.shape_kind import OTHER, count_lobes, read_kind

SIZE = 64
SUPER = 8


def _coverage(draw_fn) -> np.ndarray:  # noqa: ANN001
    """A 64x64 coverage map (0..1) of what draw_fn draws on an 8x supersampled canvas, box-averaged down."""
    big = Image.new("L", (SIZE * SUPER, SIZE * SUPER), 0)
    draw_fn(ImageDraw.Draw(big), SIZE * SUPER / 2)
    return np.asarray(big.resize((SIZE, SIZE), Image.Resampling.BOX), dtype=np.float64) / 255


def _shape(kind: str, radius: float, lobe: float = 0.2, corner: float = 0.1) -> np.ndarray:
    r = radius * SUPER

    def draw(d: ImageDraw.ImageDraw, c: float) -> None:
        if kind == "circle":
            d.ellipse((c - r, c - r, c + r, c + r), fill=255)
        elif kind == "square":
            d.rectangle((c - r, c - r, c + r, c + r), fill=255)
        elif kind == "triangle":
            d.polygon([(c, c - r), (c + 1.1 * r, c + r), (c - 1.1 * r, c + r)], fill=255)
        elif kind == "lobes":
            t = np.linspace(0, 2 * math.pi, 400, endpoint=False)
            rr = r * (1 + lobe * np.cos(4 * t))
            d.polygon(list(zip(c + rr * np.cos(t), c + rr * np.sin(t), strict=True)), fill=255)
        elif kind == "rounded":
            d.rounded_rectangle((c - r, c - r, c + r, c + r), radius=corner * 2 * r, fill=255)

    return _coverage(draw)


@pytest.mark.parametrize("radius", [5, 6, 8, 12, 20])  # 5-6 px: the demo's small shapes at 64x64
@pytest.mark.parametrize("kind", ["circle", "square", "triangle"])
def test_clean_shapes_are_read_as_drawn(kind: str, radius: float) -> None:
    reading = read_kind(_shape(kind, radius))
    assert reading.kind == kind, reading
    assert reading.fit > 0.9


@pytest.mark.parametrize("radius", [6, 8, 12])
@pytest.mark.parametrize("lobe", [0.12, 0.2])
def test_a_four_lobed_blob_is_not_a_circle_or_a_square(radius: float, lobe: float) -> None:
    reading = read_kind(_shape("lobes", radius, lobe=lobe))
    assert reading.kind == OTHER, reading
    assert reading.lobes == 4 and reading.fit == 0.0


def test_rounded_squares_slightly_rounded_is_a_square_strongly_rounded_is_not() -> None:
    assert read_kind(_shape("rounded", 10, corner=0.1)).kind == "square"
    assert read_kind(_shape("rounded", 10, corner=0.3)).kind == OTHER  # between a square and a circle


def test_noise_has_no_kind() -> None:
    rng = np.random.default_rng(0)
    blotch = (rng.random((24, 24)) > 0.5).astype(np.float64)
    assert read_kind(blotch).kind == OTHER
    assert read_kind(np.zeros((8, 8))).kind == OTHER  # too small / empty


def test_count_lobes_counts_outstanding_maxima_only() -> None:
    t = np.linspace(0, 2 * math.pi, 72, endpoint=False)
    assert count_lobes(10 * np.ones_like(t)) == 0
    assert count_lobes(10 * (1 + 0.2 * np.cos(4 * t))) == 4
    assert count_lobes(10 * (1 + 0.2 * np.cos(3 * t))) == 3
    assert count_lobes(10 * (1 + 0.01 * np.cos(4 * t))) == 0  # ripples under the prominence are no lobes


def test_the_analyzer_reads_the_kind_of_the_generators_64x64_pictures() -> None:
    """shapes.render at the demo model's own size: small shapes are 10-13 pixels across."""
    from modules.demo.analyzer import analyze
    from modules.demo.shapes import render, scene_from_seed

    scenes = [s for s in (scene_from_seed(i) for i in range(300)) if len(s.shapes) == 1][:150]
    right = sum(bool(analyze(render(s, 64)).matches(s)["kind"]) for s in scenes)
    assert right >= 0.97 * len(scenes), f"{right}/{len(scenes)}"
