"""The shipped demo model (models/Stable-diffusion/demo-shapes.safetensors) through the app, on CPU.

Floors sit below what the model measured (docs/demo-model.md): they catch a broken model, loader or
sampler, not a slightly different machine. Every image is 64x64 (the model's own size), 20 steps.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from modules.demo.analyzer import analyze
from modules.demo.shapes import COLOURS, scene_from_prompt
from modules.generation.params import Txt2ImgParams
from modules.generation.txt2img import run_txt2img
from modules.model_manager.folders import DEMO_CHECKPOINT
from modules.samplers.registry import sampler_names

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "models" / "Stable-diffusion" / DEMO_CHECKPOINT
SIZE = 64
MAX_BYTES = 40_000_000

PROMPTS = (
    "a red circle on a blue background",
    "a large yellow square on a black background",
    "a green triangle on a white background",
    "a white circle on a purple background",
    "a blue square on an orange background",
)
SEEDS = (1, 2, 3, 4)
CFG_SEEDS = tuple(range(1, 9))
ALL = ("background", "colour", "kind")  # what the prompts ask for
FLOOR_COLOURS = 0.8  # share of images with the asked background and shape colour (measured: 20/20)
# share with background, colour and kind as asked. Measured 10/20 with the eye-like kind reader
# (modules/demo/shape_kind.py, issue 28): the triangle and the large yellow square mostly right, the circles
# and the blue square mostly lobed blobs or four-pointed stars. (The earlier template reader said 20/20.)
FLOOR_ALL = 0.35
NEGATIVE_SHARE = 0.5  # pixels of the named colour with the negative prompt / without (measured: 0.0, from 86%)
# mean absolute pixel difference (0-255) between the CFG 1 and CFG 7 image of the same prompt and seed, over
# PROMPTS x CFG_SEEDS (measured: 9.0, per image 2.0-36.1; 0 if the scale were ignored)
CFG_CHANGE = 3.0
# share of PROMPTS (seed 1) with the asked colours, for each sampler (measured: 5/5 for 12 samplers, DPM2 a 4/5,
# DPM++ 3M SDE 4/5; DDIM with diffusers' default clip_sample: 0/5)
SAMPLER_FLOOR = 0.4
# (steps, CFG scale) for samplers measured below the floor at 20 steps and CFG 7 on this model, where they
# reach it: PLMS 0/5 (its extrapolated, strongly guided eps drifts the colours; 4/5 at CFG 3, 2/5 at 40 steps),
# DPM fast 0/5 (its 20 evaluations are spread evenly in log sigma from 4519, 9 of them above sigma 27, where
# this zero-terminal-SNR model sees only noise; 4/5 at 40 steps)
SAMPLER_RUNS = {"PLMS": (20, 3.0), "DPM fast": (40, 7.0)}

pytestmark = pytest.mark.skipif(not DEMO.is_file() and os.environ.get("CI") != "true",
                                reason=f"no demo model at {DEMO}")  # under CI a missing file fails the tests


class Demo:
    """The app with the demo model loaded; each image is generated once per test module."""

    def __init__(self, app: object) -> None:
        self.app = app
        self._images: dict[tuple[str, int, str, float, str, int], Image.Image] = {}

    def generate(self, prompt: str, seed: int, negative: str = "", cfg: float = 7.0,
                 sampler: str = Txt2ImgParams.sampler_name, steps: int = 20) -> Image.Image:
        key = (prompt, seed, negative, cfg, sampler, steps)
        if key not in self._images:
            params = Txt2ImgParams(prompt=prompt, negative_prompt=negative, seed=seed, steps=steps, cfg_scale=cfg,
                                   width=SIZE, height=SIZE, sampler_name=sampler)
            self._images[key] = run_txt2img(self.app, params).images[0]  # type: ignore[arg-type]
        return self._images[key]

    def right(self, cfg: float, attributes: tuple[str, ...], seeds: tuple[int, ...] = SEEDS,
              sampler: str = Txt2ImgParams.sampler_name, steps: int = 20) -> list[bool]:
        """Per image of PROMPTS x seeds: whether the analyzer finds all these attributes as asked."""
        out = []
        for prompt in PROMPTS:
            scene = scene_from_prompt(prompt)
            for seed in seeds:
                found = analyze(self.generate(prompt, seed, cfg=cfg, sampler=sampler, steps=steps)).matches(scene)
                out.append(all(found[name] for name in attributes))
        return out


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    from modules.app import build_app
    from modules.settings import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("demo"), ckpt=DEMO, device="cpu", precision="fp32")
    app = build_app(settings)
    app.load_default_model()
    yield Demo(app)  # torch runs on one thread in tests (tests/conftest.py)


def test_demo_file_is_small_and_loads_as_sd1(demo: Demo) -> None:
    assert DEMO.stat().st_size <= MAX_BYTES
    model, info = demo.app.models.require()  # type: ignore[attr-defined]
    assert info.is_demo and model.arch == "sd1"


def test_demo_infotext_names_the_zero_terminal_snr_schedule(demo: Demo) -> None:
    """The file's `ztsnr` marker puts the sampler on the rescaled schedule; the infotext says so in A1111's
    words, so pasting it into a tool that does not read the marker samples the same way."""
    params = Txt2ImgParams(prompt="a red circle", seed=1, steps=2, width=SIZE, height=SIZE)
    result = run_txt2img(demo.app, params)  # type: ignore[arg-type]
    assert "Noise Schedule: Zero Terminal SNR" in result.infotexts[0]


def test_prompts_are_followed_for_most_seeds(demo: Demo) -> None:
    colours = demo.right(7.0, ("background", "colour"))
    assert sum(colours) >= FLOOR_COLOURS * len(colours), f"{sum(colours)}/{len(colours)} with the asked colours"
    everything = demo.right(7.0, ALL)
    assert sum(everything) >= FLOOR_ALL * len(everything), f"{sum(everything)}/{len(everything)} fully right"


def _shares(image: Image.Image) -> np.ndarray:
    """Share of the image's pixels nearest to each palette colour (in COLOURS order)."""
    from modules.demo.analyzer import nearest_colour

    nearest = nearest_colour(np.asarray(image, dtype=np.float32))
    return np.bincount(nearest.ravel(), minlength=len(COLOURS)) / nearest.size


def test_negative_prompt_moves_away_from_what_it_names(demo: Demo) -> None:
    """The prompt leaves the background open; the negative prompt names the background the model chose
    (the commonest colour besides the red of the circle), and that colour's pixels go. (A prompt that
    leaves the shape's colour open gets a shape in the background's colour or a faint gray outline from
    this model, so there is no chosen shape colour to push away from.)"""
    prompt = "a large red circle"
    red = list(COLOURS).index("red")
    plain, negative = [], []
    for seed in SEEDS:
        shares = _shares(demo.generate(prompt, seed))
        shares[red] = 0.0
        chosen = int(shares.argmax())
        plain.append(float(shares[chosen]))
        named = f"a {list(COLOURS)[chosen]} background"
        negative.append(float(_shares(demo.generate(prompt, seed, negative=named))[chosen]))
    assert sum(negative) <= NEGATIVE_SHARE * sum(plain), (plain, negative)


def test_cfg_changes_the_picture_and_both_scales_keep_the_asked_colours(demo: Demo) -> None:
    """The guidance scale is applied (the pictures differ) and the asked colours hold at CFG 1 and 7.

    This test used to say that CFG 7 gets more images fully right than CFG 1 (38 vs 31 of 40), a gap the
    earlier template reader found in the kind. With the eye-like kind reader (issue 28) it is not so:
    over PROMPTS x CFG_SEEDS 20/40 are fully right at CFG 7 and 25/40 at CFG 1 (strong guidance draws
    circles and squares as lobed blobs and stars, the triangle a little better: 7/8 vs 5/8), so there is
    no ordering of the kind to test."""
    for cfg in (1.0, 7.0):
        colours = demo.right(cfg, ("background", "colour"), CFG_SEEDS)
        assert sum(colours) >= FLOOR_COLOURS * len(colours), (cfg, sum(colours), len(colours))
    changes = []
    for prompt in PROMPTS:
        for seed in CFG_SEEDS:
            low = np.asarray(demo.generate(prompt, seed, cfg=1.0), dtype=np.float32)
            high = np.asarray(demo.generate(prompt, seed, cfg=7.0), dtype=np.float32)
            changes.append(float(np.abs(high - low).mean()))
    assert float(np.mean(changes)) >= CFG_CHANGE, changes


@pytest.mark.parametrize("sampler", sampler_names())
def test_every_sampler_draws_the_asked_colours(demo: Demo, sampler: str) -> None:
    """Each sampler on the model's zero-terminal-SNR schedule, with its Automatic schedule: the asked
    background and shape colour in most of PROMPTS (seed 1). Catches a sampler that washes images out, as
    DDIM did with diffusers' default clip_sample (2.5% of backgrounds right)."""
    steps, cfg = SAMPLER_RUNS.get(sampler, (20, 7.0))
    right = demo.right(cfg, ("background", "colour"), (1,), sampler, steps)
    assert sum(right) >= SAMPLER_FLOOR * len(right), f"{sampler}: {sum(right)}/{len(right)} with the asked colours"
