"""Settings for the test suite; the backend set is chosen by environment variables.

    AA_DATABASE = sqlite (default) | postgres
    AA_BROKER   = filesystem (default) | redis | rabbitmq

The embedded default needs no server. Values the test worker subprocess must share with the
test process (broker folder, queue name, database name) are put into os.environ here, so a
worker started from the tests inherits them.
"""

import json
import os
import tempfile
import uuid

from async_actions.contrib.backends import broker_settings, database_settings

SECRET_KEY = "tests-not-secret-but-long-enough-to-scrub"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
ROOT_URLCONF = "tests.urls"
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "django_celery_results",
    "async_actions",
    "tests.testapp",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

_run = os.environ.setdefault("AA_TEST_RUN", uuid.uuid4().hex[:10])
_tmp = os.environ.setdefault("AA_TEST_TMP", tempfile.mkdtemp(prefix=f"aa-test-{_run}-"))

DATABASES = {"default": database_settings(sqlite_path=os.path.join(_tmp, "db.sqlite3"))}
# A file, not memory: the test worker runs in another process. PostgreSQL gets a name
# of this run's own, so parallel runs on one server do not collide.
DATABASES["default"]["TEST"] = {
    "NAME": os.path.join(_tmp, "test.sqlite3")
    if DATABASES["default"]["ENGINE"].endswith("sqlite3")
    else f"aa_test_{_run}"
}

globals().update(broker_settings(folder=os.path.join(_tmp, "broker")))
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Chords need a result backend: Redis beside a Redis broker, else the database itself.
_broker_url: str = globals()["CELERY_BROKER_URL"]
CELERY_RESULT_BACKEND = os.environ.get("AA_TEST_RESULT_BACKEND") or (
    _broker_url if _broker_url.startswith("redis") else "django-db"
)

# Tests start a worker with AA_TEST_FLUSH_INTERVAL=0 to cover the write-at-once path.
if "AA_TEST_FLUSH_INTERVAL" in os.environ:
    ASYNC_ACTIONS = {"TRACKING_FLUSH_INTERVAL": float(os.environ["AA_TEST_FLUSH_INTERVAL"])}
# Fault tests give their workers short heartbeats (JSON merged into ASYNC_ACTIONS) ...
if "AA_TEST_ASYNC_ACTIONS" in os.environ:
    ASYNC_ACTIONS = {**globals().get("ASYNC_ACTIONS", {})}
    ASYNC_ACTIONS.update(json.loads(os.environ["AA_TEST_ASYNC_ACTIONS"]))
# ... and the delivery docs/reliability.md recommends.
if os.environ.get("AA_TEST_RELIABLE"):
    CELERY_TASK_ACKS_LATE = True
    CELERY_TASK_REJECT_ON_WORKER_LOST = True
    CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A test that kills a worker holding unacknowledged Redis messages gets them back this soon
# (kombu's default visibility_timeout is an hour).
if "AA_TEST_VISIBILITY_TIMEOUT" in os.environ:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": float(os.environ["AA_TEST_VISIBILITY_TIMEOUT"]),
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }

# A secret the tests make a task leak, to check it never reaches the database.
INVOICES_PLUS_API_KEY = "ipk_live_7fa3c0de5ecre7"

# django.tasks (Django 6) or the django-tasks backport (Django 5.2), run on Celery.
try:
    import django.tasks  # noqa: F401
except ImportError:
    INSTALLED_APPS.append("django_tasks")
# A second queue of this run's own, for the routing test's extra worker.
DJANGO_TASKS_OTHER_QUEUE = f"aa-test-{_run}-other"
TASKS = {
    "default": {
        "BACKEND": "async_actions.django_tasks.CeleryBackend",
        "QUEUES": ["default", DJANGO_TASKS_OTHER_QUEUE],
        "OPTIONS": {"actions": {"tests.testapp.dtasks.named": "Named by the backend"}},
    },
    # DEP 14 has no retries: a task opts in by using this alias.
    "retrying": {
        "BACKEND": "async_actions.django_tasks.CeleryBackend",
        "OPTIONS": {"retry_on": ["builtins.ConnectionError"], "max_retries": 2, "retry_delay": 0},
    },
}

# The suite keeps Celery's default delivery (it kills worker children on purpose and checks
# the failed report); fault tests start workers with the recommended settings themselves.
SILENCED_SYSTEM_CHECKS = ["async_actions.W010"]
