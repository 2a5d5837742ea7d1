"""The project-wide call graph: AA101, AA102, AA103 (and AA104 for delete signals) one step away.

From each task the graph follows what its body calls - helpers, services, methods on `self`,
the hooks of its Task base class, Celery signal receivers that run around it, Django model
signal receivers its writes fire - up to `max-call-depth` calls, and reports the launches and
waits it finds there, at the place in the task where the path starts, with every hop. From
every call made inside `transaction.atomic` (Django's, or the project's own wrapper around it)
it follows the calls the same way to the tasks they send.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from async_actions.lint.config import Config
from async_actions.lint.findings import Finding
from async_actions.lint.index import ClassSummary, FunctionSummary, ProjectIndex, Site, TaskSummary
from async_actions.lint.noqa import silenced

# Task hooks that run in the worker around a task's body.
HOOKS = ("before_start", "__call__", "run", "on_success", "after_return", "on_failure", "on_retry")
# Only the success path launches work that a chain step should have returned instead: a
# notification sent from `on_failure` is not a step of the workflow.
_LAUNCH_HOOKS = frozenset({"before_start", "__call__", "run", "on_success", "after_return"})
_TASK_SIGNALS = frozenset(
    {"task_prerun", "task_postrun", "task_success", "task_failure", "task_retry"}
)
_LAUNCH_SIGNALS = frozenset({"task_prerun", "task_postrun", "task_success"})


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


Report = Callable[[str, int, int, str, str], None]


def check_reach(index: ProjectIndex, config: Config) -> list[Finding]:
    noqa = {m.path: m.noqa for m in index.modules}
    found: list[Finding] = []

    def report(path: str, line: int, col: int, code: str, message: str) -> None:
        if config.enabled(code) and not silenced(noqa.get(path, {}), line, code):
            found.append(Finding(path, line, col, code, message))

    graph = Graph(index)
    depth = config.max_call_depth
    for task in index.tasks.values():
        _task_paths(graph, index, task, depth, report)
    _worker_signals(graph, index, depth, report)
    _transactions(graph, depth, report)
    if config.enabled("AA107"):
        _tracking(graph, report)
    if not any(m.uses_pickle for m in index.modules):
        for module in index.modules:
            for line, col, message in module.pending_instances:
                report(module.path, line, col, "AA104", message)
    return found


def _step_where(index: ProjectIndex, task: TaskSummary) -> str | None:
    steps = index.steps.get(task.key)
    if not steps:
        return None
    step = min(steps, key=lambda s: (s.path, s.line))
    return where(step.path, step.line)


def _message(code: str, effect: Site, path: list[Hop], task: str, step: str | None) -> str:
    at = f"{effect.text} ({where(path[-1].function.path, effect.line)})"
    if code == "AA103":
        return (
            f"{at} waits for another task inside task `{task}`, {via(path)}: the worker sits "
            "blocked and can deadlock when all workers wait. Chain the next step instead."
        )
    return (
        f"{at} launches work inside task `{task}`, which runs as a chain step in {step}, "
        f"{via(path)}: the outer chain will not wait for it. Return the signatures from a "
        "@chainable, or use self.replace()."
    )


def _task_paths(
    graph: Graph, index: ProjectIndex, task: TaskSummary, depth: int, report: Report
) -> None:
    step = _step_where(index, task)
    body = graph.functions.get(task.body)
    if body is not None:
        for call in body.calls:
            done: set[str] = set()
            for hop in graph.callees(call):
                for effect, path in graph.reach([hop], depth):
                    code = _code(effect, step, launch_ok=True)
                    if code and code not in done:
                        done.add(code)
                        report(
                            task.path,
                            call.line,
                            call.col,
                            code,
                            _message(code, effect, path, task.name, step),
                        )
    # The hooks of its base class, and Celery signal receivers for this task by name.
    starts: list[tuple[Hop, bool]] = []
    owner = task.key if task.is_class else task.base
    if owner is not None:
        for hook in HOOKS:
            method = graph.method(owner, hook)
            if method is not None and method.key != task.body:
                starts.append(
                    (Hop(method, f"{method.key.split('.')[-2]}.{hook}()"), hook in _LAUNCH_HOOKS)
                )
    for signal in _TASK_SIGNALS:
        for sender, receiver in graph.receivers.get(signal, []):
            if sender is not None and sender == task.name:
                function = graph.function(receiver)
                if function is not None:
                    starts.append(
                        (
                            Hop(function, f"{signal} receiver {function.name}()"),
                            signal in _LAUNCH_SIGNALS,
                        )
                    )
    reported: set[tuple[str, str]] = set()
    for hop, launch_ok in starts:
        for effect, path in graph.reach([hop], depth):
            code = _code(effect, step, launch_ok=launch_ok)
            if code and (code, hop.function.key) not in reported:
                reported.add((code, hop.function.key))
                report(
                    task.path,
                    task.line,
                    task.col,
                    code,
                    _message(code, effect, path, task.name, step),
                )


def _code(effect: Site, step: str | None, *, launch_ok: bool) -> str | None:
    if effect.target == "wait":
        return "AA103"
    if effect.target == "launch" and step is not None and launch_ok:
        return "AA101"
    return None


def _worker_signals(graph: Graph, index: ProjectIndex, depth: int, report: Report) -> None:
    """Receivers of task_prerun & co. without a sender run inside every task."""
    steps = [t for t in index.tasks.values() if index.steps.get(t.key)]
    for signal in sorted(_TASK_SIGNALS):
        for sender, receiver in graph.receivers.get(signal, []):
            function = graph.function(receiver) if sender is None else None
            if function is None:
                continue
            hop = Hop(function, f"{signal} receiver {function.name}()")
            for effect, path in graph.reach([hop], depth):
                if effect.target == "wait":
                    code = "AA103"
                elif effect.target == "launch" and steps and signal in _LAUNCH_SIGNALS:
                    code = "AA101"
                else:
                    continue
                at = where(path[-1].function.path, effect.line)
                what = (
                    "waits for another task"
                    if code == "AA103"
                    else f"launches work that chain steps such as `{steps[0].name}` do not return"
                )
                report(
                    function.path,
                    function.line,
                    1,
                    code,
                    f"{effect.text} ({at}) {what} inside every task, {via(path)}: a "
                    f"`{signal}` receiver without a sender runs in the worker around each "
                    "task.",
                )


def _transactions(graph: Graph, depth: int, report: Report) -> None:
    for function in graph.functions.values():
        for effect in function.effects:
            if effect.target != "send" or effect.atomic or effect.deferred:
                continue
            wrapper = _wrapped(graph, effect)
            if wrapper is not None:
                report(
                    function.path,
                    effect.line,
                    effect.col,
                    "AA102",
                    f"{effect.text} inside `{wrapper}`, the project's own wrapper around "
                    "`transaction.atomic`: the worker can start before the commit and not "
                    "find the rows. Send it with `transaction.on_commit(lambda: ...)` or "
                    "`.delay_on_commit()`.",
                )
        for call in function.calls:
            if call.deferred:
                continue
            inside = "transaction.atomic" if call.atomic else _wrapped(graph, call)
            if inside is None:
                continue
            for hop in graph.callees(call):
                sent = next(
                    (
                        e
                        for e in graph.reach([hop], depth, skip_deferred=True)
                        if e[0].target == "send"
                    ),
                    None,
                )
                if sent is not None:
                    effect, path = sent
                    at = where(path[-1].function.path, effect.line)
                    report(
                        function.path,
                        call.line,
                        call.col,
                        "AA102",
                        f"{effect.text} ({at}) is sent inside `{inside}` here, {via(path)}: "
                        "the worker can start before the commit and not find the rows. "
                        "Send it with `transaction.on_commit(lambda: ...)` or "
                        "`.delay_on_commit()`.",
                    )
                    break


def _wrapped(graph: Graph, site: Site) -> str | None:
    for context in site.contexts:
        if graph.wrapper(context) is not None:
            return context.rpartition(".")[2]
    return None


def _tracking(graph: Graph, report: Report) -> None:
    """AA107 one step away: a helper that forwards its parameter to a task as the report id."""
    for function in graph.functions.values():
        events: list[tuple[int, int, str, str, Hop | None]] = [
            (line, col, value, task, None) for value, task, line, col in function.tracking
        ]
        for call in function.calls:
            if not call.args:
                continue
            for hop in graph.callees(call):
                params = hop.function.params
                offset = 1 if params[:1] in (["self"], ["cls"]) and "." in call.text[:-2] else 0
                for selector, value in call.args:
                    if selector.isdigit():
                        index = int(selector) + offset
                        param = params[index] if index < len(params) else None
                    else:
                        param = selector
                    for forwarded, task, _, _ in hop.function.tracking:
                        if param is not None and forwarded == param:
                            events.append((call.line, call.col, value, task, hop))
        if len(events) < 2:
            continue
        first: dict[str, tuple[str, Hop | None]] = {}
        for line, col, value, task, helper in sorted(events, key=lambda e: (e[0], e[1])):
            owner = first.setdefault(value, (task, helper))
            if owner[0] == task or (owner[1] is None and helper is None):
                continue  # the same task, or both direct: the per-file AA107 has it
            where_hop = helper or owner[1]
            assert where_hop is not None
            report(
                function.path,
                line,
                col,
                "AA107",
                f"`{value}` is given as the report id to task `{task}` and to task "
                f"`{owner[0]}`, {via([where_hop])}: one report tracks one task, and two tasks "
                "writing it overwrite each other's status. Create a report per task.",
            )
