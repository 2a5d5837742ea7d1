"""System checks, each with a stable id (tested by id). Settings are read through `conf`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.core.exceptions import ImproperlyConfigured

from async_actions.conf import DEFAULTS, SETTING_NAME, aa_settings
from async_actions.outbox import PUBLISH_CHOICES


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
    publish = aa_settings.PUBLISH
    if publish not in PUBLISH_CHOICES:
        problems.append(
            Error(
                f"{SETTING_NAME}['PUBLISH'] must be one of "
                f"{', '.join(map(repr, PUBLISH_CHOICES))}, got {publish!r}.",
                hint="'commit' publishes after the caller's commit; 'relay' leaves it to "
                "`manage.py async_actions_relay --follow` (see docs/reliability.md).",
                id="async_actions.E012",
            )
        )
    return problems


def _positive(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and value > 0


@register()
def check_heartbeats(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Heartbeat and retry windows: positive seconds, and room for missed beats."""
    if not isinstance(aa_settings.user_settings, dict):
        return []  # E001 reports it
    problems: list[CheckMessage] = []
    for name in ("HEARTBEAT_INTERVAL", "WORKER_LOST_AFTER", "WRITE_RETRY_WINDOW", "PARK_AFTER"):
        value = getattr(aa_settings, name)
        if not _positive(value):
            problems.append(
                Error(
                    f"{SETTING_NAME}[{name!r}] must be a positive number of seconds, "
                    f"got {value!r}.",
                    id="async_actions.E011",
                )
            )
    interval, lost_after = aa_settings.HEARTBEAT_INTERVAL, aa_settings.WORKER_LOST_AFTER
    if not problems and lost_after < 3 * interval:
        problems.append(
            Warning(
                f"{SETTING_NAME}['WORKER_LOST_AFTER'] ({lost_after}s) is less than three "
                f"HEARTBEAT_INTERVAL ({interval}s): a worker that misses one beat under load "
                f"would have its running reports declared lost.",
                hint="Keep WORKER_LOST_AFTER at least 3x (6x by default) HEARTBEAT_INTERVAL.",
                id="async_actions.W011",
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


@register()
def check_scrubbing(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """SCRUB must import and SCRUB_PATTERNS must compile, or failures could not be stored."""
    from async_actions.cleansing import reset_scrubber, scrubber

    if not isinstance(aa_settings.user_settings, dict):
        return []  # E001 says so
    reset_scrubber()
    try:
        scrubber()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="async_actions.E010")]
    return []


# Celery settings (as read by the app) that make a finished task's outcome survive a
# killed worker, with why; see docs/reliability.md.
RECOMMENDED_DELIVERY = {
    "task_acks_late": (True, "a message is acknowledged only after its task finished"),
    "task_reject_on_worker_lost": (True, "a task whose worker was killed is delivered again"),
    "worker_prefetch_multiplier": (1, "a dying worker holds at most one extra message"),
}


def delivery_warnings(conf: Any) -> list[CheckMessage]:
    """Warnings for each recommended Celery delivery setting `conf` does not have."""
    problems: list[CheckMessage] = []
    for name, (wanted, why) in RECOMMENDED_DELIVERY.items():
        value = conf.get(name)
        if value != wanted:
            problems.append(
                Warning(
                    f"Celery's {name} is {value!r}; tracked actions need {wanted!r} so that {why}.",
                    hint=f"Set CELERY_{name.upper()} = {wanted!r} (see docs/reliability.md).",
                    id="async_actions.W010",
                )
            )
    return problems


@register()
def check_celery_delivery(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from celery import current_app

    return delivery_warnings(current_app.conf)
