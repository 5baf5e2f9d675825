"""The extra networks a prompt's tags ask for, active for the length of one generation.

    with networks_applied(app.registry.networks.items(), model, plan.networks) as used:
        ...encode the prompts, sample, decode...
    used.notices      # unknown names, files that do not fit the model
    used.infotext     # {'Lora hashes': '...'} in A1111's form

Every registered network kind (modules/networks/kind.py) gets the tags it claims: LoRA deltas are
merged into the weights and hypernetwork attention processors set on entry, an extension's kind does
what it does; all is undone on exit, in reverse order, whatever happens inside (error, interrupt).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from modules.networks.kind import NetworkKind, claimed

if TYPE_CHECKING:
    from modules.extra_network_tags import NetworkTag
    from modules.model_manager.loaded_model import LoadedModel


@dataclass
class UsedNetworks:
    notices: list[str] = field(default_factory=list)
    infotext: dict[str, object] = field(default_factory=dict)


@contextmanager
def networks_applied(kinds: Iterable[NetworkKind], model: LoadedModel,
                     tags: Sequence[NetworkTag]) -> Iterator[UsedNetworks]:
    """Each kind that claims one of the tags applies them, in registration order."""
    used = UsedNetworks()
    with ExitStack() as stack:
        for kind in kinds:
            if not claimed(kind, tags):
                continue
            report = stack.enter_context(kind.apply(model, tags))
            used.notices.extend(report.notices)
            used.infotext.update(report.infotext)
        yield used
