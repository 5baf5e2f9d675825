"""Which checkpoint is loaded, and switching to another without losing the one in use."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from modules.errors import CheckpointLoadError, ModelNotFound
from modules.messages import msg
from modules.model_manager.folders import CheckpointInfo, ModelFolders

if TYPE_CHECKING:
    from modules.devices import DevicePlan
    from modules.model_manager.loaded_model import LoadedModel
    from modules.model_manager.placement import Mover

log = logging.getLogger(__name__)


class ModelManager:
    """Holds the current model. Loading a new one keeps the old one until the new one is ready."""

    def __init__(self, folders: ModelFolders, plan: DevicePlan, mover: Mover | None = None) -> None:
        from modules.model_manager.placement import move_model

        self.folders = folders
        self.plan = plan
        self._move = mover or move_model
        self.current: LoadedModel | None = None
        self.current_info: CheckpointInfo | None = None
        self.status: str = ""
        self._lock = threading.Lock()
        self.on_loaded: Callable[[LoadedModel], None] | None = None  # after each load, outside the lock

    def default_checkpoint(self, preferred: str | None = None, remembered: str | None = None) -> CheckpointInfo | None:
        """What to load at start: the preferred checkpoint (--ckpt) when it exists; else the one used last
        time (remembered) unless that is the built-in demo model and another checkpoint exists now; else
        the first checkpoint that is not the demo model; else the demo model; else None."""
        checkpoints = self.folders.checkpoints()
        users = [c for c in checkpoints if not c.is_demo]
        for query in (preferred, remembered):
            found = self.folders.find_checkpoint(query) if query else None
            if found and not (query is remembered and found.is_demo and users):
                return found
        return (users or checkpoints or [None])[0]

    def startup_order(self, preferred: str | None = None, remembered: str | None = None) -> list[CheckpointInfo]:
        """The checkpoints to try at start, in order: default_checkpoint's choice, then the other checkpoints
        that are not the demo model, then the demo model. A damaged or unsupported file then never leaves
        the app without a model while another one would load."""
        first = self.default_checkpoint(preferred, remembered)
        if first is None:
            return []
        others = [c for c in self.folders.checkpoints() if c != first]
        return [first, *(c for c in others if not c.is_demo), *(c for c in others if c.is_demo)]

    def load_first(self, candidates: list[CheckpointInfo]) -> LoadedModel | None:
        """Load the first of candidates that loads; the status names those that could not be loaded before
        it. None (and a status saying why) when none loads."""
        failures: list[str] = []
        for info in candidates:
            try:
                model = self._load_info(info)
            except CheckpointLoadError as e:
                failures.append(str(e).rstrip(".") + ".")
                log.error("%s", failures[-1])
                continue
            if failures:
                self.status = msg("model_loaded_instead", failures=" ".join(failures), loaded=self.status)
                log.warning(self.status)
            return model
        if failures:
            self._failed(" ".join(failures))
        return None

    def load(self, query: str) -> LoadedModel:
        """Load a checkpoint by title/name/hash. On failure the previous model stays loaded."""
        info = self.folders.find_checkpoint(query)
        if info is None:
            raise ModelNotFound(msg("checkpoint_not_found", name=query))
        try:
            return self._load_info(info)
        except CheckpointLoadError as e:
            raise CheckpointLoadError(self._failed(str(e).rstrip(".") + ".")) from e

    def _failed(self, reason: str) -> str:
        """The status after a failed load: the reason and what the app has now."""
        if self.current is not None:
            self.status = msg("checkpoint_failed", reason=reason)
        else:
            self.status = msg("checkpoint_failed_none_loaded", reason=reason, folder=self.folders.checkpoint_dirs[0])
        log.error(self.status)
        return self.status

    def _load_info(self, info: CheckpointInfo) -> LoadedModel:
        """Load one checkpoint and make it current; CheckpointLoadError(reason) when it cannot be loaded."""
        from modules.model_manager.checkpoints import load_checkpoint

        with self._lock:
            if self.current is not None and self.current_info == info:
                return self.current
            self.status = msg("model_loading", name=info.name)
            start = time.monotonic()
            # with a model already on an accelerator, the new one is read into RAM first and only
            # swapped in once it is whole, so the GPU never holds both (peak memory of one model)
            swap = self.current is not None and self.plan.device.type != "cpu"
            try:
                model = load_checkpoint(info.path, device="cpu" if swap else self.plan.device, dtype=self.plan.dtype,
                                        vae_dtype=self.plan.vae_dtype)
                if swap:
                    self._swap_in(model)
            except CheckpointLoadError:
                raise
            except Exception as e:  # noqa: BLE001 - any failure must leave the app usable
                log.exception("loading %s failed", info.path)
                raise CheckpointLoadError(msg("checkpoint_crashed", name=info.name,
                                              error=f"{type(e).__name__}: {e}")) from e
            self.current, self.current_info = model, info
            self.status = msg("model_loaded", name=info.name, arch=model.arch, seconds=time.monotonic() - start)
            log.info(self.status)
        if self.on_loaded is not None:
            self.on_loaded(model)
        return model

    def _swap_in(self, model: LoadedModel) -> None:
        """Move the current model to RAM and the new one onto the device; when the new one does not fit,
        the current one goes back and a CheckpointLoadError says so."""
        import torch

        old = self.current
        assert old is not None
        cpu = torch.device("cpu")
        self._move(old, cpu)
        try:
            self._move(model, self.plan.device)
        except Exception as e:  # noqa: BLE001 - most often out of memory: put the old model back
            log.warning("moving the new checkpoint to %s failed", self.plan.device, exc_info=True)
            self._move(model, cpu)
            self._move(old, self.plan.device)
            raise CheckpointLoadError(msg("checkpoint_no_room", device=str(self.plan.device),
                                          error=f"{type(e).__name__}: {e}")) from e

    def require(self) -> tuple[LoadedModel, CheckpointInfo]:
        """The loaded model, or a clear error telling the user how to get one."""
        with self._lock:
            if self.current is None or self.current_info is None:
                raise ModelNotFound(msg("no_checkpoint", folder=self.folders.checkpoint_dirs[0]))
            return self.current, self.current_info
