"""Prompt matrix (A1111's script): the combinations of a|b|c, its options, the seeds, the legend grid (parts
that are off struck through), the saved prompt_matrix-NNNN-<seed> grid, and the checks before queueing."""

from __future__ import annotations

from typing import Any

import pytest

from modules.errors import InvalidParams
from modules.generation.infotext import parse_infotext
from modules.generation.outputs import read_png_infotext
from modules.generation.params import Txt2ImgParams
from modules.generation.request import GenerationRequest
from modules.generation.resolve import check, submit
from modules.scripts.prompt_matrix import TITLE, split_matrix
from modules.scripts.select import script_run, scripts_for
from modules.xyz.grid_image import grid_layout

SMALL = {"width": 64, "height": 64, "steps": 2, "sampler_name": "Euler"}


def _request(app, args: list[Any], **params: Any) -> GenerationRequest:  # noqa: ANN001
    values = {**SMALL, **params}
    return GenerationRequest("txt2img", Txt2ImgParams(**values), explicit=frozenset(values),
                             scripts=script_run(app, "txt2img", "prompt MATRIX", args))


def test_the_combinations_of_the_parts() -> None:
    matrix = split_matrix("a cat | red, | in snow|at night")
    assert (matrix.first, matrix.variable) == ("a cat", ("red", "in snow", "at night"))
    assert matrix.prompts == ("a cat", "a cat, red", "a cat, in snow", "a cat, red, in snow", "a cat, at night",
                              "a cat, red, at night", "a cat, in snow, at night", "a cat, red, in snow, at night")
    assert (matrix.across, matrix.down, matrix.columns, matrix.rows) == (("red", "in snow"), ("at night",), 4, 2)
    assert split_matrix("cat|red", at_start=True, joiner="space").prompts == ("cat", "red cat")
    assert split_matrix("just one").prompts == ("just one",)
    legend = matrix.legend()
    assert [[(p.text, p.active) for p in entry] for entry in legend.x] == [
        [("red", False), ("in snow", False)], [("red", True), ("in snow", False)],
        [("red", False), ("in snow", True)], [("red", True), ("in snow", True)]]
    assert [[(p.text, p.active) for p in entry] for entry in legend.y] == [[("at night", False)], [("at night", True)]]
    with pytest.raises(InvalidParams, match="12 parts separated by \\|, which would make 2048 pictures; at most 11"):
        split_matrix("|".join("abcdefghijkl"))


def test_a_matrix_draws_every_combination_and_its_legend_grid(sd1_app) -> None:  # noqa: ANN001
    assert TITLE in [t for t, _ in scripts_for(sd1_app, "txt2img")] + [t for t, _ in scripts_for(sd1_app, "img2img")]
    request = _request(sd1_app, [False, False, "positive", "comma", 4], prompt="a cat|red|snow", seed=5)
    check(sd1_app, request)
    result = submit(sd1_app, request).result().result
    assert len(result.images) == 5 and len(result.seeds) == len(result.infotexts) == 5
    prompts = [parse_infotext(t)["Prompt"] for t in result.infotexts[1:]]
    assert prompts == ["a cat", "a cat, red", "a cat, snow", "a cat, red, snow"]
    assert result.seeds == [5] * 5, "the same seed for every picture"
    grid = result.images[0]
    layout = grid_layout(64, 64, 2, 2, 1, split_matrix("a cat|red|snow").legend(), 4)
    assert grid.size == (layout.width, layout.height) and grid.width > 2 * 64 + 4 and grid.height > 2 * 64 + 4
    assert {line.text for line in layout.lines} == {"red", "snow"}
    assert sorted(line.active for line in layout.lines) == [False, False, True, True]
    for index, (x, y) in enumerate(layout.cells):
        assert grid.crop((x, y, x + 64, y + 64)).tobytes() == result.images[1 + index].tobytes()
    grid_path = result.paths[0]
    assert grid_path.name == "prompt_matrix-0000-5.png" and "grids" in grid_path.parent.as_posix()
    assert read_png_infotext(grid_path) == result.infotexts[0] and len(result.paths) == 5
    assert "Saved 4 image(s)" in result.message


def test_negative_prompt_different_seeds_and_space_joiner(sd1_app) -> None:  # noqa: ANN001
    request = _request(sd1_app, [True, True, "negative", "space", 0], prompt="photo", negative_prompt="ugly|blurry",
                       seed=40)
    result = submit(sd1_app, request).result().result
    infos = [parse_infotext(t) for t in result.infotexts[1:]]
    assert [i["Negative prompt"] for i in infos] == ["ugly", "blurry ugly"]
    assert {i["Prompt"] for i in infos} == {"photo"}
    assert result.seeds[1:] == [40, 41]


def test_bad_matrices_fail_before_queueing(sd1_app) -> None:  # noqa: ANN001
    with pytest.raises(InvalidParams, match="at most 11 parts"):
        check(sd1_app, _request(sd1_app, [], prompt="|".join("abcdefghijkl")))
    with pytest.raises(InvalidParams, match="The grid would be .* the limit is 200 megapixels"):
        check(sd1_app, _request(sd1_app, [], prompt="|".join("abcdefghijk"), width=2048, height=2048))
    with pytest.raises(InvalidParams, match=r"Argument 2 \('Select prompt'\).*one of: positive, negative"):
        script_run(sd1_app, "txt2img", TITLE, [False, False, "both"])
    with pytest.raises(InvalidParams, match=r"Argument 4 \('Grid margins \(px\)'\).*from 0 to 500"):
        script_run(sd1_app, "img2img", TITLE, [False, False, "positive", "comma", 900])
