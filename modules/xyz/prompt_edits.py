"""The prompt changes some X/Y/Z axes make: search and replace, reordering, extra-network weights. Pure.

    replace_all("a cat, dog", "cat", "fox")                    # "a fox, dog"
    reorder("a, b, c", ("c", "a"))                              # "c, b, a"
    set_network_weight("x <lora:foo:1>", ("lora",), None, 0.5)  # "x <lora:foo:0.5>"
    set_network_weight("x", ("lora",), "foo", 0.5, add="lora")  # "x <lora:foo:0.5>"
"""

from __future__ import annotations

import re

_TAG = re.compile(r"<(\w+):([^>]+)>")


class SearchReplace(str):
    """A Prompt S/R value: the text that replaces `search` (the axis's first value) in the prompts. It is a
    str, so it compares, prints and joins as the value the user typed."""

    search: str

    def __new__(cls, value: str, search: str) -> SearchReplace:
        made = super().__new__(cls, value)
        made.search = search
        return made

    def __reduce__(self) -> tuple[type[SearchReplace], tuple[str, str]]:
        return SearchReplace, (str(self), self.search)


def search_replace_values(values: list[str]) -> list[SearchReplace]:
    """Prompt S/R's values: each replaces the first one (so the first cell keeps the prompt as it is)."""
    return [SearchReplace(value, values[0]) for value in values] if values else []


def replace_all(text: str, search: str, value: str) -> str:
    return text.replace(search, value) if search else text


def reorder(prompt: str, order: tuple[str, ...]) -> str:
    """prompt with the texts of order put, in that order, where those texts stand now (each found once, the
    first place it appears; a text that is not in the prompt leaves it unchanged)."""
    places = []
    for text in order:
        at = prompt.find(text)
        if not text or at < 0:
            return prompt
        places.append((at, text))
    places.sort()
    pieces, cursor = [], 0
    for at, text in places:
        if at < cursor:  # overlapping texts ("cat", "ca"): no clean reordering; leave the prompt alone
            return prompt
        pieces.append(prompt[cursor:at])
        cursor = at + len(text)
    pieces.append(prompt[cursor:])
    out = pieces[0]
    for text, piece in zip(order, pieces[1:], strict=True):
        out += text + piece
    return out


def network_tags(prompt: str, kinds: tuple[str, ...]) -> list[str]:
    """The names of the <kind:name...> tags of those kinds in prompt, in order."""
    return [m.group(2).split(":")[0] for m in _TAG.finditer(prompt) if m.group(1).lower() in kinds]


def set_network_weight(prompt: str, kinds: tuple[str, ...], name: str | None, weight: float,
                       add: str | None = None) -> str:
    """prompt with the weight (the first number after the name) of every <kind:name...> tag of those kinds
    set to weight; name None: every such tag. A named network with no tag gets <add:name:weight> appended
    when add is given. Other arguments of a tag (te/unet weights, te=...) are kept."""
    found = False
    text = _number(weight)

    def change(match: re.Match[str]) -> str:
        nonlocal found
        kind, body = match.group(1), match.group(2)
        parts = body.split(":")
        if kind.lower() not in kinds or (name is not None and parts[0] != name):
            return match.group(0)
        found = True
        if len(parts) > 1 and "=" not in parts[1]:
            parts[1] = text
        else:
            parts.insert(1, text)
        return f"<{kind}:{':'.join(parts)}>"

    changed = _TAG.sub(change, prompt)
    if not found and name is not None and add:
        changed = f"{changed} <{add}:{name}:{text}>" if changed.strip() else f"<{add}:{name}:{text}>"
    return changed


def parse_network_weight(value: str) -> tuple[str | None, float] | None:
    """'0.6' -> (None, 0.6); 'name:0.6' -> ('name', 0.6) (the name may hold ':'); None when not a weight."""
    name, sep, number = str(value).strip().rpartition(":")
    try:
        weight = float(number)
    except ValueError:
        return None
    if weight != weight or weight in (float("inf"), float("-inf")):
        return None
    if sep and not name.strip():
        return None
    return (name.strip() or None, weight)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(round(float(value), 8))
