"""VAEs as a network kind: listed from the VAE folder. A VAE is chosen by its dropdown, the API's
sd_vae option or a pasted infotext, not by a prompt tag, and the generation puts it in place, so
apply() has nothing to set up and the kind stays out of the extra-networks panel."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from modules.networks.kind import NetworkItem, NetworkReport
from modules.networks.vae import VaeFile, VaeLibrary

if TYPE_CHECKING:
    from modules.extra_network_tags import NetworkTag
    from modules.model_manager.loaded_model import LoadedModel


class VaeKind:
    name = "vae"
    label = "VAE"
    prompt_tags: tuple[str, ...] = ()
    in_panel = False

    def __init__(self, library: VaeLibrary) -> None:
        self.library = library

    def list(self, refresh: bool = False) -> list[NetworkItem]:
        return [NetworkItem(f.name, f.path, api={"model_name": f.name, "filename": str(f.path)})
                for f in self.library.files()]  # read from the folder every time

    def load(self, name: str) -> VaeFile | None:
        return self.library.find(name)

    @contextmanager
    def apply(self, model: LoadedModel, tags: Sequence[NetworkTag]) -> Iterator[NetworkReport]:
        yield NetworkReport()
