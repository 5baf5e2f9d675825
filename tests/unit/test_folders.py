import hashlib
from pathlib import Path

from modules.model_manager.folders import HashCache, ModelFolders
from modules.model_manager.hashing import legacy_model_hash


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_scan_lists_checkpoints_with_a1111_short_hash(tmp_path: Path) -> None:
    root = tmp_path / "Stable-diffusion"
    a = _write(root / "a.safetensors", b"alpha" * 100)
    _write(root / "sub" / "b.ckpt", b"beta")
    _write(root / "notes.txt", b"x")
    diff = root / "pipe"
    _write(diff / "model_index.json", b"{}")
    _write(diff / "unet" / "diffusion_pytorch_model.safetensors", b"u")
    folders = ModelFolders([root], HashCache(tmp_path / "cache" / "hashes.json"))
    infos = folders.scan()
    assert [i.name for i in infos] == ["a.safetensors", "pipe", "sub/b.ckpt"]
    digest = hashlib.sha256(a.read_bytes()).hexdigest()
    assert infos[0].title == f"a.safetensors [{digest[:10]}]"
    assert folders.find_checkpoint("a") == infos[0]
    assert folders.find_checkpoint(digest[:10]) == infos[0]
    assert folders.find_checkpoint(infos[0].title) == infos[0]
    assert folders.find_checkpoint("missing") is None


def test_hash_cache_is_reused_and_invalidated(tmp_path: Path) -> None:
    f = _write(tmp_path / "m.safetensors", b"one")
    cache = HashCache(tmp_path / "h.json")
    first = cache.sha256(f)
    assert HashCache(tmp_path / "h.json").sha256(f) == first
    _write(f, b"two-changed")
    assert HashCache(tmp_path / "h.json").sha256(f) == hashlib.sha256(b"two-changed").hexdigest()


def test_legacy_hash_reads_64k_at_1mib(tmp_path: Path) -> None:
    data = bytes(range(256)) * (8192)  # 2 MiB
    f = _write(tmp_path / "x.ckpt", data)
    assert legacy_model_hash(f) == hashlib.sha256(data[0x100000:0x110000]).hexdigest()[:8]
    assert legacy_model_hash(tmp_path / "nope") == "NOFILE"
