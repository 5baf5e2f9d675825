"""A1111 hypernetworks (.pt in models/hypernetworks) and `<hypernet:name:w>`.

File (compatibility reference 6.5): a torch-saved dict; integer keys are context widths (768, 320, ...),
each holding (k_module, v_module) state dicts of a Sequential named `linear` ('linear.0.weight', ...;
old files: 'linear1.*', 'linear2.*'); metadata keys 'layer_structure', 'activation_func',
'is_layer_norm', 'activate_output', 'use_dropout', 'dropout_structure', 'last_layer_dropout', 'name', ...

In every attention layer of the UNet the context (the text embedding for cross-attention, the hidden
states for self-attention) goes through the k-module before to_k and through the v-module before to_v:
module(x) = x + MLP(x) * strength, the module picked by the context's width. Applied with a diffusers
attention processor set on the UNet for the generation and the previous processors put back after.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modules.errors import CheckpointLoadError

if TYPE_CHECKING:
    import torch

    from modules.extra_network_tags import NetworkTag
    from modules.model_manager.loaded_model import LoadedModel

HYPERNETWORK_SUFFIXES = (".pt",)
HYPERNET_KIND = "hypernet"


@dataclass(frozen=True)
class HypernetworkFile:
    name: str
    path: Path

    def as_api(self) -> dict[str, Any]:
        return {"name": self.name, "path": str(self.path)}


def _activation(name: str) -> torch.nn.Module | None:
    """None for 'linear'; torch activations by lower-cased class name; 'swish' is SiLU."""
    import torch

    key = (name or "linear").lower()
    if key == "linear":
        return None
    if key == "swish":
        return torch.nn.SiLU()
    for cls_name in torch.nn.modules.activation.__all__:
        if cls_name.lower() == key:
            return getattr(torch.nn, cls_name)()
    raise ValueError(f"unknown activation function '{name}'")


def build_module(state: dict[str, torch.Tensor], meta: dict[str, Any], width: int) -> torch.nn.Sequential:
    """The MLP for one context width, laid out to the file's layer indices.

    Indices with a 2-D weight are Linear layers, with a 1-D weight LayerNorm; the gaps are the
    activation (right after a Linear that has one) and dropout layers (identity at inference).
    """
    import torch

    state = {k.replace("linear1.", "linear.0.").replace("linear2.", "linear.1."): v for k, v in state.items()}
    entries: dict[int, dict[str, torch.Tensor]] = {}
    for key, tensor in state.items():
        parts = key.split(".")
        if len(parts) != 3 or parts[0] != "linear" or not parts[1].isdigit():
            raise ValueError(f"unexpected key '{key}' in the {width} module")
        entries.setdefault(int(parts[1]), {})[parts[2]] = tensor
    structure = [float(x) for x in meta.get("layer_structure") or (1, 2, 1)]
    linears = [i for i in sorted(entries) if entries[i]["weight"].dim() == 2]
    if len(linears) != len(structure) - 1:
        raise ValueError(f"the {width} module has {len(linears)} linear layers, "
                         f"its layer structure {structure} needs {len(structure) - 1}")
    activation = str(meta.get("activation_func") or "linear")
    activate_output = bool(meta.get("activate_output", False))
    layers: list[torch.nn.Module] = [torch.nn.Identity() for _ in range(max(entries) + 1)]
    for n, index in enumerate(linears):
        weight = entries[index]["weight"]
        if n == 0 and weight.shape[1] != width:
            raise ValueError(f"the {width} module takes inputs of width {weight.shape[1]}")
        linear = torch.nn.Linear(weight.shape[1], weight.shape[0])
        linear.load_state_dict(entries[index])
        layers[index] = linear
        act = _activation(activation)
        if act is not None and (n < len(linears) - 1 or activate_output) and index + 1 not in entries:
            layers[index + 1] = act
    for index, tensors in entries.items():
        if tensors["weight"].dim() == 1:
            norm = torch.nn.LayerNorm(tensors["weight"].shape[0])
            norm.load_state_dict(tensors)
            layers[index] = norm
    sequential = torch.nn.Sequential(*layers)
    sequential.eval().requires_grad_(False)
    return sequential


@dataclass
class Hypernetwork:
    name: str
    modules: dict[int, tuple[torch.nn.Module, torch.nn.Module]]  # context width → (k, v)
    strength: float = 1.0
    meta: dict[str, Any] = field(default_factory=dict)

    def apply(self, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(context for to_k, context for to_v)."""
        pair = self.modules.get(int(context.shape[-1]))
        if pair is None:
            return context, context
        k_mod, v_mod = pair
        k_mod.to(context.device, context.dtype)
        v_mod.to(context.device, context.dtype)
        return context + k_mod(context) * self.strength, context + v_mod(context) * self.strength


def load_hypernetwork(path: Path, name: str | None = None) -> Hypernetwork:
    """Read a hypernetwork .pt with the safe unpickler. CheckpointLoadError or ValueError (clear reason)."""

    from modules.model_manager.checkpoint_files import _load_pickle

    data = _load_pickle(path)
    if not isinstance(data, dict):
        raise ValueError("it is not a hypernetwork file (no dictionary inside)")
    meta = {k: v for k, v in data.items() if isinstance(k, str)}
    modules: dict[int, tuple[torch.nn.Module, torch.nn.Module]] = {}
    for key, value in data.items():
        if isinstance(key, int) and isinstance(value, list | tuple) and len(value) == 2:
            try:
                k_mod, v_mod = (build_module(dict(sd), meta, key) for sd in value)
            except (KeyError, TypeError, IndexError, AttributeError) as exc:  # plain data, but not the layout
                raise ValueError(f"its {key} module is not laid out as a hypernetwork's "
                                 f"({type(exc).__name__}: {exc})") from exc
            modules[key] = (k_mod, v_mod)
    if not modules:
        raise ValueError("it holds no hypernetwork modules (no integer context-width keys)")
    return Hypernetwork(name or str(meta.get("name") or path.stem), modules, meta=meta)


class HypernetworkLibrary:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._hashes: dict[tuple[Path, int, int], str] = {}

    def files(self) -> list[HypernetworkFile]:
        if self.root is None or not self.root.is_dir():
            return []
        return [HypernetworkFile(p.stem, p) for p in sorted(self.root.rglob("*"))
                if p.is_file() and p.suffix.lower() in HYPERNETWORK_SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(self.root).parts)]

    def find(self, name: str) -> HypernetworkFile | None:
        return next((f for f in self.files() if f.name == name), None)

    def shorthash(self, item: HypernetworkFile) -> str:
        """Full-file SHA-256, 10 hex digits (A1111's hypernetwork shorthash)."""
        stat = item.path.stat()
        key = (item.path, stat.st_mtime_ns, stat.st_size)
        with self._lock:
            known = self._hashes.get(key)
        if known is None:
            known = hashlib.sha256(item.path.read_bytes()).hexdigest()
            with self._lock:
                self._hashes[key] = known
        return known[:10]


@dataclass
class HypernetworkReport:
    notices: list[str] = field(default_factory=list)
    applied: list[Hypernetwork] = field(default_factory=list)


@contextmanager
def applied_hypernetworks(model: LoadedModel, library: HypernetworkLibrary,
                          tags: Sequence[NetworkTag]) -> Iterator[HypernetworkReport]:
    """Set the hypernetwork attention processor for <hypernet:...> tags; the old processors come back on exit."""
    from modules.networks.hypernetwork_attention import HypernetworkAttnProcessor

    report = HypernetworkReport()
    for tag in (t for t in tags if t.kind == HYPERNET_KIND):
        item = library.find(tag.name)
        if item is None:
            report.notices.append(f"Hypernetwork '{tag.name}' was not found in {library.root}; it was not used.")
            continue
        strength = tag.multiplier(0, 1.0)
        if strength == 0:
            continue
        try:
            network = load_hypernetwork(item.path, item.name)
        except (CheckpointLoadError, ValueError, RuntimeError) as exc:
            report.notices.append(f"Hypernetwork '{tag.name}' ({item.path.name}) was not used: {exc}")
            continue
        network.strength = strength
        report.applied.append(network)
    if not report.applied:
        yield report
        return
    unet = model.unet
    previous = dict(unet.attn_processors)
    unet.set_attn_processor({name: HypernetworkAttnProcessor(report.applied) for name in previous})
    try:
        yield report
    finally:
        unet.set_attn_processor(previous)
