"""Settings: one ``ASYNC_ACTIONS`` dict, read lazily, defaults in one place.

    ASYNC_ACTIONS = {"LOST_AFTER": 3600}

Values are read at use time and the cache is dropped on Django's ``setting_changed``,
so ``override_settings(ASYNC_ACTIONS=...)`` works in tests.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.core.signals import setting_changed

SETTING_NAME = "ASYNC_ACTIONS"

DEFAULTS: dict[str, Any] = {
    # Seconds after its countdown/ETA (or creation) a report no worker took counts as lost
    # (a message dropped by the broker). See `async_actions_reap`.
    "LOST_AFTER": 6 * 60 * 60,
    # Each worker process records that it is alive every HEARTBEAT_INTERVAL seconds; a
    # running report whose worker has been silent for WORKER_LOST_AFTER seconds is lost.
    "HEARTBEAT_INTERVAL": 10,
    "WORKER_LOST_AFTER": 60,
    # Seconds after its creation an unfinished report is parked by the reaper, which then
    # finds it by `not_before` instead of by creation time (async_actions.parking). A start
    # whose caller's transaction stays open longer than this is never seen by the reaper.
    "PARK_AFTER": 60 * 60,
    # Seconds a worker keeps retrying a status write the database did not take (an outage)
    # before giving it up; meanwhile it keeps running tasks. See async_actions.backlog.
    "WRITE_RETRY_WINDOW": 24 * 60 * 60,
    # Keep the worker's database connection across tasks and close it only when Django's
    # own rules say so (CONN_MAX_AGE, CONN_HEALTH_CHECKS), like a request does. Celery's
    # default closes every connection around every task, which costs a reconnect per task.
    "WORKER_CONN_REUSE": True,
    # Seconds a worker process may hold starts and successes before writing them, many
    # reports per statement (see async_actions.buffer). 0 writes each one at once.
    "TRACKING_FLUSH_INTERVAL": 0.05,
    # How a start's message reaches the broker. "commit": the caller publishes it right after
    # its commit. "relay": the start's INSERT keeps the message in the report's outbox and a
    # relay publishes it (`async_actions_relay --follow`, see docs/reliability.md): the
    # caller pays one INSERT, and a caller that dies after its commit loses no message.
    "PUBLISH": "commit",
    # Secrets shorter than this are not scrubbed from stored errors: replacing every "1" or
    # "ab" in a traceback would destroy it and protect nothing.
    "MIN_SECRET_LENGTH": 4,
    # Regexes whose whole match is scrubbed from every stored text, after the built-in
    # rules (sensitive settings and environment variables, passwords in URLs).
    "SCRUB_PATTERNS": (),
    # Dotted path to a `str -> str` function applied last to every stored text, or None.
    "SCRUB": None,
    # Longest error message stored; tracebacks are cut to TRACEBACK_MAX_CHARS, keeping the end.
    "ERROR_MESSAGE_MAX_CHARS": 10_000,
    "TRACEBACK_MAX_CHARS": 50_000,
    # set_progress() writes at most once per this many seconds per task (and always the last).
    "PROGRESS_MIN_INTERVAL": 0.5,
    # cancel_action() on a running step: revoke it (False: it finishes, later steps never
    # run) or also terminate its process (True: only for tasks safe to kill mid-way).
    "CANCEL_TERMINATES": False,
    # Rows per dashboard page and JSON list page.
    "DASHBOARD_PAGE_SIZE": 50,
    # Seconds between the dashboard's refreshes of unfinished rows.
    "DASHBOARD_POLL_INTERVAL": 1.5,
    # Largest return value, as JSON, that a django.tasks run stores on its report; past it
    # the run fails with TaskReturnValueError (return an id, keep the data in your models).
    "TASK_RETURN_VALUE_MAX_BYTES": 64 * 1024,
}


class AsyncActionsSettings:
    def __init__(self) -> None:
        self._cache: dict[str, Any] = {}

    @property
    def user_settings(self) -> Any:
        """The project's dict as given (a system check reports anything but a dict)."""
        value = getattr(django_settings, SETTING_NAME, None)
        return {} if value is None else value

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown async_actions setting {name!r}")
        if name not in self._cache:
            self._cache[name] = self.user_settings.get(name, DEFAULTS[name])
        return self._cache[name]

    def reload(self) -> None:
        self._cache.clear()


aa_settings = AsyncActionsSettings()


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTING_NAME:
        aa_settings.reload()


setting_changed.connect(_on_setting_changed)
