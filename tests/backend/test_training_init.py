"""Starting a training run from a trained model of a slightly different architecture."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from modules.training.config import tiny_sizes
from modules.training.models import UnrelatedWeights, build_sd1, export_checkpoint, load_matching_weights


def test_a_unet_without_first_level_attention_starts_from_one_with_it() -> None:
    with_attention = build_sd1(tiny_sizes(), seed=3).unet
    without = build_sd1(replace(tiny_sizes(), unet_attention=(False, True)), seed=4).unet
    transfer = load_matching_weights(without, with_attention)
    mine, theirs = without.state_dict(), with_attention.state_dict()
    assert transfer.copied == len(mine) and not transfer.kept
    assert transfer.dropped and all(".attentions." in k for k in transfer.dropped)
    assert any(k.startswith("down_blocks.0.attentions.") for k in transfer.dropped)
    for k, v in mine.items():
        assert torch.equal(v, theirs[k]), k


def test_the_other_way_round_keeps_the_new_attention_as_built() -> None:
    without = build_sd1(replace(tiny_sizes(), unet_attention=(False, True)), seed=4).unet
    target = build_sd1(tiny_sizes(), seed=3).unet
    built = {k: v.clone() for k, v in target.state_dict().items()}
    transfer = load_matching_weights(target, without)
    assert transfer.kept and all(".attentions." in k for k in transfer.kept) and not transfer.dropped
    for k in transfer.kept:
        assert torch.equal(target.state_dict()[k], built[k])


def test_an_unrelated_model_is_refused() -> None:
    small = build_sd1(tiny_sizes(), seed=3).unet
    other = build_sd1(replace(tiny_sizes(), unet_channels=(64, 128)), seed=3).unet
    with pytest.raises(UnrelatedWeights, match="not a near relative"):
        load_matching_weights(other, small)


def test_train_demo_refuses_an_unrelated_init_file_with_a_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import modules.training.train_demo as train_demo
    from modules.training.config import DiffusionStageConfig, TrainConfig, VAEStageConfig

    one_step = TrainConfig(steps=1, batch_size=2, checkpoint_every=1000, log_every=1000, cpu=True)
    tiny = train_demo.DemoRecipe(images=4, resolution=64, sizes=tiny_sizes(), vae=VAEStageConfig(train=one_step),
                                 decoder=None, diffusion=DiffusionStageConfig(train=one_step))
    monkeypatch.setitem(train_demo.PRESETS, "tiny", lambda: tiny)
    monkeypatch.setattr(train_demo, "default_precision", lambda: "no")
    other = export_checkpoint(build_sd1(replace(tiny_sizes(), unet_channels=(64, 128)), seed=3),
                              tmp_path / "other.safetensors")
    args = ["--preset", "tiny", "--out", str(tmp_path / "out.safetensors"), "--work-dir", str(tmp_path / "work"),
            "--init-from", str(other)]
    assert train_demo.main(args) == 2
    err = capsys.readouterr().err
    assert "cannot start from" in err and "other.safetensors" in err and "not a near relative" in err
    assert not (tmp_path / "out.safetensors").exists()


def test_a_resumed_run_keeps_the_frozen_text_encoder_it_started_with(tmp_path: Path) -> None:
    """The UNet is trained against the frozen encoder's outputs: a resume (or re-export) must use that
    encoder, even when the caller builds a different one (a fresh encoder's weights depend on what was
    drawn before it, such as the UNet's architecture)."""
    from modules.demo.shapes import write_dataset
    from modules.training.config import DiffusionStageConfig, TrainConfig
    from modules.training.dataset import load_folder
    from modules.training.full_model import FROZEN_TEXT_ENCODER, train_diffusion

    images = load_folder(write_dataset(tmp_path / "data", count=4, seed=1, size=64), 64)
    stage = DiffusionStageConfig(train_text_encoder=False, train=TrainConfig(
        steps=1, batch_size=2, checkpoint_every=1, log_every=1000, cpu=True))
    first = build_sd1(tiny_sizes(), seed=0)
    started_with = {k: v.clone() for k, v in first.text_encoders[0].state_dict().items()}
    train_diffusion(first, images, stage, tmp_path / "work")
    assert (tmp_path / "work" / FROZEN_TEXT_ENCODER).is_file()
    other = build_sd1(tiny_sizes(), seed=5)  # a different encoder built for the second run
    assert any(not torch.equal(v, started_with[k]) for k, v in other.text_encoders[0].state_dict().items())
    _, result = train_diffusion(other, images, replace(stage, train=replace(stage.train, steps=2)), tmp_path / "work")
    assert result.step == 2
    for k, v in other.text_encoders[0].state_dict().items():
        assert torch.equal(v, started_with[k]), k
