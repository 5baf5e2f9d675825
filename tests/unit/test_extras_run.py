"""The Extras work without a front door: batch from a folder (names kept, the source's infotext kept beside
the 'extras' chunk, an unreadable file skipped with a message), numbered files in outputs/extras-images,
scale-to with crop, and the checks made before queueing."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from modules.errors import InvalidParams, UserError
from modules.extras.params import ExtrasParams
from modules.extras.run import ExtrasRun, NamedImage, submit_extras
from tests.unit.test_upscaler_models import picture


def test_batch_from_a_folder_keeps_names_and_infotext(make_app, tmp_path: Path) -> None:  # noqa: ANN001
    app = make_app((), load=False)
    source, out = tmp_path / "in", tmp_path / "out"
    source.mkdir()
    info = PngInfo()
    info.add_text("parameters", "a red fox\nSteps: 20, Seed: 1")
    picture(16, 8).save(source / "fox.png", pnginfo=info)
    picture(8, 8).save(source / "b.jpg")
    (source / "broken.png").write_bytes(b"not a png")
    (source / "notes.txt").write_text("not an image")
    params = ExtrasParams(upscaler_1="Lanczos", upscaling_resize=2)
    result = submit_extras(app, ExtrasRun(params, input_dir=source, output_dir=out)).result()
    assert result.images == [] and result.paths  # on disk: a large folder is never held in memory
    assert [p.name for p in result.paths] == ["b.png", "fox.png"]
    assert "broken.png" in result.message and "2 image(s) saved" in result.message
    with Image.open(out / "fox.png") as image:
        assert image.size == (32, 16)
        assert image.text["extras"] == "Postprocess upscale by: 2, Postprocess upscaler: Lanczos"
        assert image.text["parameters"] == "a red fox\nSteps: 20, Seed: 1"
    again = submit_extras(app, ExtrasRun(params, input_dir=source, output_dir=out)).result()
    assert [p.name for p in again.paths] == ["b-1.png", "fox-1.png"]  # never overwritten


def test_single_images_are_numbered_in_the_extras_folder(make_app) -> None:  # noqa: ANN001
    app = make_app((), load=False)
    params = ExtrasParams(resize_mode=1, upscaling_resize_w=40, upscaling_resize_h=40, upscaler_1="Nearest",
                          upscaler_2="Lanczos", extras_upscaler_2_visibility=0.25)
    run = ExtrasRun(params, images=(NamedImage("", picture(20, 10)), NamedImage("", picture(10, 10))))
    result = submit_extras(app, run).result()
    assert [p.name for p in result.paths] == ["00000.png", "00001.png"]
    assert all(p.parent == app.settings.outputs_dir / "extras-images" for p in result.paths)
    assert [i.size for i in result.images] == [(40, 40), (40, 40)]  # 80x40 cropped to the middle


@pytest.mark.parametrize(("params", "error"), [
    (ExtrasParams(upscaling_resize=0.5), InvalidParams), (ExtrasParams(upscaler_1="Nope"), InvalidParams),
    (ExtrasParams(upscaler_2="Nope", extras_upscaler_2_visibility=0.5), InvalidParams),
    (ExtrasParams(extras_upscaler_2_visibility=2), InvalidParams), (ExtrasParams(), UserError),
])
def test_refused_before_queueing(make_app, params: ExtrasParams, error: type) -> None:  # noqa: ANN001
    app = make_app((), load=False)
    with pytest.raises(error):
        submit_extras(app, ExtrasRun(params))
    with pytest.raises(UserError, match="does not exist"):
        submit_extras(app, ExtrasRun(ExtrasParams(), input_dir=Path("/nonexistent/folder")))
