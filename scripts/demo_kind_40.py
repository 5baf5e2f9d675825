"""The demo model's prompt following on 40 images, with a contact sheet to check the analyzer by eye.

Usage: .venv/bin/python scripts/demo_kind_40.py [--ckpt FILE] [--out docs/images/demo-40.png]

Takes the first 40 prompts of the benchmark (modules.demo.shapes.benchmark_scenes, with the seeds the
benchmark gives their first image: 0, 2, 4, ...), generates each through the app's txt2img at the demo
model's defaults (64x64, 20 steps, CFG 7, DPM++ 2M), reads every image back with
modules/demo/analyzer.py and prints one line per image (what was asked, what was read) and the share
right per attribute. Writes the 40 images as one contact sheet (8 x 5, each enlarged --zoom times, its
number above it) so the kind verdicts can be checked by eye.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COUNT = 40
COLUMNS = 8
ATTRIBUTES = ("background", "colour", "position", "kind", "size")


def main(argv: list[str] | None = None) -> int:
    from PIL import Image, ImageDraw

    from modules.app import build_app
    from modules.demo.analyzer import analyze
    from modules.demo.shapes import benchmark_scenes, full_caption
    from modules.generation.params import Txt2ImgParams
    from modules.generation.txt2img import run_txt2img
    from modules.model_manager.folders import DEMO_CHECKPOINT
    from modules.settings import Settings

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ckpt", type=Path, default=ROOT / "models" / "Stable-diffusion" / DEMO_CHECKPOINT)
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "demo-40.png")
    p.add_argument("--zoom", type=int, default=2)
    args = p.parse_args(argv)

    right = dict.fromkeys(ATTRIBUTES, 0)
    tiles = []
    with tempfile.TemporaryDirectory() as tmp:
        app = build_app(Settings(data_dir=Path(tmp), ckpt=args.ckpt.resolve(), device="cpu", precision="fp32"))
        app.jobs.run("load-checkpoint", lambda _progress: app.load_default_model())
        for i, scene in enumerate(benchmark_scenes(COUNT)):
            prompt = full_caption(scene)
            params = Txt2ImgParams(prompt=prompt, seed=2 * i, steps=20, cfg_scale=7.0, sampler_name="DPM++ 2M",
                                   width=64, height=64)
            image = run_txt2img(app, params).images[0]
            found = analyze(image)
            ok = found.matches(scene)
            for name in ATTRIBUTES:
                right[name] += bool(ok[name])
            read = "no shape" if found.shape is None else \
                f"{found.shape.size} {found.shape.colour} {found.shape.kind} {found.shape.position} on {found.background}"
            print(f"{i:2d} seed {2 * i:2d}: asked {prompt!r}; read {read}; kind {'right' if ok['kind'] else 'WRONG'}",
                  flush=True)
            tiles.append(image.resize((64 * args.zoom, 64 * args.zoom), Image.Resampling.NEAREST))
    for name in ATTRIBUTES:
        print(f"{name:>10}: {right[name]}/{COUNT} = {right[name] / COUNT:.1%}")

    side, label = 64 * args.zoom, 12
    rows = -(-COUNT // COLUMNS)
    sheet = Image.new("RGB", (COLUMNS * (side + 4), rows * (side + label + 4)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for i, tile in enumerate(tiles):
        x, y = (i % COLUMNS) * (side + 4), (i // COLUMNS) * (side + label + 4)
        draw.text((x + 2, y), str(i), fill=(0, 0, 0))
        sheet.paste(tile, (x, y + label))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out, optimize=True)
    print(f"contact sheet: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
