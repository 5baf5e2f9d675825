"""Upscaler model files: tiny ESRGAN (old and new key layouts, Real-ESRGAN's 2x pixel-unshuffle variant) and
SRVGGNetCompact written by the test in the real key layouts, found, named, loaded weights-only and scaled;
damaged and unknown files refused with a message; tiles blended back without seams."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")


def rrdb_state(nf: int = 8, gc: int = 4, nb: int = 1, ups: int = 2, in_ch: int = 3, seed: int = 0,
               old: bool = False) -> dict[str, torch.Tensor]:
    """Random weights in ESRGAN's key layout: the new (BasicSR) names, or the old 'model.N' ones."""
    g = torch.Generator().manual_seed(seed)

    def conv(cin: int, cout: int) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.randn(cout, cin, 3, 3, generator=g) * 0.05, torch.randn(cout, generator=g) * 0.01

    named: list[tuple[str, tuple[torch.Tensor, torch.Tensor]]] = [("conv_first", conv(in_ch, nf))]
    for b in range(nb):
        for r in (1, 2, 3):
            for j in range(1, 6):
                named.append((f"body.{b}.rdb{r}.conv{j}", conv(nf + (j - 1) * gc, gc if j < 5 else nf)))
    named.append(("conv_body", conv(nf, nf)))
    named += [(f"conv_up{u + 1}", conv(nf, nf)) for u in range(ups)]
    named += [("conv_hr", conv(nf, nf)), ("conv_last", conv(nf, 3))]
    state: dict[str, torch.Tensor] = {}
    for name, (w, bias) in named:
        if old:
            parts = name.split(".")
            if name == "conv_first":
                name = "model.0"
            elif parts[0] == "body":
                name = f"model.1.sub.{parts[1]}.RDB{parts[2][3:]}.{parts[3]}.0"
            elif name == "conv_body":
                name = f"model.1.sub.{nb}"
            elif name.startswith("conv_up"):
                name = f"model.{3 + 3 * (int(name[7:]) - 1)}"
            elif name == "conv_hr":
                name = f"model.{3 + 3 * ups - 0}" if ups else "model.2"
            else:
                name = f"model.{3 + 3 * ups + 2}" if ups else "model.4"
        state[f"{name}.weight"], state[f"{name}.bias"] = w, bias
    return state


def srvgg_state(nf: int = 8, convs: int = 2, scale: int = 4, zero: bool = False) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    state: dict[str, torch.Tensor] = {}
    channels = [(3, nf)] + [(nf, nf)] * convs + [(nf, 3 * scale * scale)]
    for i, (cin, cout) in enumerate(channels):
        w = torch.zeros(cout, cin, 3, 3) if zero else torch.randn(cout, cin, 3, 3, generator=g) * 0.05
        state[f"body.{2 * i}.weight"], state[f"body.{2 * i}.bias"] = w, torch.zeros(cout)
        if i < len(channels) - 1:
            state[f"body.{2 * i + 1}.weight"] = torch.full((nf,), 0.25)
    return state


def save(state: dict[str, torch.Tensor], path: Path, wrap: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    else:
        torch.save({wrap: state} if wrap else state, path)
    return path


def picture(w: int = 24, h: int = 16):  # noqa: ANN201
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))


def models_for(root: Path):  # noqa: ANN201
    from modules.upscalers.model_files import UPSCALER_FOLDERS, UpscalerModels

    return UpscalerModels({k: root / k for k in UPSCALER_FOLDERS}, torch.device("cpu"), torch.float32)


def test_esrgan_old_and_new_layouts_load_and_agree(tmp_path: Path) -> None:
    models = models_for(tmp_path)
    save(rrdb_state(), tmp_path / "ESRGAN" / "4x_new.pth", wrap="params_ema")
    save(rrdb_state(old=True), tmp_path / "ESRGAN" / "4x_old.pth")
    save(rrdb_state(), tmp_path / "ESRGAN" / "4x_safe.safetensors")
    files = {f.name: f for f in models.scan()}
    assert set(files) == {"4x_new", "4x_old", "4x_safe"}
    outs = {}
    for name, file in files.items():
        loaded = models.load(file)
        assert (loaded.arch, loaded.scale) == ("ESRGAN", 4.0)
        outs[name] = models.upscale(file, picture(), 4)
        assert outs[name].size == (96, 64)
    import numpy as np

    a, b, c = (np.asarray(outs[n], dtype=np.int16) for n in ("4x_new", "4x_old", "4x_safe"))
    assert np.abs(a - b).max() <= 1 and np.array_equal(a, c)  # the same weights under either layout


def test_realesrgan_x2plus_pixel_unshuffle_and_known_name(tmp_path: Path) -> None:
    models = models_for(tmp_path)
    save(rrdb_state(in_ch=12), tmp_path / "RealESRGAN" / "RealESRGAN_x2plus.pth", wrap="params_ema")
    [file] = models.scan()
    assert file.name == "R-ESRGAN 2x+" and file.guessed_scale == 2
    assert models.load(file).scale == 2.0
    assert models.upscale(file, picture(), 2).size == (48, 32)
    assert models.upscale(file, picture(), 3).size == (72, 48)  # two passes, then resized down


def test_srvgg_compact_loads_and_is_nearest_plus_residual(tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image

    models = models_for(tmp_path)
    save(srvgg_state(zero=True), tmp_path / "RealESRGAN" / "realesr-general-x4v3.pth", wrap="params")
    [file] = models.scan()
    assert file.name == "R-ESRGAN General 4xV3"
    loaded = models.load(file)
    assert (loaded.arch, loaded.scale) == ("Real-ESRGAN compact", 4.0)
    image = picture()
    out = models.upscale(file, image, 4)  # zero body: the output is the nearest-neighbour enlargement
    assert np.array_equal(np.asarray(out), np.asarray(image.resize((96, 64), Image.Resampling.NEAREST)))
    save(srvgg_state(), tmp_path / "RealESRGAN" / "other.safetensors")
    other = {f.name: f for f in models.scan()}["other"]
    assert models.upscale(other, image, 4).size == (96, 64)


def test_models_load_once_and_are_cached(tmp_path: Path) -> None:
    models = models_for(tmp_path)
    save(srvgg_state(), tmp_path / "RealESRGAN" / "x.pth")
    [file] = models.scan()
    assert models.loaded_paths() == []  # nothing is loaded by a scan
    assert models.load(file) is models.load(file)


@pytest.mark.parametrize("content", [b"", b"not a model at all" * 10, b"PK\x03\x04broken zip"])
def test_damaged_files_are_refused_with_a_message(tmp_path: Path, content: bytes) -> None:
    from modules.errors import CheckpointLoadError

    models = models_for(tmp_path)
    (tmp_path / "ESRGAN").mkdir()
    (tmp_path / "ESRGAN" / "bad.pth").write_bytes(content)
    [file] = models.scan()
    with pytest.raises(CheckpointLoadError, match="bad.pth"):
        models.upscale(file, picture(), 4)


def test_truncated_safetensors_and_wrong_shapes_are_refused(tmp_path: Path) -> None:
    from modules.errors import CheckpointLoadError

    models = models_for(tmp_path)
    path = save(rrdb_state(), tmp_path / "ESRGAN" / "cut.safetensors")
    path.write_bytes(path.read_bytes()[:-100])
    state = rrdb_state()
    state["body.0.rdb2.conv3.weight"] = torch.zeros(4, 5, 3, 3)
    save(state, tmp_path / "ESRGAN" / "shapes.pth")
    files = {f.name: f for f in models.scan()}
    with pytest.raises(CheckpointLoadError, match="damaged"):
        models.load(files["cut"])
    with pytest.raises(CheckpointLoadError, match="do not fit"):
        models.load(files["shapes"])


def test_other_architectures_say_they_need_spandrel(tmp_path: Path) -> None:
    from modules.errors import CheckpointLoadError
    from modules.upscalers.model_files import _spandrel

    if _spandrel() is not None:
        pytest.skip("spandrel is importable here: the message is for installs without it")
    models = models_for(tmp_path)
    save({"layers.0.residual_group.blocks.0.attn.qkv.weight": torch.zeros(6, 2)}, tmp_path / "SwinIR" / "SwinIR_4x.pth")
    [file] = models.scan()
    assert file.name == "SwinIR 4x"
    with pytest.raises(CheckpointLoadError, match="need spandrel"):
        models.upscale(file, picture(), 4)


def test_app_registers_files_and_refresh_follows_the_folders(tmp_path: Path) -> None:
    from modules.app import build_app
    from modules.settings import Settings
    from modules.upscalers.model_files import models_of, register_model_upscalers

    settings = Settings(data_dir=tmp_path, device="cpu", precision="fp32", demo_checkpoint=None,
                        upscaler_dirs={"ESRGAN": tmp_path / "mine"})
    save(rrdb_state(), tmp_path / "mine" / "4x_test.pth")
    app = build_app(settings)
    assert "4x_test" in app.registry.upscalers and "R-ESRGAN 4x+" not in app.registry.upscalers
    spec = app.registry.upscalers.get("4x_test")
    assert spec.as_api()["model_path"] == str(tmp_path / "mine" / "4x_test.pth")
    assert spec.upscale(picture(), 2).size == (48, 32)
    models = models_of(app)
    save(rrdb_state(), tmp_path / "models" / "RealESRGAN" / "RealESRGAN_x4plus.pth")
    (tmp_path / "mine" / "4x_test.pth").unlink()
    assert register_model_upscalers(app) == ["R-ESRGAN 4x+"]
    assert "4x_test" not in app.registry.upscalers and models_of(app) is models
    assert app.registry.upscalers.names()[:3] == ["None", "Lanczos", "Nearest"]


def test_tiles_blend_back_without_seams() -> None:
    from torch.nn import functional

    from modules.upscalers.tiled import tile_starts, tiled_apply

    assert tile_starts(100, 40, 8) == [0, 32, 60] and tile_starts(30, 40, 8) == [0]
    x = torch.rand(1, 3, 50, 70, generator=torch.Generator().manual_seed(0))
    nearest = tiled_apply(lambda t: functional.interpolate(t, scale_factor=2, mode="nearest"), x, 2, 16, 4)
    assert torch.allclose(nearest, functional.interpolate(x, scale_factor=2, mode="nearest"), atol=1e-6)
    blur = torch.nn.Conv2d(3, 3, 3, padding=1, bias=False)
    torch.nn.init.constant_(blur.weight, 1 / 27)
    with torch.no_grad():
        whole, blended, butted = blur(x), tiled_apply(blur, x, 1, 16, 6), tiled_apply(blur, x, 1, 16, 0)
    # only the zero padding at tile borders differs; the ramps fade it to well under butted tiles' seams
    assert (whole - blended).abs().max() < 0.5 * (whole - butted).abs().max()
    assert (whole - blended).abs().mean() < 0.01


@pytest.mark.parametrize(("state", "scale"), [(rrdb_state(ups=0, old=True), 1.0), (rrdb_state(in_ch=48), 1.0),
                                              (rrdb_state(ups=1, old=True), 2.0), (rrdb_state(ups=3), 8.0)])
def test_esrgan_scales_follow_the_weights(tmp_path: Path, state: dict, scale: float) -> None:
    models = models_for(tmp_path)
    save(state, tmp_path / "ESRGAN" / "model.pth")
    [file] = models.scan()
    assert models.load(file).scale == scale
    image = picture(16, 8)
    out = models.upscale(file, image, scale)
    assert out.size == (int(16 * scale), int(8 * scale))
    if scale == 1:
        assert out.tobytes() != image.tobytes(), "a 1x model (a restorer) runs once"


def test_folder_flags(tmp_path: Path) -> None:
    from modules.cli import parse_settings

    settings = parse_settings(["--data-dir", str(tmp_path), "--esrgan-models-path", str(tmp_path / "e"),
                               "--dat-models-path", str(tmp_path / "d")])
    assert settings.upscaler_path("ESRGAN") == (tmp_path / "e").resolve()
    assert settings.upscaler_path("DAT") == (tmp_path / "d").resolve()
    assert settings.upscaler_path("RealESRGAN") == tmp_path.resolve() / "models" / "RealESRGAN"


def test_a_second_pass_never_makes_more_than_the_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 4x model asked for 5x: the second pass shrinks its input first (24x16 -> 96x64 -> 30x20 -> 120x80),
    where running it on the first pass's output would make 384x256 (with large images: out of memory)."""
    from modules.upscalers import model_files

    models = models_for(tmp_path)
    save(srvgg_state(), tmp_path / "RealESRGAN" / "x.pth")
    [file] = models.scan()
    inputs: list[tuple[int, int]] = []
    real = model_files.run_model

    def counting(loaded, image, *args):  # noqa: ANN001, ANN202
        inputs.append(image.size)
        return real(loaded, image, *args)

    monkeypatch.setattr(model_files, "run_model", counting)
    assert models.upscale(file, picture(), 5).size == (120, 80)
    assert inputs == [(24, 16), (30, 20)]
