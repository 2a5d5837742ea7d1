"""One relay process for test_outbox: python -m tests.relay_main BROKER_URL QUEUE DB_NAMES_JSON.

Prints how many reports it sent.
"""

import json
import sys


def main(broker_url: str, queue: str, db_names: str) -> None:
    import django
    from django.conf import settings

    for alias, name in json.loads(db_names).items():
        settings.DATABASES[alias]["NAME"] = name
    django.setup()
    from celery import Celery

    from async_actions.outbox import reports_relay

    app = Celery("relay", broker=broker_url, set_as_current=False)
    app.conf.task_default_queue = queue

    @app.task(name="outbox.add", shared=False)
    def add(x: int, y: int) -> int:
        return x + y

    # Small batches, twice: the relays interleave on the same rows.
    print(reports_relay(app=app, limit=5) + reports_relay(app=app))


if __name__ == "__main__":
    main(*sys.argv[1:])
