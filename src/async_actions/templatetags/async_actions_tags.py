"""Template filters of the dashboard."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import template

register = template.Library()


@register.filter
def duration(value: timedelta | None) -> str:
    """12.3 s, 4 min 05 s, 2 h 07 min; "-" when it has not started."""
    if value is None:
        return "-"
    seconds = max(value.total_seconds(), 0.0)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@register.filter
def short_task(name: str) -> str:
    return name.rsplit(".", 1)[-1]


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key)
