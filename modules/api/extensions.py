"""GET /sdapi/v1/extensions (A1111's shape), and include_registered(): every router in app.registry.api_routes
(the core ones and those extensions register) under /sdapi/v1, behind the same --api-auth as the rest."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from modules.extensions.git_info import read_git_info
from modules.extensions.state import disabled_names

if TYPE_CHECKING:
    from fastapi import FastAPI

    from modules.api.auth import Credentials
    from modules.app import App

log = logging.getLogger(__name__)


class ExtensionItem(BaseModel):
    name: str = Field(title="Name", description="Extension name (its folder's name)")
    remote: str | None = Field(None, title="Remote", description="Extension repository URL")
    branch: str | None = Field(None, title="Branch", description="Extension repository branch")
    commit_hash: str = Field("", title="Commit Hash", description="Extension repository commit hash")
    version: str = Field("", title="Version", description="Extension version (the commit hash's first 8 digits)")
    commit_date: int | None = Field(None, title="Commit Date", description="Extension repository commit date")
    enabled: bool = Field(title="Enabled", description="Flag specifying whether this extension is enabled")


def extension_items(app: App) -> list[dict[str, Any]]:
    """Every extension found at start; enabled as config.json says now (applied at the next start)."""
    off = {n.casefold() for n in disabled_names(app.options)}
    items = []
    for info in app.extensions.found:
        git = read_git_info(info.path)
        items.append({"name": info.name, "remote": git.remote, "branch": git.branch, "commit_hash": git.commit_hash,
                      "version": git.version, "commit_date": git.commit_date,
                      "enabled": info.name.casefold() not in off})
    return items


def extensions_router(app: App) -> APIRouter:
    router = APIRouter()

    @router.get("/extensions", response_model=list[ExtensionItem], tags=["extensions"])
    def extensions() -> list[dict[str, Any]]:
        return extension_items(app)

    return router


def include_registered(http_app: FastAPI, app: App, pairs: Credentials | None) -> None:
    """Include each registered router under the API prefix with the caller check; a factory that fails is
    logged with its source and left out (the rest of the API is served)."""
    from modules.api.routes import PREFIX, owner_dependency

    caller = owner_dependency(pairs or [])
    for entry in app.registry.api_routes.entries():
        try:
            router = entry.item(app)
            http_app.include_router(router, prefix=PREFIX, dependencies=[Depends(caller)])
        except Exception as e:  # noqa: BLE001 - an extension's broken route never stops the server
            log.error("the API routes '%s' (from %s) could not be added: %s: %s", entry.name, entry.source,
                      type(e).__name__, e, exc_info=e)
