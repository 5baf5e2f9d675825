import pytest

from modules.errors import InvalidParams
from modules.samplers import registry

TRAINING = {"num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012,
            "beta_schedule": "scaled_linear", "prediction_type": "epsilon"}

A1111_SAMPLERS = ["Euler a", "Euler", "LMS", "Heun", "DPM2", "DPM2 a", "DPM++ 2M", "DPM++ 2M SDE", "DPM++ SDE",
                  "DPM++ 2S a", "DPM++ 3M SDE", "DDIM", "UniPC", "LCM"]


def test_every_a1111_sampler_is_listed() -> None:
    assert set(A1111_SAMPLERS) <= set(registry.sampler_names())


def test_schedules() -> None:
    assert {"Automatic", "Karras", "Exponential", "SGM Uniform"} <= set(registry.schedule_labels())


@pytest.mark.parametrize("name", A1111_SAMPLERS)
@pytest.mark.parametrize("schedule", ["Automatic", "Karras", "Exponential", "SGM Uniform"])
def test_each_combination_builds_a_scheduler(name: str, schedule: str) -> None:
    scheduler = registry.build_scheduler(name, schedule, TRAINING)
    scheduler.set_timesteps(6)
    assert len(scheduler.timesteps) >= 6


def test_lookup_by_alias_and_case() -> None:
    assert registry.find_sampler("k_euler_a").name == "Euler a"
    assert registry.find_sampler("dpm++ 2m").name == "DPM++ 2M"
    assert registry.find_schedule("karras").label == "Karras"
    assert registry.find_schedule("SGMUniform").label == "SGM Uniform"


def test_unknown_names_give_a_message_with_choices() -> None:
    with pytest.raises(InvalidParams, match="Unknown sampler 'Foo'.*Euler a"):
        registry.find_sampler("Foo")
    with pytest.raises(InvalidParams, match="Unknown schedule type"):
        registry.find_schedule("Weird")


def test_automatic_resolves_to_the_sampler_default() -> None:
    assert registry.resolve_schedule("DPM++ 2M", "Automatic").label == "Karras"
    assert registry.resolve_schedule("DPM++ 2M SDE", "Automatic").label == "Exponential"
    assert registry.resolve_schedule("Euler a", "Automatic").label == "Automatic"
    assert registry.resolve_schedule("Euler", "Exponential").label == "Exponential"


def test_schedule_maps_to_diffusers_config() -> None:
    cls, config = registry.scheduler_config("Euler", "Karras", TRAINING)
    assert cls == "EulerDiscreteScheduler" and config["use_karras_sigmas"] is True
    cls, config = registry.scheduler_config("DPM++ 2M SDE", "Automatic", TRAINING)
    assert config["algorithm_type"] == "sde-dpmsolver++" and config["use_exponential_sigmas"] is True
    _, config = registry.scheduler_config("Euler", "SGM Uniform", TRAINING)
    assert config["timestep_spacing"] == "trailing"
    _, config = registry.scheduler_config("Euler", "Automatic", {**TRAINING, "prediction_type": "v_prediction"})
    assert config["prediction_type"] == "v_prediction"


def test_ddim_keeps_the_latents_unclipped_on_a1111s_timesteps() -> None:
    scheduler = registry.build_scheduler("DDIM", "Automatic", TRAINING)
    assert scheduler.config.clip_sample is False and scheduler.config.thresholding is False
    scheduler.set_timesteps(20)
    assert scheduler.timesteps.tolist() == list(range(951, 0, -50))


def test_legacy_names_split_off_the_schedule() -> None:
    assert registry.split_legacy_name("DPM++ 2M Karras") == ("DPM++ 2M", "Karras")
    assert registry.split_legacy_name("DPM++ SDE Karras") == ("DPM++ SDE", "Karras")
    assert registry.split_legacy_name("Euler a") == ("Euler a", "Automatic")


def test_samplers_without_sigma_schedules_are_known() -> None:
    assert registry.schedule_ignored("DDIM", "Karras") and registry.schedule_ignored("LCM", "Exponential")
    assert not registry.schedule_ignored("DDIM", "Automatic") and not registry.schedule_ignored("DDIM", "SGM Uniform")
    assert not registry.schedule_ignored("DDIM", "Uniform")  # a spacing, which DDIM takes
    assert not any(registry.schedule_ignored(name, schedule) for name in ("Euler a", "Euler", "DPM2 a", "DPM++ 2M")
                   for schedule in ("Karras", "Exponential"))
