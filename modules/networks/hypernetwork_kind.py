"""Hypernetworks as a network kind: <hypernet:name:strength> tags set on the UNet's attention for one generation."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from modules.networks.hypernetworks import (
    HYPERNET_KIND,
    Hypernetwork,
    HypernetworkLibrary,
    applied_hypernetworks,
    load_hypernetwork,
)
from modules.networks.kind import NetworkItem, NetworkReport, claimed, find_preview

if TYPE_CHECKING:
    from modules.extra_network_tags import NetworkTag
    from modules.model_manager.loaded_model import LoadedModel


class HypernetworkKind:
    name = "hypernetwork"
    label = "Hypernetworks"
    prompt_tags: tuple[str, ...] = (HYPERNET_KIND,)
    in_panel = True

    def __init__(self, library: HypernetworkLibrary) -> None:
        self.library = library

    def list(self, refresh: bool = False) -> list[NetworkItem]:
        return [NetworkItem(h.name, h.path, find_preview(h.path), prompt=f"<hypernet:{h.name}:1>", api=h.as_api())
                for h in self.library.files()]  # read from the folder every time

    def load(self, name: str) -> Hypernetwork | None:
        item = self.library.find(name)
        return load_hypernetwork(item.path, item.name) if item is not None else None

    @contextmanager
    def apply(self, model: LoadedModel, tags: Sequence[NetworkTag]) -> Iterator[NetworkReport]:
        with applied_hypernetworks(model, self.library, claimed(self, tags)) as report:
            yield NetworkReport(notices=report.notices)
