"""Infotext: the "generation parameters" text A1111 writes into every image, and reads back.

Layout (see the A1111 compatibility reference, section 3):

    <prompt, possibly several lines>
    Negative prompt: <negative prompt, possibly several lines>   (omitted when empty)
    Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1, Size: 512x512, ...

Pure functions; no torch, no file access.
"""

from __future__ import annotations

import json
import numbers
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import TypeVar

from modules.errors import InvalidParams
from modules.generation.params import GenerationParams, Txt2ImgParams
from modules.samplers.core import CORE_TABLE
from modules.samplers.registry import find_sampler, find_schedule, resolve_schedule, split_legacy_name
from modules.samplers.specs import SamplerTable

APP_VERSION = "sdwebui 0.1.0"

# A1111's fixed key order (create_infotext, v1.10.1). Keys we do not produce ourselves still have a
# slot here so that a caller passing them in `extra` gets them in A1111's position.
FIXED_KEYS: tuple[str, ...] = (
    "Steps", "Sampler", "Schedule type", "CFG scale", "Image CFG scale", "Seed", "Face restoration",
    "Size", "Model hash", "Model", "FP8 weight", "Cache FP16 weight for LoRA", "VAE hash", "VAE",
    "Variation seed", "Variation seed strength", "Seed resize from", "Denoising strength",
    "Conditional mask weight", "Clip skip", "ENSD", "Token merging ratio", "Token merging ratio hr",
    "Init image hash", "RNG", "Tiling",
)
TRAILING_KEYS: tuple[str, ...] = ("Version", "User")

NEGATIVE_PREFIX = "Negative prompt:"

# A1111's key/value pair regex and image-size regex (modules/infotext_utils.py)
RE_PARAM = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
RE_IMAGESIZE = re.compile(r"^(\d+)x(\d+)$")
RE_KEY_RUN = re.compile(r"\s*\w[\w \-/]*")  # a key that failed: no pair starts inside it either
MIN_PARAM_PAIRS = 3

P = TypeVar("P", bound=GenerationParams)


def format_value(value: object) -> str:
    """A value as A1111 prints it: 7.0 -> '7', 6.5 -> '6.5', True -> 'True'."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(number)
    return str(value)


def quote(text: str) -> str:
    """JSON-quote a value containing a comma, colon or newline (non-ASCII kept as is)."""
    if "," not in text and ":" not in text and "\n" not in text:
        return text
    return json.dumps(text, ensure_ascii=False)


def unquote(text: str) -> str:
    """Inverse of quote; text that is not a valid JSON string is returned unchanged."""
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        return text
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, str) else text


def schedule_label(sampler_name: str, scheduler: str) -> str:
    """The schedule label written to infotext: 'Automatic' becomes the sampler's default, if any."""
    try:
        return resolve_schedule(sampler_name, scheduler).label
    except InvalidParams:
        return scheduler


def parameter_line(values: Mapping[str, object]) -> str:
    """'Key: value, Key: value' with None skipped, quoting applied, key==value written bare."""
    parts: list[str] = []
    for key, value in values.items():
        if value is None:
            continue
        text = format_value(value)
        parts.append(key if text == key else f"{key}: {quote(text)}")
    return ", ".join(parts)


def create_infotext(
    params: GenerationParams,
    seed: int,
    model_name: str | None,
    model_hash: str | None,
    extra: dict[str, object] | None = None,
    version: str = APP_VERSION,
) -> str:
    """The infotext for one image generated with params and this (resolved) seed.

    extra: additional keys in insertion order (e.g. 'Lora hashes'); a key that has a fixed A1111
    slot (e.g. 'Denoising strength', 'VAE') is written in that slot; None values are skipped.
    """
    values: dict[str, object] = dict.fromkeys(FIXED_KEYS)
    values.update({
        "Steps": params.steps,
        "Sampler": params.sampler_name,
        "Schedule type": schedule_label(params.sampler_name, params.scheduler),
        "CFG scale": params.cfg_scale,
        "Seed": seed,
        "Size": f"{params.width}x{params.height}",
        "Model hash": model_hash or None,
        "Model": model_name or None,
        "Clip skip": params.clip_skip if params.clip_skip > 1 else None,
        **variation_infotext(params),
        "Tiling": True if params.tiling else None,
    })
    trailing: dict[str, object] = {"Version": version or None, "User": None}
    for key, value in (extra or {}).items():
        if key in trailing:
            trailing[key] = value
        else:
            values[key] = value
    values.update(trailing)

    text = params.prompt
    if params.negative_prompt:
        text += f"\n{NEGATIVE_PREFIX} {params.negative_prompt}"
    return f"{text}\n{parameter_line(values)}".strip()


def variation_infotext(params: GenerationParams) -> dict[str, object]:
    """Variation seed and strength (only with a strength above 0) and Seed resize from (only when on)."""
    values: dict[str, object] = {}
    if params.subseed_strength > 0:
        values.update({"Variation seed": params.subseed, "Variation seed strength": params.subseed_strength})
    if params.seed_resize_from_w > 0 and params.seed_resize_from_h > 0:
        values["Seed resize from"] = f"{params.seed_resize_from_w}x{params.seed_resize_from_h}"
    return values


def param_pairs(line: str) -> list[tuple[str, str]]:
    """RE_PARAM.findall(line) in linear time: where a key starts but no pair does (no ':' after the run of key
    characters), no pair starts anywhere inside that run either (each key would end at the same place), so
    the search goes on after the run instead of one character later (findall took minutes on a long line
    without colons: a pasted prompt, a PNG's parameters chunk)."""
    pairs: list[tuple[str, str]] = []
    pos = 0
    while pos < len(line):
        found = RE_PARAM.match(line, pos)
        if found is not None:
            pairs.append((found.group(1), found.group(2)))
            pos = max(found.end(), pos + 1)
            continue
        run = RE_KEY_RUN.match(line, pos)
        pos = max(run.end() if run is not None else pos, pos + 1)
    return pairs


def parse_infotext(text: str) -> dict[str, str]:
    """Infotext -> {key: value}, following A1111's parse_generation_parameters.

    The last line holds the parameters only if it has at least 3 'Key: value' pairs; otherwise it
    belongs to the prompt. Quoted values are unquoted. 'WxH' values also give '<Key>-1'/'<Key>-2'.
    'Prompt' and 'Negative prompt' are always present. No defaults are filled in for missing keys.
    """
    *lines, last = text.strip().split("\n")
    if len(param_pairs(last)) < MIN_PARAM_PAIRS:
        lines.append(last)
        last = ""

    prompt: list[str] = []
    negative: list[str] = []
    in_negative = False
    for raw in lines:
        line = raw.strip()
        if line.startswith(NEGATIVE_PREFIX):
            in_negative = True
            line = line[len(NEGATIVE_PREFIX):].strip()
        (negative if in_negative else prompt).append(line)

    result: dict[str, str] = {}
    for key, value in param_pairs(last):
        value = unquote(value) if value.startswith('"') and value.endswith('"') else value
        size = RE_IMAGESIZE.match(value)
        if size is not None:
            result[f"{key}-1"] = size.group(1)
            result[f"{key}-2"] = size.group(2)
        result[key] = value
    result["Prompt"] = "\n".join(prompt)
    result["Negative prompt"] = "\n".join(negative)
    if result.get("Hypernet"):  # pre-extra-networks A1111 infotexts: the hypernetwork becomes a tag (A1111)
        result["Prompt"] += f"<hypernet:{result['Hypernet']}:{result.get('Hypernet strength', '1.0')}>"
    return result


def vae_from_infotext(text: str) -> str | None:
    """The external VAE file name an infotext records ('VAE: name'); None when the checkpoint's own was used."""
    return parse_infotext(text).get("VAE") or None


def _int(value: str | None, fallback: int) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        try:
            number = float(str(value).strip())
        except ValueError:
            return fallback
        return int(number) if number.is_integer() else fallback


def _float(value: str | None, fallback: float) -> float:
    try:
        return float(str(value).strip())
    except (TypeError, ValueError):
        return fallback


def sampler_and_schedule(sampler: str | None, schedule: str | None, base: GenerationParams,
                         samplers: SamplerTable = CORE_TABLE) -> tuple[str, str]:
    """Canonical (sampler name, schedule label) from infotext values.

    Legacy names such as 'DPM++ 2M Karras' are split. A missing schedule means 'Automatic' (A1111's
    default on paste); an unknown sampler or schedule keeps the base value (read_infotext's notes say so:
    modules/generation/paste.py, sampler_notes). samplers: the ones to look in (an App's:
    sampler_table(app.registry)).
    """
    name = sampler if sampler else base.sampler_name
    name, label = split_legacy_name(name.strip(), (schedule or "Automatic").strip(), samplers)
    try:
        name = find_sampler(name, samplers).name
    except InvalidParams:
        name = base.sampler_name
    try:
        label = find_schedule(label, samplers).label
    except InvalidParams:
        label = base.scheduler
    return name, label


def params_from_infotext(text: str, base: P | Txt2ImgParams | None = None,
                         samplers: SamplerTable = CORE_TABLE) -> P | Txt2ImgParams:
    """Params of base's class (Txt2ImgParams by default) from an infotext; fields it does not carry
    (batch size/count, img2img's images) come from base.

    Values that are missing or unreadable keep base's value, except Clip skip (missing = 1) and
    Schedule type (missing = Automatic), as in A1111, and the variation seed strength, seed resize and
    tiling (missing = off, so the pasted image is reproduced). For Txt2ImgParams the hires fix is on when
    any hires key is recorded (A1111's paste defaults for the others; old "First pass size" texts
    converted) and off otherwise. The result is not validated.
    """
    base = base or Txt2ImgParams()
    info = parse_infotext(text)
    sampler, schedule = sampler_and_schedule(info.get("Sampler"), info.get("Schedule type"), base, samplers)
    if isinstance(base, Txt2ImgParams):
        base = _with_hires(info, base, samplers)
    params = replace(
        base,
        prompt=info["Prompt"],
        negative_prompt=info["Negative prompt"],
        sampler_name=sampler,
        scheduler=schedule,
        steps=_int(info.get("Steps"), base.steps),
        cfg_scale=_float(info.get("CFG scale"), base.cfg_scale),
        seed=_int(info.get("Seed"), base.seed),
        width=_int(info.get("Size-1"), base.width),
        height=_int(info.get("Size-2"), base.height),
        clip_skip=_int(info.get("Clip skip", "1"), base.clip_skip),
        emphasis=_emphasis(info, base),
        subseed=_int(info.get("Variation seed"), base.subseed),
        subseed_strength=_float(info.get("Variation seed strength", "0"), 0.0),
        seed_resize_from_w=_int(info.get("Seed resize from-1", "0"), 0),
        seed_resize_from_h=_int(info.get("Seed resize from-2", "0"), 0),
        tiling=info.get("Tiling", "").strip().lower() == "true",
    )
    return _first_pass_size(info, params)


def _with_hires(info: Mapping[str, str], base: Txt2ImgParams, samplers: SamplerTable) -> Txt2ImgParams:
    """base with the hires fix keys read (on when any is recorded; A1111's paste defaults for missing ones)."""
    from modules.generation.params import SAME_SAMPLER, SAME_SCHEDULER

    if not any(key in info for key in ("Hires upscale", "Hires resize", "Hires upscaler", "First pass size")):
        return replace(base, enable_hr=False)
    hr_sampler, hr_schedule = info.get("Hires sampler", SAME_SAMPLER).strip(), \
        info.get("Hires schedule type", SAME_SCHEDULER).strip()
    try:
        hr_sampler = hr_sampler if hr_sampler == SAME_SAMPLER else find_sampler(hr_sampler, samplers).name
    except InvalidParams:
        hr_sampler = base.hr_sampler_name
    try:
        hr_schedule = hr_schedule if hr_schedule == SAME_SCHEDULER else find_schedule(hr_schedule, samplers).label
    except InvalidParams:
        hr_schedule = base.hr_scheduler
    cfg = info.get("Hires CFG Scale")
    return replace(
        base, enable_hr=True,
        denoising_strength=_float(info.get("Denoising strength"), base.denoising_strength),
        hr_scale=_float(info.get("Hires upscale"), base.hr_scale),
        hr_resize_x=_int(info.get("Hires resize-1", "0"), 0),
        hr_resize_y=_int(info.get("Hires resize-2", "0"), 0),
        hr_second_pass_steps=_int(info.get("Hires steps", "0"), 0),
        hr_upscaler=info.get("Hires upscaler", base.hr_upscaler).strip() or base.hr_upscaler,
        hr_sampler_name=hr_sampler, hr_scheduler=hr_schedule,
        hr_prompt=info.get("Hires prompt", ""), hr_negative_prompt=info.get("Hires negative prompt", ""),
        hr_cfg_scale=_float(cfg, base.cfg_scale) if cfg is not None else None,
    )


def _first_pass_size(info: Mapping[str, str], params: P) -> P:
    """Old A1111 hires infotexts ("First pass size: WxH", Size the final size): Size becomes the hires resize."""
    first = (_int(info.get("First pass size-1"), 0), _int(info.get("First pass size-2"), 0))
    if not isinstance(params, Txt2ImgParams) or 0 in first:
        return params
    return replace(params, width=first[0], height=first[1], hr_resize_x=params.width, hr_resize_y=params.height)


def _emphasis(info: Mapping[str, str], base: GenerationParams) -> str:
    """'Emphasis' as written; when missing, Original if a prompt uses brackets (A1111), else base's."""
    value = info.get("Emphasis")
    if value:
        return value.strip()
    if any(ch in info[key] for key in ("Prompt", "Negative prompt") for ch in "(["):
        return "Original"
    return base.emphasis
