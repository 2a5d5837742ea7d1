"""What a check reports: one problem at one place in one file."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# Not a rule: reported for a file that does not parse, whatever --select says.
SYNTAX_ERROR = "AA000"


@dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int
    col: int  # 1-based, as editors and ruff count
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
