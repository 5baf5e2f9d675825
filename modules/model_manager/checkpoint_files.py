"""Reading checkpoint files into tensors, safely: pickles never run code.

.safetensors go through safetensors; .ckpt/.pt/.pth/.bin through torch.load(weights_only=True), which
refuses any pickled object that is not plain data. The only extra names allowed are inert: numpy scalars
(old files store global_step that way) and PyTorch Lightning's ModelCheckpoint callback, which is
replaced by a stub that ignores its state.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modules.errors import CheckpointLoadError
from modules.messages import msg
from modules.model_manager.safetensors_header import read_header

if TYPE_CHECKING:
    import torch

SAFETENSORS_SUFFIXES = (".safetensors",)
PICKLE_SUFFIXES = (".ckpt", ".pt", ".pth", ".bin")
MAX_PICKLE_RECORD = 64 * 2**20  # data.pkl holds names and shapes; the tensors are parts of their own
MAX_UNPACK_RATIO = 4  # real torch zips are stored uncompressed: their parts add up to the file's size
UNPACK_SLACK = 16 * 2**20


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


def _size(n: int) -> str:
    return f"{n / 2**30:,.1f} GiB" if n >= 2**30 else f"{n / 2**20:,.1f} MiB"


def check_zip_sizes(path: Path) -> None:
    """Refuse a torch zip checkpoint whose parts declare more unpacked data than such a file can hold
    (a zip bomb, or damage), from the sizes in its directory alone: nothing is unpacked. torch stores
    tensors uncompressed, so the parts of a real checkpoint add up to about the file's size; data.pkl
    holds only the layout. Files that are not zip archives (legacy pickles) are left to torch.load."""
    import zipfile

    try:
        handle = path.open("rb")
    except OSError as exc:
        raise _fail(path, f"the file cannot be read ({exc.strerror or exc})") from exc
    with handle:
        if handle.read(4) != b"PK\x03\x04":
            return
        size = path.stat().st_size
        try:
            with zipfile.ZipFile(handle) as archive:
                parts = archive.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
            detail = f"not a readable zip archive: {exc}"
            raise CheckpointLoadError(msg("file_damaged", file=path.name, detail=detail)) from exc
    for part in parts:
        if part.filename.endswith(".pkl") and part.file_size > MAX_PICKLE_RECORD:
            why = f"more than the {_size(MAX_PICKLE_RECORD)} a checkpoint's layout ever needs"
            raise CheckpointLoadError(msg("zip_too_large", file=path.name, part=part.filename,
                                          declared=_size(part.file_size), why=why))
    total = sum(part.file_size for part in parts)
    if total > size * MAX_UNPACK_RATIO + UNPACK_SLACK:
        biggest = max(parts, key=lambda part: part.file_size)
        why = f"{_size(total)} for all parts, from a file of {_size(size)}"
        raise CheckpointLoadError(msg("zip_too_large", file=path.name, part=biggest.filename,
                                      declared=_size(biggest.file_size), why=why))


def _load_pickle(path: Path) -> Any:
    import pickle

    check_zip_sizes(path)
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

    read_header(path)  # the whole header checked first: damaged files get one clear message
    try:
        return load_file(str(path), device="cpu")
    except MemoryError as exc:
        raise _fail(path, "there is not enough memory to read it") from exc
    except Exception as exc:
        raise _fail(path, f"the file is damaged or incomplete ({exc})") from exc


def read_safetensors_metadata(path: Path) -> dict[str, str]:
    """The __metadata__ of a .safetensors file ({} when there is none); CheckpointLoadError when damaged."""
    return dict(read_header(Path(path)).metadata)


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
