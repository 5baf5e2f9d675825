"""ExtraNetworks: one container for every kind of extra network the user has (held by App.networks).

Each field is one kind's registry. Every field has a safe empty default so the container can be built
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
