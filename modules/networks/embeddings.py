"""Textual-inversion embeddings: files in the embeddings folder, used by writing their name in a prompt.

Formats (compatibility reference 6.4): A1111 .pt/.bin ('string_to_param': {'*': [n, dim]}), a dict
with a single tensor under any key (.safetensors 'emb_params', diffusers learned_embeds.bin
{'<token>': [dim]}), SDXL {'clip_l': [n, 768], 'clip_g': [n, 1280]}. Name = file stem. Files are read
with the safe reader (pickles never run code). An embedding that does not fit the loaded model, or a
file that cannot be read, is listed as skipped with the reason.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modules.errors import CheckpointLoadError
from modules.generation.prompt_chunks import EmbeddingFinder, EmbeddingMatch

if TYPE_CHECKING:
    import torch

    from modules.model_manager.loaded_model import LoadedModel

log = logging.getLogger(__name__)

EMBEDDING_SUFFIXES = (".pt", ".bin", ".safetensors")
SDXL_KEYS = ("clip_l", "clip_g")


@dataclass(frozen=True)
class Embedding:
    name: str
    path: Path
    vectors: dict[str, torch.Tensor]  # "" for a one-encoder embedding; "clip_l"/"clip_g" for SDXL
    sha256: str
    step: int | None = None

    @property
    def vector_count(self) -> int:
        return int(next(iter(self.vectors.values())).shape[0])

    @property
    def shorthash(self) -> str:
        """The hash A1111 writes in 'TI hashes' (full-file SHA-256, 12 hex digits)."""
        return self.sha256[:12]

    @property
    def widths(self) -> dict[str, int]:
        return {key: int(t.shape[1]) for key, t in self.vectors.items()}


@dataclass(frozen=True)
class SkippedEmbedding:
    name: str
    path: Path
    reason: str
    shape: int | None = None  # width of all encoders together, when the file could be read
    vectors: int | None = None


def _as_matrix(tensor: torch.Tensor) -> torch.Tensor:
    """1-D vectors become one row; [1, n, dim] (some trainers) drops the leading axis."""
    if tensor.ndim == 1:
        return tensor.unsqueeze(0)
    if tensor.ndim == 3 and tensor.shape[0] == 1:
        return tensor[0]
    return tensor


def parse_embedding_data(data: dict[str, Any]) -> tuple[dict[str, torch.Tensor], int | None]:
    """(vectors by encoder key, training step) from a loaded file's dict; ValueError when not an embedding."""
    import torch

    step = data.get("step") if isinstance(data.get("step"), int) else None
    params = data.get("string_to_param")
    if isinstance(params, dict):
        tensors = [v for v in params.values() if isinstance(v, torch.Tensor)]
        if len(tensors) != 1:
            raise ValueError("'string_to_param' must hold exactly one tensor")
        return {"": _as_matrix(tensors[0]).detach().float()}, step
    if all(isinstance(data.get(key), torch.Tensor) for key in SDXL_KEYS):
        vectors = {key: _as_matrix(data[key]).detach().float() for key in SDXL_KEYS}
        if vectors["clip_l"].shape[0] != vectors["clip_g"].shape[0]:
            raise ValueError("'clip_l' and 'clip_g' have different vector counts")
        return vectors, step
    tensors = [v for v in data.values() if isinstance(v, torch.Tensor)]
    if len(tensors) != 1:
        raise ValueError(f"not an embedding file (expected one tensor, found {len(tensors)})")
    return {"": _as_matrix(tensors[0]).detach().float()}, step


def _read_raw(path: Path) -> dict[str, Any]:
    """The file's top-level dict (nested dicts kept, unlike read_state_dict), read safely."""
    from modules.model_manager import checkpoint_files

    if path.suffix.lower() == ".safetensors":
        return dict(checkpoint_files._load_safetensors(path))
    data = checkpoint_files._load_pickle(path)
    if not isinstance(data, dict):
        raise CheckpointLoadError(f"Cannot load '{path.name}': the file does not hold a dictionary")
    return data


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_embedding(path: Path) -> Embedding:
    """One embedding file; CheckpointLoadError or ValueError with the reason when it cannot be used."""
    data = _read_raw(path)
    vectors, step = parse_embedding_data(data)
    if any(t.ndim != 2 or t.shape[0] == 0 for t in vectors.values()):
        raise ValueError("the vectors have an unexpected shape")
    return Embedding(name=path.stem, path=path, vectors=vectors, sha256=_sha256(path), step=step)


def model_widths(model: LoadedModel) -> list[int]:
    """Token-embedding width of each text encoder of the model."""
    return [int(enc.get_input_embeddings().weight.shape[1]) for enc in model.text_encoders]


def fit_reason(embedding: Embedding, widths: list[int]) -> str | None:
    """Why the embedding cannot be used with encoders of these widths (None when it fits)."""
    have = embedding.widths
    if len(widths) == 2:
        if "" in have:
            return f"vector width {have['']} does not fit this SDXL model (needs clip_l/clip_g vectors)"
        if (have["clip_l"], have["clip_g"]) != (widths[0], widths[1]):
            return (f"vector widths {have['clip_l']}/{have['clip_g']} do not fit this model "
                    f"({widths[0]}/{widths[1]})")
        return None
    if "" not in have:
        return f"SDXL embedding (clip_l/clip_g) does not fit this model (width {widths[0]})"
    if have[""] != widths[0]:
        return f"vector width {have['']} does not fit this model (width {widths[0]})"
    return None


class EmbeddingFinderFor:
    """The EmbeddingFinder of one text encoder; records which embeddings were found."""

    def __init__(self, tokenizer: Any, embeddings: Sequence[Embedding], key: str, used: set[str]) -> None:
        self.used = used
        self._by_first: dict[int, list[tuple[list[int], EmbeddingMatch]]] = {}
        for emb in embeddings:
            ids = list(tokenizer(emb.name, add_special_tokens=False, truncation=False).input_ids)
            if not ids:
                continue
            vectors = emb.vectors[key if key in emb.vectors else ""]
            match = EmbeddingMatch(name=emb.name, vectors=vectors, vector_count=int(vectors.shape[0]),
                                   token_count=len(ids))
            self._by_first.setdefault(ids[0], []).append((ids, match))
        for candidates in self._by_first.values():
            candidates.sort(key=lambda item: -len(item[0]))  # the longest name wins

    def __call__(self, ids: Sequence[int], position: int) -> EmbeddingMatch | None:
        for name_ids, match in self._by_first.get(ids[position], ()):
            if list(ids[position:position + len(name_ids)]) == name_ids:
                self.used.add(match.name)
                return match
        return None


@dataclass
class EmbeddingDatabase:
    """The embeddings folder's content, checked against the loaded model. Re-scanned by load()."""

    folder: Path | None = None
    _loaded: dict[str, Embedding] = field(default_factory=dict)
    _skipped: dict[str, SkippedEmbedding] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _scanned_for: tuple[int, str] | None = None  # which model the last scan checked widths against

    def files(self) -> list[Path]:
        """Embedding files in the folder (recursive, hidden folders and '*.preview.*' left out)."""
        if self.folder is None or not self.folder.is_dir():
            return []
        return [p for p in sorted(self.folder.rglob("*"))
                if p.is_file() and p.suffix.lower() in EMBEDDING_SUFFIXES and ".preview" not in p.name
                and not any(part.startswith(".") for part in p.relative_to(self.folder).parts)]

    def load(self, model: LoadedModel | None) -> None:
        """Read every file again; with a model, embeddings that do not fit it are skipped."""
        widths = model_widths(model) if model is not None else None
        loaded: dict[str, Embedding] = {}
        skipped: dict[str, SkippedEmbedding] = {}
        for path in self.files():
            try:
                emb = load_embedding(path)
            except (CheckpointLoadError, ValueError, OSError) as e:
                skipped[path.stem] = SkippedEmbedding(path.stem, path, str(e))
                continue
            except Exception as e:  # noqa: BLE001 - one odd file must not break the list or generation
                log.exception("embedding %s could not be read", path)
                why = f"Cannot load '{path.name}' ({type(e).__name__}: {e})"
                skipped[path.stem] = SkippedEmbedding(path.stem, path, why)
                continue
            reason = fit_reason(emb, widths) if widths is not None else None
            if reason:
                skipped[emb.name] = SkippedEmbedding(emb.name, path, reason, sum(emb.widths.values()),
                                                     emb.vector_count)
            elif emb.name not in loaded:
                loaded[emb.name] = emb
        with self._lock:
            self._loaded, self._skipped = loaded, skipped
            self._scanned_for = (id(model), str(model.path)) if model is not None else None

    def ensure_for(self, model: LoadedModel) -> None:
        """Re-scan when the model changed since the last scan (a new checkpoint may have another width)."""
        with self._lock:
            current = self._scanned_for == (id(model), str(model.path))
        if not current:
            self.load(model)

    def loaded(self) -> dict[str, Embedding]:
        with self._lock:
            return dict(self._loaded)

    def skipped(self) -> dict[str, SkippedEmbedding]:
        with self._lock:
            return dict(self._skipped)

    def finders(self, model: LoadedModel, used: set[str] | None = None) -> list[EmbeddingFinder]:
        """One finder per text encoder (SDXL: clip_l vectors for the first, clip_g for the second)."""
        embeddings = list(self.loaded().values())
        used = used if used is not None else set()
        keys = list(SDXL_KEYS) if len(model.text_encoders) == 2 else [""]
        return [EmbeddingFinderFor(tok, embeddings, key, used) for tok, key in zip(model.tokenizers, keys, strict=True)]

    def hashes_infotext(self, used: set[str]) -> str | None:
        """The 'TI hashes' value for the embeddings used, or None when none was."""
        loaded = self.loaded()
        parts = [f"{name}: {loaded[name].shorthash}" for name in sorted(used) if name in loaded]
        return ", ".join(parts) or None
