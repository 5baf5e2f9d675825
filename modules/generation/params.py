"""What the user asked for: one frozen dataclass per task, validated before any work starts."""

from __future__ import annotations

from dataclasses import dataclass, replace

from modules.errors import InvalidParams
from modules.messages import msg

MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class Txt2ImgParams:
    prompt: str = ""
    negative_prompt: str = ""
    sampler_name: str = "DPM++ 2M"
    scheduler: str = "Automatic"
    steps: int = 20
    cfg_scale: float = 7.0
    seed: int = -1
    width: int = 512
    height: int = 512
    batch_count: int = 1
    batch_size: int = 1
    clip_skip: int = 1
    emphasis: str = "Original"  # how prompt weights act: Original, No norm, Ignore, None (A1111's setting)

    def validate(self) -> None:
        """Raise InvalidParams naming the first field that is out of range."""
        from modules.generation.prompt_chunks import EMPHASIS_MODES
        from modules.samplers.registry import find_sampler, find_schedule

        checks: list[tuple[bool, str]] = [
            (1 <= self.steps <= 150, msg("bad_steps", value=self.steps)),
            (0.0 <= self.cfg_scale <= 30.0, msg("bad_cfg", value=self.cfg_scale)),
            (-1 <= self.seed <= MAX_SEED, msg("bad_seed", value=self.seed)),
            (64 <= self.width <= 2048 and self.width % 8 == 0, msg("bad_size", field="width", value=self.width)),
            (64 <= self.height <= 2048 and self.height % 8 == 0, msg("bad_size", field="height", value=self.height)),
            (1 <= self.batch_count <= 100, msg("bad_batch_count", value=self.batch_count)),
            (1 <= self.batch_size <= 8, msg("bad_batch_size", value=self.batch_size)),
            (1 <= self.clip_skip <= 12, msg("bad_clip_skip", value=self.clip_skip)),
            (self.emphasis in EMPHASIS_MODES, msg("bad_emphasis", value=self.emphasis,
                                                  choices=", ".join(EMPHASIS_MODES))),
        ]
        for ok, text in checks:
            if not ok:
                raise InvalidParams(text)
        find_sampler(self.sampler_name)
        find_schedule(self.scheduler)

    def with_seed(self, seed: int) -> Txt2ImgParams:
        return replace(self, seed=seed)
