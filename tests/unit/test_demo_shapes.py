"""The demo's shape generator, captions, prompt parser and image analyzer (checked against each other)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from modules.demo.analyzer import analyze, position_name
from modules.demo.shapes import (
    COLOURS,
    KINDS,
    POSITIONS,
    Scene,
    Shape,
    benchmark_scenes,
    caption,
    full_caption,
    render,
    scene_from_prompt,
    scene_from_seed,
    write_dataset,
)

ATTRIBUTES = ("background", "colour", "position", "size", "kind")


def _agreement(images: list[tuple[Scene, Image.Image]]) -> dict[str, float]:
    right: Counter[str] = Counter()
    for scene, image in images:
        for name, ok in analyze(image).matches(scene).items():
            right[name] += bool(ok)
    return {name: right[name] / len(images) for name in ATTRIBUTES}


def _single_shape_scenes(count: int) -> list[Scene]:
    scenes = [scene_from_seed(s) for s in range(count * 2)]
    return [s for s in scenes if len(s.shapes) == 1][:count]


def test_analyzer_reads_back_what_the_generator_drew() -> None:
    scenes = _single_shape_scenes(600)
    agreement = _agreement([(s, render(s)) for s in scenes])
    assert all(v >= 0.98 for v in agreement.values()), agreement


def test_analyzer_survives_blur_and_noise() -> None:
    rng = np.random.default_rng(0)
    images = []
    for scene in _single_shape_scenes(150):
        blurred = np.asarray(render(scene).filter(ImageFilter.GaussianBlur(1.2)), dtype=np.float32)
        noisy = (blurred + rng.normal(0, 12, blurred.shape)).clip(0, 255).astype(np.uint8)
        images.append((scene, Image.fromarray(noisy)))
    agreement = _agreement(images)
    assert all(v >= 0.95 for v in agreement.values()), agreement


def test_analyzer_takes_the_larger_of_two_shapes() -> None:
    scenes = [s for s in (scene_from_seed(i) for i in range(1500))
              if len(s.shapes) == 2 and s.shapes[0].size != s.shapes[1].size][:100]
    assert len(scenes) >= 50
    agreement = _agreement([(s, render(s)) for s in scenes])
    assert all(v >= 0.98 for v in agreement.values()), agreement


def test_plain_background_has_no_shape() -> None:
    result = analyze(Image.new("RGB", (128, 128), COLOURS["blue"]))
    assert result.background == "blue" and result.shape is None


def test_position_names() -> None:
    assert position_name(0.5, 0.5) == "centre"
    assert position_name(0.2, 0.5) == "left"
    assert position_name(0.8, 0.2) == "top right"
    assert position_name(0.5, 0.9) == "bottom"


def test_scenes_are_seeded_and_varied() -> None:
    assert scene_from_seed(5) == scene_from_seed(5)
    assert np.array_equal(np.asarray(render(scene_from_seed(5))), np.asarray(render(scene_from_seed(5))))
    scenes = [scene_from_seed(s) for s in range(2000)]
    counts = Counter(len(s.shapes) for s in scenes)
    assert counts[1] > counts[2] > 300
    shapes = [shape for s in scenes for shape in s.shapes]
    assert {s.kind for s in shapes} == set(KINDS)
    assert {s.position for s in shapes} == set(POSITIONS)
    assert {s.colour for s in shapes} == set(COLOURS) == {s.background for s in scenes}
    for scene in scenes:
        assert all(shape.colour != scene.background for shape in scene.shapes)


def test_render_size_and_colours() -> None:
    scene = Scene("white", (Shape("square", "red", "centre", "large"),))
    image = render(scene, 64)
    assert image.size == (64, 64) and image.mode == "RGB"
    assert image.getpixel((0, 0)) == COLOURS["white"]
    assert image.getpixel((32, 32)) == COLOURS["red"]


@pytest.mark.parametrize(
    ("text", "background", "shapes"),
    [
        ("a small green triangle at the top left on a white background", "white",
         [Shape("triangle", "green", "top left", "small")]),
        ("a red circle and a blue square on a yellow background", "yellow",
         [Shape("circle", "red"), Shape("square", "blue")]),
        ("A BIG Grey square in the center, against a black background.", "black",
         [Shape("square", "gray", "centre", "large")]),
        ("an orange circle in the bottom right corner", None, [Shape("circle", "orange", "bottom right")]),
        ("a tiny pink triangle on the left and a large cyan circle on the right on a brown background", "brown",
         [Shape("triangle", "pink", "left", "small"), Shape("circle", "cyan", "right", "large")]),
    ],
)
def test_prompt_parser(text: str, background: str | None, shapes: list[Shape]) -> None:
    scene = scene_from_prompt(text)
    assert scene is not None
    assert scene.background == background
    assert list(scene.shapes) == shapes


def test_prompt_without_a_shape_is_none() -> None:
    assert scene_from_prompt("a photo of a cat") is None
    assert scene_from_prompt("") is None


def test_captions_parse_back_to_their_scene() -> None:
    for seed in range(300):
        scene = scene_from_seed(seed)
        text = caption(scene)
        assert text == text.strip() and "  " not in text
        parsed = scene_from_prompt(text)
        assert parsed is not None
        assert parsed.background in (None, scene.background)
        assert {(s.kind, s.colour) for s in parsed.shapes} == {(s.kind, s.colour) for s in scene.shapes}
        for got in parsed.shapes:
            want = next(s for s in scene.shapes if (s.kind, s.colour) == (got.kind, got.colour))
            assert got.position in (None, want.position) and got.size in (None, want.size)


def test_captions_use_articles_and_mostly_name_everything() -> None:
    scene = Scene("orange", (Shape("circle", "orange", "left", "small"),))
    assert all(not caption(Scene("orange", (Shape("square", "red"),), style=i)).startswith("a orange")
               for i in range(20))
    texts = [caption(scene_from_seed(s)) for s in range(400)]
    assert sum(" background" in t for t in texts) > 340
    assert any(t.startswith("an orange") for t in texts)
    assert full_caption(scene).startswith("a small orange circle") and "on an orange background" in full_caption(scene)


def test_benchmark_scenes_are_fully_specified() -> None:
    scenes = benchmark_scenes(50)
    assert len({full_caption(s) for s in scenes}) > 45
    for scene in scenes:
        parsed = scene_from_prompt(full_caption(scene))
        assert parsed is not None and parsed.background == scene.background and parsed.shapes == scene.shapes


def test_write_dataset(tmp_path: Path) -> None:
    folder = write_dataset(tmp_path / "shapes", count=6, seed=3, size=32)
    pngs = sorted(folder.glob("*.png"))
    assert [p.stem for p in pngs] == [f"{i:06d}" for i in range(6)]
    for png in pngs:
        assert Image.open(png).size == (32, 32)
        assert png.with_suffix(".txt").read_text(encoding="utf-8").strip()
    stamp = (folder / "000000.png").stat().st_mtime_ns
    write_dataset(folder, count=6, seed=3, size=32)  # complete: not rewritten
    assert (folder / "000000.png").stat().st_mtime_ns == stamp
