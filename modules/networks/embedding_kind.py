"""Textual-inversion embeddings as a network kind. An embedding is used by writing its name in a prompt (the
prompt encoder finds it), not by a <tag:...>, so apply() has nothing to set up."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from modules.networks.embeddings import Embedding, EmbeddingDatabase
from modules.networks.kind import NetworkItem, NetworkReport, find_preview

if TYPE_CHECKING:
    from modules.extra_network_tags import NetworkTag
    from modules.model_manager.loaded_model import LoadedModel


class EmbeddingKind:
    name = "embedding"
    label = "Textual Inversion"
    prompt_tags: tuple[str, ...] = ()
    in_panel = True

    def __init__(self, database: EmbeddingDatabase, current_model: Callable[[], LoadedModel | None]) -> None:
        self.database = database
        self.current_model = current_model  # the loaded model, whose text encoders an embedding must fit

    def list(self, refresh: bool = False) -> list[NetworkItem]:
        if refresh:
            self.database.load(self.current_model())
        skipped = self.database.skipped()
        return [NetworkItem(p.stem, p, find_preview(p), problem=skipped[p.stem].reason if p.stem in skipped else "",
                            prompt=p.stem) for p in self.database.files()]

    def load(self, name: str) -> Embedding | None:
        return self.database.loaded().get(name)

    @contextmanager
    def apply(self, model: LoadedModel, tags: Sequence[NetworkTag]) -> Iterator[NetworkReport]:
        yield NetworkReport()
