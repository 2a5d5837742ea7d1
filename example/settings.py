"""Settings of the example project.

Embedded defaults (SQLite file + kombu's filesystem broker, both under var/ at the repo root),
or real services through AA_DATABASE / AA_BROKER (see the README). EXAMPLE_VAR_DIR moves var/
elsewhere: the tests give every run a directory of its own.
"""

import os
from pathlib import Path

from async_actions.contrib.backends import broker_settings, database_settings

REPO_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("EXAMPLE_VAR_DIR") or REPO_ROOT / "var")
VAR_DIR.mkdir(parents=True, exist_ok=True)

# A development-only key: the demo serves 127.0.0.1 only.
SECRET_KEY = os.environ.get("EXAMPLE_SECRET_KEY", "example-dev-only-8c1f0b6e2d4a7c9e5f3b1a0d")
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
TIME_ZONE = "UTC"
ROOT_URLCONF = "example.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
STATIC_URL = "static/"
LOGIN_URL = "admin:login"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_celery_results",
    "async_actions",
    "example.basics",
    "example.invoices",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [Path(__file__).resolve().parent / "templates"],
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

DATABASES = {"default": database_settings(sqlite_path=VAR_DIR / "db.sqlite3")}

# The embedded default uses async_actions.contrib.filesystem (kombu's filesystem transport,
# writing messages atomically), with its control folder beside the messages.
_broker = broker_settings(folder=VAR_DIR / "broker")
globals().update(_broker)
# "Sync all accounts" is a chord, and a chord needs a result backend to know when its header
# is done: Redis beside a Redis broker, else the database (django-celery-results).
CELERY_RESULT_BACKEND = (
    _broker["CELERY_BROKER_URL"]
    if _broker["CELERY_BROKER_URL"].startswith("redis")
    else "django-db"
)
# A queue of the example's own, so it never shares one with another project on the same broker.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("EXAMPLE_QUEUE", "example")
# What docs/reliability.md recommends (system check async_actions.W010): a message is
# acknowledged once its task finished, and a killed worker's task runs again.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1

# Django's own task API (DEP 14), run on Celery and tracked like every action. Django 6 has
# django.tasks; on Django 5.2 the django-tasks backport provides it as an app.
try:
    import django.tasks  # noqa: F401
except ImportError:
    INSTALLED_APPS.append("django_tasks")
TASKS = {"default": {"BACKEND": "async_actions.django_tasks.CeleryBackend"}}

# The InvoicesPlus integration. The key's name contains KEY, so async_actions scrubs its value
# from every stored error and traceback.
INVOICES_PLUS_URL = os.environ.get("INVOICES_PLUS_URL", "http://127.0.0.1:8100")
INVOICES_PLUS_API_KEY = os.environ.get("INVOICES_PLUS_API_KEY", "ipk_demo_5b0c9f27e1a84d36")
INVOICES_PLUS_TIMEOUT = float(os.environ.get("INVOICES_PLUS_TIMEOUT", "5"))
INVOICES_PLUS_BACKOFF_SECONDS = float(os.environ.get("INVOICES_PLUS_BACKOFF_SECONDS", "2"))
INVOICES_PLUS_MAX_RETRIES = int(os.environ.get("INVOICES_PLUS_MAX_RETRIES", "10"))

# Celery beat: "Sync all accounts" every INVOICES_SYNC_EVERY seconds, with origin "schedule".
INVOICES_SYNC_EVERY = float(os.environ.get("EXAMPLE_SYNC_EVERY", "120"))
CELERY_BEAT_SCHEDULE = {
    "sync-all-accounts": {
        "task": "example.invoices.tasks.sync_all_accounts_on_schedule",
        "schedule": INVOICES_SYNC_EVERY,
    },
}
