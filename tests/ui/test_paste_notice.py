"""A pasted infotext naming a sampler or schedule type this program lacks: a visible notice, never a silent keep."""

from __future__ import annotations

import html
import re

from modules.generation.params import Img2ImgParams, Txt2ImgParams
from modules.generation.paste import read_infotext
from modules.ui.blocks import build_ui
from tests.ui.test_blocks import component, handler
from tests.ui.test_paste import _values

NEWER = "a fox\nSteps: 9, Sampler: Euler CFG++ 2, Schedule type: Turbo, CFG scale: 4, Seed: 5, Size: 64x64"


def _text(message: object) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", str(message)))


def test_the_paste_message_names_what_is_missing_and_what_stays(sd1_app) -> None:  # noqa: ANN001
    demo = build_ui(sd1_app)
    out = handler(demo, "txt2img_paste")(**_values(demo, prompt=NEWER, sampler_name="Heun", scheduler="Karras"))
    message = _text(out[component(demo, "txt2img_message")])
    assert "sampler 'Euler CFG++ 2'" in message and "stays Heun" in message
    assert "schedule type 'Turbo'" in message and "stays Karras" in message
    assert out[component(demo, "txt2img_sampling")] == "Heun" and out[component(demo, "txt2img_scheduler")] == "Karras"
    assert out[component(demo, "txt2img_steps")] == 9, "the rest is read"


def test_a1111s_newer_names_are_read_without_a_notice(sd1_app) -> None:  # noqa: ANN001
    demo = build_ui(sd1_app)
    for sampler, schedule in [("DPM++ 2M SDE Heun", "Align Your Steps"), ("Restart", "Beta"), ("PLMS", "DDIM"),
                              ("DPM fast", "KL Optimal"), ("Euler a", "Polyexponential")]:
        text = f"a fox\nSteps: 9, Sampler: {sampler}, Schedule type: {schedule}, CFG scale: 4, Seed: 5, Size: 64x64"
        out = handler(demo, "txt2img_paste")(**_values(demo, prompt=text))
        assert (out[component(demo, "txt2img_sampling")], out[component(demo, "txt2img_scheduler")]) == (
            sampler, schedule)
        assert "does not have" not in _text(out[component(demo, "txt2img_message")])


def test_the_notes_reach_every_door(sd1_app) -> None:  # noqa: ANN001
    """read_infotext's notes: the UI's paste and send-to, the API's and the CLI's infotext reuse (resolve)."""
    from modules.generation.request import GenerationRequest
    from modules.generation.resolve import resolve

    notes = read_infotext(sd1_app, NEWER, Txt2ImgParams(sampler_name="Euler")).notes
    assert any("'Euler CFG++ 2'" in n and "stays Euler." in n for n in notes)
    legacy = read_infotext(sd1_app, "x\nSteps: 3, Sampler: Unknown Karras, CFG scale: 7, Seed: 1", Img2ImgParams())
    assert [n for n in legacy.notes if "Unknown Karras" in n], "a legacy name that does not split is named whole"
    assert not read_infotext(sd1_app, "x\nSteps: 3, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1").notes
    resolved = resolve(sd1_app, GenerationRequest(kind="txt2img", params=Txt2ImgParams(), infotext=NEWER))
    assert any("'Turbo'" in n for n in resolved.notes)
    hires = read_infotext(sd1_app, "x\nSteps: 3, Sampler: Euler, Schedule type: Beta, CFG scale: 7, Seed: 1, "
                          "Hires upscale: 2, Hires sampler: Heun PP9, Hires schedule type: Turbo")
    assert [n for n in hires.notes if "hires sampler 'Heun PP9'" in n and "stays Use same sampler" in n]
    assert [n for n in hires.notes if "hires schedule type 'Turbo'" in n] and len(hires.notes) == 2
