"""Settings helpers: the embedded default, or real services chosen by environment variables.

    AA_DATABASE = sqlite (default) | postgres     (AA_PG_NAME, AA_PG_HOST, AA_PG_PORT, AA_PG_USER)
    AA_BROKER   = filesystem (default) | redis | rabbitmq   (AA_REDIS_URL, AA_AMQP_URL)

A new user with no servers gets SQLite and kombu's filesystem transport: both work across
processes on one machine. The same project scales out by pointing the variables at
PostgreSQL and Redis or RabbitMQ.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

DATABASES_KNOWN = ("sqlite", "postgres")
BROKERS_KNOWN = ("filesystem", "redis", "rabbitmq")


def _choice(variable: str, known: tuple[str, ...]) -> str:
    value = os.environ.get(variable, known[0])
    if value not in known:
        raise ImproperlyConfigured(f"{variable}={value!r} is not one of {', '.join(known)}.")
    return value


def database_settings(*, sqlite_path: str | Path) -> dict[str, Any]:
    """One DATABASES entry."""
    if _choice("AA_DATABASE", DATABASES_KNOWN) == "sqlite":
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(sqlite_path),
            "OPTIONS": {
                # Worker processes and the web process write at once: wait for the lock
                # instead of failing, take it at BEGIN, and let readers run during writes.
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("AA_PG_NAME", "test"),
        "HOST": os.environ.get("AA_PG_HOST", "127.0.0.1"),
        "PORT": os.environ.get("AA_PG_PORT", "5432"),
        "USER": os.environ.get("AA_PG_USER", "postgres"),
        "PASSWORD": os.environ.get("AA_PG_PASSWORD", ""),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


def broker_settings(*, folder: str | Path) -> dict[str, Any]:
    """CELERY_* settings for the broker (read with namespace="CELERY")."""
    broker = _choice("AA_BROKER", BROKERS_KNOWN)
    if broker == "redis":
        return {"CELERY_BROKER_URL": os.environ.get("AA_REDIS_URL", "redis://127.0.0.1:6379/0")}
    if broker == "rabbitmq":
        return {
            "CELERY_BROKER_URL": os.environ.get(
                "AA_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//"
            )
        }
    Path(folder).mkdir(parents=True, exist_ok=True)
    return {
        "CELERY_BROKER_URL": "filesystem://",
        # kombu's own, but writing each message atomically (see contrib/filesystem.py).
        "CELERY_BROKER_TRANSPORT": "async_actions.contrib.filesystem:Transport",
        "CELERY_BROKER_TRANSPORT_OPTIONS": {
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            # Else kombu writes its exchange table into ./control of whatever directory
            # the process started in.
            "control_folder": str(Path(folder) / "control"),
            # The default 1 s poll makes every hand-off wait; 50 ms costs little CPU.
            "polling_interval": 0.05,
        },
        # The filesystem transport has no fanout exchange: no remote control, no events.
        "CELERY_WORKER_ENABLE_REMOTE_CONTROL": False,
    }
