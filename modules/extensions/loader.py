"""Find and load the extensions: every folder in extensions/ (in the data folder), then in each
--extensions-dir, by name. Each one's extension.py is imported under a private module name (its folder
is its package, so `from . import helper` works inside it; sys.path is not touched) and its
register(ext) is called with an ExtensionContext.

An extension that fails to import, has no register(ext), or whose register raises (a name another
extension already registered, say) is listed as failed with a one-line reason, everything it had
registered is taken back, and the app starts anyway. A disabled one is listed and not imported.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import traceback
import uuid
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from modules.errors import UserError
from modules.extensions.context import ExtensionContext
from modules.extensions.state import ExtensionInfo, disabled_names
from modules.messages import msg

if TYPE_CHECKING:
    from modules.app import App
    from modules.settings import Settings

log = logging.getLogger(__name__)

ENTRY = "extension.py"


class ExtensionError(UserError):
    """An extension folder that cannot be loaded as one."""


def extension_roots(settings: Settings) -> list[Path]:
    """extensions/ in the data folder, then each --extensions-dir (each folder once)."""
    roots: list[Path] = []
    for root in (settings.extensions_path, *settings.extensions_dirs):
        if root.resolve() not in [r.resolve() for r in roots]:
            roots.append(root)
    return roots


def extension_folders(settings: Settings) -> list[Path]:
    """The extension folders, root by root, by name; hidden folders (.git, .installing-…) and __pycache__
    are not extensions."""
    folders: list[Path] = []
    for root in extension_roots(settings):
        if root.is_dir():
            folders += sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))),
                              key=lambda p: p.name.casefold())
    return folders


def load_extensions(app: App) -> list[ExtensionInfo]:
    """Load every enabled extension into app (registry entries, callbacks); sets and returns
    app.extensions.found."""
    disabled = {n.casefold() for n in disabled_names(app.options)}
    found: list[ExtensionInfo] = []
    seen: dict[str, Path] = {}
    for path in extension_folders(app.settings):
        name = path.name
        if name.casefold() in seen:
            error = msg("extension_same_name", name=name, other=seen[name.casefold()], path=path)
            log.error("%s", error)
            found.append(ExtensionInfo(name, path, "failed", error))
            continue
        seen[name.casefold()] = path
        if name.casefold() in disabled:
            found.append(ExtensionInfo(name, path, "disabled"))
            continue
        found.append(load_extension(app, name, path))
    app.extensions.found = found
    return found


def load_extension(app: App, name: str, path: Path) -> ExtensionInfo:
    """Import path/extension.py and call its register(ext); a failure is an ExtensionInfo saying why."""
    entry = path / ENTRY
    if not entry.is_file():
        error = msg("extension_no_entry", path=path)
        log.warning("%s", error)
        return ExtensionInfo(name, path, "failed", error)
    ext = ExtensionContext(name, path, app.registry, app.settings)
    module_name = f"_sdwebui_extension_{uuid.uuid4().hex[:12]}"
    try:
        module = import_private(module_name, entry, path)
        register = getattr(module, "register", None)
        if not callable(register):
            raise ExtensionError(msg("extension_no_register", name=name))
        register(ext)
    except (Exception, SystemExit) as e:  # noqa: BLE001 - any failure of the extension's code is reported
        ext.rollback()
        forget_module(module_name)
        error = error_summary(e, path)
        log.error("extension %s not loaded: %s", name, error, exc_info=None if isinstance(e, UserError) else e)
        return ExtensionInfo(name, path, "failed", error)
    for event, fn in ext.callbacks:
        app.extensions.callbacks.add(event, fn, name)
    registered = tuple(ext.registered())
    log.info("extension %s loaded (%s)", name, ", ".join(registered) or "nothing registered")
    return ExtensionInfo(name, path, "loaded", registered=registered)


def import_private(module_name: str, entry: Path, folder: Path) -> ModuleType:
    """Import entry as the package module_name whose folder is folder (sys.path unchanged)."""
    spec = importlib.util.spec_from_file_location(module_name, entry, submodule_search_locations=[str(folder)])
    if spec is None or spec.loader is None:
        raise ExtensionError(msg("extension_no_entry", path=folder))
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and relative imports look the module up there
    spec.loader.exec_module(module)
    return module


def forget_module(module_name: str) -> None:
    """Drop a failed extension's module and its submodules from sys.modules."""
    for key in [k for k in sys.modules if k == module_name or k.startswith(module_name + ".")]:
        del sys.modules[key]


def error_summary(error: BaseException, folder: Path) -> str:
    """One line: the error and where in the extension's own files it happened."""
    text = str(error) if isinstance(error, UserError) else f"{type(error).__name__}: {error}"
    root = folder.resolve()
    where = ENTRY
    if isinstance(error, SyntaxError) and error.filename:
        where = f"{_relative(Path(error.filename), root)}, line {error.lineno}"
    else:
        own = [f for f in traceback.extract_tb(error.__traceback__) if Path(f.filename).resolve().is_relative_to(root)]
        if own:
            where = f"{_relative(Path(own[-1].filename), root)}, line {own[-1].lineno}"
    return msg("extension_failed", error=text, where=where)


def _relative(path: Path, root: Path) -> str:
    resolved = path.resolve()
    return str(resolved.relative_to(root)) if resolved.is_relative_to(root) else str(path)
