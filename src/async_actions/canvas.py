"""Flat workflows: the talk's `@chainable`, and walking a canvas into its steps.

    @chainable
    def sync_account(account_id):
        return _fetch.s(account_id), _store.s()

    start_action("Sync", chain(*sync_account(1), _notify.s()))

Composing signatures instead of launching a chain from inside a task keeps one flat
workflow, so the next step waits for the last one (the talk's Problem 3).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import wraps
from typing import Any, ParamSpec

from celery import Task
from celery.canvas import Signature, chord, group

from async_actions._celery_internals import ChainType, plain_task
from async_actions.errors import NotChainableError

P = ParamSpec("P")


def chainable(func: Callable[P, Any]) -> Callable[P, tuple[Signature, ...]]:
    """Make `func` return a flat tuple of signatures, ready to splice into `chain(...)`.

    `func` may return a signature, or an iterable of signatures, chains (spliced) and nested
    iterables (flattened in order) - such as other chainables' results. Anything else is a
    `NotChainableError` naming the function and the item.
    """

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> tuple[Signature, ...]:
        return tuple(_flatten(func(*args, **kwargs), func))

    return wrapper


def _flatten(item: Any, func: Callable[..., Any]) -> Iterator[Signature]:
    if isinstance(item, ChainType):
        yield from item.tasks
    elif isinstance(item, Signature):
        yield item
    elif isinstance(item, Task):
        raise _not_chainable(func, item, hint=" - a task, not a signature: call .s() or .si()")
    elif isinstance(item, str | bytes | dict) or not isinstance(item, Iterable):
        raise _not_chainable(func, item)
    else:
        for element in item:
            yield from _flatten(element, func)


def _not_chainable(func: Callable[..., Any], item: Any, hint: str = "") -> NotChainableError:
    return NotChainableError(
        f"@chainable function {func.__module__}.{func.__qualname__} must return "
        f"signatures (task.s(...), task.si(...)), got {type(item).__name__}: {item!r:.80}{hint}"
    )


@dataclass(frozen=True)
class StepSpec:
    signature: Signature
    position: int
    branch: str


def leaves(signature: Signature) -> list[StepSpec]:
    """Every task of a (frozen) canvas, with its order and parallel branch."""
    found: list[StepSpec] = []
    _walk(signature, 0, "", found)
    return found


def plain_chain_tasks(signature: Signature) -> list[Signature] | None:
    """The tasks of a chain made only of plain tasks (no nesting, no callbacks), else None.

    Such a chain needs no freezing to know its task ids: each task's own id is its step's,
    and Celery keeps ids already set when it publishes the chain.
    """
    if not isinstance(signature, ChainType):
        return None
    tasks = list(signature.tasks)
    return tasks if tasks and all(plain_task(task) for task in tasks) else None


def needs_chords(signature: Signature) -> bool:
    """Whether Celery will run `signature` as a chord (it needs a result backend then)."""
    if isinstance(signature, chord):
        return True
    if isinstance(signature, ChainType):
        tasks = list(signature.tasks)
        # A group followed by more work is upgraded to a chord.
        if any(isinstance(task, group) for task in tasks[:-1]):
            return True
        return any(needs_chords(task) for task in tasks)
    if isinstance(signature, group):
        return any(needs_chords(task) for task in signature.tasks)
    return False


def _walk(sig: Signature, position: int, branch: str, found: list[StepSpec]) -> int:
    """Record the tasks of `sig` from `position` on; return the position after them."""
    if isinstance(sig, chord):
        after_header = _walk(
            sig.tasks if isinstance(sig.tasks, group) else group(sig.tasks), position, branch, found
        )
        return _walk(sig.body, after_header, branch, found)
    if isinstance(sig, group):
        ends = [
            _walk(member, position, f"{branch}.{index}" if branch else str(index), found)
            for index, member in enumerate(sig.tasks)
        ]
        return max(ends, default=position)
    if isinstance(sig, ChainType):
        for task in sig.tasks:
            position = _walk(task, position, branch, found)
        return position
    found.append(StepSpec(signature=sig, position=position, branch=branch))
    return position + 1
