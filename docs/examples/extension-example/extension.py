"""An example extension: copy this folder into extensions/ (or start with --extensions-dir docs/examples)
and restart. It registers, through the extension API (README "Extending"):

- a sampler, "Euler (trailing)": diffusers' Euler scheduler with trailing timestep spacing, listed in the
  Sampling method dropdown and by GET /sdapi/v1/samplers;
- an option, example_log_saved_images (Settings tab, section "Example extension"): when on, each saved
  image's path is logged, by an on_image_saved callback;
- an API route, GET /sdapi/v1/example/info, which says what the extension registered.
"""

from __future__ import annotations

from typing import Any

from modules.extensions.context import ExtensionContext
from modules.option_specs import OptionSpec
from modules.samplers.specs import SamplerSpec

SAMPLER = SamplerSpec("Euler (trailing)", "EulerDiscreteScheduler", aliases=("example_euler_trailing",),
                      config={"timestep_spacing": "trailing"})
OPTION = "example_log_saved_images"


def register(ext: ExtensionContext) -> None:
    ext.registry.samplers.register(SAMPLER.name, SAMPLER)
    ext.registry.options.register(OPTION, OptionSpec(False, bool, label="Log the path of every saved image",
                                                     section="Example extension",
                                                     help="Written to the console by the example extension."))

    @ext.on_image_saved
    def log_saved(app: Any, path: Any, infotext: str) -> None:
        if app.options.get(OPTION, False):
            ext.log.info("saved %s", path)

    def routes(app: Any) -> Any:
        from fastapi import APIRouter

        router = APIRouter()

        @router.get("/example/info", tags=["example extension"])
        def info() -> dict[str, Any]:
            return {"extension": ext.name, "sampler": SAMPLER.name,
                    "log_saved_images": bool(app.options.get(OPTION, False))}

        return router

    ext.registry.api_routes.register("example-info", routes)
