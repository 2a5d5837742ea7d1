"""The fenced code blocks of a Markdown section, in order: what the docs tell a reader to do."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^```(?P<language>[\w-]*)\n(?P<source>.*?)^```$", re.MULTILINE | re.DOTALL)
# A block that is a file of the reader's project says so on its first line.
FILE_LINE = re.compile(r"^# (?P<path>[\w./-]+\.(?:py|toml|ini|cfg))(?P<append> - add at the end)?$")
SHELL_LINE = "# python manage.py shell"


@dataclass(frozen=True)
class Block:
    language: str
    source: str

    @property
    def first_line(self) -> str:
        return self.source.split("\n", 1)[0]

    @property
    def file(self) -> re.Match[str] | None:
        return FILE_LINE.match(self.first_line)

    @property
    def commands(self) -> list[str]:
        return [line[2:] for line in self.source.splitlines() if line.startswith("$ ")]


def section(path: Path, heading: str) -> str:
    """The text under `heading` up to the next heading (of any level but the first)."""
    text = path.read_text()
    start = text.index(f"\n{heading}\n") + len(heading) + 2
    following = re.compile(r"^#{2,6} ", re.MULTILINE).search(text, start)
    return text[start : following.start() if following else len(text)]


def blocks(path: Path, heading: str) -> list[Block]:
    return [Block(m["language"], m["source"]) for m in FENCE.finditer(section(path, heading))]


def blocks_of(path: Path) -> list[Block]:
    """Every block of the page."""
    return [Block(m["language"], m["source"]) for m in FENCE.finditer(path.read_text())]
