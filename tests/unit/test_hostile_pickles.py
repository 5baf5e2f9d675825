"""Crafted .ckpt/.pt/.pth/.bin files that would run code when unpickled: each is refused, nothing runs.

Every payload, if it ran, would create the marker file (shell `touch`, Python `open`, ...). The test
asserts a CheckpointLoadError that says the file holds code or objects that are not allowed, and that
the marker does not exist. Files come in both torch layouts: zip (data.pkl inside) and legacy (a
sequence of pickles), and in raw protocol-0/1 opcodes (INST, OBJ) that pickle.dumps no longer writes.
"""

from __future__ import annotations

import builtins
import io
import os
import pickle
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from modules.errors import CheckpointLoadError
from modules.model_manager.checkpoint_files import read_state_dict

REFUSED = ("not allowed", "safetensors")


class Reduce:
    """Pickles as a call of fn(*args) (the REDUCE opcode)."""

    def __init__(self, fn: Callable[..., object], *args: object) -> None:
        self.fn, self.args = fn, args

    def __reduce__(self) -> tuple[Callable[..., object], tuple[object, ...]]:
        return self.fn, self.args


def zip_checkpoint(path: Path, payload: object) -> Path:
    """A real torch zip checkpoint whose data.pkl is replaced by the payload pickle."""
    buffer = io.BytesIO()
    torch.save({"state_dict": {"w": torch.zeros(2)}}, buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    with zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename.endswith("data.pkl"):
                data = payload if isinstance(payload, bytes) else pickle.dumps(payload, protocol=2)
            target.writestr(info, data)
    return path


def legacy_checkpoint(path: Path, payload: object) -> Path:
    """The pre-1.6 torch layout: magic number, protocol, sys info, then the object pickle."""
    from torch.serialization import MAGIC_NUMBER, PROTOCOL_VERSION

    sys_info = {"protocol_version": PROTOCOL_VERSION, "little_endian": sys.byteorder == "little",
                "type_sizes": {"short": 2, "int": 4, "long": 4}}
    body = payload if isinstance(payload, bytes) else pickle.dumps(payload, protocol=2)
    path.write_bytes(b"".join(pickle.dumps(x, protocol=2) for x in (MAGIC_NUMBER, PROTOCOL_VERSION, sys_info)) + body)
    return path


def payloads(marker: Path) -> dict[str, object]:
    touch = f"touch {marker}"
    write = f"open({str(marker)!r}, 'w').write('x')"
    inner = pickle.dumps(Reduce(os.system, touch), protocol=2)
    return {
        "os_system": {"state_dict": Reduce(os.system, touch)},
        "builtins_eval": Reduce(builtins.eval, write),
        "builtins_exec": Reduce(builtins.exec, write),
        "subprocess_popen": Reduce(subprocess.Popen, ["touch", str(marker)]),
        "subprocess_check_call": Reduce(subprocess.check_call, ["touch", str(marker)]),
        "builtins_import_getattr": Reduce(builtins.getattr, Reduce(builtins.__import__, "os"), "system"),
        "nested_pickle_loads": {"state_dict": Reduce(pickle.loads, inner)},
        "nested_torch_load": Reduce(torch.load, io.BytesIO(inner)),
        "builtins_open": Reduce(builtins.open, str(marker), "w"),
        "compile_code": Reduce(builtins.compile, write, "x", "exec"),
        # protocol 0 INST: calls os.system('touch ...') without REDUCE
        "inst_opcode": b"(S'" + touch.encode() + b"'\nios\nsystem\n.",
        # protocol 1 OBJ: same through MARK GLOBAL args OBJ
        "obj_opcode": b"(cos\nsystem\nS'" + touch.encode() + b"'\no.",
        # numpy scalars are allowed for old global_step values, but not with an object dtype (a raw pointer)
        "numpy_object_scalar": Reduce(__import__("numpy")._core.multiarray.scalar,
                                      __import__("numpy").dtype("O"), b"A" * 8),
    }


@pytest.mark.parametrize("layout", ["zip", "legacy"])
@pytest.mark.parametrize("suffix", [".ckpt", ".pt"])
def test_crafted_pickles_are_refused_and_nothing_runs(tmp_path: Path, layout: str, suffix: str) -> None:
    marker = tmp_path / "ran"
    writer = zip_checkpoint if layout == "zip" else legacy_checkpoint
    for name, payload in payloads(marker).items():
        path = writer(tmp_path / f"{name}{suffix}", payload)
        with pytest.raises(CheckpointLoadError) as caught:
            read_state_dict(path)
        text = str(caught.value)
        assert f"'{path.name}'" in text, text
        assert all(word in text for word in REFUSED), f"{name}: unclear message: {text}"
        assert not marker.exists(), f"{name} ({layout}{suffix}) ran code"


@pytest.mark.parametrize("suffix", [".pth", ".bin"])
def test_other_pickle_suffixes_are_checked_too(tmp_path: Path, suffix: str) -> None:
    marker = tmp_path / "ran"
    path = zip_checkpoint(tmp_path / f"model{suffix}", Reduce(os.system, f"touch {marker}"))
    with pytest.raises(CheckpointLoadError, match="posix.system|os.system"):
        read_state_dict(path)
    assert not marker.exists()


def test_plain_weights_and_old_training_checkpoints_still_load(tmp_path: Path) -> None:
    import numpy as np

    path = tmp_path / "old.ckpt"
    torch.save({"state_dict": {"w": torch.ones(2)}, "global_step": np.int64(7), "epoch": 3}, path)
    assert torch.equal(read_state_dict(path)["w"], torch.ones(2))
    legacy = tmp_path / "legacy.ckpt"
    torch.save({"w": torch.zeros(3)}, legacy, _use_new_zipfile_serialization=False)
    assert read_state_dict(legacy)["w"].shape == (3,)


def test_truncated_and_foreign_files_get_a_clear_error(tmp_path: Path) -> None:
    good = tmp_path / "good.ckpt"
    torch.save({"w": torch.zeros(64)}, good)
    cut = tmp_path / "cut.ckpt"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(CheckpointLoadError, match="damaged or incomplete"):
        read_state_dict(cut)
    text = tmp_path / "notes.pt"
    text.write_text("hello, not a checkpoint")
    with pytest.raises(CheckpointLoadError, match="'notes.pt'"):
        read_state_dict(text)
