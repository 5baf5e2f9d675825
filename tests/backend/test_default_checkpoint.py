"""Which checkpoint the app loads at start: --ckpt, else a user checkpoint, the built-in demo model last."""

from __future__ import annotations

from pathlib import Path

from modules.app import build_app
from modules.model_manager.folders import DEMO_CHECKPOINT
from modules.settings import Settings
from tests.tiny_models import write_tiny_checkpoint

DEMO_NAME = Path(DEMO_CHECKPOINT).stem


def _settings(tmp_path: Path, ckpt: Path | None = None) -> Settings:
    settings = Settings(data_dir=tmp_path, device="cpu", precision="fp32", ckpt=ckpt, demo_checkpoint=None)
    settings.ensure_folders()
    return settings


def test_demo_model_loads_when_it_is_the_only_checkpoint(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    write_tiny_checkpoint(settings.checkpoint_dir, "sd1", name=DEMO_NAME)
    app = build_app(settings)
    app.load_default_model()
    _, info = app.models.require()
    assert info.name == DEMO_CHECKPOINT and info.is_demo


def test_a_user_checkpoint_wins_over_the_demo_model(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    write_tiny_checkpoint(settings.checkpoint_dir, "sd1", name=DEMO_NAME)
    # "aaa" sorts before "demo-shapes" and "zzz" after it: the folder order must not matter
    for name in ("zzz-user", "sub/aaa-user"):
        (settings.checkpoint_dir / name).parent.mkdir(parents=True, exist_ok=True)
        write_tiny_checkpoint((settings.checkpoint_dir / name).parent, "sd1", name=Path(name).name, seed=1)
    app = build_app(settings)
    app.load_default_model()
    _, info = app.models.require()
    assert not info.is_demo and info.name == "sub/aaa-user.safetensors"
    # the same file one folder down is not the demo model
    assert not app.folders.find_checkpoint("sub/aaa-user.safetensors").is_demo  # type: ignore[union-attr]


def test_ckpt_option_can_still_pick_the_demo_model(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    demo = write_tiny_checkpoint(settings.checkpoint_dir, "sd1", name=DEMO_NAME)
    write_tiny_checkpoint(settings.checkpoint_dir, "sd1", name="a-user", seed=1)
    app = build_app(_settings(tmp_path, ckpt=demo))
    app.load_default_model()
    assert app.models.require()[1].is_demo


def test_remembered_demo_model_gives_way_to_a_new_user_checkpoint(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    write_tiny_checkpoint(settings.checkpoint_dir, "sd1", name=DEMO_NAME)
    app = build_app(settings)
    app.folders.scan()
    demo = app.models.default_checkpoint()
    assert demo is not None and demo.is_demo
    write_tiny_checkpoint(settings.checkpoint_dir, "sd1", name="new-user", seed=1)
    app.folders.scan()
    chosen = app.models.default_checkpoint(None, remembered=demo.title)
    assert chosen is not None and chosen.name == "new-user.safetensors"
    # a remembered user checkpoint is kept, and so is the demo model when nothing else is there
    assert app.models.default_checkpoint(None, remembered=chosen.title) == chosen
    (settings.checkpoint_dir / "new-user.safetensors").unlink()
    app.folders.scan()
    assert app.models.default_checkpoint(None, remembered=demo.title) == demo


def test_no_checkpoint_at_all(tmp_path: Path) -> None:
    app = build_app(_settings(tmp_path))
    app.folders.scan()
    assert app.models.default_checkpoint() is None


def test_the_shipped_demo_model_is_listed_when_the_data_dir_is_elsewhere(tmp_path: Path) -> None:
    """--data-dir pointing at an empty folder (or at an A1111 install) still offers the built-in demo
    model; checkpoints in the folders win, and a folder file of the same name replaces it."""
    shipped = write_tiny_checkpoint(tmp_path / "project" / "models" / "Stable-diffusion", "sd1", name=DEMO_NAME)
    settings = Settings(data_dir=tmp_path / "data", device="cpu", precision="fp32", demo_checkpoint=shipped)
    settings.ensure_folders()
    app = build_app(settings)
    [demo] = app.folders.scan()
    assert demo.is_demo and demo.path == shipped and app.models.default_checkpoint() == demo
    app.load_default_model()
    assert app.models.require()[1].is_demo

    user = write_tiny_checkpoint(settings.checkpoint_dir, "sd1", name="mine", seed=1)
    app.folders.scan()
    assert app.models.default_checkpoint().path == user  # type: ignore[union-attr]
    own_copy = write_tiny_checkpoint(settings.checkpoint_dir, "sd1", name=DEMO_NAME, seed=2)
    names = [(c.name, c.path) for c in app.folders.scan()]
    assert (DEMO_CHECKPOINT, own_copy) in names and (DEMO_CHECKPOINT, shipped) not in names


def _damaged(folder: Path, name: str) -> Path:
    """A checkpoint cut off after its first 4 KiB, as an interrupted download leaves it."""
    path = write_tiny_checkpoint(folder, "sd1", name=name, seed=3)
    path.write_bytes(path.read_bytes()[:4096])
    return path


def test_a_damaged_default_checkpoint_gives_way_to_the_next_one_that_loads(tmp_path: Path) -> None:
    """The first checkpoint (by name, or the one used last time) cannot be read: the app must not start
    without a model while another one would load, and the status line must say what happened."""
    settings = _settings(tmp_path)
    _damaged(settings.checkpoint_dir, "aaa-broken")
    write_tiny_checkpoint(settings.checkpoint_dir, "sd1", name=DEMO_NAME)
    write_tiny_checkpoint(settings.checkpoint_dir, "sd1", name="zzz-good", seed=1)
    app = build_app(settings)
    app.folders.scan()
    assert [c.name for c in app.models.startup_order()] == [
        "aaa-broken.safetensors", "zzz-good.safetensors", DEMO_CHECKPOINT]
    app.load_default_model()
    assert app.models.require()[1].name == "zzz-good.safetensors"  # a user checkpoint before the demo
    status = app.models.status
    assert "Cannot load 'aaa-broken.safetensors'" in status and "Loaded zzz-good.safetensors" in status
    assert status.endswith("It was loaded instead.") and "previous model" not in status
    assert app.options.get("sd_model_checkpoint") in (None, "")  # nothing chosen by the user is overwritten


def test_when_only_the_demo_model_loads_it_is_used(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    _damaged(settings.checkpoint_dir, "mine")
    write_tiny_checkpoint(settings.checkpoint_dir, "sd1", name=DEMO_NAME)
    app = build_app(settings)
    app.load_default_model()
    assert app.models.require()[1].is_demo
    assert "Cannot load 'mine.safetensors'" in app.models.status and "instead" in app.models.status


def test_when_nothing_loads_the_status_says_so_instead_of_a_previous_model(tmp_path: Path) -> None:
    import pytest

    from modules.errors import CheckpointLoadError, ModelNotFound

    settings = _settings(tmp_path)
    _damaged(settings.checkpoint_dir, "one")
    _damaged(settings.checkpoint_dir, "two")
    app = build_app(settings)
    app.load_default_model()
    status = app.models.status
    assert "Cannot load 'one.safetensors'" in status and "Cannot load 'two.safetensors'" in status
    assert "previous model" not in status and "No checkpoint is loaded" in status
    assert str(settings.checkpoint_dir) in status
    with pytest.raises(ModelNotFound):
        app.models.require()
    with pytest.raises(CheckpointLoadError, match="No checkpoint is loaded"):  # picking one by hand: the same
        app.load_checkpoint("one.safetensors")
    good = write_tiny_checkpoint(settings.checkpoint_dir, "sd1", name="three")
    app.folders.scan()
    app.load_checkpoint(good.name)
    with pytest.raises(CheckpointLoadError, match="The previous model stays loaded"):
        app.load_checkpoint("two.safetensors")
    assert app.models.require()[1].name == "three.safetensors"
