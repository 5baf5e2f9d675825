"""The .safetensors header reader: every malformed header is a CheckpointLoadError naming the file.

A fuzz test writes files whose header is valid JSON of random shapes (nested lists and objects, wrong
types, negative, huge and float numbers) or a valid header with one field changed, and checks that
reading the metadata or the tensors gives either the weights or a CheckpointLoadError, never another
exception (a KeyError from data_offsets given as an object, a RecursionError from deep nesting, ...).
"""

from __future__ import annotations

import json
import random
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import save_file

from modules.errors import CheckpointLoadError
from modules.model_manager.checkpoint_files import read_safetensors_metadata, read_state_dict

DEEP = 50_000
DTYPES = ["F32", "F16", "BF16", "I64", "U8", "BOOL", "F64", "I8", "X9", "f32", ""]
KEYS = ["dtype", "shape", "data_offsets", "__metadata__", "w", "0", "1"]


def write_raw(path: Path, header: bytes | str | object, data: bytes = b"") -> Path:
    raw = header if isinstance(header, bytes) else (header if isinstance(header, str) else json.dumps(header)).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


def readers(path: Path) -> list[Callable[[], Any]]:
    return [lambda: read_safetensors_metadata(path), lambda: read_state_dict(path)]


def expect_refused(path: Path) -> str:
    messages = []
    for read in readers(path):
        with pytest.raises(CheckpointLoadError) as caught:
            read()
        messages.append(str(caught.value))
    for message in messages:
        assert path.name in message and "damaged" in message, message
    return messages[0]


def random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(10 if depth < 4 else 7)
    if kind == 0:
        return rng.choice([0, 1, 2, 4, 12, -1, -(2**63), 2**64, 2**70, 10**30])
    if kind == 1:
        return rng.choice([True, False, None])
    if kind == 2:
        return rng.choice([0.0, 1.5, -2.0, 4.0, 1e308, float("nan"), float("inf")])
    if kind == 3:
        return rng.choice(DTYPES)
    if kind == 4:
        return [rng.choice([0, 4, 8, -4, 2**65]) for _ in range(rng.randrange(4))]
    if kind == 5:
        return [[0, 4], [4, 8]] if rng.random() < 0.5 else {"0": 0, "1": 4}
    if kind == 6:
        return "x" * rng.randrange(3)
    if kind == 7:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(KEYS): random_value(rng, depth + 1) for _ in range(rng.randrange(5))}


def valid_header() -> dict[str, Any]:
    return {"__metadata__": {"format": "pt"},
            "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
            "b": {"dtype": "F16", "shape": [2, 2], "data_offsets": [8, 16]}}


def mutated(rng: random.Random) -> dict[str, Any]:
    header = valid_header()
    entry = header[rng.choice(["a", "b", "__metadata__"])]
    key = rng.choice([*KEYS, "format"])
    if rng.random() < 0.2:
        entry.pop(key, None)
    else:
        entry[key] = random_value(rng)
    if rng.random() < 0.1:
        header[rng.choice(["a", "b", "__metadata__"])] = random_value(rng)
    return header


def test_a_valid_file_reads_with_its_metadata(tmp_path: Path) -> None:
    tensors = {"a": torch.arange(6, dtype=torch.float32).reshape(2, 3), "empty": torch.zeros(0, 4),
               "flag": torch.ones(3, dtype=torch.bool), "half": torch.ones(5, dtype=torch.float16),
               "bf": torch.ones(1, dtype=torch.bfloat16), "i": torch.arange(3), "u": torch.ones(7, dtype=torch.uint8),
               "f8": torch.ones(3, dtype=torch.float8_e4m3fn), "d": torch.ones(2, dtype=torch.float64)}
    path = tmp_path / "good.safetensors"
    save_file(tensors, str(path), metadata={"ss_output_name": "good", "modelspec.resolution": "64x64"})
    assert read_safetensors_metadata(path) == {"ss_output_name": "good", "modelspec.resolution": "64x64"}
    loaded = read_state_dict(path)
    assert set(loaded) == set(tensors) and all(torch.equal(loaded[k], v) for k, v in tensors.items())
    hand_made = write_raw(tmp_path / "hand.safetensors", valid_header(), bytes(16))
    assert read_safetensors_metadata(hand_made) == {"format": "pt"}
    assert set(read_state_dict(hand_made)) == {"a", "b"}


MALFORMED = [
    ("offsets-object", {"w": {"dtype": "F32", "shape": [1], "data_offsets": {"0": 0, "1": 4}}}, bytes(4)),
    ("offsets-nested", {"w": {"dtype": "F32", "shape": [1], "data_offsets": [[0, 4], [4, 8]]}}, bytes(8)),
    ("offsets-float", {"w": {"dtype": "F32", "shape": [1], "data_offsets": [0.0, 4.5]}}, bytes(4)),
    ("offsets-negative", {"w": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}}, bytes(4)),
    ("offsets-backwards", {"w": {"dtype": "F32", "shape": [0], "data_offsets": [4, 0]}}, bytes(4)),
    ("offsets-huge", {"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 2**80]}}, bytes(4)),
    ("size-mismatch", {"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, bytes(4)),
    ("overlap", {"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                 "v": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, bytes(8)),
    ("past-the-end", {"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, bytes(4)),
    ("shape-strings", {"w": {"dtype": "F32", "shape": ["1"], "data_offsets": [0, 4]}}, bytes(4)),
    ("shape-bool", {"w": {"dtype": "F32", "shape": [True], "data_offsets": [0, 4]}}, bytes(4)),
    ("dtype-unknown", {"w": {"dtype": "F128", "shape": [1], "data_offsets": [0, 4]}}, bytes(4)),
    ("dtype-list", {"w": {"dtype": ["F32"], "shape": [1], "data_offsets": [0, 4]}}, bytes(4)),
    ("entry-list", {"w": [0, 4]}, bytes(4)),
    ("top-list", [1, 2], b""),
    ("metadata-numbers", {"__metadata__": {"steps": 5}}, b""),
    ("metadata-list", {"__metadata__": ["a"]}, b""),
    ("deep-offsets", '{"w": {"dtype": "F32", "shape": [1], "data_offsets": ' + "[" * DEEP + "]" * DEEP + "}}", b""),
    ("deep-top", '{"a":' * DEEP + "1" + "}" * DEEP, b""),
    ("deep-metadata", '{"__metadata__": {"a": ' + "[" * DEEP + "]" * DEEP + "}}", b""),
    ("long-number", '{"w": {"dtype": "F32", "shape": [' + "9" * 5000 + '], "data_offsets": [0, 4]}}', bytes(4)),
    ("not-utf8", b'{"w\xff": 1}', b""),
    ("not-json", b"{'w': 1}", b""),
]


@pytest.mark.parametrize(("name", "header", "data"), MALFORMED, ids=[case[0] for case in MALFORMED])
def test_malformed_headers_are_refused_naming_the_file(tmp_path: Path, name: str, header: Any, data: bytes) -> None:
    expect_refused(write_raw(tmp_path / f"{name}.safetensors", header, data))


def test_deep_nesting_is_refused_quickly(tmp_path: Path) -> None:
    path = write_raw(tmp_path / "deep.safetensors", '{"w": ' + "[" * 2_000_000 + "]" * 2_000_000 + "}")
    start = time.perf_counter()
    assert "nested too deeply" in expect_refused(path)
    assert time.perf_counter() - start < 5


def test_header_length_and_size_problems(tmp_path: Path) -> None:
    short = tmp_path / "short.safetensors"
    short.write_bytes(b"\x01\x02")
    expect_refused(short)
    huge = tmp_path / "huge.safetensors"
    huge.write_bytes(struct.pack("<Q", 2**63) + b"{}")
    expect_refused(huge)
    trailing = write_raw(tmp_path / "trailing.safetensors", valid_header(), bytes(20))
    assert "after the data" in expect_refused(trailing)


def test_fuzzed_headers_give_only_checkpoint_load_errors(tmp_path: Path) -> None:
    rng = random.Random(25)
    refused = 0
    cases = 1200
    for index in range(cases):
        header = mutated(rng) if index % 2 else random_value(rng, depth=rng.choice([0, 3]))
        path = write_raw(tmp_path / f"fuzz{index}.safetensors", header, bytes(rng.choice([0, 4, 16, 16, 40])))
        for read in readers(path):
            try:
                read()
            except CheckpointLoadError as exc:
                assert path.name in str(exc)
                refused += 1
        path.unlink()
    assert refused > cases  # most of them are damaged; the rest loaded
