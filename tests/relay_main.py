"""One relay process for the outbox tests.

    python -m tests.relay_main BROKER_URL QUEUE DB_NAMES_JSON [--follow]

Prints how many reports it sent; with --follow it runs `async_actions_relay --follow` until
SIGTERM instead.
"""

import json
import sys


def main(broker_url: str, queue: str, db_names: str, mode: str = "") -> None:
    import django
    from django.conf import settings

    for alias, name in json.loads(db_names).items():
        settings.DATABASES[alias]["NAME"] = name
    django.setup()
    from async_actions.outbox import reports_relay
    from tests.outbox_support import outbox_app

    follow = mode == "--follow"
    app = outbox_app(broker_url, queue, current=follow)
    if follow:  # the command relays with the current app
        from django.core.management import call_command

        call_command("async_actions_relay", "--follow", "--interval", "0.02")
        return
    # Small batches, twice: the relays interleave on the same rows.
    print(reports_relay(app=app, limit=5) + reports_relay(app=app))


if __name__ == "__main__":
    main(*sys.argv[1:])
