from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from async_actions.reaping import reports_reap


class Command(BaseCommand):
    help = (
        "Mark lost the reports whose worker has been silent for WORKER_LOST_AFTER seconds, "
        "and those no worker took within LOST_AFTER seconds of when they could run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=float,
            default=None,
            help="Seconds for reports never started; defaults to ASYNC_ACTIONS['LOST_AFTER'].",
        )

    def handle(self, *args: Any, older_than: float | None, **options: Any) -> None:
        if older_than is not None and not older_than > 0:
            raise CommandError(
                f"--older-than must be a positive number of seconds, got {older_than}."
            )
        reaped = reports_reap(lost_after=older_than)
        self.stdout.write(
            f"Marked {reaped.total} report(s) as lost: {reaped.silent_worker} with a silent "
            f"worker, {reaped.never_started} never started, {reaped.unnamed_worker} started "
            f"by a worker without heartbeat."
        )
