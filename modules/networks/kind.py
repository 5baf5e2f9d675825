"""The protocol every kind of extra network implements, and what it hands back.

A network kind (embedding, LoRA, hypernetwork, VAE, or one an extension adds) is an object registered
in app.registry.networks under its name. A new kind is one file:

    class MyKind:
        name, label = "mine", "My networks"
        prompt_tags = ("mine",)   # <mine:name:1> in a prompt is handed to apply()
        in_panel = True           # shown in the extra-networks panel
        def list(self, refresh=False): return [NetworkItem("x", path, prompt="<mine:x:1>")]
        def load(self, name): ...
        @contextmanager
        def apply(self, model, tags):   # set up for one generation, undone on exit
            yield NetworkReport(notices=[...], infotext={...})

    app.registry.networks.register("mine", MyKind(), source="my-extension")

The extra-networks panel lists the in_panel kinds by label, GET /sdapi/v1/extra-networks lists every
kind's items, and a generation hands each kind the prompt tags it claims (modules/networks/activation.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from modules.extra_network_tags import NetworkTag
    from modules.model_manager.loaded_model import LoadedModel


@dataclass(frozen=True)
class NetworkItem:
    """One network the user has: a file in the kind's folder (or anything the kind lists)."""

    name: str  # what a prompt tag or a dropdown names it by
    path: Path | None = None
    preview: Path | None = None  # an image beside the file, shown on its card
    metadata: dict[str, Any] = field(default_factory=dict)
    problem: str = ""  # why it cannot be used (damaged, made for another model); "" when fine
    prompt: str = ""  # what a click on its card adds to the prompt ("" = nothing)
    note: str = ""  # a short line under the card's name (an alias, a version)
    api: dict[str, Any] = field(default_factory=dict)  # its entry in the kind's A1111 list route, if any

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "path": str(self.path) if self.path else None,
                "preview": str(self.preview) if self.preview else None, "metadata": dict(self.metadata),
                "problem": self.problem, "prompt": self.prompt}


@dataclass
class NetworkReport:
    """What applying a kind's networks to one generation left to say: notices for the user (unknown
    names, files that do not fit) and infotext entries (A1111's 'Lora hashes')."""

    notices: list[str] = field(default_factory=list)
    infotext: dict[str, object] = field(default_factory=dict)


@runtime_checkable
class NetworkKind(Protocol):
    name: str  # registry name ("lora")
    label: str  # shown in the panel ("LoRA")
    prompt_tags: tuple[str, ...]  # the <word:...> prompt tags it handles; () for none
    in_panel: bool  # whether the extra-networks panel shows its items

    def list(self, refresh: bool = False) -> list[NetworkItem]:
        """Its networks as they are now (refresh: read the folder again first)."""
        ...

    def load(self, name: str) -> Any:
        """The network by name, loaded (None when there is none by that name)."""
        ...

    def apply(self, model: LoadedModel, tags: Sequence[NetworkTag]) -> AbstractContextManager[NetworkReport]:
        """Set up the tags' networks on model for one generation; everything is undone when the context
        exits, whatever happens inside. Tags it does not claim are ignored."""
        ...


def find_preview(path: Path) -> Path | None:
    """'<stem>.preview.png' or '<stem>.png' beside a network's file."""
    for candidate in (path.with_name(path.stem + ".preview.png"), path.with_suffix(".png")):
        if candidate.is_file():
            return candidate
    return None


def claimed(kind: NetworkKind, tags: Iterable[NetworkTag]) -> list[NetworkTag]:
    """The tags a kind handles, in prompt order."""
    wanted = set(getattr(kind, "prompt_tags", ()))
    return [tag for tag in tags if tag.kind in wanted]
