"""The example project: django-async-actions in a small Django + Celery site.

The Celery app is imported here (Celery's documented Django pattern) so that every process
that loads the project - web, worker, beat - sends tasks through *this* app and its broker,
not Celery's default app.
"""

from example.celery import app as celery_app

__all__ = ["celery_app"]
