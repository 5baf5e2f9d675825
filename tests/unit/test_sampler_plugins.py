"""A sampler registered on the App (as an extension does) is seen by every lookup: validation, infotext
paste, the UI dropdowns, the API lists, the CLI and the scheduler builder. Without an App, the core set."""

from __future__ import annotations

from typing import Any

import pytest

from modules.errors import InvalidParams
from modules.generation.infotext import params_from_infotext
from modules.generation.params import Txt2ImgParams
from modules.registry import RegistryError
from modules.samplers import registry as samplers
from modules.samplers.builders import class_builder, diffusers_class
from modules.samplers.specs import SamplerSpec, ScheduleSpec

TRAINING = {"num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012,
            "beta_schedule": "scaled_linear", "prediction_type": "epsilon"}


def my_sampler(built: list[dict[str, Any]]) -> SamplerSpec:
    """'My Euler': diffusers' Euler with a builder that records the options it was given."""
    euler = class_builder(lambda: diffusers_class("EulerDiscreteScheduler"))

    def build(config: dict[str, Any]) -> Any:
        built.append(config)
        return euler(config)

    return SamplerSpec("My Euler", "EulerDiscreteScheduler", ("my_euler",), {"timestep_spacing": "linspace"},
                       default_schedule="Karras", builder=build)


@pytest.fixture
def app(make_app):  # noqa: ANN001, ANN201
    return make_app((), load=False)


def test_core_samplers_and_schedules_are_registered_in_a1111_order(app) -> None:  # noqa: ANN001
    table = samplers.sampler_table(app.registry)
    assert table.sampler_names() == samplers.sampler_names() and table.sampler_names()[0] == "DPM++ 2M"
    assert table.schedule_labels() == ["Automatic", "Uniform", "Karras", "Exponential", "Polyexponential",
                                       "SGM Uniform", "KL Optimal", "Align Your Steps", "Simple", "Normal", "DDIM",
                                       "Beta"]
    assert {e.source for e in app.registry.samplers.entries()} == {"core"}


def test_a_registered_sampler_is_found_validated_built_and_listed(app) -> None:  # noqa: ANN001
    built: list[dict[str, Any]] = []
    app.registry.samplers.register("My Euler", my_sampler(built), source="my-extension")
    table = samplers.sampler_table(app.registry)
    params = Txt2ImgParams(sampler_name="my_euler")
    params.validate(table)  # by alias, any case
    with pytest.raises(InvalidParams, match="Unknown sampler 'my_euler'"):
        params.validate()  # pure code without an App knows the core set only
    assert samplers.resolve_schedule("My Euler", "Automatic", table).label == "Karras"
    assert samplers.split_legacy_name("My Euler Exponential", table=table) == ("My Euler", "Exponential")
    scheduler = samplers.build_scheduler("my euler", "Automatic", TRAINING, table)
    assert type(scheduler).__name__ == "EulerDiscreteScheduler" and scheduler.config.use_karras_sigmas
    assert built and built[0]["use_karras_sigmas"] is True and built[0]["beta_schedule"] == "scaled_linear"

    from modules.api import lists

    assert {"name": "My Euler", "aliases": ["my_euler"], "options": {}} in lists.samplers(app)
    with pytest.raises(RegistryError, match="already registered .by my-extension"):
        app.registry.samplers.register("my euler", my_sampler([]), source="other")


def test_a_registered_schedule_type_is_listed_and_used(app) -> None:  # noqa: ANN001
    app.registry.schedules.register("Trailing", ScheduleSpec("Trailing", "trailing",
                                                             config={"timestep_spacing": "trailing"}), source="ext")
    table = samplers.sampler_table(app.registry)
    _, config = samplers.scheduler_config("Euler", "trailing", TRAINING, table)
    assert config["timestep_spacing"] == "trailing"
    from modules.api import lists

    assert lists.schedulers(app)[-1] == {"name": "trailing", "label": "Trailing", "aliases": None,
                                         "default_rho": -1, "need_inner_model": False}
    with pytest.raises(InvalidParams, match="Unknown schedule type 'Trailing'"):
        samplers.find_schedule("Trailing")


def test_infotext_paste_knows_registered_samplers(app) -> None:  # noqa: ANN001
    app.registry.samplers.register("My Euler", my_sampler([]), source="my-extension")
    text = "a fox\nSteps: 9, Sampler: My Euler, Schedule type: Karras, CFG scale: 5, Seed: 3, Size: 64x64"
    assert params_from_infotext(text).sampler_name == "DPM++ 2M", "unknown to the core set: the base value"
    from modules.generation.paste import read_infotext

    pasted = read_infotext(app, text, Txt2ImgParams())
    assert (pasted.params.sampler_name, pasted.params.scheduler, pasted.params.steps) == ("My Euler", "Karras", 9)


def test_ui_dropdowns_and_cli_take_registered_samplers(app) -> None:  # noqa: ANN001
    app.registry.samplers.register("My Euler", my_sampler([]), source="my-extension")
    from modules.ui.blocks import build_ui
    from tests.ui.test_blocks import component

    demo = build_ui(app)
    for tab in ("txt2img", "img2img"):
        choices = [c[0] if isinstance(c, tuple) else c for c in component(demo, f"{tab}_sampling").choices]
        assert choices[-1] == "My Euler" and choices[0] == "DPM++ 2M"

    from modules.cli_generate import build_generate_parser, to_request
    from modules.generation.resolve import check

    args = build_generate_parser("txt2img").parse_args(["x", "--sampler", "MY_EULER"])
    assert check(app, to_request(args, "txt2img")).params.sampler_name == "My Euler"
    bad = build_generate_parser("txt2img").parse_args(["x", "--sampler", "Nope"])
    with pytest.raises(InvalidParams, match="Unknown sampler 'Nope'.*My Euler"):
        check(app, to_request(bad, "txt2img"))
