"""The basics scenario written against Django's own task API (django.tasks, DEP 14).

No Celery in sight: settings.TASKS points at async_actions' CeleryBackend, which records a
report, publishes after commit and runs this function on a Celery worker.
"""

from async_actions.django_tasks._compat import task


@task
def count_words(text: str) -> dict:
    words = text.split()
    return {"words": len(words), "longest": max(words, key=len) if words else ""}
