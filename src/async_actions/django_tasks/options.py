"""The backend's OPTIONS, its system checks, and how DEP 14's priority maps to Celery's.

    "OPTIONS": {
        "actions": {"shop.tasks.send_receipt": "Send a receipt"},  # action names by task path
        "retry_on": ["requests.ConnectionError"],  # exceptions that are retried ...
        "max_retries": 3,  # ... this many times
        "retry_delay": 10,  # seconds between attempts
    }

DEP 14 has no retries of its own; a backend alias with retry options is how a task opts in
(`@task(backend="retrying")`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core import checks
from django.utils.module_loading import import_string

from async_actions.django_tasks._compat import DEFAULT_TASK_QUEUE_NAME

KNOWN_OPTIONS = ("actions", "retry_on", "max_retries", "retry_delay")
# Brokers whose queues deliver higher-priority messages first.
PRIORITY_BROKERS = ("redis", "amqp")
_BROKER_KINDS = {
    "redis": "redis",
    "rediss": "redis",
    "sentinel": "redis",
    "amqp": "amqp",
    "amqps": "amqp",
    "pyamqp": "amqp",
}


@dataclass(frozen=True)
class BackendOptions:
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_params(cls, options: Any) -> BackendOptions:
        return cls(raw=dict(options) if isinstance(options, dict) else {"<not a dict>": options})

    @property
    def actions(self) -> dict[str, str]:
        actions = self.raw.get("actions") or {}
        return actions if isinstance(actions, dict) else {}

    @property
    def max_retries(self) -> int:
        return int(self.raw.get("max_retries", 0) or 0)

    @property
    def retry_delay(self) -> float:
        return float(self.raw.get("retry_delay", 0) or 0)

    def retry_on(self) -> tuple[type[BaseException], ...]:
        return tuple(import_string(path) for path in self.raw.get("retry_on") or ())


def broker_kind(app: Any) -> str:
    """'redis', 'amqp', or the transport's own name ('filesystem', 'memory' ...)."""
    url = str(app.conf.broker_url or "amqp://")
    scheme = url.split("://", 1)[0].split("+", 1)[0].lower()
    return _BROKER_KINDS.get(scheme, scheme)


def celery_priority(priority: int, app: Any) -> int:
    """DEP 14's -100 (lowest) .. 100 (highest) as Celery's 0..9 for this broker.

    RabbitMQ delivers higher numbers first; kombu's Redis transport delivers 0 first.
    """
    scaled = (priority + 100) * 9 // 200
    return 9 - scaled if broker_kind(app) == "redis" else scaled


def check_backend(alias: str, options: BackendOptions, queues: set[str]) -> Iterator[Any]:
    where = f"TASKS[{alias!r}]"
    for key in sorted(set(options.raw) - set(KNOWN_OPTIONS)):
        yield checks.Error(
            f"Unknown key {key!r} in {where}['OPTIONS'].",
            hint=f"Known keys: {', '.join(KNOWN_OPTIONS)}.",
            id="async_actions.E101",
        )
    actions = options.raw.get("actions", {})
    if not isinstance(actions, dict) or not all(
        isinstance(v, str) and v.strip() for v in actions.values()
    ):
        yield checks.Error(
            f"{where}['OPTIONS']['actions'] must map task paths to non-empty action names.",
            id="async_actions.E102",
        )
    yield from _check_retries(where, options)
    if queues and DEFAULT_TASK_QUEUE_NAME not in queues:
        yield checks.Warning(
            f"{where}['QUEUES'] does not list {DEFAULT_TASK_QUEUE_NAME!r}, the queue every "
            f"@task uses unless given queue_name.",
            id="async_actions.W101",
        )


def _check_retries(where: str, options: BackendOptions) -> Iterator[Any]:
    for key in ("max_retries", "retry_delay"):
        value = options.raw.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            yield checks.Error(
                f"{where}['OPTIONS'][{key!r}] must be a number >= 0, got {value!r}.",
                id="async_actions.E103",
            )
    for path in options.raw.get("retry_on") or ():
        try:
            found = import_string(path)
        except ImportError as exc:
            found, reason = None, str(exc)
        else:
            reason = "it is not an exception class"
        if not (isinstance(found, type) and issubclass(found, BaseException)):
            yield checks.Error(
                f"{where}['OPTIONS']['retry_on'] lists {path!r}: {reason}.",
                hint="Give dotted paths of exception classes, e.g. 'builtins.ConnectionError'.",
                id="async_actions.E104",
            )
