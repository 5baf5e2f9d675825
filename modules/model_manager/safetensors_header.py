"""The header of a .safetensors file, checked in full before anything trusts it.

Layout: 8 bytes little-endian header length N, N bytes of UTF-8 JSON, then the tensor data. The JSON is
an object: each key a tensor name mapped to {"dtype": "F16", "shape": [..], "data_offsets": [begin, end]}
(offsets relative to the data), plus an optional "__metadata__" object of strings. The same rules as
the safetensors library are enforced here, so a file that passes can be loaded by it and a file that
fails is refused everywhere the same way: checkpoints, VAEs, embeddings, LoRA and the metadata look-ups.
Every failure is a CheckpointLoadError naming the file and saying that it is damaged.

Nesting is measured before json.loads (a valid header is at most 3 levels deep), so a header nested
thousands of levels deep is refused cheaply instead of exhausting the recursion limit.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modules.errors import CheckpointLoadError
from modules.messages import msg

MAX_HEADER = 100_000_000  # the safetensors library's own limit
MAX_DEPTH = 3  # {top: {tensor: {"shape": [...]}}}
METADATA_KEY = "__metadata__"
DTYPE_BITS = {
    "BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
    "I16": 16, "U16": 16, "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32,
    "I64": 64, "U64": 64, "F64": 64, "C64": 64,
}
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_INNERMOST = re.compile(r"\[[^\[\]{}]*\]|\{[^\[\]{}]*\}")
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


@dataclass(frozen=True)
class TensorEntry:
    dtype: str
    shape: tuple[int, ...]
    begin: int  # byte offsets into the data part (after the header)
    end: int


@dataclass(frozen=True)
class SafetensorsHeader:
    length: int  # bytes of JSON after the 8-byte length field
    tensors: dict[str, TensorEntry]
    metadata: dict[str, str]

    @property
    def data_start(self) -> int:
        return 8 + self.length


class _Damaged(Exception):
    """What is wrong with a header (the detail of the CheckpointLoadError)."""


def damaged(path: Path, detail: str) -> CheckpointLoadError:
    return CheckpointLoadError(msg("file_damaged", file=Path(path).name, detail=detail))


def read_header(path: Path) -> SafetensorsHeader:
    """The checked header of a .safetensors file; CheckpointLoadError naming the file on any problem."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            size = path.stat().st_size
            prefix = handle.read(8)
            if len(prefix) < 8:
                raise _Damaged("too short for a safetensors file")
            (length,) = struct.unpack("<Q", prefix)
            if length > MAX_HEADER or length > size - 8:
                raise _Damaged(f"its header length {length:,} does not fit a file of {size:,} bytes")
            raw = handle.read(length)
        return _parse_header(raw, size - 8 - length)
    except _Damaged as exc:
        raise damaged(path, str(exc)) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise CheckpointLoadError(f"Cannot load '{path.name}': the file cannot be read ({reason})") from exc


def _parse_header(raw: bytes, data_size: int) -> SafetensorsHeader:
    """The header from its JSON bytes, given how many bytes of data follow it; _Damaged when invalid."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _Damaged("its header is not UTF-8 text") from None
    if not text.lstrip(" \t\r\n").startswith("{"):
        raise _Damaged("its header is not a JSON object")
    _check_depth(text)
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, over-long integers, missed nesting
        raise _Damaged(f"its header is not valid JSON: {str(exc)[:80]}") from None
    if not isinstance(parsed, dict):
        raise _Damaged("its header is not a JSON object")
    metadata = _metadata(parsed.get(METADATA_KEY))
    tensors = {name: _entry(name, info) for name, info in parsed.items() if name != METADATA_KEY}
    _check_layout(tensors, data_size)
    return SafetensorsHeader(len(raw), tensors, metadata)


def _check_depth(text: str) -> None:
    """Refuse nesting deeper than a header can have, without recursion: each pass removes the innermost
    brackets, so after MAX_DEPTH passes nothing is left unless the header is deeper (or unbalanced)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    for _ in range(MAX_DEPTH):
        brackets = _INNERMOST.sub("", brackets)
    if brackets:
        raise _Damaged("its header is nested too deeply or its brackets do not match")


def _metadata(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _Damaged("its __metadata__ is not a table of texts")
    return dict(value)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _entry(name: str, info: Any) -> TensorEntry:
    label = f"tensor '{name[:60]}'"
    if not isinstance(info, dict):
        raise _Damaged(f"{label} is not described by an object")
    dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    if not isinstance(dtype, str) or dtype not in DTYPE_BITS:
        raise _Damaged(f"{label} has an unknown dtype {str(dtype)[:20]!r}")
    if not isinstance(shape, list) or not all(_is_count(d) for d in shape):
        raise _Damaged(f"{label} has a shape that is not a list of sizes")
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(_is_count(o) for o in offsets):
        raise _Damaged(f"{label} has data_offsets that are not two byte positions")
    begin, end = offsets
    if begin > end:
        raise _Damaged(f"{label} ends before it begins")
    bits = DTYPE_BITS[dtype]
    count = 1
    for dim in shape:
        count *= dim
        if count * bits > (end - begin) * 8:  # sizes only grow (or drop to 0, caught below)
            break
    if 0 in shape:
        count = 0
    if count * bits != (end - begin) * 8:
        raise _Damaged(f"{label} has {end - begin:,} bytes, which does not match its {dtype} shape {shape[:8]}")
    return TensorEntry(dtype, tuple(shape), begin, end)


def _check_layout(tensors: dict[str, TensorEntry], data_size: int) -> None:
    """Tensors side by side from byte 0 to the end of the file, without gaps or overlaps."""
    position = 0
    for name, entry in sorted(tensors.items(), key=lambda item: (item[1].begin, item[1].end)):
        if entry.begin != position:
            raise _Damaged(f"the data of tensor '{name[:60]}' overlaps another or leaves a gap")
        position = entry.end
    if position > data_size:
        raise _Damaged(f"it is shorter than its header says ({data_size:,} of {position:,} data bytes)")
    if position < data_size:
        raise _Damaged(f"it has {data_size - position:,} bytes after the data its header describes")
