"""System checks, each with a stable id (tested by id). Settings are read through `conf`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from async_actions.conf import DEFAULTS, SETTING_NAME, aa_settings


@register()
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    user = aa_settings.user_settings
    if not isinstance(user, dict):
        return [
            Error(
                f"{SETTING_NAME} must be a dict, got {type(user).__name__}.",
                id="async_actions.E001",
            )
        ]
    problems: list[CheckMessage] = []
    for key in sorted(set(user) - set(DEFAULTS)):
        problems.append(
            Error(
                f"Unknown key {key!r} in {SETTING_NAME}.",
                hint=f"Known keys: {', '.join(sorted(DEFAULTS))}.",
                id="async_actions.E002",
            )
        )
    lost_after = aa_settings.LOST_AFTER
    if isinstance(lost_after, bool) or not isinstance(lost_after, int | float) or lost_after <= 0:
        problems.append(
            Error(
                f"{SETTING_NAME}['LOST_AFTER'] must be a positive number of seconds, "
                f"got {lost_after!r}.",
                id="async_actions.E003",
            )
        )
    return problems


@register()
def check_worker_connections(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not isinstance(aa_settings.user_settings, dict):
        return []  # E001 reports it
    default_db = settings.DATABASES.get("default", {})
    if (
        aa_settings.WORKER_CONN_REUSE
        and default_db.get("CONN_MAX_AGE", 0) == 0
        and "sqlite" not in default_db.get("ENGINE", "")
    ):
        return [
            Warning(
                "DATABASES['default']['CONN_MAX_AGE'] is 0, so a Celery worker opens a new "
                "database connection for every tracked task (several ms each).",
                hint="Set CONN_MAX_AGE (e.g. 60) with CONN_HEALTH_CHECKS=True.",
                id="async_actions.W001",
            )
        ]
    return []
