"""X/Y/Z plot over the REST API: script_name "x/y/z plot" with A1111's script_args (axis types by label or by
index into A1111's list for the tab), the grid first and then the cells, and the 422s naming what is wrong."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from modules.generation.infotext import parse_infotext
from modules.xyz.axes import A1111_AXIS_ORDER
from tests.api.helpers import SMALL, Served, png_text

V1 = "/sdapi/v1"
OPTIONS = [True, False, False, False, False, False, False, 0, False]


@pytest.fixture
def client(api_server: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_server.url, timeout=120) as c:
        yield c


def _args(x_type: Any, x_values: str, y_type: Any = "Nothing", y_values: str = "", x_dropdown: Any = "") -> list:
    return [x_type, x_values, x_dropdown, y_type, y_values, [], "Nothing", "", [], *OPTIONS]


def test_labels_give_the_grid_first_then_the_cells(client: httpx.Client) -> None:
    r = client.post(f"{V1}/txt2img", json={**SMALL, "prompt": "a cat", "seed": 9, "sampler_name": "Euler",
                                           "script_name": "x/y/z plot",
                                           "script_args": _args("Steps", "1, 2", "CFG Scale", "3, 7")})
    assert r.status_code == 200, r.text
    body = r.json()
    texts = [png_text(image) for image in body["images"]]
    assert len(texts) == 5
    grid = parse_infotext(texts[0])
    assert grid["Script"] == "X/Y/Z plot" and grid["X Type"] == "Steps" and grid["Y Values"] == "3, 7"
    assert [(parse_infotext(t)["Steps"], parse_infotext(t)["CFG scale"]) for t in texts[1:]] == [
        ("1", "3"), ("2", "3"), ("1", "7"), ("2", "7")]
    info = json.loads(body["info"])
    assert info["infotexts"] == texts and info["all_seeds"] == [9] * 5
    # the grid's infotext alone (no script_name) redraws the same plot
    again = client.post(f"{V1}/txt2img", json={**SMALL, "infotext": texts[0]})
    assert again.status_code == 200, again.text
    assert [png_text(image) for image in again.json()["images"]][1:] == texts[1:]


def test_a1111_indexes_and_a_dropdown_list(client: httpx.Client) -> None:
    order = A1111_AXIS_ORDER["txt2img"]
    args = _args(order.index("Sampler"), "", order.index("Seed"), "1, 2", x_dropdown=["Euler", "Euler a"])
    r = client.post(f"{V1}/txt2img", json={**SMALL, "prompt": "a cat", "script_name": "X/Y/Z Plot",
                                           "script_args": args})
    assert r.status_code == 200, r.text
    texts = [png_text(image) for image in r.json()["images"]]
    assert [(parse_infotext(t)["Sampler"], parse_infotext(t)["Seed"]) for t in texts[1:]] == [
        ("Euler", "1"), ("Euler a", "1"), ("Euler", "2"), ("Euler a", "2")]


def test_img2img_plot_by_index(client: httpx.Client) -> None:
    import base64
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(buffer, format="PNG")
    order = A1111_AXIS_ORDER["img2img"]
    r = client.post(f"{V1}/img2img", json={
        **SMALL, "prompt": "x", "seed": 3, "init_images": [base64.b64encode(buffer.getvalue()).decode()],
        "script_name": "x/y/z plot", "script_args": _args(order.index("Denoising"), "0.3, 0.6")})
    assert r.status_code == 200, r.text
    texts = [png_text(image) for image in r.json()["images"]]
    assert parse_infotext(texts[0])["X Type"] == "Denoising"
    assert [parse_infotext(t)["Denoising strength"] for t in texts[1:]] == ["0.3", "0.6"]


@pytest.mark.parametrize(("args", "named"), [
    (_args(A1111_AXIS_ORDER["txt2img"].index("Sigma Churn"), "1"), "A1111's axis 'Sigma Churn'"),
    (_args("Bogus", "1"), "'Bogus' is not an X/Y/Z axis type"),
    (_args("Steps", "1, x"), "Steps"),
    (_args("Sampler", "Euler, Nope"), "Nope"),
    (_args("Size", "2048x2048, 2040x2048", "Seed", "1-30"), "megapixels"),
])
def test_bad_plots_are_422_before_anything_runs(client: httpx.Client, api_server: Served, args: list,
                                                named: str) -> None:
    r = client.post(f"{V1}/txt2img", json={**SMALL, "prompt": "x", "script_name": "x/y/z plot", "script_args": args})
    assert r.status_code == 422, r.text
    assert named in r.text
    assert not api_server.app.jobs.busy
