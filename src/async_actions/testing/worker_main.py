"""Entry point of a test worker: point Django at the test databases, then run Celery.

    python -m async_actions.testing.worker_main proj.celery:app worker -P prefork -c 2

The test process passes, in ASYNC_ACTIONS_TEST_DB_NAMES (JSON alias -> name), the names of
the databases pytest-django created, and in ASYNC_ACTIONS_TEST_QUEUE the queue of this test
session; the project's settings stay as they are.
"""

from __future__ import annotations

import json
import os
import sys

from celery.utils.imports import symbol_by_name

DB_NAMES_VARIABLE = "ASYNC_ACTIONS_TEST_DB_NAMES"
QUEUE_VARIABLE = "ASYNC_ACTIONS_TEST_QUEUE"


def main(argv: list[str]) -> None:
    from django.conf import settings

    for alias, name in json.loads(os.environ.get(DB_NAMES_VARIABLE, "{}")).items():
        settings.DATABASES[alias]["NAME"] = name
    app = symbol_by_name(argv[0])
    if os.environ.get(QUEUE_VARIABLE):
        app.conf.task_default_queue = os.environ[QUEUE_VARIABLE]
    app.worker_main(argv=argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
