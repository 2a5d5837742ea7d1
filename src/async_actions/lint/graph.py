"""The project's call graph, built from the per-module function summaries.

Names are resolved as imported (`shop.services.sync_all`), through `self`/`super()` on the
project's classes, and from model writes to the signal receivers they fire. `reach` walks
it breadth first from a start, each function once, up to a depth: cycles end there.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from async_actions.lint.index import ClassSummary, FunctionSummary, ProjectIndex, Site


@dataclass(frozen=True)
class Hop:
    function: FunctionSummary
    label: str  # "sync_all()", "BaseTask.on_failure()", "post_save receiver notify()"

    def text(self) -> str:
        return f"{self.label} ({where(self.function.path, self.function.line)})"


def where(path: str, line: int) -> str:
    rel = os.path.relpath(path) if os.path.isabs(path) else path
    return f"{path if rel.startswith('..') else rel}:{line}"


def via(hops: list[Hop]) -> str:
    return "via " + " -> ".join(h.text() for h in hops)


class Graph:
    def __init__(self, index: ProjectIndex) -> None:
        self.functions: dict[str, FunctionSummary] = {}
        self.classes: dict[str, ClassSummary] = {}
        self.receivers: dict[str, list[tuple[str | None, str]]] = {}
        self.wrappers: dict[str, str] = {}
        for module in index.modules:
            self.functions.update((f.key, f) for f in module.functions)
            self.classes.update((c.key, c) for c in module.classes)
            self.wrappers.update(module.atomic_wrappers)
            for r in module.receivers:
                self.receivers.setdefault(r.signal, []).append((r.sender, r.target))
        self._by_tail: dict[str, list[str]] = {}
        for key in [*self.functions, *self.classes, *self.wrappers]:
            self._by_tail.setdefault(_tail(key), []).append(key)
        self._resolved: dict[str, str | None] = {}
        # Every package and module name of the project: a dotted name whose first part is
        # none of them (`requests.get`, `django...`) is never matched by its tail.
        self._parts = {part for m in index.modules for part in m.module.split(".")}

    def _key(self, qual: str, table: Mapping[str, object]) -> str | None:
        """The key for a name as imported somewhere: exact, or the one module path ending alike.

        The linted tree's module names may be rooted differently from the imports
        (`src/shop/services.py` is `shop.services`), or go through a re-export.
        """
        if qual in table:
            return qual
        if "." not in qual or qual.partition(".")[0] not in self._parts:
            return None  # a builtin, a star import, another library: never guess
        cache_key = f"{id(table)}:{qual}"
        if cache_key not in self._resolved:
            same = [k for k in set(self._by_tail.get(_tail(qual), [])) if k in table]
            found = [k for k in same if k.endswith("." + qual) or qual.endswith("." + k)]
            if not found:
                # Re-exported (`from shop.services import sync` in shop/__init__.py): the same
                # module and name at the end.
                tail2 = ".".join(qual.split(".")[-2:])
                found = [k for k in same if k.endswith("." + tail2) or k == tail2]
            self._resolved[cache_key] = found[0] if len(found) == 1 else None
        return self._resolved[cache_key]

    def function(self, qual: str) -> FunctionSummary | None:
        key = self._key(qual, self.functions)
        if key is not None:
            return self.functions[key]
        owner, _, name = qual.rpartition(".")
        if owner and self._key(owner, self.classes) is not None:
            return self.method(owner, name)  # Service.run, Service().run()
        return None

    def method(
        self, cls: str, name: str, *, inherited_only: bool = False
    ) -> FunctionSummary | None:
        """`name` looked up on class `cls` and its project bases (breadth first: near enough)."""
        start = self._key(cls, self.classes)
        if start is None:
            return None
        todo: deque[tuple[str, bool]] = deque([(start, inherited_only)])
        seen: set[str] = set()
        while todo:
            key, skip = todo.popleft()
            if key in seen or len(seen) > 20:
                continue
            seen.add(key)
            summary = self.classes[key]
            if not skip and name in summary.methods:
                return self.functions.get(f"{key}.{name}")
            for base in summary.bases:
                base_key = self._key(base, self.classes)
                if base_key is not None:
                    todo.append((base_key, False))
        return None

    def callees(self, site: Site) -> list[Hop]:
        target = site.target
        kind, _, rest = target.partition(":")
        if kind in ("self", "super") and rest:
            cls, _, name = rest.partition(":")
            found = self.method(cls, name, inherited_only=kind == "super")
            return [Hop(found, f"{found.name}()")] if found else []
        if kind == "signal" and rest:
            signal, _, model = rest.partition(":")
            hops = []
            for sender, receiver in self.receivers.get(signal, []):
                if sender is None or sender == model:
                    found = self.function(receiver)
                    if found is not None:
                        hops.append(Hop(found, f"{signal} receiver {found.name}()"))
            return hops
        found = self.function(target)
        return [Hop(found, f"{found.name}()")] if found else []

    def reach(
        self, start: list[Hop], depth: int, *, skip_deferred: bool = False
    ) -> Iterator[tuple[Site, list[Hop]]]:
        """Every effect within `depth` functions of `start`, each once, with its path."""
        seen = {h.function.key for h in start}
        todo = deque([[h] for h in start])
        while todo:
            path = todo.popleft()
            function = path[-1].function
            for effect in function.effects:
                if not (skip_deferred and effect.deferred):
                    yield effect, path
            if len(path) >= depth:
                continue
            for call in function.calls:
                if skip_deferred and call.deferred:
                    continue
                for hop in self.callees(call):
                    if hop.function.key not in seen:  # cycles end here
                        seen.add(hop.function.key)
                        todo.append([*path, hop])

    def wrapper(self, qual: str) -> str | None:
        key = self._key(qual, self.wrappers)
        return key


def _tail(key: str) -> str:
    return key.rpartition(".")[2]
