"""Command-line flags (A1111 names where they exist) → Settings.

The folder, model and device flags are shared by the server (webui.py) and command-line generation
(`webui.py txt2img ...`, modules/cli_generate.py); the serving flags are the server's own.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from modules.http_guards import parse_allowed_hosts
from modules.settings import PROJECT_ROOT, SHIPPED_DEMO_CHECKPOINT, Settings

UPSCALER_FLAGS = {"ESRGAN": "esrgan-models-path", "RealESRGAN": "realesrgan-models-path", "SwinIR": "swinir-models-path",
                  "DAT": "dat-models-path", "ScuNET": "scunet-models-path"}  # A1111's names


def add_model_flags(p: argparse.ArgumentParser) -> None:
    """Where the user's files are, which checkpoint to load first and on what device."""
    p.add_argument("--data-dir", type=Path, default=PROJECT_ROOT, help="base folder for models/, embeddings/ and outputs/")
    p.add_argument("--ckpt-dir", type=Path, action="append", default=[], help="extra folder of checkpoints (repeatable)")
    p.add_argument("--vae-dir", type=Path, default=None, help="folder of VAE files (default models/VAE)")
    p.add_argument("--lora-dir", type=Path, default=None, help="folder of LoRA files (default models/Lora)")
    p.add_argument("--hypernetwork-dir", type=Path, default=None, help="folder of hypernetworks (default models/hypernetworks)")
    p.add_argument("--embeddings-dir", type=Path, default=None, help="folder of textual-inversion embeddings (default embeddings/)")
    for kind, flag in UPSCALER_FLAGS.items():
        p.add_argument(f"--{flag}", type=Path, default=None, help=f"folder of {kind} upscaler models (default models/{kind})")
    p.add_argument("--extensions-dir", type=Path, action="append", default=[], metavar="DIR",
                   help="another folder of extensions to load, besides extensions/ (repeatable)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="auto", help="where to run the model")
    p.add_argument("--precision", choices=["auto", "fp32", "fp16", "bf16"], default="auto",
                   help="weights precision (auto: fp16 on CUDA, fp32 on CPU)")
    p.add_argument("--no-half-vae", action="store_true", help="keep the VAE in fp32 (avoids black images on some models)")
    p.add_argument("--ckpt", type=Path, default=None, help="checkpoint file to load first")
    p.add_argument("--ui-settings-file", type=Path, default=None, metavar="FILE",
                   help="settings file (default config.json in --data-dir)")
    p.add_argument("--no-demo-model", action="store_true",
                   help="do not list the built-in demo model when --data-dir is another folder")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="webui.py", description="Stable Diffusion web UI",
        epilog="Generate from the command line instead: webui.py txt2img --help, webui.py img2img --help")
    p.add_argument("--listen", action="store_true", help="serve on all network interfaces (LAN use) instead of 127.0.0.1")
    p.add_argument("--port", type=int, default=None, help="port to serve on (default 7860; 7861 with --nowebui)")
    p.add_argument("--api", action="store_true", help="also serve the REST API (/sdapi/v1, schema at /docs)")
    p.add_argument("--nowebui", action="store_true", help="serve the REST API only, without the web UI")
    p.add_argument("--gradio-auth", default=None, metavar="USER:PASS[,USER2:PASS2]",
                   help="log-in needed for the web UI")
    p.add_argument("--gradio-auth-path", type=Path, default=None, metavar="FILE",
                   help="file of user:pass entries (commas or one per line) for the web UI log-in")
    p.add_argument("--api-auth", default=None, metavar="USER:PASS[,USER2:PASS2]",
                   help="HTTP Basic credentials needed for every REST API route")
    p.add_argument("--enable-insecure-extension-access", action="store_true",
                   help="allow installing/running new code (extensions) even when shared with --listen")
    p.add_argument("--allowed-hosts", default=None, metavar="NAME[,NAME2]",
                   help="more host names the server answers to (besides localhost and 127.0.0.1; with --listen "
                        "also IP addresses and this machine's name); '.example.org' takes subdomains, '*' any name")
    add_model_flags(p)
    return p


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings from parsed flags; flags a parser does not have (the serving ones, for generation) keep
    Settings' defaults."""
    gradio_auth_path = getattr(args, "gradio_auth_path", None)
    nowebui = getattr(args, "nowebui", False)
    port = getattr(args, "port", None)
    return Settings(
        data_dir=args.data_dir.resolve(),
        ckpt_dirs=[d.resolve() for d in args.ckpt_dir],
        vae_dir=args.vae_dir,
        lora_dir=args.lora_dir,
        hypernetwork_dir=args.hypernetwork_dir,
        embeddings_dir=args.embeddings_dir,
        upscaler_dirs={kind: path.resolve() for kind, flag in UPSCALER_FLAGS.items()
                       if (path := getattr(args, flag.replace("-", "_"), None)) is not None},
        extensions_dirs=[d.resolve() for d in getattr(args, "extensions_dir", [])],
        ckpt=args.ckpt.resolve() if args.ckpt else None,
        demo_checkpoint=None if args.no_demo_model else SHIPPED_DEMO_CHECKPOINT,
        listen=getattr(args, "listen", False),
        port=port if port is not None else (7861 if nowebui else 7860),
        api=getattr(args, "api", False),
        nowebui=nowebui,
        gradio_auth=getattr(args, "gradio_auth", None),
        gradio_auth_path=gradio_auth_path.resolve() if gradio_auth_path else None,
        api_auth=getattr(args, "api_auth", None),
        enable_insecure_extension_access=getattr(args, "enable_insecure_extension_access", False),
        allowed_hosts=parse_allowed_hosts(getattr(args, "allowed_hosts", None)),
        device=args.device,
        precision=args.precision,
        no_half_vae=args.no_half_vae,
        ui_settings_file=args.ui_settings_file.resolve() if args.ui_settings_file else None,
        outdir=args.outdir.resolve() if getattr(args, "outdir", None) else None,
    )


def parse_settings(argv: list[str] | None = None) -> Settings:
    return settings_from_args(build_parser().parse_args(argv))
