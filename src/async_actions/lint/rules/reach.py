"""Project-wide rules on the call graph: AA101-AA103 and AA107 one step away, AA104 for deletes.

From each task the graph follows what its body calls - helpers, services, methods on `self`,
the hooks of its Task base class, Celery signal receivers that run around it, Django model
signal receivers its writes fire - up to `max-call-depth` calls, and reports the launches and
waits it finds there, at the place in the task where the path starts, with every hop. From
every call made inside `transaction.atomic` (Django's, or the project's own wrapper around it)
it follows the calls the same way to the tasks they send.
"""

from __future__ import annotations

from collections.abc import Callable

from async_actions.lint.config import Config
from async_actions.lint.findings import Finding
from async_actions.lint.graph import Graph, Hop, via, where
from async_actions.lint.index import ProjectIndex, Site, TaskSummary
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
            if hook == "run" and not task.is_class:
                continue  # the decorated function replaces the base's run()
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
                offset = 1 if params[:1] in (["self"], ["cls"]) else 0  # bound: no self passed
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
