"""Sample arguments for a task, built from its type annotations, to try its serializer."""

from __future__ import annotations

import datetime
import decimal
import inspect
import types
import typing
import uuid
from collections.abc import Callable
from typing import Any

_PLAIN: dict[Any, Any] = {
    int: 1,
    float: 1.5,
    str: "text",
    bool: True,
    type(None): None,
    uuid.UUID: uuid.UUID(int=1),
    datetime.datetime: datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
    datetime.date: datetime.date(2026, 1, 2),
    decimal.Decimal: decimal.Decimal("1.50"),
}


class NoSample(Exception):
    def __init__(self, parameter: str, annotation: Any) -> None:
        super().__init__(parameter)
        self.parameter = parameter
        self.annotation = getattr(annotation, "__name__", None) or repr(annotation)


def _sample(annotation: Any, parameter: str) -> Any:
    if annotation in _PLAIN:
        return _PLAIN[annotation]
    if annotation is Any:
        return "text"
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        # Optional[X]: try the value that is not None.
        chosen = [arg for arg in args if arg is not type(None)] or [type(None)]
        return _sample(chosen[0], parameter)
    if origin in (list, tuple, set, frozenset) or annotation in (list, tuple, set, frozenset):
        member = _sample(args[0], parameter) if args and args[0] is not Ellipsis else 1
        return (origin or annotation)([member])
    if origin is dict or annotation is dict:
        value = _sample(args[1], parameter) if len(args) == 2 else 1
        return {"key": value}
    if origin is typing.Literal:
        return args[0]
    raise NoSample(parameter, annotation)


def sample_arguments(func: Callable[..., Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """(args, kwargs) with a value for every annotated parameter; others are left out."""
    try:
        hints = typing.get_type_hints(func)
    except Exception:  # annotations naming what is not importable here: nothing to try
        return (), {}
    kwargs: dict[str, Any] = {}
    for parameter in inspect.signature(func).parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if parameter.name in hints:
            kwargs[parameter.name] = _sample(hints[parameter.name], parameter.name)
    return (), kwargs
