"""The rules, one module per family. Each module has a `Rule` class with walk hooks.

Hooks (all optional) are called by the analyzer during its single walk of a module:
`enter_function(ctx, node)`, `exit_function(ctx, node)`, `call(ctx, node)`, `binop(ctx, node)`,
`reference(ctx, node)`, `end_module(ctx, summary)`. Project-wide rules (AA101, AA106) read the
summaries afterwards, in `workflow.check_project`.
"""

from __future__ import annotations

# code -> one-line title, for --help, docs and the JSON output.
RULES: dict[str, str] = {
    "AA101": "work launched inside a task that runs as a workflow step (nested-chain race)",
    "AA102": ".delay()/.apply_async() inside transaction.atomic without on_commit",
    "AA103": "waiting on a result inside a task",
    "AA104": "a Django model instance passed as a task argument",
    "AA105": "business logic in a task: too long, or ORM writes",
    "AA106": "a task used only as a workflow step has a public name",
    "AA107": "one report/tracking id passed to several different tasks",
    "AA108": "a @chainable function returns something that is not signatures",
}
