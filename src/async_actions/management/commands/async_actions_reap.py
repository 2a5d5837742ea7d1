from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from async_actions.conf import aa_settings
from async_actions.services import reports_mark_lost


class Command(BaseCommand):
    help = "Mark reports stuck in pending/running/retrying for longer than LOST_AFTER as lost."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=float,
            default=None,
            help="Seconds; defaults to ASYNC_ACTIONS['LOST_AFTER'].",
        )

    def handle(self, *args: Any, older_than: float | None, **options: Any) -> None:
        seconds = aa_settings.LOST_AFTER if older_than is None else older_than
        if seconds <= 0:
            raise CommandError(f"--older-than must be a positive number of seconds, got {seconds}.")
        count = reports_mark_lost(older_than_seconds=seconds)
        self.stdout.write(f"Marked {count} report(s) as lost.")
