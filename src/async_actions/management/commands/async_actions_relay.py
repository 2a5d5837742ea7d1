from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from async_actions.outbox import reports_relay


class Command(BaseCommand):
    help = (
        "Publish the reports the broker could not take when they were started (the outbox). "
        "Safe to run several at once: each report is sent once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=500, metavar="N")

    def handle(self, *args: Any, limit: int, **options: Any) -> None:
        if limit < 1:
            raise CommandError(f"--limit must be at least 1, got {limit}.")
        sent = reports_relay(limit=limit)
        self.stdout.write(f"Sent {sent} unsent report(s).")
