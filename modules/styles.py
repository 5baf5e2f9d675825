"""Prompt styles in A1111's styles.csv format: saved prompt / negative prompt pairs merged into the prompts.

File: <data dir>/styles.csv, CSV with the header name,prompt,negative_prompt (the legacy header
name,text is read too), UTF-8 (a BOM is accepted and written, as A1111 does). Rows whose name starts
with '#' are ignored. A style prompt containing {prompt} wraps the user's prompt; otherwise it is
appended after ", " (compatibility reference, section 6.3).

Pure functions do the work; StyleStore only reads and writes the file (atomically, keeping a .bak).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

FIELDS = ("name", "prompt", "negative_prompt")
FILE_NAME = "styles.csv"
PLACEHOLDER = "{prompt}"


@dataclass(frozen=True)
class PromptStyle:
    name: str
    prompt: str = ""
    negative_prompt: str = ""


def merge_prompts(style_prompt: str, prompt: str) -> str:
    """One style text merged into one prompt."""
    if PLACEHOLDER in style_prompt:
        return style_prompt.replace(PLACEHOLDER, prompt)
    return ", ".join(part for part in (prompt.strip(), style_prompt.strip()) if part)


def apply_styles(prompt: str, negative_prompt: str, styles: Iterable[PromptStyle]) -> tuple[str, str]:
    """Both prompts with the styles applied in order."""
    for style in styles:
        prompt = merge_prompts(style.prompt, prompt)
        negative_prompt = merge_prompts(style.negative_prompt, negative_prompt)
    return prompt, negative_prompt


def find_styles(styles: Iterable[PromptStyle], names: Iterable[str]) -> list[PromptStyle]:
    """The styles with these names, in the order of names; unknown names are skipped."""
    by_name = {style.name: style for style in styles}
    return [by_name[name] for name in names if name in by_name]


def parse_styles_csv(text: str) -> list[PromptStyle]:
    """Styles from the file's text; a later row with the same name replaces an earlier one."""
    by_name: dict[str, PromptStyle] = {}
    for row in csv.DictReader(io.StringIO(text.removeprefix("\ufeff")), skipinitialspace=True):
        name = (row.get("name") or "").strip()
        if not name or name.startswith("#"):
            continue
        prompt = row.get("prompt") if "prompt" in row else row.get("text")
        by_name.pop(name, None)
        by_name[name] = PromptStyle(name, prompt or "", row.get("negative_prompt") or "")
    return list(by_name.values())


def format_styles_csv(styles: Iterable[PromptStyle]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS)  # "\r\n" rows, as A1111 writes them
    writer.writeheader()
    for style in styles:
        writer.writerow({"name": style.name, "prompt": style.prompt, "negative_prompt": style.negative_prompt})
    return out.getvalue()


def save_style(styles: Iterable[PromptStyle], style: PromptStyle) -> list[PromptStyle]:
    """Add a style, or replace the one with the same name where it stands."""
    result, replaced = [], False
    for existing in styles:
        if existing.name == style.name:
            result.append(style)
            replaced = True
        else:
            result.append(existing)
    return result if replaced else [*result, style]


def delete_style(styles: Iterable[PromptStyle], name: str) -> list[PromptStyle]:
    return [style for style in styles if style.name != name]


def rename_style(styles: Iterable[PromptStyle], old: str, new: str) -> list[PromptStyle]:
    """Rename in place; a style already called `new` is dropped (the renamed one takes its place)."""
    kept = [style for style in styles if style.name != new or old == new]
    return [PromptStyle(new, s.prompt, s.negative_prompt) if s.name == old else s for s in kept]


@dataclass(frozen=True)
class StyleStore:
    """styles.csv on disk. Every call reads or writes the file; nothing is cached."""

    path: Path

    @staticmethod
    def in_data_dir(data_dir: Path) -> StyleStore:
        return StyleStore(Path(data_dir) / FILE_NAME)

    def load(self) -> list[PromptStyle]:
        try:
            return parse_styles_csv(self.path.read_text(encoding="utf-8-sig"))
        except FileNotFoundError:
            return []

    def save(self, styles: Iterable[PromptStyle]) -> None:
        """Write all styles atomically; the previous file is kept as styles.csv.bak."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.is_file():
            shutil.copyfile(self.path, self.path.with_name(self.path.name + ".bak"))
        handle, temp = tempfile.mkstemp(prefix=".styles-", suffix=".csv", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8-sig", newline="") as file:
                file.write(format_styles_csv(styles))
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def put(self, style: PromptStyle) -> list[PromptStyle]:
        styles = save_style(self.load(), style)
        self.save(styles)
        return styles

    def delete(self, name: str) -> list[PromptStyle]:
        styles = delete_style(self.load(), name)
        self.save(styles)
        return styles


def apply_named_styles(data_dir: Path, prompt: str, negative_prompt: str, names: Iterable[str]) -> tuple[str, str]:
    """Both prompts with the named styles of data_dir's styles.csv applied in order (every front door's
    styles, through modules/generation/resolve.py); InvalidParams naming a style the file does not have
    and listing the ones it has."""
    from modules.errors import InvalidParams
    from modules.messages import msg

    names = list(names)
    if not names:
        return prompt, negative_prompt
    known = {style.name: style for style in StyleStore.in_data_dir(data_dir).load()}
    for name in names:
        if name not in known:
            listed = ", ".join(f"'{n}'" for n in known)[:2000] or msg("no_styles")
            raise InvalidParams(msg("unknown_style", name=str(name)[:100], styles=listed))
    return apply_styles(prompt, negative_prompt, [known[name] for name in names])
