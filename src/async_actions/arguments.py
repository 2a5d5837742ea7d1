"""Arguments of a stored signature, for people to read: sensitive values masked.

An argument whose name looks sensitive (Django's own rule for settings: API, KEY, TOKEN,
PASS, SECRET, SIGNATURE ... anywhere in the name) is shown as Django's substitute, at any
depth of a dict. Positional arguments are named from the task's signature when it is known.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from celery import current_app
from django.views.debug import get_default_exception_reporter_filter


def masked(name: str, value: Any) -> Any:
    """`value`, or the substitute if `name` (or a key inside it) looks sensitive."""
    return get_default_exception_reporter_filter().cleanse_setting(name, value)


def _parameter_names(task_name: str) -> list[str]:
    task = current_app.tasks.get(task_name)
    if task is None:
        return []
    try:
        parameters = inspect.signature(task.run).parameters.values()
    except (TypeError, ValueError):
        return []
    return [
        p.name
        for p in parameters
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name != "self"
    ]


def _tasks(data: Any) -> Iterator[dict[str, Any]]:
    """Every single task in a stored canvas, in workflow order."""
    if not isinstance(data, dict):
        return
    kwargs = data.get("kwargs") or {}
    kind = data.get("subtask_type")
    if kind in ("chain", "group"):
        for task in kwargs.get("tasks") or []:
            yield from _tasks(task)
    elif kind == "chord":
        yield from _tasks(kwargs.get("header"))
        yield from _tasks(kwargs.get("body"))
    else:
        yield data


def task_arguments(data: dict[str, Any] | None) -> list[tuple[str, dict[str, Any]]]:
    """[(task name, {argument name: masked value})] of a stored signature."""
    shown = []
    for task in _tasks(data):
        name = str(task.get("task", ""))
        names = _parameter_names(name)
        arguments: dict[str, Any] = {}
        for index, value in enumerate(task.get("args") or []):
            label = names[index] if index < len(names) else f"arg{index + 1}"
            arguments[label] = masked(label, value)
        for key, value in (task.get("kwargs") or {}).items():
            arguments[str(key)] = masked(str(key), value)
        shown.append((name, arguments))
    return shown
