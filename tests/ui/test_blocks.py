"""build_ui(app) and its handlers, called directly (no server, no browser) on tiny CPU checkpoints."""

from __future__ import annotations

import html
import re
import threading
from datetime import date
from pathlib import Path
from typing import Any

import gradio as gr
import pytest

from modules.errors import InvalidParams
from modules.generation.outputs import read_png_infotext
from modules.generation.params import Txt2ImgParams
from modules.messages import msg
from modules.ui.binding import ParamBinding
from modules.ui.blocks import build_ui
from modules.ui.progress import progress_html

SMALL = {"width": 64, "height": 64, "steps": 2}

ELEM_IDS = (
    "setting_sd_model_checkpoint", "refresh_sd_model_checkpoint", "sd_model_status", "txt2img_prompt",
    "txt2img_neg_prompt", "txt2img_sampling", "txt2img_scheduler", "txt2img_steps", "txt2img_width",
    "txt2img_height", "txt2img_batch_count", "txt2img_batch_size", "txt2img_cfg_scale", "txt2img_seed",
    "txt2img_random_seed", "txt2img_reuse_seed", "txt2img_clip_skip", "txt2img_generate", "txt2img_interrupt",
    "txt2img_skip", "txt2img_progress", "txt2img_gallery", "txt2img_infotext", "txt2img_message",
)


def handler(demo: gr.Blocks, api_name: str) -> Any:
    """The function wired to the event with this api_name (the very closure the page calls)."""
    found = [f.fn for f in demo.fns.values() if f.api_name == api_name]
    assert len(found) == 1, f"no single event named {api_name}"
    return found[0]


def component(demo: gr.Blocks, elem_id: str) -> Any:
    found = [b for b in demo.blocks.values() if getattr(b, "elem_id", None) == elem_id]
    assert len(found) == 1, f"no single component with elem_id {elem_id}"
    return found[0]


def text_of(value: Any) -> str:
    """Plain text of an HTML message/status value."""
    return html.unescape(re.sub(r"<[^>]+>", "", str(value)))


def run_generate(demo: gr.Blocks, on_update: Any = None, **fields: Any) -> tuple[dict[Any, Any], list[dict[Any, Any]]]:
    """Drive the Generate generator to its end; returns (merged final state, every update)."""
    updates: list[dict[Any, Any]] = []
    merged: dict[Any, Any] = {}
    for update in handler(demo, "txt2img")(**fields):
        updates.append(update)
        merged.update(update)
        if on_update is not None:
            on_update(update)
    return merged, updates


def test_build_ui_has_every_component_and_the_loaded_model_selected(sd1_app) -> None:  # noqa: ANN001
    demo = build_ui(sd1_app)
    for elem_id in ELEM_IDS:
        component(demo, elem_id)
    dropdown = component(demo, "setting_sd_model_checkpoint")
    title = sd1_app.models.current_info.title
    assert dropdown.value == title and [c[0] for c in dropdown.choices] == [title]
    assert component(demo, "txt2img_sampling").value == "DPM++ 2M"
    assert component(demo, "txt2img_scheduler").value == "Automatic"
    steps = component(demo, "txt2img_steps")
    assert (steps.minimum, steps.maximum, steps.value) == (1, 150, 20)
    width = component(demo, "txt2img_width")
    assert (width.minimum, width.maximum, width.step, width.value) == (64, 2048, 8, 512)
    assert component(demo, "txt2img_seed").value == -1
    # Interrupt/Skip are not queued behind a running Generate
    for name in ("txt2img_interrupt", "txt2img_skip"):
        assert not next(f for f in demo.fns.values() if f.api_name == name).queue


def test_binding_maps_by_name_and_converts() -> None:
    binding: ParamBinding[Txt2ImgParams] = ParamBinding(Txt2ImgParams)
    binding.bind("steps", gr.Slider(1, 150, label="Sampling steps"))
    binding.bind("seed", gr.Number(label="Seed"))
    params = binding.params({"seed": 12.0, "steps": 3.0, "cfg_scale": 6})
    assert (params.seed, params.steps, params.cfg_scale) == (12, 3, 6.0)
    assert isinstance(params.steps, int) and isinstance(params.cfg_scale, float)
    with pytest.raises(InvalidParams, match="Seed must be a whole number"):
        binding.params({"seed": 1.5})
    with pytest.raises(InvalidParams, match="Sampling steps must be a number"):
        binding.params({"steps": None})
    with pytest.raises(KeyError, match="already bound"):
        binding.bind("steps", gr.Slider())
    with pytest.raises(KeyError, match="has no field 'no_such_field'"):
        binding.bind("no_such_field", gr.Slider())
    assert set(binding.inputs()) == {"steps", "seed"}


def test_generate_saves_images_and_shows_grid_first(sd1_app) -> None:  # noqa: ANN001
    demo = build_ui(sd1_app)
    gallery, infotext, message, progress = (component(demo, i) for i in
                                            ("txt2img_gallery", "txt2img_infotext", "txt2img_message",
                                             "txt2img_progress"))
    final, updates = run_generate(demo, prompt="a tiny red fox", negative_prompt="blurry", seed=11, batch_size=2,
                                  sampler_name="Euler a", **SMALL)
    assert "Starting" in text_of(updates[0][progress])
    assert final[progress] == ""
    items = [Path(p) for p in final[gallery]]
    day = date.today().isoformat()
    outputs = sd1_app.settings.outputs_dir
    assert items[0].parent == outputs / "txt2img-grids" / day, "the grid comes first"
    assert [p.name for p in items[1:]] == ["00000-11.png", "00001-12.png"]
    assert all(p.is_file() for p in items)
    assert "a tiny red fox" in final[infotext] and "Seed: 11," in final[infotext]
    assert read_png_infotext(items[2]).startswith("a tiny red fox\nNegative prompt: blurry\n")
    assert text_of(final[message]) == msg("saved", count=2, folder=outputs / "txt2img-images" / day)

    # selecting the second image shows its infotext; ♻️ then reuses its seed, 🎲 resets to -1
    info = next(v for v in final.values() if isinstance(v, dict) and "infotexts" in v)
    shown, index = handler(demo, "txt2img_select_image")(info, gr.SelectData(None, {"index": 2, "value": None}))
    assert index == 2 and "Seed: 12," in shown
    assert handler(demo, "txt2img_reuse_seed")(info, index) == 12
    assert handler(demo, "txt2img_random_seed")() == -1


def test_progress_is_reported_and_interrupt_stops_the_job(sd1_app) -> None:  # noqa: ANN001
    demo = build_ui(sd1_app)
    progress, message, gallery = (component(demo, i) for i in ("txt2img_progress", "txt2img_message", "txt2img_gallery"))
    interrupt = handler(demo, "txt2img_interrupt")
    seen: list[str] = []

    def on_update(update: dict[Any, Any]) -> None:
        text = text_of(update.get(progress, ""))
        if text.startswith("Step"):
            seen.append(text)
            interrupt()

    final, _ = run_generate(demo, on_update, prompt="x", seed=1, steps=150, width=64, height=64, batch_count=20)
    assert seen and re.match(r"Step \d+/150 · image 1/20 · \d+s elapsed, ~\d+s left", seen[0])
    assert text_of(final[message]).startswith("Interrupted:")
    assert len(final[gallery]) < 20


def test_bad_values_give_a_message_not_an_exception(sd1_app) -> None:  # noqa: ANN001
    demo = build_ui(sd1_app)
    message = component(demo, "txt2img_message")
    final, _ = run_generate(demo, prompt="x", seed=2.5, **SMALL)
    assert "Seed must be a whole number" in text_of(final[message])
    final, _ = run_generate(demo, prompt="x", **{**SMALL, "width": 100})
    assert text_of(final[message]) == msg("bad_size", field="width", value=100)
    final, _ = run_generate(demo, prompt="x", sampler_name="Nope", **SMALL)
    assert "Unknown sampler 'Nope'" in text_of(final[message])
    final, _ = run_generate(demo, prompt="x" * 100_000, **SMALL)
    assert text_of(final[message]) == msg("prompt_too_long", field="prompt", count=100_000, maximum=32_768)


def test_images_that_come_out_as_nan_give_a_warning_not_black_pictures(make_app) -> None:  # noqa: ANN001
    """A checkpoint with NaN in its weights draws only NaN: the gallery stays empty, the message warns."""
    from tests.tiny_models import spoil_weights

    app = make_app(("sd1",), load=False)
    spoil_weights(app.settings.checkpoint_dir / "tiny-sd1.safetensors")
    app.load_default_model()
    demo = build_ui(app)
    message, gallery = component(demo, "txt2img_message"), component(demo, "txt2img_gallery")
    final, _ = run_generate(demo, prompt="x", seed=5, **SMALL)
    assert final[gallery] == []
    assert "sd-message-warning" in final[message] and "1 image(s) (seed: 5) came out as NaN" in text_of(final[message])
    assert "tiny-sd1.safetensors" in text_of(final[message])


def test_the_gallery_shows_a_live_preview_while_sampling(sd1_app) -> None:  # noqa: ANN001
    demo = build_ui(sd1_app)
    gallery = component(demo, "txt2img_gallery")
    interrupt = handler(demo, "txt2img_interrupt")
    previews: list[Any] = []

    def on_update(update: dict[Any, Any]) -> None:
        if gallery in update and not previews:
            previews.append(update[gallery])
            interrupt()

    sd1_app.options.update({"show_progress_every_n_steps": 1})
    run_generate(demo, on_update, prompt="x", seed=1, steps=150, width=64, height=64)
    assert previews and len(previews[0]) == 1 and hasattr(previews[0][0], "size")  # one PIL image: the preview


def test_unexpected_errors_are_shown_and_the_app_keeps_working(sd1_app, monkeypatch, caplog) -> None:  # noqa: ANN001
    import modules.generation.txt2img as txt2img

    real = txt2img.txt2img
    calls = {"n": 0}

    def flaky(app, params, progress, hooks=None, **kwargs):  # noqa: ANN001, ANN003, ANN202
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("boom")
        return real(app, params, progress, hooks, **kwargs)

    monkeypatch.setattr(txt2img, "txt2img", flaky)
    demo = build_ui(sd1_app)
    message, gallery = component(demo, "txt2img_message"), component(demo, "txt2img_gallery")
    final, _ = run_generate(demo, prompt="x", seed=3, **SMALL)
    assert text_of(final[message]) == msg("unexpected_error", error="RuntimeError: boom")
    assert "boom" in caplog.text and "Traceback" in caplog.text
    final, _ = run_generate(demo, prompt="x", seed=3, **SMALL)
    assert len(final[gallery]) == 1


def test_no_model_gives_the_no_checkpoint_message(make_app) -> None:  # noqa: ANN001
    app = make_app((), load=True)
    demo = build_ui(app)
    final, _ = run_generate(demo, prompt="x", **SMALL)
    assert text_of(final[component(demo, "txt2img_message")]) == msg("no_checkpoint", folder=app.settings.checkpoint_dir)


def test_switching_checkpoints_and_a_failed_load_keeps_the_previous_model(make_app) -> None:  # noqa: ANN001
    app = make_app(("sd1", "sd2"))
    demo = build_ui(app)
    first = app.models.current_info
    assert first.name == "tiny-sd1.safetensors"
    second = next(c for c in app.folders.checkpoints() if c.name == "tiny-sd2.safetensors")

    update, status = handler(demo, "select_checkpoint")(second.title)
    assert update["value"] == second.title and app.models.current_info == second
    assert text_of(status).startswith("Loaded tiny-sd2.safetensors (sd2)")

    (app.settings.checkpoint_dir / "broken.safetensors").write_bytes(b"\x00not a safetensors file" * 10)
    update, status = handler(demo, "refresh_checkpoints")()
    broken = next(t for t in update["choices"] if t.startswith("broken.safetensors"))
    assert update["value"] == second.title and "Found 3 checkpoint(s)." == text_of(status)

    update, status = handler(demo, "select_checkpoint")(broken)
    assert update["value"] == second.title, "the list goes back to the model that stays loaded"
    assert app.models.current_info == second
    assert "'broken.safetensors'" in text_of(status) and "previous model stays loaded" in text_of(status)

    update, status = handler(demo, "select_checkpoint")("missing.safetensors [0123456789]")
    assert update["value"] == second.title and "No checkpoint named" in text_of(status)

    final, _ = run_generate(demo, prompt="still works", seed=4, **SMALL)
    assert "Model: tiny-sd2" in final[component(demo, "txt2img_infotext")]


def test_status_poll_updates_only_what_changed(sd1_app) -> None:  # noqa: ANN001
    demo = build_ui(sd1_app)
    poll = handler(demo, "poll_model_status")
    dropdown_update, status, seen = poll({})
    assert dropdown_update["value"] == sd1_app.models.current_info.title
    assert text_of(status).startswith("Loaded tiny-sd1")
    again = poll(seen)
    assert again[0] == gr.skip() and again[1] == gr.skip()


def test_generate_while_another_job_runs_waits(sd1_app) -> None:  # noqa: ANN001
    demo = build_ui(sd1_app)
    progress, gallery = component(demo, "txt2img_progress"), component(demo, "txt2img_gallery")
    started, release = threading.Event(), threading.Event()

    def blocker() -> None:
        sd1_app.jobs.run("other", lambda _p: (started.set(), release.wait(10)))

    other = threading.Thread(target=blocker)
    other.start()
    started.wait(5)
    texts: list[str] = []

    def on_update(update: dict[Any, Any]) -> None:
        texts.append(text_of(update.get(progress, "")))
        release.set()

    final, _ = run_generate(demo, on_update, prompt="x", seed=5, **SMALL)
    other.join()
    assert texts[0] == msg("waiting_for_job", ahead=1) and len(final[gallery]) == 1


def test_progress_html_escapes_and_clamps() -> None:
    page = progress_html(1.7, "<b>Step</b>")
    assert 'style="width: 100.0%"' in page and "&lt;b&gt;Step&lt;/b&gt;" in page



def test_emphasis_mode_reaches_the_generation(sd1_app) -> None:  # noqa: ANN001
    demo = build_ui(sd1_app)
    dropdown = component(demo, "txt2img_emphasis")
    assert dropdown.value == "Original" and "No norm" in [c[0] for c in dropdown.choices]
    final, _ = run_generate(demo, prompt="a (red:1.3) fox", seed=2, emphasis="No norm", **SMALL)
    assert "Emphasis: No norm" in final[component(demo, "txt2img_infotext")]
