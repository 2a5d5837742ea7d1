"""The project-wide index: every task, where tasks run as workflow steps, and other uses.

Each file contributes a small, picklable `ModuleSummary` during its single walk; the index
joins them so AA101/AA106 can ask "is this task a step anywhere in the project?".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from async_actions.lint.noqa import NoqaMap


@dataclass
class Launch:
    line: int
    col: int
    how: str  # ".delay()", "chain(...)()"


@dataclass
class TaskSummary:
    key: str
    name: str
    path: str
    line: int
    col: int
    is_class: bool
    explicit_name: bool
    launches: list[Launch] = field(default_factory=list)
    body: str = ""  # key of the function that runs (the function, or the class's run())
    base: str | None = None  # `base=` of the decorator, qualified as imported


@dataclass
class StepUse:
    target: str | None  # qualified name as imported where it is used
    name: str  # the task's short name
    path: str
    line: int


@dataclass(frozen=True)
class Site:
    """A call, a send, a wait or a launch in a function, as the call graph needs it.

    `target` is what is called (a qualified name, `self:<class>:<method>`,
    `super:<class>:<method>` or `signal:<signal>:<model>`) or, for effects, the kind.
    """

    target: str
    line: int
    col: int
    text: str
    atomic: bool = False  # inside transaction.atomic (Django's own) in this function
    contexts: tuple[str, ...] = ()  # other with-blocks and decorators around it, qualified
    deferred: bool = False  # inside transaction.on_commit(...): runs after the commit
    # For AA107: (position or keyword, argument as written) of arguments that look like a
    # report id, so a helper forwarding its parameter to a task can be followed.
    args: tuple[tuple[str, str], ...] = ()


@dataclass
class FunctionSummary:
    key: str  # module.function or module.Class.method
    name: str
    path: str
    line: int
    calls: list[Site] = field(default_factory=list)
    effects: list[Site] = field(default_factory=list)  # target: launch / send / wait
    params: list[str] = field(default_factory=list)
    # (id as written, task as written, line, col) for each report id sent to a task here
    tracking: list[tuple[str, str, int, int]] = field(default_factory=list)


@dataclass
class ClassSummary:
    key: str
    bases: list[str]  # qualified as imported
    methods: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Receiver:
    signal: str  # short name: post_save, task_success...
    sender: str | None  # the sender's short name, None for every sender
    target: str  # the receiving function, qualified as written where it is connected


@dataclass
class ModuleSummary:
    path: str
    module: str
    noqa: NoqaMap
    tasks: list[TaskSummary] = field(default_factory=list)
    steps: list[StepUse] = field(default_factory=list)
    # Short names used other than as a workflow step (calls, .delay, strings in settings...).
    other_uses: Counter[str] = field(default_factory=Counter)
    is_test: bool = False  # a test module: its uses of a task are not public uses
    functions: list[FunctionSummary] = field(default_factory=list)
    classes: list[ClassSummary] = field(default_factory=list)
    receivers: list[Receiver] = field(default_factory=list)
    # function/class key -> "cm" (used as `with`), "deco" (used as a decorator) or "both":
    # the project's own wrappers around transaction.atomic.
    atomic_wrappers: dict[str, str] = field(default_factory=dict)
    uses_pickle: bool = False  # configures a pickle serializer (model instances do travel)
    # AA104 findings that hold only if model instances cannot travel (no pickle serializer).
    pending_instances: list[tuple[int, int, str]] = field(default_factory=list)


class ProjectIndex:
    def __init__(self, summaries: Iterable[ModuleSummary]) -> None:
        self.modules = list(summaries)
        self.tasks: dict[str, TaskSummary] = {}
        self.by_name: dict[str, list[TaskSummary]] = {}
        self.other_uses: Counter[str] = Counter()
        for summary in self.modules:
            for task in summary.tasks:
                self.tasks[task.key] = task
                self.by_name.setdefault(task.name, []).append(task)
            if not summary.is_test:
                self.other_uses.update(summary.other_uses)
        self.steps: dict[str, list[StepUse]] = {}
        for summary in self.modules:
            for step in summary.steps:
                found = self.resolve(step.target, step.name)
                if found is not None:
                    self.steps.setdefault(found.key, []).append(step)

    def resolve(self, target: str | None, name: str) -> TaskSummary | None:
        if target in self.tasks:
            return self.tasks[target]
        same_name = self.by_name.get(name, [])
        if len(same_name) == 1:
            return same_name[0]  # imported through a re-export or a differently rooted path
        if target:
            # Several tasks share the short name: take the one whose module path ends alike.
            suffix = [t for t in same_name if t.key.endswith(target) or target.endswith(t.key)]
            if len(suffix) == 1:
                return suffix[0]
        return None
