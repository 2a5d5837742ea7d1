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


@dataclass
class StepUse:
    target: str | None  # qualified name as imported where it is used
    name: str  # the task's short name
    path: str
    line: int


@dataclass
class ModuleSummary:
    path: str
    module: str
    noqa: NoqaMap
    tasks: list[TaskSummary] = field(default_factory=list)
    steps: list[StepUse] = field(default_factory=list)
    # Short names used other than as a workflow step (calls, .delay, strings in settings...).
    other_uses: Counter[str] = field(default_factory=Counter)


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
