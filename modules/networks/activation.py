"""The extra networks a prompt's tags ask for, active for the length of one generation.

    with networks_applied(app.networks, model, plan.networks) as used:
        ...encode the prompts, sample, decode...
    used.notices      # unknown names, files that do not fit the model
    used.infotext     # {'Lora hashes': '...'} in A1111's form

LoRA deltas are merged into the weights and hypernetwork attention processors set on entry; both
are undone on exit, whatever happens inside (error, interrupt).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from modules.networks.hypernetworks import applied_hypernetworks
from modules.networks.lora import applied_loras

if TYPE_CHECKING:
    from modules.extra_network_tags import NetworkTag
    from modules.model_manager.loaded_model import LoadedModel
    from modules.networks.library import ExtraNetworks


@dataclass
class UsedNetworks:
    notices: list[str] = field(default_factory=list)
    infotext: dict[str, object] = field(default_factory=dict)


@contextmanager
def networks_applied(networks: ExtraNetworks, model: LoadedModel, tags: Sequence[NetworkTag]) -> Iterator[UsedNetworks]:
    with applied_loras(model, networks.loras, tags) as loras, \
            applied_hypernetworks(model, networks.hypernetworks, tags) as hypernets:
        yield UsedNetworks(notices=[*loras.notices, *hypernets.notices], infotext=loras.infotext())
