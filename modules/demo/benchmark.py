"""Prompt-following benchmark for a checkpoint, through the app's real txt2img path.

    python -m modules.demo.benchmark --ckpt models/Stable-diffusion/demo-shapes.safetensors

Generates each of --prompts single-shape prompts ("a small red circle at the top left on a blue
background") with --seeds seeds at 20 steps, CFG 7, 128x128, reads every image back with the analyzer
and prints how often background colour, shape colour, position, kind and size are right, next to the
quality bar, plus seconds per image and, on Linux, the share of CPU time the host took away (steal).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from modules.demo.cpu_steal import read_cpu_ticks, stolen_share
from modules.demo.shapes import Scene, benchmark_scenes, full_caption

QUALITY_BAR = {"background": 0.95, "colour": 0.90, "position": 0.85, "kind": 0.80}
ATTRIBUTES = ("background", "colour", "position", "kind", "size")


@dataclass(frozen=True)
class BenchmarkSettings:
    prompts: int = 200
    seeds: int = 2
    steps: int = 20
    cfg_scale: float = 7.0
    sampler: str = "DPM++ 2M"
    size: int = 128
    negative_prompt: str = ""
    device: str = "auto"
    precision: str = "auto"
    scheduler: str = "Automatic"  # schedule type, as in the UI


@dataclass
class BenchmarkReport:
    images: int = 0
    accuracy: dict[str, float] = field(default_factory=dict)
    seconds_per_image: float = 0.0  # mean, leaving out the first (warm-up) image
    median_seconds: float = 0.0
    fastest_seconds: float = 0.0
    cpu_stolen: float | None = None  # share of CPU time the host took during the run (None: unknown)
    misses: list[dict[str, object]] = field(default_factory=list)  # the first few wrong images

    def passes(self) -> bool:
        return all(self.accuracy.get(k, 0.0) >= v for k, v in QUALITY_BAR.items())

    def lines(self) -> list[str]:
        out = [f"{self.images} images"]
        for name in ATTRIBUTES:
            bar = QUALITY_BAR.get(name)
            target = f"  (bar {bar:.0%}: {'ok' if self.accuracy[name] >= bar else 'below'})" if bar else ""
            out.append(f"{name:>10}: {self.accuracy[name]:6.1%}{target}")
        out.append(f"seconds per image: {self.seconds_per_image:.3f} (median {self.median_seconds:.3f}, "
                   f"fastest {self.fastest_seconds:.3f})")
        if self.cpu_stolen is not None:
            out.append(f"CPU time taken by the host (steal) during the run: {self.cpu_stolen:.1%}"
                       + ("  (timings are slowed by other guests on this machine)" if self.cpu_stolen >= 0.05 else ""))
        return out


def run_benchmark(checkpoint: Path, settings: BenchmarkSettings, data_dir: Path,
                  on_image: Callable[[int, int], None] | None = None) -> BenchmarkReport:
    """Load checkpoint into an App on data_dir (outputs go to data_dir/outputs) and run the benchmark."""
    from modules.app import build_app
    from modules.demo.analyzer import analyze
    from modules.generation.params import Txt2ImgParams
    from modules.generation.txt2img import run_txt2img
    from modules.settings import Settings

    app = build_app(Settings(data_dir=data_dir, ckpt=checkpoint.resolve(), device=settings.device,  # type: ignore[arg-type]
                             precision=settings.precision))  # type: ignore[arg-type]
    # loaded on the job queue's worker, as webui loads on a thread of its own: torch work on a
    # second long-lived thread (here: main) makes libgomp throttle and halves CPU speed
    app.jobs.run("load-checkpoint", lambda _progress: app.load_default_model())
    app.models.require()
    scenes: list[Scene] = benchmark_scenes(settings.prompts)
    right: Counter[str] = Counter()
    report = BenchmarkReport()
    times: list[float] = []
    total = len(scenes) * settings.seeds
    ticks_before = read_cpu_ticks()
    for i, scene in enumerate(scenes):
        prompt = full_caption(scene)
        for j in range(settings.seeds):
            params = Txt2ImgParams(prompt=prompt, negative_prompt=settings.negative_prompt,
                                   sampler_name=settings.sampler, scheduler=settings.scheduler, steps=settings.steps,
                                   cfg_scale=settings.cfg_scale, seed=i * settings.seeds + j,
                                   width=settings.size, height=settings.size)
            start = time.perf_counter()
            result = run_txt2img(app, params)
            times.append(time.perf_counter() - start)
            found = analyze(result.images[0])
            ok = found.matches(scene)
            for name in ATTRIBUTES:
                right[name] += bool(ok[name])
            if not all(ok[name] for name in ATTRIBUTES) and len(report.misses) < 20:
                report.misses.append({"prompt": prompt, "seed": params.seed, "path": str(result.paths[0]),
                                      "found": asdict(found.shape) if found.shape else None,
                                      "background": found.background})
            report.images += 1
            if on_image is not None:
                on_image(report.images, total)
    report.accuracy = {name: right[name] / max(1, report.images) for name in ATTRIBUTES}
    timed = times[1:] or times
    report.seconds_per_image = statistics.fmean(timed)
    report.median_seconds = statistics.median(timed)
    report.fastest_seconds = min(timed)
    report.cpu_stolen = stolen_share(ticks_before, read_cpu_ticks())
    return report


def main(argv: list[str] | None = None) -> int:
    d = BenchmarkSettings()
    p = argparse.ArgumentParser(prog="python -m modules.demo.benchmark", description=__doc__.split("\n")[0])
    p.add_argument("--ckpt", type=Path, required=True)
    p.add_argument("--prompts", type=int, default=d.prompts)
    p.add_argument("--seeds", type=int, default=d.seeds)
    p.add_argument("--steps", type=int, default=d.steps)
    p.add_argument("--cfg", type=float, default=d.cfg_scale)
    p.add_argument("--sampler", default=d.sampler)
    p.add_argument("--scheduler", default=d.scheduler, help="schedule type (Automatic, Karras, SGM Uniform, ...)")
    p.add_argument("--size", type=int, default=d.size)
    p.add_argument("--negative-prompt", default=d.negative_prompt)
    p.add_argument("--device", default=d.device, choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument("--precision", default=d.precision, choices=["auto", "fp32", "fp16", "bf16"])
    p.add_argument("--data-dir", type=Path, default=None, help="keep the images here (default: a temp dir)")
    p.add_argument("--json", type=Path, default=None, help="also write the report as JSON")
    p.add_argument("--check", action="store_true", help="exit 1 when a figure is below the quality bar")
    args = p.parse_args(argv)
    settings = BenchmarkSettings(args.prompts, args.seeds, args.steps, args.cfg, args.sampler, args.size,
                                 args.negative_prompt, args.device, args.precision, args.scheduler)

    def progress(done: int, total: int) -> None:
        if done % 50 == 0 or done == total:
            print(f"  {done}/{total} images", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir or Path(tmp)
        report = run_benchmark(args.ckpt, settings, data_dir, progress)
    print(f"benchmark of {args.ckpt.name}: {settings.prompts} prompts x {settings.seeds} seeds, "
          f"{settings.steps} steps, CFG {settings.cfg_scale:g}, {settings.sampler} ({settings.scheduler}), "
          f"{settings.size}x{settings.size}")
    for line in report.lines():
        print(line)
    if args.json:
        args.json.write_text(json.dumps({"settings": asdict(settings), **asdict(report)}, indent=1), encoding="utf-8")
    return 1 if args.check and not report.passes() else 0


if __name__ == "__main__":
    raise SystemExit(main())
