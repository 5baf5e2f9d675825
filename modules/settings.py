"""Settings: where the user's files are, how to serve, which device. Built once from the command line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Device = Literal["auto", "cpu", "cuda", "mps"]
Precision = Literal["auto", "fp32", "fp16", "bf16"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# the built-in demo model (docs/demo-model.md), shipped in the project's own checkpoint folder
SHIPPED_DEMO_CHECKPOINT = PROJECT_ROOT / "models" / "Stable-diffusion" / "demo-shapes.safetensors"


@dataclass
class Settings:
    data_dir: Path = PROJECT_ROOT
    ckpt_dirs: list[Path] = field(default_factory=list)  # extra checkpoint folders (--ckpt-dir)
    vae_dir: Path | None = None
    lora_dir: Path | None = None
    hypernetwork_dir: Path | None = None
    embeddings_dir: Path | None = None
    upscaler_dirs: dict[str, Path] = field(default_factory=dict)  # "ESRGAN" -> folder (--esrgan-models-path, ...)
    extensions_dirs: list[Path] = field(default_factory=list)  # more folders of extensions (--extensions-dir)
    ckpt: Path | None = None  # file to load first
    listen: bool = False
    port: int = 7860  # --nowebui without --port serves on 7861, as A1111 does
    api: bool = False
    nowebui: bool = False
    gradio_auth: str | None = None  # "user:pass,user2:pass2" for the web UI
    gradio_auth_path: Path | None = None  # file with the same format (commas or one pair per line)
    api_auth: str | None = None  # "user:pass[,...]": HTTP Basic on every /sdapi route
    enable_insecure_extension_access: bool = False  # allow installing/running new code even with --listen
    # Host names answered besides localhost/127.0.0.1/::1 (and, with --listen, IP literals and this machine's
    # names): --allowed-hosts, parsed ('.example.org' takes subdomains too; '*' turns the Host check off)
    allowed_hosts: list[str] = field(default_factory=list)
    device: Device = "auto"
    precision: Precision = "auto"
    no_half_vae: bool = False
    ui_settings_file: Path | None = None  # config.json (options); default: in data_dir
    outdir: Path | None = None  # where images are saved (default: outputs/ in data_dir; command-line --outdir)
    # listed with the checkpoints even when data_dir is elsewhere (None: only what the folders hold)
    demo_checkpoint: Path | None = SHIPPED_DEMO_CHECKPOINT

    @property
    def config_path(self) -> Path:
        return self.ui_settings_file or self.data_dir / "config.json"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def checkpoint_dir(self) -> Path:
        return self.models_dir / "Stable-diffusion"

    @property
    def vae_path(self) -> Path:
        return self.vae_dir or self.models_dir / "VAE"

    @property
    def lora_path(self) -> Path:
        return self.lora_dir or self.models_dir / "Lora"

    @property
    def hypernetwork_path(self) -> Path:
        return self.hypernetwork_dir or self.models_dir / "hypernetworks"

    def upscaler_path(self, kind: str) -> Path:
        """The folder of one kind of upscaler model ("ESRGAN", "RealESRGAN", "SwinIR", ...): models/<kind>."""
        return self.upscaler_dirs.get(kind) or self.models_dir / kind

    @property
    def embeddings_path(self) -> Path:
        return self.embeddings_dir or self.data_dir / "embeddings"

    @property
    def extensions_path(self) -> Path:
        """Where extensions are installed (and loaded from, besides --extensions-dir)."""
        return self.data_dir / "extensions"

    @property
    def outputs_dir(self) -> Path:
        return self.outdir or self.data_dir / "outputs"

    @property
    def host(self) -> str:
        return "0.0.0.0" if self.listen else "127.0.0.1"

    @property
    def extensions_allowed(self) -> bool:
        """Installing or running new code: on for local use, off when shared unless explicitly allowed."""
        return not self.listen or self.enable_insecure_extension_access

    @property
    def api_enabled(self) -> bool:
        return self.api or self.nowebui

    def ensure_folders(self) -> None:
        """Create the A1111 folder layout under data_dir (nothing is deleted)."""
        for folder in (self.checkpoint_dir, self.vae_path, self.lora_path, self.hypernetwork_path,
                       self.embeddings_path, self.outputs_dir):
            folder.mkdir(parents=True, exist_ok=True)
