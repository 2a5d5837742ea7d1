from __future__ import annotations

import signal
import threading
from typing import Any

from celery import current_app
from django.core.management.base import BaseCommand, CommandError, CommandParser

from async_actions.outbox import relay_forever, reports_relay


class Command(BaseCommand):
    help = (
        "Publish the reports in the outbox: those the broker could not take when they were "
        "started, and with PUBLISH = 'relay' every start (run it with --follow then). Safe "
        "to run several at once: each report is sent once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--limit", type=int, default=500, metavar="N", help="reports per pass (500)"
        )
        parser.add_argument(
            "--follow",
            action="store_true",
            help="keep relaying until stopped (SIGTERM or Ctrl-C) instead of one pass",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=0.05,
            metavar="SECONDS",
            help="with --follow: seconds to wait once the outbox is empty (0.05)",
        )

    def handle(self, *args: Any, limit: int, follow: bool, interval: float, **options: Any) -> None:
        if limit < 1:
            raise CommandError(f"--limit must be at least 1, got {limit}.")
        if not interval > 0:
            raise CommandError(f"--interval must be a positive number of seconds, got {interval}.")
        # The project's tasks, as a worker imports them (autodiscover_tasks, `imports`):
        # publishing a message looks its task up.
        current_app.loader.import_default_modules()
        if not follow:
            sent = reports_relay(limit=limit)
            self.stdout.write(f"Sent {sent} unsent report(s).")
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write(f"Relaying the outbox every {interval} s until stopped.")
        self.stdout.flush()
        relay_forever(limit=limit, interval=interval, stop=stop)
        self.stdout.write("Relay stopped.")
