"""The X/Y/Z grid's infotext keys (A1111's), read back into the script's arguments, and the API's
script_args forms (axis types by A1111 label or index, dropdown lists)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from modules.errors import InvalidParams
from modules.generation.infotext import parse_infotext
from modules.registry import Registry
from modules.xyz.api_args import normalize_args
from modules.xyz.axes import A1111_AXIS_ORDER, core_axes, register_core_axes
from modules.xyz.infotext import args_from_infotext, grid_infotext
from modules.xyz.plan import Plan, PlanAxis, XyzArgs
from modules.xyz.ui import control_values, split_csv

CELL = "a cat\nNegative prompt: dog\nSteps: 2, Sampler: Euler, CFG scale: 3, Seed: 5, Size: 64x64, Version: sdwebui 0.1.0"
AXES = {axis.label: axis for axis in core_axes()}


def _plan(x: PlanAxis, y: PlanAxis, z: PlanAxis) -> Plan:
    return Plan((x, y, z), XyzArgs.from_args(["Nothing", "", ""] * 3 + [True] + [False] * 6 + [0, False]), (), (64, 64))


def _app() -> SimpleNamespace:
    registry = Registry()
    register_core_axes(registry)
    return SimpleNamespace(registry=registry)


def test_grid_infotext_names_the_axes_before_version() -> None:
    plan = _plan(PlanAxis(AXES["Sampler"], "Euler, DPM++ 2M", ("Euler", "DPM++ 2M")),
                 PlanAxis(AXES["Seed"], "-1, 7", (1234, 7), fixed=True),
                 PlanAxis(AXES["Nothing"], "", (None,)))
    text = grid_infotext(CELL, plan)
    last = text.splitlines()[-1]
    assert last.endswith(', Script: X/Y/Z plot, X Type: Sampler, X Values: "Euler, DPM++ 2M", Y Type: Seed, '
                         'Y Values: "-1, 7", Fixed Y Values: "1234, 7", Version: sdwebui 0.1.0')
    info = parse_infotext(text)
    assert info["Prompt"] == "a cat" and info["Negative prompt"] == "dog" and "Z Type" not in info
    args = args_from_infotext(info)
    assert args[:9] == ["Sampler", "Euler, DPM++ 2M", "Euler, DPM++ 2M", "Seed", "1234, 7", "1234, 7",
                        "Nothing", "", ""], "the drawn seeds come back, so the same plot is drawn"
    assert len(args) == 18 and args[9] is True
    assert args_from_infotext(parse_infotext(CELL)) is None, "a cell's own infotext selects no script"


def test_vary_seeds_is_recorded_and_read_back() -> None:
    axes = (PlanAxis(AXES["Steps"], "1-3", (1, 2, 3)), PlanAxis(AXES["CFG Scale"], "3, 7", (3.0, 7.0)),
            PlanAxis(AXES["Nothing"], "", (None,)))
    args = XyzArgs.from_args(["Nothing", "", ""] * 3 + [True, False, False, False, True, False, True, 0, False])
    text = grid_infotext(CELL, Plan(axes, args, (), (64, 64)))
    assert 'Vary seeds: "X, Z", Version' in text
    assert args_from_infotext(parse_infotext(text))[13:16] == [True, False, True]


def test_a_cell_infotext_without_version_still_gets_the_keys() -> None:
    plan = _plan(PlanAxis(AXES["Steps"], "1-3", (1, 2, 3)), PlanAxis(AXES["Nothing"], "", (None,)),
                 PlanAxis(AXES["Nothing"], "", (None,)))
    text = grid_infotext("a\nSteps: 2, Sampler: Euler, Seed: 5", plan)
    assert text.endswith("Seed: 5, Script: X/Y/Z plot, X Type: Steps, X Values: 1-3")


def test_api_axis_types_by_label_or_a1111_index() -> None:
    app = _app()
    t2i = A1111_AXIS_ORDER["txt2img"]
    args = [t2i.index("Sampler"), "", ["Euler", "DPM++ 2M, odd"], "cfg scale", "3,7", [], 0, "", []]
    out = normalize_args(app, "txt2img", args)
    assert out[0] == "Sampler" and out[3] == "CFG Scale" and out[6] == "Nothing"
    assert out[2] == 'Euler,"DPM++ 2M, odd"' and split_csv(out[2]) == ["Euler", "DPM++ 2M, odd"]
    i2i = A1111_AXIS_ORDER["img2img"]
    assert normalize_args(app, "img2img", [i2i.index("Sampler")])[0] == "Sampler"
    assert normalize_args(app, "img2img", [str(i2i.index("Denoising"))])[0] == "Denoising"


def test_api_axis_this_app_lacks_is_named() -> None:
    app = _app()
    missing = A1111_AXIS_ORDER["txt2img"].index("Sigma Churn")
    with pytest.raises(InvalidParams, match="Sigma Churn"):
        normalize_args(app, "txt2img", [missing])
    with pytest.raises(InvalidParams, match="not an X/Y/Z axis type"):
        normalize_args(app, "txt2img", ["Steps", "1", "", "Bogus"])
    with pytest.raises(InvalidParams, match="not an X/Y/Z axis type"):
        normalize_args(app, "txt2img", [999])


def test_control_values_give_the_dropdowns_lists() -> None:
    values = control_values(["Sampler", "", 'Euler,"a, b"', "Nothing", "", "", "Nothing", "", ""])
    assert values[2] == ["Euler", "a, b"] and values[5] == [] and values[0] == "Sampler"
