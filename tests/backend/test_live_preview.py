"""Live previews: drawn on the job's thread while someone asks, from the latents the denoising loop publishes."""

from __future__ import annotations

import threading

import pytest
import torch

from modules.generation.params import Txt2ImgParams
from modules.generation.preview import approx_factors, draw, live_preview
from modules.generation.txt2img import txt2img
from modules.jobs import Progress


def test_the_fitted_map_reads_flat_colours_back(sd1_app) -> None:  # noqa: ANN001
    from modules.generation.preview import FIT_COLOURS

    model = sd1_app.models.current
    weights, bias = approx_factors(model)
    assert weights.shape == (model.latent_channels, 3) and bias.shape == (3,)
    assert approx_factors(model)[0] is weights  # cached per VAE
    colours = torch.tensor([*FIT_COLOURS, (0.9, 0.1, 0.3), (0.1, 0.3, 0.9)]) * 2 - 1
    with torch.no_grad():
        latents = model.vae.encode(colours[:, :, None, None].expand(-1, -1, 64, 64)).latent_dist.mean
    predicted = (latents * model.vae.config.scaling_factor).mean(dim=(2, 3)) @ weights + bias
    explained = 1 - ((predicted - colours) ** 2).sum() / ((colours - colours.mean(0)) ** 2).sum()
    assert explained > 0.8  # even a tiny random VAE is nearly linear on flat colours
    image = draw(model, latents[:1] * model.vae.config.scaling_factor, "Approx cheap", grid=False)
    assert image.size == (64 // model.vae_scale_factor,) * 2 and image.mode == "RGB"


def test_previews_follow_the_options_during_a_run(sd1_app) -> None:  # noqa: ANN001
    app = sd1_app
    progress = Progress()
    seen: list[tuple[int, object]] = []
    ready = threading.Event()

    def watch(state) -> None:  # noqa: ANN001 - POST_STEP hook: poll the preview as a client would
        image = live_preview(progress, app.options)
        seen.append((state.step, image))
        ready.set()

    from modules.generation.denoise import HookPoint, Hooks

    hooks = Hooks()
    hooks.add(HookPoint.POST_STEP, watch)
    app.options.update({"show_progress_every_n_steps": 3, "show_progress_type": "Approx cheap"})
    params = Txt2ImgParams(prompt="a red circle", seed=1, steps=8, width=64, height=64, batch_size=2)
    txt2img(app, params, progress, hooks, save_images=False)
    drawn = [progress_step for progress_step, image in seen if image is not None]
    assert drawn, "a preview is drawn during sampling"
    images = [image for _, image in seen if image is not None]
    f = app.models.current.vae_scale_factor
    assert images[0].size == (2 * 64 // f, 64 // f)  # Approx cheap: latent-sized, the batch as a grid
    assert len({id(i) for i in images}) == 3  # latents of steps 1, 4, 7 (every 3 steps), reused between

    app.options.update({"show_progress_type": "Full", "show_progress_grid": False})
    seen.clear()
    progress = Progress()
    txt2img(app, params, progress, hooks, save_images=False)
    assert [i for _, i in seen if i is not None][0].size == (64, 64)

    app.options.update({"live_previews_enable": False})
    seen.clear()
    progress = Progress()
    txt2img(app, params, progress, hooks, save_images=False)
    assert all(image is None for _, image in seen)


def test_a_finished_job_lets_go_of_its_latents_and_model(sd1_app) -> None:  # noqa: ANN001
    app = sd1_app
    job = app.jobs.submit("txt2img", lambda p: txt2img(app, Txt2ImgParams(prompt="x", steps=2, width=64, height=64),
                                                        p, save_images=False))
    job.result(timeout=120)
    assert job.progress.latents is None and job.progress.preview_source() is None


def test_a_failing_preview_is_no_preview(sd1_app, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    import modules.generation.preview as preview

    calls: list[int] = []

    def boom(*args, **kwargs) -> None:  # noqa: ANN002, ANN003
        calls.append(1)
        raise RuntimeError("boom")

    progress = Progress(total_steps=20, step=12)
    progress.publish_latents(torch.full((1, 4, 8, 8), float("nan")), sd1_app.models.current)
    monkeypatch.setattr(preview, "draw", boom)
    assert live_preview(progress, sd1_app.options) is None  # nothing drawn yet
    preview.draw_due_preview(progress, sd1_app.options)  # on the job's thread: logged, not raised
    assert calls and progress.preview is None
    old = object()
    progress.store_preview(old, 1)  # 11 steps ago: a new one is due, and fails
    preview.draw_due_preview(progress, sd1_app.options)
    assert len(calls) == 2 and progress.preview is old and live_preview(progress, sd1_app.options) is old


def test_previews_are_drawn_on_the_job_thread_and_only_while_watched(sd1_app,  # noqa: ANN001
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Torch work stays on the job's thread (a second thread doing it slows the job, see
    docs/cpu-threads.md), and a job nobody watches draws nothing."""
    import modules.generation.preview as preview

    app = sd1_app
    app.options.update({"show_progress_every_n_steps": 1, "show_progress_type": "Approx cheap"})
    threads: list[str] = []
    real_draw = preview.draw

    def counting_draw(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        threads.append(threading.current_thread().name)
        return real_draw(*args, **kwargs)

    monkeypatch.setattr(preview, "draw", counting_draw)
    params = Txt2ImgParams(prompt="x", seed=1, steps=6, width=64, height=64)
    job = app.jobs.submit("txt2img", lambda p: txt2img(app, params, p, save_images=False))
    job.result(timeout=120)
    assert threads == []  # nobody asked

    def watched_job(p: Progress):  # noqa: ANN202
        p.ask_for_preview()  # as a client polling /progress right away would
        return txt2img(app, params, p, save_images=False)

    job = app.jobs.submit("txt2img", watched_job)
    job.result(timeout=120)
    assert len(threads) == 6 and threading.current_thread().name not in threads
    assert len(set(threads)) == 1 and job.progress.preview is not None
