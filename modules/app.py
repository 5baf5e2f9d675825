"""The App object: the one place long-lived state lives. Built once and passed to UI, API and CLI."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from modules.devices import DevicePlan, plan_devices
from modules.errors import UserError
from modules.extensions.state import Extensions
from modules.jobs import JobQueue
from modules.model_manager.folders import HashCache, ModelFolders
from modules.model_manager.manager import ModelManager
from modules.networks.library import ExtraNetworks
from modules.option_specs import register_core_options
from modules.options import Options
from modules.registry import Registry
from modules.settings import Settings

if TYPE_CHECKING:
    from modules.model_manager.loaded_model import LoadedModel

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    devices: DevicePlan
    folders: ModelFolders
    models: ModelManager
    jobs: JobQueue
    options: Options = field(default_factory=Options)  # A1111 option keys the backend honours
    networks: ExtraNetworks = field(default_factory=ExtraNetworks)  # embeddings, VAEs, LoRA, ...
    registry: Registry = field(default_factory=Registry)  # samplers, network kinds, scripts, tabs, ... by name
    extensions: Extensions = field(default_factory=Extensions)  # found at start (modules/extensions), callbacks

    def __post_init__(self) -> None:
        # one table of option specs: the registry's (core ones first), read by Options and the Settings tab
        if self.options.specs is not self.registry.options:
            if not len(self.registry.options):
                register_core_options(self.registry.options)
            self.options.specs = self.registry.options
        self.options.known_choices = lambda spec: spec.choices_from(self) if spec.choices_from is not None else None

    def refresh_models(self) -> list[str]:
        """Re-scan the model folders (extra networks too); returns the checkpoint titles."""
        self.networks.embeddings.load(self.models.current)
        return [c.title for c in self.folders.scan()]

    def load_default_model(self, fallback: bool = True) -> None:
        """Scan the folders and load the --ckpt file, else the checkpoint used last time, else the default
        one; one that cannot be loaded gives way to the next (ModelManager.startup_order) unless fallback is
        False (then only the first is tried). Select the VAE used last time. Errors are logged and shown in
        the status, not raised."""
        self.folders.scan()
        remembered = self.options.get("sd_model_checkpoint")
        preferred = str(self.settings.ckpt) if self.settings.ckpt else None
        vae = self.options.get("sd_vae")
        if isinstance(vae, str) and vae != self.networks.vaes.selected:
            try:
                self.networks.vaes.select(vae)
            except UserError as e:
                log.warning("%s", e)
        candidates = self.models.startup_order(preferred, remembered if isinstance(remembered, str) else None)
        if not candidates:
            log.warning("no checkpoint found in %s", self.settings.checkpoint_dir)
            return
        # a file that cannot be loaded is skipped (the status says so), or with fallback False ends the try
        self.models.load_first(candidates if fallback else candidates[:1])

    def load_checkpoint(self, query: str) -> LoadedModel:
        """Switch to a checkpoint (see ModelManager.load) and remember it for the next start."""
        model = self.models.load(query)
        if self.models.current_info is not None:
            self.options.remember("sd_model_checkpoint", self.models.current_info.title)
        return model

    def select_vae(self, choice: str) -> None:
        """Select a VAE by name (Automatic, None or a file in the VAE folder) and remember the choice."""
        self.networks.vaes.select(choice)
        self.options.remember("sd_vae", self.networks.vaes.selected)


def build_app(settings: Settings) -> App:
    """Create folders and the App. Cheap: no model is loaded and torch is only asked about devices."""
    settings.ensure_folders()
    roots = [settings.checkpoint_dir, *settings.ckpt_dirs]
    extra = [path for path in (settings.ckpt, settings.demo_checkpoint)
             if path is not None and not any(path.is_relative_to(root) for root in roots)]
    folders = ModelFolders(roots,
                           HashCache(settings.data_dir / "cache" / "hashes.json"), extra_files=extra)
    plan = plan_devices(settings)
    registry = Registry()
    register_core_options(registry.options)
    app = App(settings=settings, devices=plan, folders=folders, models=ModelManager(folders, plan), jobs=JobQueue(),
              options=Options(settings.config_path, registry.options), networks=ExtraNetworks.for_settings(settings),
              registry=registry)
    from modules.core_registry import register_core

    register_core(app)  # samplers, schedule types, network kinds, upscalers, txt2img/img2img tabs
    from modules.extensions.setup import start_extensions

    start_extensions(app)  # the Extensions tab and route, then every enabled extension (never raises)
    return app
