""".ckpt/.pt zip archives whose parts declare far more unpacked data than the file holds are refused from
the sizes in the zip directory, before torch.load reads anything; real checkpoints still load.

Before the check, a 1 MB .ckpt whose data.pkl unpacks to 1 GiB was refused only after torch had read it,
with 2 GiB of peak memory and 8 s on 2 cores; the 256 MiB bombs here cost 512 MiB that way.
"""

from __future__ import annotations

import io
import re
import resource
import zipfile
from pathlib import Path

import pytest
import torch

from modules.errors import CheckpointLoadError
from modules.model_manager.checkpoint_files import read_state_dict
from modules.networks.embeddings import EmbeddingDatabase

BOMB_MIB = 256


def _zeros_into(archive: zipfile.ZipFile, name: str, mib: int) -> None:
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    info._compresslevel = 1  # fastest: zeros still shrink about 200 times
    chunk = bytes(1 << 20)
    with archive.open(info, "w", force_zip64=True) as part:
        for _ in range(mib):
            part.write(chunk)


def pickle_bomb(path: Path) -> Path:
    """A torch-looking zip whose data.pkl unpacks to BOMB_MIB of zeros."""
    with zipfile.ZipFile(path, "w") as archive:
        _zeros_into(archive, "archive/data.pkl", BOMB_MIB)
        archive.writestr("archive/version", "3\n")
    return path


def tensor_bomb(path: Path) -> Path:
    """A real torch checkpoint whose tensor part is replaced by BOMB_MIB of deflated zeros."""
    buffer = io.BytesIO()
    torch.save({"state_dict": {"w": torch.zeros(2)}}, buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source, zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            if info.filename.endswith("/data/0"):
                _zeros_into(target, info.filename, BOMB_MIB)
            else:
                target.writestr(info, source.read(info.filename))
    return path


def _peak_kib() -> int:
    with open("/proc/self/status") as status:
        return int(re.search(r"VmHWM:\s+(\d+)", status.read()).group(1))


def _reset_peak() -> bool:
    """Reset the process's peak RSS (Linux); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def _peak_growth_mib(call) -> float:  # noqa: ANN001
    if _reset_peak():
        before = _peak_kib()
        call()
        return (_peak_kib() - before) / 1024
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    call()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024


@pytest.mark.parametrize("build", [pickle_bomb, tensor_bomb])
def test_a_zip_bomb_is_refused_from_its_declared_sizes(tmp_path: Path, build) -> None:  # noqa: ANN001
    path = build(tmp_path / "bomb.ckpt")
    assert path.stat().st_size < 4 << 20
    caught: list[CheckpointLoadError] = []

    def read() -> None:
        with pytest.raises(CheckpointLoadError) as error:
            read_state_dict(path)
        caught.append(error.value)

    growth = _peak_growth_mib(read)
    message = str(caught[0])
    assert "bomb.ckpt" in message and "zip bomb" in message and f"{BOMB_MIB:.1f} MiB" in message, message
    assert growth < 64, f"reading the declared sizes cost {growth:.0f} MiB"


def test_embeddings_folder_lists_a_bomb_as_skipped(tmp_path: Path) -> None:
    pickle_bomb(tmp_path / "bomb.pt")
    db = EmbeddingDatabase(tmp_path)
    db.load(None)
    assert "zip bomb" in db.skipped()["bomb"].reason


def test_real_checkpoints_still_load(tmp_path: Path) -> None:
    weights = {"w": torch.arange(6.0).reshape(2, 3), "b": torch.ones(4, dtype=torch.float16)}
    zipped = tmp_path / "zipped.ckpt"
    torch.save({"state_dict": weights, "global_step": 7}, zipped)
    legacy = tmp_path / "legacy.pt"
    torch.save(weights, legacy, _use_new_zipfile_serialization=False)
    for path in (zipped, legacy):
        loaded = read_state_dict(path)
        assert set(loaded) == {"w", "b"} and torch.equal(loaded["w"], weights["w"])


def test_a_broken_zip_is_damaged(tmp_path: Path) -> None:
    path = tmp_path / "broken.ckpt"
    path.write_bytes(b"PK\x03\x04" + bytes(200))
    with pytest.raises(CheckpointLoadError, match="broken.ckpt.*damaged"):
        read_state_dict(path)
