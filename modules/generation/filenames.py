"""File and folder names from A1111's patterns: "[seed]-[prompt_words]", "[date]", "[datetime<%Y%m%d>]" ...

A token is [name] or [name<argument>]. Known tokens are replaced by the image's values (sanitized for
file names); an unknown token stays as written; a token that does not apply to this image (e.g.
[batch_number] for a batch of one) vanishes together with the text written before it, as in A1111.
Pure functions: NameFields in, text out.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field

PATTERN = re.compile(r"(.*?)(?:\[([^\[\]<>]+)(?:<(.*?)>)?\]|$)", re.DOTALL)
FORBIDDEN = re.compile(r'[\\/:*?"<>|\n\r\t]')
MAX_PART = 128  # characters per replaced token (A1111's --filenames-max-length)
MAX_NAME_BYTES = 240  # a whole file name, leaving room for the number, suffix and extension
NON_LETTERS = re.compile(r"[\s" + re.escape(string.punctuation) + r"]+")
SKIP = object()  # a token that does not apply: dropped with the text before it


@dataclass(frozen=True)
class NameFields:
    """What a name pattern can say about one image."""

    seed: int
    prompt: str = ""
    negative_prompt: str = ""
    steps: int = 0
    cfg_scale: float = 0.0
    sampler: str = ""
    scheduler: str = ""
    width: int = 0
    height: int = 0
    model_name: str = ""
    model_hash: str = ""
    clip_skip: int = 1
    denoising: float | None = None  # img2img only
    batch_number: int = 0  # the image's place in its batch
    batch_size: int = 1
    when: datetime.datetime = field(default_factory=datetime.datetime.now)  # when the job started


def sanitize(text: str, replace_spaces: bool = True) -> str:
    """A file name part: forbidden characters become '_', spaces too unless replace_spaces is False;
    no leading space, no trailing space or dot, at most MAX_PART characters."""
    if replace_spaces:
        text = text.replace(" ", "_")
    text = FORBIDDEN.sub("_", text)[:MAX_PART]
    return text.lstrip(" ").rstrip(" .")


def _words(text: str, count: int) -> str:
    """The first count words of the prompt: <lora:...> tags left out, split at spaces and punctuation."""
    words = [w for w in NON_LETTERS.split(re.sub(r"<[^<>]*>", " ", text)) if w]
    return sanitize(" ".join(words[:count]) or "no prompt", replace_spaces=False)


def _datetime(fields: NameFields, arg: str | None) -> str:
    try:
        return fields.when.strftime(arg or "%Y%m%d%H%M%S")
    except ValueError:
        return fields.when.strftime("%Y%m%d%H%M%S")


def _hash(text: str, arg: str | None) -> str:
    length = int(arg) if arg and arg.isdigit() else 8
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def _number(value: float) -> str:
    return f"{value:g}"


TOKENS: dict[str, Callable[[NameFields, str | None, int], object]] = {
    "seed": lambda f, a, w: f.seed,
    "steps": lambda f, a, w: f.steps,
    "cfg": lambda f, a, w: _number(f.cfg_scale),
    "width": lambda f, a, w: f.width,
    "height": lambda f, a, w: f.height,
    "sampler": lambda f, a, w: sanitize(f.sampler),
    "scheduler": lambda f, a, w: sanitize(f.scheduler),
    "sampler_scheduler": lambda f, a, w: sanitize(f"{f.sampler} {f.scheduler}".strip()),
    "model_name": lambda f, a, w: sanitize(f.model_name),
    "model_hash": lambda f, a, w: f.model_hash or SKIP,
    "clip_skip": lambda f, a, w: f.clip_skip,
    "denoising": lambda f, a, w: SKIP if f.denoising is None else _number(f.denoising),
    "batch_number": lambda f, a, w: SKIP if f.batch_size == 1 else f.batch_number,
    "batch_size": lambda f, a, w: f.batch_size,
    "date": lambda f, a, w: f.when.strftime("%Y-%m-%d"),
    "datetime": lambda f, a, w: sanitize(_datetime(f, a), replace_spaces=False),
    "job_timestamp": lambda f, a, w: f.when.strftime("%Y%m%d%H%M%S"),
    "prompt": lambda f, a, w: sanitize(f.prompt),
    "prompt_spaces": lambda f, a, w: sanitize(f.prompt, replace_spaces=False),
    "prompt_words": lambda f, a, w: _words(f.prompt, w),
    "prompt_hash": lambda f, a, w: _hash(f.prompt, a),
    "negative_prompt_hash": lambda f, a, w: _hash(f.negative_prompt, a),
    "full_prompt_hash": lambda f, a, w: _hash(f"{f.prompt} {f.negative_prompt}", a),
    "none": lambda f, a, w: "",
}


def apply_pattern(pattern: str, fields: NameFields, max_prompt_words: int = 8) -> str:
    """pattern with its tokens replaced (see the module's docstring); the literal text is kept."""
    out: list[str] = []
    for match in PATTERN.finditer(pattern):
        text, token, arg = match.group(1), match.group(2), match.group(3)
        if token is None:
            out.append(text)
            continue
        make = TOKENS.get(token.strip().lower())
        if make is None:
            out.append(f"{text}[{token}{'<' + arg + '>' if arg is not None else ''}]")
            continue
        value = make(fields, arg, max_prompt_words)
        if value is SKIP:
            continue
        out.append(text + str(value))
        if match.end() >= len(pattern):
            break
    return "".join(out)


def file_stem(pattern: str, fields: NameFields, max_prompt_words: int = 8) -> str:
    """The decoration of an image's file name: pattern applied, cleaned for a file name, not too long."""
    stem = sanitize(apply_pattern(pattern, fields, max_prompt_words), replace_spaces=False)
    return stem.encode("utf-8")[:MAX_NAME_BYTES].decode("utf-8", errors="ignore").rstrip(" .")


def folder_parts(pattern: str, fields: NameFields, max_prompt_words: int = 8) -> list[str]:
    """The sub-folders a directory pattern names ('/' nests them); empty or '.'/'..' parts are dropped."""
    text = apply_pattern(pattern, fields, max_prompt_words).replace("\\", "/")
    parts = [sanitize(part, replace_spaces=False) for part in text.split("/")]
    return [part for part in parts if part and part not in (".", "..")]
