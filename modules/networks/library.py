"""ExtraNetworks: one container for every kind of extra network the user has (held by App.networks).

Each field is one kind's library; register_core_networks puts each behind the NetworkKind protocol
(modules/networks/kind.py) into app.registry.networks, which the panel, the API lists and the prompt's
tags go through. Every field has a safe empty default so the container can be built
before any folder is scanned (tests, CLI) and so new kinds can be added as fields without touching
callers. Kinds keep their own state and locking; this class only groups them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from modules.networks.embeddings import EmbeddingDatabase
from modules.networks.hypernetworks import HypernetworkLibrary
from modules.networks.lora import LoraLibrary
from modules.networks.vae import VaeLibrary

if TYPE_CHECKING:
    from modules.app import App
    from modules.settings import Settings


@dataclass
class ExtraNetworks:
    embeddings: EmbeddingDatabase = field(default_factory=EmbeddingDatabase)
    vaes: VaeLibrary = field(default_factory=VaeLibrary)
    loras: LoraLibrary = field(default_factory=LoraLibrary)
    hypernetworks: HypernetworkLibrary = field(default_factory=HypernetworkLibrary)

    @staticmethod
    def for_settings(settings: Settings) -> ExtraNetworks:
        """The registries pointed at the folders named in the settings (nothing is read yet)."""
        return ExtraNetworks(embeddings=EmbeddingDatabase(settings.embeddings_path),
                             vaes=VaeLibrary(settings.vae_path), loras=LoraLibrary(settings.lora_path),
                             hypernetworks=HypernetworkLibrary(settings.hypernetwork_path))


def register_core_networks(app: App) -> None:
    """The four core kinds over app.networks' libraries, in the panel's order."""
    from modules.networks.embedding_kind import EmbeddingKind
    from modules.networks.hypernetwork_kind import HypernetworkKind
    from modules.networks.lora_kind import LoraKind
    from modules.networks.vae_kind import VaeKind
    from modules.registry import CORE

    networks = app.networks
    for kind in (EmbeddingKind(networks.embeddings, lambda: app.models.current), LoraKind(networks.loras),
                 HypernetworkKind(networks.hypernetworks), VaeKind(networks.vaes)):
        app.registry.networks.register(kind.name, kind, source=CORE)
