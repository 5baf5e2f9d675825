"""VAE choice: Automatic, None (the checkpoint's own) or a file from models/VAE.

Automatic uses '<checkpoint stem>.vae.safetensors/.vae.pt/.vae.ckpt' beside the checkpoint when there
is one, else the VAE baked into the checkpoint (compatibility reference 6.1). Swapping copies new
weights into the loaded AutoencoderKL; the checkpoint's own weights are kept (a CPU copy, made once per
model) so that None restores them bit-exactly. A file that does not fit (latent channels, shapes) or
cannot be read gives a UserError and the VAE in use stays.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from modules.errors import CheckpointLoadError, UserError

if TYPE_CHECKING:
    import torch

    from modules.model_manager.loaded_model import LoadedModel

AUTOMATIC = "Automatic"
NONE = "None"
VAE_FILE_SUFFIXES = (".safetensors", ".pt", ".ckpt")
BESIDE_SUFFIXES = (".vae.safetensors", ".vae.pt", ".vae.ckpt")
BAKED_KEY = "baked_vae_state"
ACTIVE_KEY = "active_vae"
LDM_PREFIX = "first_stage_model."
LDM_VAE_PARTS = ("encoder.", "decoder.", "quant_conv.", "post_quant_conv.")


@dataclass(frozen=True)
class VaeFile:
    name: str  # path relative to the VAE folder
    path: Path


@dataclass(frozen=True)
class ActiveVae:
    """The external VAE file in use (None = the checkpoint's own)."""

    path: Path
    sha256: str

    @property
    def shorthash(self) -> str:
        return self.sha256[:10]

    def infotext(self) -> dict[str, str]:
        return {"VAE hash": self.shorthash, "VAE": self.path.name}


def beside_checkpoint(checkpoint: Path | None) -> Path | None:
    """'<stem>.vae.*' next to a checkpoint file, if there is one."""
    if checkpoint is None or not checkpoint.is_file():
        return None
    for suffix in BESIDE_SUFFIXES:
        candidate = checkpoint.with_name(checkpoint.stem + suffix)
        if candidate.is_file():
            return candidate
    return None


def vae_state_for(path: Path, model: LoadedModel) -> dict[str, torch.Tensor]:
    """A VAE file's weights as AutoencoderKL keys, checked against the model's VAE. UserError if unusable."""
    from modules.model_manager.checkpoint_files import read_state_dict
    from modules.model_manager.ldm_to_diffusers import convert_vae

    sd = read_state_dict(path)
    target = model.vae.state_dict()
    if set(sd) <= set(target):  # already diffusers-named
        converted = dict(sd)
    else:
        prefix = LDM_PREFIX if any(k.startswith(LDM_PREFIX) for k in sd) else ""
        # a full checkpoint or a training file also holds other weights (loss.*, model_ema.*): keep the VAE's
        ldm = {k[len(prefix):]: v for k, v in sd.items()
               if k.startswith(prefix) and k[len(prefix):].startswith(LDM_VAE_PARTS)}
        if not any(k.startswith("decoder.") for k in ldm):
            raise UserError(f"'{path.name}' is not a VAE file (no 'decoder.*' weights)")
        try:
            converted = convert_vae(ldm, dict(model.vae.config), prefix="")
        except CheckpointLoadError as e:
            raise UserError(f"'{path.name}' does not fit this model's VAE: {e}") from e
    missing = [k for k in target if k not in converted]
    wrong = [k for k, v in converted.items() if k in target and tuple(v.shape) != tuple(target[k].shape)]
    if wrong or missing or len(converted) != len(target):
        detail = f"shape of {wrong[0]}" if wrong else f"missing {missing[0]}" if missing else "extra weights"
        channels = int(model.vae.config.latent_channels)
        raise UserError(f"'{path.name}' is a VAE of another architecture and does not fit this model "
                        f"({channels} latent channels; {detail} differs)")
    return converted


def _copy_into(model: LoadedModel, state: dict[str, torch.Tensor]) -> None:
    import torch

    params = model.vae.state_dict()
    with torch.no_grad():
        for key, value in state.items():
            params[key].copy_(value.to(params[key].dtype))


@dataclass
class VaeLibrary:
    """The VAE folder's files and which VAE each loaded model is using."""

    folder: Path | None = None
    selected: str = AUTOMATIC
    _lock: threading.Lock = field(default_factory=threading.Lock)  # one swap at a time

    def files(self) -> list[VaeFile]:
        if self.folder is None or not self.folder.is_dir():
            return []
        return [VaeFile(p.relative_to(self.folder).as_posix(), p) for p in sorted(self.folder.rglob("*"))
                if p.is_file() and p.suffix.lower() in VAE_FILE_SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(self.folder).parts)]

    def choices(self) -> list[str]:
        return [AUTOMATIC, NONE, *(f.name for f in self.files())]

    def known(self, choice: str) -> bool:
        """Whether choice names a VAE this app can use (Automatic, None or a file in the VAE folder)."""
        return choice in (AUTOMATIC, NONE) or self.find(choice) is not None

    def find(self, name: str) -> VaeFile | None:
        for vae in self.files():
            if name in (vae.name, vae.path.name, Path(vae.name).stem):
                return vae
        return None

    def choice_from_infotext(self, text: str) -> str | None:
        """The local choice matching an infotext's 'VAE' / 'VAE hash' (None: not recorded or not here)."""
        from modules.generation.infotext import parse_infotext

        info = parse_infotext(text)
        name, short = info.get("VAE"), info.get("VAE hash")
        if not name:
            return None
        found = self.find(name)
        if found is None and short:
            from modules.model_manager.hashing import sha256_file

            found = next((f for f in self.files() if sha256_file(f.path).startswith(short)), None)
        return found.name if found else None

    def resolve(self, choice: str, checkpoint: Path | None) -> Path | None:
        """The file a choice means for this checkpoint (None = the checkpoint's own VAE)."""
        if choice == AUTOMATIC:
            return beside_checkpoint(checkpoint)
        if choice in (NONE, ""):
            return None
        found = self.find(choice)
        if found is None:
            raise UserError(f"VAE '{choice}' not found in {self.folder}")
        return found.path

    @staticmethod
    def active(model: LoadedModel) -> ActiveVae | None:
        """The external VAE in this model (kept in model.extra, so it goes away with the model)."""
        active = model.extra.get(ACTIVE_KEY)
        return active if isinstance(active, ActiveVae) else None

    def select(self, choice: str) -> None:
        """Remember the user's choice for the whole app (applied to the model by apply()). A choice for one
        generation only is passed to apply() instead and leaves this one alone."""
        if not self.known(choice):
            raise UserError(f"VAE '{choice}' not found in {self.folder}")
        self.selected = choice

    def apply(self, model: LoadedModel, checkpoint: Path | None, choice: str | None = None) -> ActiveVae | None:
        """Put a VAE into the model (no work when it is already there) and return the external one in use.
        choice: one run's own VAE (a request's); None: the app's selected one. `selected` is not changed, so
        the next run without a choice of its own gets the selected VAE back."""
        path = self.resolve(choice or self.selected, checkpoint)
        with self._lock:
            return self._apply_path(model, path)

    def _apply_path(self, model: LoadedModel, path: Path | None) -> ActiveVae | None:
        from modules.model_manager.hashing import sha256_file

        current = self.active(model)
        if (current.path if current else None) == path:
            return current
        if path is None:
            baked = model.extra.get(BAKED_KEY)
            if baked is not None:
                _copy_into(model, baked)
            model.extra[ACTIVE_KEY] = None
            return None
        state = vae_state_for(path, model)  # raises before anything changes
        if BAKED_KEY not in model.extra:
            model.extra[BAKED_KEY] = {k: v.detach().to("cpu", copy=True) for k, v in model.vae.state_dict().items()}
        _copy_into(model, state)
        active = ActiveVae(path=path, sha256=sha256_file(path))
        model.extra[ACTIVE_KEY] = active
        return active
