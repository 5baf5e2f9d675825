"""The checkpoint and VAE a user picked are loaded again at the next start (config.json)."""

from __future__ import annotations

from pathlib import Path


def test_the_app_loads_the_checkpoint_and_vae_chosen_last_time(tmp_path: Path) -> None:
    from modules.app import build_app
    from modules.settings import Settings
    from tests.tiny_models import write_tiny_checkpoint

    settings = Settings(data_dir=tmp_path, device="cpu", precision="fp32", demo_checkpoint=None)
    settings.ensure_folders()
    for name in ("tiny-a", "tiny-b"):
        write_tiny_checkpoint(settings.checkpoint_dir, "sd1", name=name, seed=0)
    app = build_app(settings)
    app.load_default_model()
    assert app.models.current_info.name == "tiny-a.safetensors"
    app.load_checkpoint("tiny-b.safetensors")
    app.select_vae("None")
    again = build_app(settings)
    again.load_default_model()
    assert again.models.current_info.name == "tiny-b.safetensors" and again.networks.vaes.selected == "None"
