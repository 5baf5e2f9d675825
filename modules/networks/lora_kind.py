"""LoRA (and LyCORIS) as a network kind: <lora:name:weight> tags merged into the weights for one generation."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from modules.networks.kind import NetworkItem, NetworkReport, claimed, find_preview
from modules.networks.lora import LORA_KINDS, LoraFile, LoraLibrary, applied_loras

if TYPE_CHECKING:
    from modules.extra_network_tags import NetworkTag
    from modules.model_manager.loaded_model import LoadedModel


def lora_item(lora: LoraFile) -> NetworkItem:
    return NetworkItem(lora.name, lora.path, find_preview(lora.path), dict(lora.metadata), lora.problem,
                       prompt=f"<lora:{lora.name}:1>", note=f"alias: {lora.alias}" if lora.alias != lora.name else "",
                       api=lora.as_api())


class LoraKind:
    name = "lora"
    label = "LoRA"
    prompt_tags: tuple[str, ...] = LORA_KINDS
    in_panel = True

    def __init__(self, library: LoraLibrary) -> None:
        self.library = library

    def list(self, refresh: bool = False) -> list[NetworkItem]:
        files = self.library.refresh() if refresh else self.library.files()
        return [lora_item(lora) for lora in files]

    def load(self, name: str) -> LoraFile | None:
        return self.library.find(name)

    @contextmanager
    def apply(self, model: LoadedModel, tags: Sequence[NetworkTag]) -> Iterator[NetworkReport]:
        with applied_loras(model, self.library, claimed(self, tags)) as report:
            yield NetworkReport(notices=report.notices, infotext=report.infotext())
