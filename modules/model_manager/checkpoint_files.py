"""Reading checkpoint files into tensors, safely: pickles never run code.

.safetensors go through safetensors; .ckpt/.pt/.pth/.bin through torch.load(weights_only=True), which
refuses any pickled object that is not plain data. The only extra names allowed are inert: numpy scalars
(old files store global_step that way) and PyTorch Lightning's ModelCheckpoint callback, which is
replaced by a stub that ignores its state.
"""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modules.errors import CheckpointLoadError

if TYPE_CHECKING:
    import torch

SAFETENSORS_SUFFIXES = (".safetensors",)
PICKLE_SUFFIXES = (".ckpt", ".pt", ".pth", ".bin")
MAX_HEADER = 100 * 1024 * 1024


class _IgnoredLightningObject:
    """Stands in for pytorch_lightning objects stored in old training checkpoints; keeps nothing."""

    def __setstate__(self, state: Any) -> None:
        pass


def _fail(path: Path, reason: str) -> CheckpointLoadError:
    return CheckpointLoadError(f"Cannot load '{path.name}': {reason}")


def _extra_safe_globals() -> list[Any]:
    allowed: list[Any] = [
        (_IgnoredLightningObject, "pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint"),
    ]
    try:
        import numpy as np
    except ImportError:  # numpy is always there with torch in practice
        return allowed
    scalar = np._core.multiarray.scalar if hasattr(np, "_core") else np.core.multiarray.scalar
    allowed += [scalar, (scalar, "numpy.core.multiarray.scalar"), np.dtype]
    allowed += [getattr(np.dtypes, n) for n in ("Int64DType", "Int32DType", "Float64DType", "Float32DType")]
    return allowed


def _pickle_error_reason(exc: BaseException) -> str:
    text = str(exc)
    match = re.search(r"GLOBAL ([\w.]+)", text)
    if match:
        return (
            "the file contains Python code that is not allowed (pickle refused: it asks to run "
            f"'{match.group(1)}'). Use a .safetensors version of this model instead"
        )
    if "WeightsUnpickler error" in text and "Unsupported operand" in text:  # random bytes look the same
        return (
            "the file is damaged or incomplete, or it holds pickle instructions that are not allowed "
            "(refused for safety). Use a .safetensors version of this model instead"
        )
    if "WeightsUnpickler error" in text:  # an object type that plain weights never need
        return (
            "the file contains Python objects that are not allowed (pickle refused: not plain weights). "
            "Use a .safetensors version of this model instead"
        )
    return "the file is damaged or incomplete, or not a PyTorch checkpoint"


def _load_pickle(path: Path) -> Any:
    import pickle

    import torch

    try:
        with torch.serialization.safe_globals(_extra_safe_globals()):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise _fail(path, _pickle_error_reason(exc)) from exc
    except MemoryError as exc:
        raise _fail(path, "there is not enough memory to read it") from exc
    except Exception as exc:  # zip/EOF/OS errors from a truncated or foreign file
        raise _fail(path, f"the file is damaged or incomplete ({type(exc).__name__}: {exc})") from exc


def _load_safetensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    _check_safetensors_size(path)
    try:
        return load_file(str(path), device="cpu")
    except MemoryError as exc:
        raise _fail(path, "there is not enough memory to read it") from exc
    except Exception as exc:
        raise _fail(path, f"the file is damaged or incomplete ({exc})") from exc


def _read_header(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            raw = handle.read(8)
            if len(raw) < 8:
                raise _fail(path, "the file is damaged or incomplete (too short for a safetensors file)")
            (length,) = struct.unpack("<Q", raw)
            if length > MAX_HEADER or length > path.stat().st_size - 8:
                raise _fail(path, "the file is damaged or incomplete (bad safetensors header)")
            header = json.loads(handle.read(length).decode("utf-8"))
    except OSError as exc:
        raise _fail(path, f"the file cannot be read ({exc.strerror or exc})") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(path, "the file is damaged or incomplete (bad safetensors header)") from exc
    if not isinstance(header, dict):
        raise _fail(path, "the file is damaged or incomplete (bad safetensors header)")
    return header


def _check_safetensors_size(path: Path) -> None:
    """Truncated files: the header's last data offset must fit into the file."""
    header = _read_header(path)
    end = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        offsets = info.get("data_offsets") if isinstance(info, dict) else None
        if not offsets or len(offsets) != 2:
            raise _fail(path, "the file is damaged or incomplete (bad safetensors header)")
        end = max(end, int(offsets[1]))
    with path.open("rb") as handle:
        header_len = struct.unpack("<Q", handle.read(8))[0]
    if 8 + header_len + end > path.stat().st_size:
        raise _fail(path, "the file is damaged or incomplete (it is shorter than its header says)")


def read_safetensors_metadata(path: Path) -> dict[str, str]:
    """The __metadata__ of a .safetensors file ({} when there is none)."""
    path = Path(path)
    meta = _read_header(path).get("__metadata__") or {}
    if not isinstance(meta, dict):
        return {}
    return {str(k): str(v) for k, v in meta.items()}


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """All tensors of a checkpoint file, on the CPU. CheckpointLoadError (naming the file) on any failure."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise _fail(path, "the file does not exist")
    suffix = path.suffix.lower()
    if suffix in SAFETENSORS_SUFFIXES:
        data: Any = _load_safetensors(path)
    elif suffix in PICKLE_SUFFIXES:
        data = _load_pickle(path)
    else:
        raise _fail(path, f"'{path.suffix}' files are not supported; use .safetensors or .ckpt")
    if isinstance(data, dict) and isinstance(data.get("state_dict"), dict):
        data = data["state_dict"]
    if not isinstance(data, dict):
        raise _fail(path, "the file does not hold a dictionary of weights")
    tensors = {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, torch.Tensor)}
    if not tensors:
        raise _fail(path, "the file holds no weights")
    return tensors
