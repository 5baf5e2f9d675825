"""The X/Y/Z plot script in the job: a Sampler x CFG grid on the demo model, a Checkpoint axis loading each
checkpoint once, Interrupt (partial grid, still saved), Skip (a blank cell), seeds, the grid-size limit
checked before anything runs, the files beside the grid and the infotext read back into the same plot."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from modules.errors import InvalidParams
from modules.generation.hooks import HookPoint, Hooks
from modules.generation.infotext import parse_infotext
from modules.generation.outputs import read_png_infotext
from modules.generation.params import Txt2ImgParams
from modules.generation.request import GenerationRequest
from modules.generation.resolve import check, submit
from modules.model_manager.folders import DEMO_CHECKPOINT
from modules.scripts.select import script_from_infotext, script_run
from modules.xyz.plot import TITLE

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "models" / "Stable-diffusion" / DEMO_CHECKPOINT
SMALL = {"width": 64, "height": 64, "steps": 2, "sampler_name": "Euler", "prompt": "a cat"}
OPTIONS = [True, False, False, False, False, False, False, 0, False]  # legend, ..., margin, text inputs


def xyz_args(x: tuple[str, str], y: tuple[str, str] = ("Nothing", ""), z: tuple[str, str] = ("Nothing", ""),
             **options: Any) -> list[Any]:
    names = ["draw_legend", "sub_images", "sub_grids", "keep_random", "vary_x", "vary_y", "vary_z", "margin", "csv"]
    values = dict(zip(names, OPTIONS, strict=True)) | options
    return [x[0], x[1], "", y[0], y[1], "", z[0], z[1], "", *values.values()]


def plot_request(app, args: list[Any], hooks: Hooks | None = None, **params: Any) -> GenerationRequest:  # noqa: ANN001
    values = {**SMALL, **params}
    return GenerationRequest("txt2img", Txt2ImgParams(**values), explicit=frozenset(values),
                             scripts=script_run(app, "txt2img", TITLE, args), hooks=hooks)


def run(app, request: GenerationRequest):  # noqa: ANN001, ANN201
    check(app, request)
    return submit(app, request).result()


@pytest.mark.slow
@pytest.mark.skipif(not DEMO.is_file() and os.environ.get("CI") != "true", reason=f"no demo model at {DEMO}")
def test_sampler_by_cfg_grid_on_the_demo_model(tmp_path: Path) -> None:
    from modules.app import build_app
    from modules.settings import Settings

    app = build_app(Settings(data_dir=tmp_path, ckpt=DEMO, device="cpu", precision="fp32"))
    app.load_default_model()
    args = xyz_args(("Sampler", "Euler, Euler a"), ("CFG Scale", "1, 7"))
    outcome = run(app, plot_request(app, args, prompt="a red circle on a blue background", seed=3, steps=4))
    result = outcome.result
    grid, cells = result.images[0], result.images[1:]
    assert len(cells) == 4 and len(result.paths) == 5 and len(result.infotexts) == 5
    arrays = [np.asarray(c, dtype=np.float32) for c in cells]
    assert all(np.abs(a - b).mean() > 0.2 for i, a in enumerate(arrays) for b in arrays[i + 1:]), "cells differ"
    assert grid.width > 2 * 64 and grid.height > 2 * 64, "two columns, two rows and the legend"
    infos = [parse_infotext(t) for t in result.infotexts[1:]]
    assert [(i["Sampler"], i["CFG scale"]) for i in infos] == [("Euler", "1"), ("Euler a", "1"), ("Euler", "7"),
                                                                ("Euler a", "7")]
    assert {i["Seed"] for i in infos} == {"3"}, "one seed for every cell"
    assert result.paths[0].name == "xyz_grid-0000-3.png" and result.paths[0].parent.parent.name == "txt2img-grids"
    assert read_png_infotext(result.paths[0]) == result.infotexts[0]
    for path, text in zip(result.paths[1:], result.infotexts[1:], strict=True):
        assert read_png_infotext(path) == text, "each cell keeps its own file and infotext"


def test_grid_files_infotext_and_the_infotext_read_back(sd1_app) -> None:  # noqa: ANN001
    args = xyz_args(("Steps", "1-2"), ("CFG Scale", "3, 7"), ("Seed", "-1, 11"))
    result = run(sd1_app, plot_request(sd1_app, args, seed=-1)).result
    assert len(result.images) == 1 + 8
    info = parse_infotext(result.infotexts[0])
    assert info["Script"] == TITLE and info["X Type"] == "Steps" and info["X Values"] == "1-2"
    assert info["Y Type"] == "CFG Scale" and info["Z Type"] == "Seed" and info["Z Values"] == "-1, 11"
    fixed = info["Fixed Z Values"].split(", ")
    assert len(fixed) == 2 and fixed[1] == "11" and fixed[0] != "-1", "the -1 was drawn once, recorded"
    assert result.infotexts[0].rstrip().endswith("Version: sdwebui 0.1.0"), "Version stays last"
    cell_seeds = sorted({s for s in result.seeds[1:]})
    assert cell_seeds == sorted({int(fixed[0]), 11})
    # the CSV and JSON beside the grid: cell -> parameters -> file
    grid = result.paths[0]
    table = json.loads(grid.with_suffix(".json").read_text(encoding="utf-8"))
    assert [a["type"] for a in table["axes"]] == ["Steps", "CFG Scale", "Seed"] and len(table["cells"]) == 8
    last = table["cells"][7]
    assert last["values"] == {"Steps": 2, "CFG Scale": 7.0, "Seed": 11} and last["files"][0] == str(result.paths[8])
    assert grid.with_suffix(".csv").read_text(encoding="utf-8").splitlines()[0].startswith(
        "index,x,y,z,Steps,CFG Scale,Seed,seeds,files")
    # read back: the same script and axes, the drawn seed instead of -1
    found = script_from_infotext(sd1_app, "txt2img", result.infotexts[0])
    assert found is not None and found[0] == TITLE
    pasted = script_run(sd1_app, "txt2img", *found).selected
    assert pasted is not None and list(pasted.args[:9]) == ["Steps", "1-2", "1-2", "CFG Scale", "3, 7", "3, 7",
                                                            "Seed", f"{fixed[0]}, 11", f"{fixed[0]}, 11"]
    again = run(sd1_app, GenerationRequest("txt2img", Txt2ImgParams(), infotext=result.infotexts[0],
                                           scripts=script_run(sd1_app, "txt2img", *found))).result
    assert sorted(again.seeds[1:]) == sorted(result.seeds[1:])
    first = lambda r: np.asarray(r.images[1], dtype=np.float32)  # noqa: E731
    assert np.abs(first(again) - first(result)).max() < 1e-3, "the same plot again"


def test_checkpoint_axis_loads_each_checkpoint_once(make_app) -> None:  # noqa: ANN001
    from tests.tiny_models import write_tiny_checkpoint

    app = make_app(("sd1",), load=False)
    write_tiny_checkpoint(app.settings.checkpoint_dir, "sd1", name="tiny-b", seed=5)
    app.load_default_model()
    start = app.models.current_info.name
    loads: list[str] = []
    before = app.models.on_loaded
    app.models.on_loaded = lambda model: (loads.append(app.models.current_info.name), before and before(model))
    names = sorted(c.name for c in app.folders.checkpoints())
    assert len(names) == 2
    # Checkpoint on Y (innermost by default): the costliest axis runs outer, so each loads once
    args = xyz_args(("CFG Scale", "3, 5, 7"), ("Checkpoint name", ", ".join(names)))
    result = run(app, plot_request(app, args, seed=2)).result
    other = [n for n in names if n != start][0]
    assert loads == [other, start], "the other checkpoint once, then the first put back"
    models = [parse_infotext(t)["Model"] for t in result.infotexts[1:]]
    assert models == [Path(names[0]).stem] * 3 + [Path(names[1]).stem] * 3
    assert app.models.current_info.name == start


def _step_hook(at_call: int, action) -> Hooks:  # noqa: ANN001
    calls = {"n": 0}

    def step(_state: Any) -> None:
        calls["n"] += 1
        if calls["n"] == at_call:
            action()

    return Hooks().add(HookPoint.POST_STEP, step)


def test_interrupt_finishes_the_running_cell_and_saves_the_partial_grid(sd1_app) -> None:  # noqa: ANN001
    hooks = _step_hook(3, lambda: sd1_app.jobs.interrupt())  # cell 2's first step (2 steps a cell)
    args = xyz_args(("CFG Scale", "3, 5"), ("Steps", "2, 2"))
    result = run(sd1_app, plot_request(sd1_app, args, hooks=hooks, seed=4)).result
    assert result.interrupted and "2 of 4" in result.message
    assert len(result.images) == 1 + 2 and result.paths[0].name.startswith("xyz_grid-")
    grid = np.asarray(Image.open(result.paths[0]).convert("L"), dtype=np.float32)
    assert grid.shape[0] > 2 * 64
    assert parse_infotext(read_png_infotext(result.paths[0]))["Script"] == TITLE


def test_skip_blanks_one_cell_and_the_plot_goes_on(sd1_app) -> None:  # noqa: ANN001
    seen: list[tuple[int, int]] = []
    hooks = _step_hook(3, lambda: sd1_app.jobs.skip()).merged(
        Hooks().add(HookPoint.POST_STEP, lambda _s: seen.append((sd1_app.jobs.progress.batch,
                                                                 sd1_app.jobs.progress.batches))))
    args = xyz_args(("CFG Scale", "3, 5, 7"))
    result = run(sd1_app, plot_request(sd1_app, args, hooks=hooks, seed=4)).result
    assert not result.interrupted and "1 cell(s) skipped" in result.message
    assert seen[0] == (0, 3) and seen[-1] == (2, 3), "the job's progress counts cells over the whole plot"
    infos = [parse_infotext(t)["CFG scale"] for t in result.infotexts[1:]]
    assert infos == ["3", "7"], "the skipped cell is blank; the others drawn"


def test_seeds_fixed_once_or_kept_random_and_varied(sd1_app) -> None:  # noqa: ANN001
    fixed = run(sd1_app, plot_request(sd1_app, xyz_args(("CFG Scale", "3, 5")), seed=-1, steps=1)).result
    assert len(set(fixed.seeds[1:])) == 1
    kept = run(sd1_app, plot_request(sd1_app, xyz_args(("CFG Scale", "3, 5"), keep_random=True), seed=-1,
                                     steps=1)).result
    assert len(set(kept.seeds[1:])) == 2
    varied = run(sd1_app, plot_request(sd1_app, xyz_args(("CFG Scale", "3, 5"), ("Clip skip", "1, 2"), vary_x=True,
                                                         vary_y=True), seed=100, steps=1)).result
    assert varied.seeds[1:] == [100, 101, 102, 103]


def test_a_grid_over_the_limit_is_refused_before_anything_runs(sd1_app) -> None:  # noqa: ANN001
    args = xyz_args(("Size", "2048x2048, 2048x2040"), ("Seed", "1-30"))
    with pytest.raises(InvalidParams, match="megapixels"):
        check(sd1_app, plot_request(sd1_app, args))
    with pytest.raises(InvalidParams, match="Sampler"):
        check(sd1_app, plot_request(sd1_app, xyz_args(("Sampler", "Euler, No such sampler"))))
    assert not sd1_app.jobs.busy
