"""The shape of a workflow, flattened: what runs in which order, and what runs at once."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import zip_longest
from typing import Any

from celery.canvas import Signature

from async_actions.canvas import leaves

# One position of a flattened workflow: a task name, or the set of names that run at once.
Position = str | frozenset[str]


def workflow_shape(signature: Signature) -> list[Position]:
    """Task names in workflow order; tasks of parallel branches at one position form a set.

    chain(a, group(b, c), d) -> ["a", {"b", "c"}, "d"] (full task names).
    """
    by_position: dict[int, list[tuple[str, str]]] = {}
    for step in leaves(signature.clone()):
        by_position.setdefault(step.position, []).append((step.branch, str(step.signature.task)))
    shape: list[Position] = []
    for position in sorted(by_position):
        found = by_position[position]
        if len(found) == 1 and not found[0][0]:
            shape.append(found[0][1])
        else:
            shape.append(frozenset(name for _, name in found))
    return shape


def _name(item: Any) -> str:
    return str(getattr(item, "name", None) or getattr(item, "task", None) or item)


def _expected(item: Any) -> Position:
    if isinstance(item, set | frozenset | list | tuple):
        return frozenset(_name(member) for member in item)
    return _name(item)


def _matches(expected: str, actual: str) -> bool:
    """A full task name, or its end after a dot ("_store" matches "billing.tasks._store")."""
    return actual == expected or actual.endswith("." + expected)


def _same(expected: Position | None, actual: Position | None) -> bool:
    if isinstance(expected, str) and isinstance(actual, str):
        return _matches(expected, actual)
    if isinstance(expected, frozenset) and isinstance(actual, frozenset):
        return len(expected) == len(actual) and all(
            any(_matches(e, a) for a in actual) for e in expected
        )
    return False


def _show(position: Position | None) -> str:
    if position is None:
        return "-"
    if isinstance(position, str):
        return position
    return "{" + ", ".join(sorted(position)) + "}"


def assert_workflow(signature: Signature, expected: Iterable[Any]) -> None:
    """Fail, showing expected and actual side by side, unless `signature` runs `expected`.

    `expected` lists the tasks in order: a task name (full, or its last dotted part), a task,
    or a set of them for tasks that run at once (a group, a chord's header).
    """
    wanted = [_expected(item) for item in expected]
    actual = workflow_shape(signature)
    if len(wanted) == len(actual) and all(map(_same, wanted, actual)):
        return
    rows = list(zip_longest(wanted, actual))
    width = max([len("expected")] + [len(_show(e)) for e, _ in rows])
    lines = [f"    {'#':>3}  {'expected':<{width}}  actual"]
    for number, (exp, act) in enumerate(rows, start=1):
        mark = "  " if _same(exp, act) else "> "
        lines.append(f"  {mark}{number:>3}  {_show(exp):<{width}}  {_show(act)}")
    raise AssertionError(
        "The workflow is not the expected one (> marks the differences):\n" + "\n".join(lines)
    )
