"""LoRA / LyCORIS networks: the models/Lora folder, and `<lora:name:w>` merged into the weights.

    with applied_loras(model, library, tags) as report:   # weights changed here
        ...generate...                                    # restored bit-exactly on exit, error or not
    report.notices, report.infotext()                      # what was skipped and why; 'Lora hashes'

Merging happens once, before the text encoding, so sampling steps run at full speed. The original
tensors of every touched layer are kept (on the CPU) and copied back on exit. A file that does not fit
the loaded model (most layers it names do not exist, or shapes differ) is skipped as a whole with a
notice; a few layers the model lacks are left out with a notice and the rest is applied;
an unknown name gives a notice too (A1111 warns and goes on).
"""

from __future__ import annotations

import hashlib
import logging
import struct
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modules.errors import CheckpointLoadError
from modules.networks.lora_formats import ModuleWeights, ShapeMismatch, module_delta, parse_network
from modules.networks.lora_names import Target, target_map

if TYPE_CHECKING:
    import torch

    from modules.extra_network_tags import NetworkTag
    from modules.model_manager.loaded_model import LoadedModel

log = logging.getLogger(__name__)

LORA_SUFFIXES = (".safetensors", ".pt", ".ckpt")
LORA_KINDS = ("lora", "lyco")
MAX_FILES = 10_000


@dataclass(frozen=True)
class LoraFile:
    name: str  # file stem: what <lora:name> uses
    path: Path
    metadata: dict[str, str] = field(default_factory=dict)  # safetensors __metadata__ (kohya ss_* keys)
    problem: str = ""  # why the file cannot be used (a damaged header), found when the folder was scanned

    @property
    def alias(self) -> str:
        return self.metadata.get("ss_output_name") or self.name

    @property
    def sd_version(self) -> str:
        """'SDXL', 'SD2', 'SD1' from kohya metadata, or 'Unknown' (A1111's rule)."""
        base = self.metadata.get("ss_base_model_version", "")
        if base.startswith("sdxl_"):
            return "SDXL"
        if self.metadata.get("ss_v2") == "True":
            return "SD2"
        return "SD1" if self.metadata else "Unknown"

    def as_api(self) -> dict[str, Any]:
        return {"name": self.name, "alias": self.alias, "path": str(self.path), "metadata": dict(self.metadata)}


def addnet_hash(path: Path) -> str:
    """kohya's sshs_model_hash: SHA-256 of a .safetensors file after its header; whole file otherwise
    (also for a file too short to have a header)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        prefix = handle.read(8) if path.suffix.lower() == ".safetensors" else b""
        if len(prefix) == 8:
            (length,) = struct.unpack("<Q", prefix)
            handle.seek(8 + length)
        else:
            handle.seek(0)
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _scanned(path: Path) -> LoraFile:
    """The file as listed: its metadata, or (a damaged .safetensors header) the reason it is skipped."""
    if path.suffix.lower() != ".safetensors":
        return LoraFile(path.stem, path)
    from modules.model_manager.checkpoint_files import read_safetensors_metadata

    try:
        return LoraFile(path.stem, path, read_safetensors_metadata(path))
    except CheckpointLoadError as exc:
        log.warning("LoRA skipped: %s", exc)
        return LoraFile(path.stem, path, problem=str(exc))
    except Exception as exc:  # noqa: BLE001 - one odd file must not break the list or generation
        log.exception("LoRA %s could not be read", path)
        return LoraFile(path.stem, path, problem=f"Cannot load '{path.name}' ({type(exc).__name__}: {exc})")


class LoraLibrary:
    """The LoRA files under one folder (recursive). Scanned on first use and on refresh()."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root
        self._files: list[LoraFile] | None = None
        self._hashes: dict[tuple[Path, int, int], str] = {}
        self._scans: dict[Path, tuple[tuple[int, int], LoraFile]] = {}  # path -> ((size, mtime), as listed)
        self._lock = threading.Lock()

    def _scan(self, path: Path, scans: dict[Path, tuple[tuple[int, int], LoraFile]]) -> LoraFile:
        """The file as listed, read again only when its size or time changed since the last refresh (a
        header check per file made refreshing a large folder slow)."""
        stat = path.stat()
        stamp = (stat.st_size, stat.st_mtime_ns)
        with self._lock:
            known = self._scans.get(path)
        scanned = known[1] if known is not None and known[0] == stamp else _scanned(path)
        scans[path] = (stamp, scanned)
        return scanned

    def refresh(self) -> list[LoraFile]:
        found: list[LoraFile] = []
        scans: dict[Path, tuple[tuple[int, int], LoraFile]] = {}
        if self.root is not None and self.root.is_dir():
            for path in sorted(self.root.rglob("*")):
                if any(part.startswith(".") for part in path.relative_to(self.root).parts):
                    continue
                if path.is_file() and path.suffix.lower() in LORA_SUFFIXES:
                    found.append(self._scan(path, scans))
                    if len(found) >= MAX_FILES:
                        break
        with self._lock:
            self._files = found
            self._scans = scans
        return list(found)

    def files(self) -> list[LoraFile]:
        with self._lock:
            files = self._files
        return list(files) if files is not None else self.refresh()

    def find(self, name: str) -> LoraFile | None:
        """By file stem, else by ss_output_name alias; the folder is re-scanned once if not found."""
        for files in (self.files(), None):
            if files is None:
                files = self.refresh()
            for match in ([f for f in files if f.name == name] or [f for f in files if f.alias == name]):
                return match
        return None

    def shorthash(self, lora: LoraFile) -> str:
        """The 12 hex digits A1111 writes into 'Lora hashes' (sshs_model_hash metadata if present)."""
        if lora.metadata.get("sshs_model_hash"):
            return lora.metadata["sshs_model_hash"][:12]
        stat = lora.path.stat()
        key = (lora.path, stat.st_mtime_ns, stat.st_size)
        with self._lock:
            known = self._hashes.get(key)
        if known is None:
            known = addnet_hash(lora.path)
            with self._lock:
                self._hashes[key] = known
        return known[:12]


@dataclass
class LoraReport:
    notices: list[str] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)  # prompt name (':' and ',' removed) → 12 hex
    applied: list[str] = field(default_factory=list)

    def infotext(self) -> dict[str, object]:
        if not self.hashes:
            return {}
        return {"Lora hashes": ", ".join(f"{name}: {h}" for name, h in self.hashes.items())}


def multipliers(tag: NetworkTag) -> tuple[float, float]:
    """(text encoder, UNet) multipliers: <lora:n:w> → (w, w); <lora:n:te:unet>; named te=/unet=."""
    te = tag.multiplier(0, 1.0)
    unet = tag.multiplier(1, te)
    try:
        te = float(tag.named.get("te", te))
        unet = float(tag.named.get("unet", unet))
    except ValueError:
        pass
    return te, unet


def network_deltas(state: dict[str, torch.Tensor], targets: dict[str, Target],
                   te_mult: float, unet_mult: float, notes: list[str] | None = None) -> dict[Target, torch.Tensor]:
    """Every layer's float32 delta (multiplier applied). ValueError (a clear reason) when the file does
    not fit the model: most of its layers name no layer of the model, tensors do not fit a layer, or no
    known weights. A few layers the model lacks (stray keys, as A1111 allows) are left out and
    described in notes."""
    parsed = parse_network(state)
    if not parsed.modules:
        what = parsed.unsupported[:1] or parsed.unknown_keys[:1]
        raise ValueError(f"it holds no LoRA/LyCORIS weights this app can merge (e.g. '{what[0] if what else '-'}')")
    missing = [key for key in parsed.modules if key not in targets]
    if len(missing) * 2 > len(parsed.modules):
        raise ValueError(f"{len(missing)} of its {len(parsed.modules)} layers do not exist in the loaded model "
                         f"(e.g. '{missing[0]}'); it was made for another model type")
    if missing and notes is not None:
        notes.append(f"{len(missing)} of its {len(parsed.modules)} layers do not exist in the loaded model and were "
                     f"left out (e.g. '{missing[0]}')")
    deltas: dict[Target, torch.Tensor] = {}
    for key, weights in parsed.modules.items():
        if key in missing:
            continue
        target = targets[key]
        mult = te_mult if target.component == "te" else unet_mult
        delta = _delta(weights, target)  # shapes are checked even for a zero multiplier
        if mult != 0:
            deltas[target] = deltas[target] + delta * mult if target in deltas else delta * mult
    return deltas


def _delta(weights: ModuleWeights, target: Target) -> torch.Tensor:
    try:
        return module_delta(weights, tuple(target.weight.shape))
    except ShapeMismatch as exc:
        raise ValueError(f"its weights do not fit the loaded model ({exc}); it was made for another model type") from exc


def _load(lora: LoraFile) -> dict[str, torch.Tensor]:
    from modules.model_manager.checkpoint_files import read_state_dict

    return read_state_dict(lora.path)


@contextmanager
def applied_loras(model: LoadedModel, library: LoraLibrary, tags: Sequence[NetworkTag]) -> Iterator[LoraReport]:
    """Merge the <lora:...>/<lyco:...> tags' networks into the model; restore every weight on exit."""
    import torch

    report = LoraReport()
    backups: dict[Target, torch.Tensor] = {}
    try:
        wanted = [tag for tag in tags if tag.kind in LORA_KINDS]
        if wanted:
            _merge(model, library, wanted, report, backups)
        yield report
    finally:
        with torch.no_grad():
            for target, original in backups.items():
                target.weight.copy_(original)


def _merge(model: LoadedModel, library: LoraLibrary, tags: Sequence[NetworkTag], report: LoraReport,
           backups: dict[Target, torch.Tensor]) -> None:
    import torch

    targets = target_map(model)
    total: dict[Target, torch.Tensor] = {}
    for tag in tags:
        lora = library.find(tag.name)
        if lora is None:
            report.notices.append(f"LoRA '{tag.name}' was not found in {library.root}; it was not used.")
            continue
        te_mult, unet_mult = multipliers(tag)
        notes: list[str] = []
        try:
            deltas = network_deltas(_load(lora), targets, te_mult, unet_mult, notes)
        except CheckpointLoadError as exc:
            report.notices.append(f"LoRA '{tag.name}' was not used: {exc}")
            continue
        except (ValueError, RuntimeError) as exc:  # RuntimeError: torch refused the file's tensors
            report.notices.append(f"LoRA '{tag.name}' ({lora.path.name}) was not used: {exc}.")
            continue
        for target, delta in deltas.items():
            total[target] = total[target] + delta if target in total else delta
        report.applied.append(lora.name)
        report.notices.extend(f"LoRA '{tag.name}' ({lora.path.name}): {note}." for note in notes)
        try:
            report.hashes[tag.name.replace(":", "").replace(",", "")] = library.shorthash(lora)
        except OSError as exc:
            log.warning("cannot hash %s: %s", lora.path, exc)
    with torch.no_grad():
        for target, delta in total.items():
            weight = target.weight
            backups[target] = weight.detach().to("cpu", copy=True)
            merged = weight.float() + delta.to(weight.device)
            weight.copy_(merged.to(weight.dtype))


def parse_lora_hashes(value: str) -> dict[str, str]:
    """'name: 12hex, name2: 12hex' (the Lora hashes infotext value) → {name: hash}."""
    found: dict[str, str] = {}
    for item in value.split(","):
        name, sep, digest = item.rpartition(":")
        if sep and name.strip() and digest.strip():
            found[name.strip()] = digest.strip().lower()
    return found


def rename_by_hashes(prompt: str, lora_hashes: str, library: LoraLibrary) -> str:
    """On paste: `<lora:name:` of a pasted prompt is pointed at the local file with the recorded hash
    (A1111 does the same, so a LoRA renamed on this machine is still found). Unknown hashes stay as is."""
    wanted = parse_lora_hashes(lora_hashes)
    if not wanted:
        return prompt
    local: dict[str, str] = {}
    for lora in library.files():
        try:
            local.setdefault(library.shorthash(lora), lora.name)
        except OSError:
            continue
    for name, digest in wanted.items():
        target = local.get(digest[:12])
        if target and target != name:
            prompt = prompt.replace(f"<lora:{name}:", f"<lora:{target}:")
    return prompt
