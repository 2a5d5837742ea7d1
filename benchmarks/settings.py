"""Benchmark settings: PostgreSQL + Redis, as FACTS.md measured them.

AA_BENCH_PG_NAME (default aa_bench), AA_BENCH_REDIS_URL (default redis://127.0.0.1:6379/5)
AA_BENCH_RESULT_BACKEND: unset (no result backend) or django-db (django-celery-results)
"""

import os

SECRET_KEY = "benchmarks-only"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django_celery_results",
    "async_actions",
    "benchmarks.benchapp",
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("AA_BENCH_PG_NAME", "aa_bench"),
        "HOST": "127.0.0.1",
        # The soak points its workers at a cuttable proxy in front of PostgreSQL.
        "PORT": os.environ.get("AA_BENCH_PG_PORT", "5432"),
        "USER": "postgres",
        # The setting the library recommends (system check async_actions.W001), for every variant.
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
}
REDIS_URL = os.environ.get("AA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("AA_BENCH_QUEUE", "aa-bench")
CELERY_RESULT_BACKEND = os.environ.get("AA_BENCH_RESULT_BACKEND") or None
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 4

# django.tasks (Django 6) or the django-tasks backport (Django 5.2), on the CeleryBackend.
try:
    import django.tasks  # noqa: F401
except ImportError:
    INSTALLED_APPS.append("django_tasks")
TASKS = {"default": {"BACKEND": "async_actions.django_tasks.CeleryBackend"}}

# The delivery settings docs/reliability.md recommends (system check async_actions.W010),
# for the soak; the throughput benchmarks keep Celery's defaults, as FACTS.md measured.
if os.environ.get("AA_BENCH_RELIABLE"):
    CELERY_TASK_ACKS_LATE = True
    CELERY_TASK_REJECT_ON_WORKER_LOST = True
    CELERY_WORKER_PREFETCH_MULTIPLIER = 1
    # A message a killed worker held comes back after this many seconds (Redis).
    # (kombu sweeps for such messages every interval x throttle seconds: 100 s by default).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 15,
        "unacked_restore_interval": 2,
        "unacked_restore_throttle": 1,
    }
