"""The prompt-editing grammar: a prompt as a tree of text, [from:to:when] edits, [a|b] alternations
and emphasis groups (kept as text, resolved later by parse_prompt_attention).

    prompt    := (group | literal | text)*        literal: a '(' '[' ')' ']' ':' that starts no group
    group     := "(" items ")" | "(" items ":" items ")" | "[" items "]"
               | "[" [items ":"] items ":" WS? NUMBER WS? "]"          (edit)
               | "[" items ("|" items)+ "]"                            (alternation)
    items     := (group | text)*                   (no stray brackets, ':' or '|' inside a group)
    text      := runs of anything but \\ [ ] ( ) : |, and backslash escapes '\\' + any char but newline

A '|' outside an alternation, or a backslash at the end or before a newline, makes the whole prompt
unparseable (it is then used verbatim). Pure functions; see modules/prompt_parser.py for the users.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# lark's common.SIGNED_NUMBER (ASCII digits; '1e3', '.5', '5.', '+2' are numbers), with optional spaces around
_WHEN = re.compile(r"\s*([+-]?(?:[0-9]+[eE][+-]?[0-9]+|(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[0-9]+))\s*")
_TEXT_STOP = frozenset("\\[]():|")


@dataclass(frozen=True)
class Emphasis:
    """A bracket group that prompt editing leaves as text: '(' parts ')' or '[' part ']'."""

    open: str
    close: str
    parts: tuple[list[Node], ...]  # one, or two separated by ':' for '(x:1.2)'


@dataclass(frozen=True)
class Scheduled:
    before: list[Node] | None  # None for [to:when]
    after: list[Node]
    when: str  # the number as written


@dataclass(frozen=True)
class Alternate:
    options: tuple[list[Node], ...]


Node = str | Emphasis | Scheduled | Alternate


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.groups: dict[int, tuple[Node, int] | None] = {}  # a group's parse depends only on where it starts

    def text_run(self, i: int) -> tuple[str, int] | None:
        """Plain text from i (at least one char), or None for a backslash that escapes nothing."""
        text, start = self.text, i
        while i < len(text) and text[i] not in _TEXT_STOP:
            i += 1
        while i < len(text) and text[i] == "\\":
            if i + 1 >= len(text) or text[i + 1] == "\n":
                return None
            i += 2
            while i < len(text) and text[i] not in _TEXT_STOP:
                i += 1
        return text[start:i], i

    def top(self) -> list[Node] | None:
        text, nodes, i = self.text, [], 0
        while i < len(text):
            char = text[i]
            if char in "([":
                found = self.group(i)
                if found is not None:
                    nodes.append(found[0])
                    i = found[1]
                    continue
            if char in "([)]:":
                nodes.append(char)
                i += 1
                continue
            if char == "|":
                return None
            run = self.text_run(i)
            if run is None:
                return None
            nodes.append(run[0])
            i = run[1]
        return nodes

    def group(self, start: int) -> tuple[Node, int] | None:
        if start not in self.groups:
            self.groups[start] = self._group(start)
        return self.groups[start]

    def _group(self, start: int) -> tuple[Node, int] | None:
        text = self.text
        opener = text[start]
        closer = ")" if opener == "(" else "]"
        segments: list[list[Node]] = [[]]
        separators: list[str] = []
        i = start + 1
        while True:
            if i >= len(text):
                return None
            char = text[i]
            if char == closer:
                break
            if char in "([":
                found = self.group(i)
                if found is None:
                    return None
                segments[-1].append(found[0])
                i = found[1]
            elif char in ")]":
                return None
            elif char in ":|":
                separators.append(char)
                segments.append([])
                i += 1
            else:
                run = self.text_run(i)
                if run is None:
                    return None
                segments[-1].append(run[0])
                i = run[1]
        node = _classify(opener, segments, separators)
        return None if node is None else (node, i + 1)


def _classify(opener: str, segments: list[list[Node]], separators: list[str]) -> Node | None:
    if opener == "(":
        return Emphasis("(", ")", tuple(segments)) if len(separators) <= 1 and "|" not in separators else None
    if not separators:
        return Emphasis("[", "]", tuple(segments))
    if all(sep == "|" for sep in separators):
        return Alternate(tuple(segments))
    if "|" in separators or len(separators) > 2:
        return None
    when = segments[-1]
    if len(when) > 1 or (when and not isinstance(when[0], str)):
        return None
    number = _WHEN.fullmatch(when[0] if when else "")
    if number is None:
        return None
    before = segments[0] if len(separators) == 2 else None
    return Scheduled(before=before, after=segments[-2], when=number.group(1))


def count_schedules(nodes: list[Node]) -> int:
    """How many [from:to:when] edits and [a|b] alternations the tree holds, nested ones included."""
    count = 0
    stack: list[list[Node]] = [nodes]
    while stack:
        for node in stack.pop():
            if isinstance(node, Scheduled):
                count += 1
                stack += [node.before or [], node.after]
            elif isinstance(node, Alternate):
                count += 1
                stack += list(node.options)
            elif isinstance(node, Emphasis):
                stack += list(node.parts)
    return count


def parse_schedule_tree(prompt: str) -> list[Node] | None:
    """The prompt as a node list, or None when it does not parse (it is then used verbatim)."""
    try:
        return _Parser(prompt).top()
    except RecursionError:  # thousands of nested brackets
        return None
