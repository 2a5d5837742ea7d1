"""A small Django project, written into a pytester directory, that uses the plugin as a
user's project would: the package installed, no pytest_plugins line."""

from __future__ import annotations

import textwrap

import pytest

SETTINGS = """
import os
import tempfile

from async_actions.contrib.backends import broker_settings

# In os.environ, so the worker subprocess (which reads these settings again) shares them.
_tmp = os.environ.setdefault("SAMPLE_TMP", tempfile.mkdtemp(prefix="aa-sample-"))
SECRET_KEY = "sample-project-secret-key-for-tests"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "async_actions",
    "shop",
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(_tmp, "db.sqlite3"),
        "TEST": {"NAME": os.path.join(_tmp, "test.sqlite3")},
        "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"},
    }
}
globals().update(broker_settings(folder=os.path.join(_tmp, "broker")))
CELERY_RESULT_BACKEND = (
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else "cache+memory://"
)
"""

CELERY = """
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
app = Celery("proj")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
"""

GOOD_TASKS = """
from celery import shared_task

from async_actions import chainable


@shared_task
def add(x: int, y: int) -> int:
    return x + y


@shared_task
def fail(message: str) -> None:
    raise ValueError(message)


@shared_task
def _fetch(account_id: int) -> list:
    return [account_id]


@shared_task
def _store(rows: list) -> int:
    return len(rows)


@chainable
def sync_account(account_id):
    return _fetch.s(account_id), _store.s()
"""

BAD_TASKS = """
from celery import Task, chain, shared_task
from django.contrib.auth.models import User

from async_actions import BaseErrorHandlerMixin, chainable


@shared_task
def notify_user(user: User) -> None:          # a model instance as an argument
    pass


@shared_task
def talk_style(x: int, **kwargs) -> None:     # the talk's kwargs without the mixin
    print(kwargs.get("async_action_report_id"))


class TalkBase(BaseErrorHandlerMixin, Task):
    pass


@shared_task(base=TalkBase)
def strict(x: int) -> None:                   # the mixin, but no way to receive the id
    pass


@shared_task
def fetch_page(page: int) -> list:            # only ever a workflow step, yet public
    return []


@chainable
def sync():
    return {"task": "fetch", "page": 1}      # not signatures


def sync_pages():
    return chain(fetch_page.s(1), fetch_page.s(2))
"""

INI = """
[pytest]
DJANGO_SETTINGS_MODULE = proj.settings
async_actions_celery_app = proj.celery:app
pythonpath = .
"""


def write_project(pytester: pytest.Pytester, tasks: str = GOOD_TASKS) -> None:
    pytester.makefile(".ini", pytest=textwrap.dedent(INI))
    pytester.mkpydir("proj")
    pytester.path.joinpath("proj", "settings.py").write_text(SETTINGS)
    pytester.path.joinpath("proj", "celery.py").write_text(CELERY)
    pytester.mkpydir("shop")
    pytester.path.joinpath("shop", "tasks.py").write_text(textwrap.dedent(tasks))
