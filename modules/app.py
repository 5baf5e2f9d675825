"""The App object: the one place long-lived state lives. Built once and passed to UI, API and CLI."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from modules.devices import DevicePlan, plan_devices
from modules.errors import UserError
from modules.jobs import JobQueue
from modules.model_manager.folders import HashCache, ModelFolders
from modules.model_manager.manager import ModelManager
from modules.networks.library import ExtraNetworks
from modules.options import Options
from modules.settings import Settings

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

    def refresh_models(self) -> list[str]:
        """Re-scan the model folders (extra networks too); returns the checkpoint titles."""
        self.networks.embeddings.load(self.models.current)
        return [c.title for c in self.folders.scan()]

    def load_default_model(self) -> None:
        """Scan the folders and load the --ckpt file or the first checkpoint. Errors are logged, not raised."""
        self.folders.scan()
        preferred = str(self.settings.ckpt) if self.settings.ckpt else None
        info = self.models.default_checkpoint(preferred)
        if info is None:
            log.warning("no checkpoint found in %s", self.settings.checkpoint_dir)
            return
        try:
            self.models.load(info.title)
        except UserError as e:
            log.error("%s", e)


def build_app(settings: Settings) -> App:
    """Create folders and the App. Cheap: no model is loaded and torch is only asked about devices."""
    settings.ensure_folders()
    extra = [settings.ckpt] if settings.ckpt and not settings.ckpt.is_relative_to(settings.checkpoint_dir) else []
    folders = ModelFolders([settings.checkpoint_dir, *settings.ckpt_dirs],
                           HashCache(settings.data_dir / "cache" / "hashes.json"), extra_files=extra)
    plan = plan_devices(settings)
    return App(settings=settings, devices=plan, folders=folders, models=ModelManager(folders, plan), jobs=JobQueue(),
               networks=ExtraNetworks.for_settings(settings))
