"""Line-level edits of a text, for the edits at anchors: find a line, the end of the block
below it, insert whole lines, append a block; and YAML's double-quoted strings."""

from __future__ import annotations

import re
from typing import List, Optional, Sequence


def split_lines(text: str) -> List[str]:
    return text.splitlines(keepends=True)


def insert_lines(text: str, index: int, block: str) -> str:
    """`block` (whole lines) inserted before line `index` of `text` (0-based)."""
    lines = split_lines(text)
    if index == len(lines) and lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return "".join(lines[:index] + split_lines(block) + lines[index:])


def find_line(
    lines: Sequence[str], pattern: str, start: int = 0, stop: Optional[int] = None
) -> int:
    """The index of the first line from `start` matching `pattern`, or -1."""
    compiled = re.compile(pattern)
    for i in range(start, len(lines) if stop is None else stop):
        if compiled.match(lines[i]):
            return i
    return -1


def block_end(lines: Sequence[str], start: int, indent: int) -> int:
    """The index after the block that begins below line `start`: the first later line,
    not blank and not a comment, indented `indent` or less."""
    for i in range(start + 1, len(lines)):
        stripped = lines[i].strip()
        if stripped and not stripped.startswith("#") and indent_of(lines[i]) <= indent:
            return i
    return len(lines)


def indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def append_block(text: str, block: str) -> str:
    """`block` after `text`, one blank line between them."""
    return text.rstrip("\n") + "\n\n" + block


def yaml_quoted(text: str) -> str:
    """A YAML double-quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
