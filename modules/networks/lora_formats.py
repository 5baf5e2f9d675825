"""LoRA / LyCORIS file contents: group the keys by module and compute each module's weight delta.

Pure tensor code (no model, no files). Key layouts understood (compatibility reference 6.6):

* kohya sd-scripts: `lora_unet_<path>.lora_down.weight`, `.lora_up.weight`, optional `.lora_mid.weight`
  (CP conv), `.alpha`; `lora_te_` / `lora_te1_` / `lora_te2_` for text encoders. LoCon is the same on
  conv layers.
* diffusers / PEFT: `unet.<path>.lora_A.weight` / `.lora_B.weight` (A = down, B = up),
  `<path>.lora.down.weight` / `.lora.up.weight`, `<path>.lora_linear_layer.down.weight`, and the old
  attention-processor form `<attn>.processor.to_q_lora.down.weight`.
* LyCORIS LoHa: `hada_w1_a`, `hada_w1_b`, `hada_w2_a`, `hada_w2_b`, optional `hada_t1`, `hada_t2`.
* LyCORIS LoKr: `lokr_w1` or `lokr_w1_a`/`lokr_w1_b`, `lokr_w2` or `lokr_w2_a`/`lokr_w2_b`,
  optional `lokr_t2`.
* Full difference: `diff`.

Every type takes the optional `alpha` (scale = alpha / rank) or `scale` (used as is).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

# file suffix → canonical weight name (longest suffixes are tried first)
_SUFFIXES: dict[str, str] = {
    "lora_down.weight": "lora_down.weight",
    "lora_up.weight": "lora_up.weight",
    "lora_mid.weight": "lora_mid.weight",
    "lora_A.weight": "lora_down.weight",
    "lora_B.weight": "lora_up.weight",
    "lora.down.weight": "lora_down.weight",
    "lora.up.weight": "lora_up.weight",
    "lora_linear_layer.down.weight": "lora_down.weight",
    "lora_linear_layer.up.weight": "lora_up.weight",
    "alpha": "alpha",
    "scale": "scale",
    "diff": "diff",
    **{name: name for name in ("hada_w1_a", "hada_w1_b", "hada_w2_a", "hada_w2_b", "hada_t1", "hada_t2",
                               "lokr_w1", "lokr_w1_a", "lokr_w1_b", "lokr_w2", "lokr_w2_a", "lokr_w2_b",
                               "lokr_t1", "lokr_t2")},
}
_ORDERED = sorted(_SUFFIXES, key=len, reverse=True)
_PROCESSOR = re.compile(r"^(?P<attn>.+)\.processor\.(?P<proj>to_q|to_k|to_v|to_out)_lora\.(?P<dir>down|up)\.weight$")
# keys that belong to LyCORIS/kohya types this app does not merge (reported, not applied)
_OTHER_TYPES = ("on_input", "oft_blocks", "oft_diag", "w_norm", "b_norm", "a1.weight", "a2.weight", "b1.weight",
                "b2.weight", "diff_b", "bias", "dora_scale", "rescale", "weight")


class ShapeMismatch(ValueError):
    """The file's tensors for a module do not fit the model's layer."""


@dataclass
class ModuleWeights:
    """The tensors a file holds for one target module (canonical names, e.g. 'lora_down.weight')."""

    key: str
    tensors: dict[str, torch.Tensor] = field(default_factory=dict)

    @property
    def kind(self) -> str | None:
        t = self.tensors
        if "lora_up.weight" in t and "lora_down.weight" in t:
            return "lora"
        if all(k in t for k in ("hada_w1_a", "hada_w1_b", "hada_w2_a", "hada_w2_b")):
            return "loha"
        if ("lokr_w1" in t or ("lokr_w1_a" in t and "lokr_w1_b" in t)) and (
                "lokr_w2" in t or ("lokr_w2_a" in t and "lokr_w2_b" in t)):
            return "lokr"
        if "diff" in t:
            return "full"
        return None


@dataclass
class ParsedNetwork:
    modules: dict[str, ModuleWeights]  # module key as written in the file (without the weight suffix)
    unsupported: list[str]  # module keys whose type is not merged here (OFT, (IA)3, ...)
    unknown_keys: list[str]  # keys that fit no known layout at all


def split_key(key: str) -> tuple[str, str] | None:
    """(module key, canonical weight name) or None when the key is not part of a known layout."""
    match = _PROCESSOR.match(key)
    if match:
        proj = "to_out.0" if match["proj"] == "to_out" else match["proj"]
        return f"{match['attn']}.{proj}", f"lora_{match['dir']}.weight"
    for suffix in _ORDERED:
        if key.endswith("." + suffix):
            return key[: -len(suffix) - 1], _SUFFIXES[suffix]
    return None


def parse_network(state: dict[str, torch.Tensor]) -> ParsedNetwork:
    modules: dict[str, ModuleWeights] = {}
    other: dict[str, None] = {}
    unknown: list[str] = []
    for key, tensor in state.items():
        split = split_key(key)
        if split is None:
            module = next((key[: -len(s) - 1] for s in _OTHER_TYPES if key.endswith("." + s)), None)
            if module is None:
                unknown.append(key)
            else:
                other[module] = None
            continue
        module_key, name = split
        modules.setdefault(module_key, ModuleWeights(module_key)).tensors[name] = tensor
    supported = {k: m for k, m in modules.items() if m.kind is not None}
    unsupported = [k for k in {**other, **{k: None for k in modules if k not in supported}} if k not in supported]
    return ParsedNetwork(supported, unsupported, unknown)


def _cp(t: torch.Tensor, wa: torch.Tensor, wb: torch.Tensor) -> torch.Tensor:
    """Tucker/CP rebuild: core t (r, r, kh, kw) with wa (r, out) and wb (r, in) → (out, in, kh, kw)."""
    import torch

    return torch.einsum("i j k l, j r, i p -> p r k l", t, wb, wa)


def _scale(w: ModuleWeights, rank: int | None) -> float:
    if "scale" in w.tensors:
        return float(w.tensors["scale"].item())
    if "alpha" in w.tensors and rank:
        return float(w.tensors["alpha"].item()) / rank
    return 1.0


def _lora(w: ModuleWeights) -> tuple[torch.Tensor, int]:
    up = w.tensors["lora_up.weight"].float()
    down = w.tensors["lora_down.weight"].float()
    rank = int(down.shape[0])
    if "lora_mid.weight" in w.tensors:  # CP-decomposed conv: down (r, in, 1, 1), mid (r, r, kh, kw), up (out, r, 1, 1)
        mid = w.tensors["lora_mid.weight"].float()
        return _cp(mid, up.flatten(1).t(), down.flatten(1)), rank
    product = up.flatten(1) @ down.flatten(1)
    if down.dim() == 4:  # conv: (out, in * kh * kw) → (out, in, kh, kw)
        product = product.reshape(up.shape[0], *down.shape[1:])
    return product, rank


def _loha(w: ModuleWeights) -> tuple[torch.Tensor, int]:
    t = {k: v.float() for k, v in w.tensors.items()}
    rank = int(t["hada_w1_b"].shape[0])
    if "hada_t1" in t and "hada_t2" in t:
        w1 = _cp(t["hada_t1"], t["hada_w1_a"], t["hada_w1_b"])
        w2 = _cp(t["hada_t2"], t["hada_w2_a"], t["hada_w2_b"])
    else:
        w1 = t["hada_w1_a"] @ t["hada_w1_b"]
        w2 = t["hada_w2_a"] @ t["hada_w2_b"]
    return w1 * w2, rank


def _lokr(w: ModuleWeights) -> tuple[torch.Tensor, int | None]:
    import torch

    t = {k: v.float() for k, v in w.tensors.items()}
    rank: int | None = None
    if "lokr_w1" in t:
        w1 = t["lokr_w1"]
    else:
        w1 = t["lokr_w1_a"] @ t["lokr_w1_b"]
        rank = int(t["lokr_w1_b"].shape[0])
    if "lokr_w2" in t:
        w2 = t["lokr_w2"]
    elif "lokr_t2" in t:
        w2 = _cp(t["lokr_t2"], t["lokr_w2_a"], t["lokr_w2_b"])
        rank = rank or int(t["lokr_w2_b"].shape[0])
    else:
        w2 = t["lokr_w2_a"] @ t["lokr_w2_b"]
        rank = rank or int(t["lokr_w2_b"].shape[0])
    if w2.dim() == 4 and w1.dim() == 2:
        w1 = w1[:, :, None, None]
    return torch.kron(w1, w2), rank


def module_delta(w: ModuleWeights, shape: tuple[int, ...]) -> torch.Tensor:
    """The float32 weight delta (scale applied, multiplier not) shaped like a weight of `shape`.

    ShapeMismatch when the file's tensors cannot form a weight of that shape.
    """
    kind = w.kind
    try:
        if kind == "lora":
            delta, rank = _lora(w)
        elif kind == "loha":
            delta, rank = _loha(w)
        elif kind == "lokr":
            delta, rank = _lokr(w)  # type: ignore[assignment]
        elif kind == "full":
            delta, rank = w.tensors["diff"].float(), None  # type: ignore[assignment]
        else:
            raise ShapeMismatch(f"{w.key}: no supported weights")
    except RuntimeError as exc:  # matmul/einsum of tensors that do not chain
        raise ShapeMismatch(f"{w.key}: the tensors do not fit together ({exc})") from exc
    if tuple(delta.shape) != tuple(shape):
        if delta.numel() != _numel(shape):
            raise ShapeMismatch(f"{w.key}: makes a {tuple(delta.shape)} change for a {tuple(shape)} layer")
        delta = delta.reshape(shape)
    return delta * _scale(w, rank)


def _numel(shape: tuple[int, ...]) -> int:
    n = 1
    for s in shape:
        n *= int(s)
    return n
