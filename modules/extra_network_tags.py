"""Extra-network tags in a prompt: <lora:name:0.8>, <lora:name:te:unet>, <hypernet:name:1>, <kind:args>.

    text, tags = parse_extra_network_tags("a fox <lora:foxStyle:0.8>, snow")
    # text == "a fox , snow"; tags == [NetworkTag("lora", "foxStyle", ("0.8",), {})]

Every <word:args> tag is cut out of the text that goes to CLIP (as A1111 does, whatever the kind);
the infotext keeps the prompt as typed. What a tag does is up to the network's own code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TAG = re.compile(r"<(\w+):([^>]+)>")


@dataclass(frozen=True)
class NetworkTag:
    kind: str  # "lora", "lyco", "hypernet", or any other word
    name: str
    args: tuple[str, ...] = ()  # positional args after the name, as written (e.g. ("0.8",) or ("1", "0.5"))
    named: dict[str, str] = field(default_factory=dict)  # "te=0.5" style args

    @property
    def items(self) -> list[str]:
        """All positional items including the name (A1111's ExtraNetworkParams.positional)."""
        return [self.name, *self.args]

    def multiplier(self, index: int = 0, default: float = 1.0) -> float:
        """The index-th positional number after the name (0: the main weight), or default."""
        try:
            return float(self.args[index])
        except (IndexError, ValueError):
            return default


def _tag(kind: str, body: str) -> NetworkTag:
    positional: list[str] = []
    named: dict[str, str] = {}
    for item in body.split(":"):
        key, eq, value = item.partition("=")
        if eq:
            named[key] = value
        else:
            positional.append(item)
    name = positional[0] if positional else ""
    return NetworkTag(kind=kind, name=name, args=tuple(positional[1:]), named=named)


def parse_extra_network_tags(text: str) -> tuple[str, list[NetworkTag]]:
    """(text without the tags, the tags in order of appearance)."""
    tags: list[NetworkTag] = []

    def take(match: re.Match[str]) -> str:
        tags.append(_tag(match.group(1), match.group(2)))
        return ""

    return _TAG.sub(take, text), tags


def strip_extra_network_tags(text: str) -> str:
    return _TAG.sub("", text)
