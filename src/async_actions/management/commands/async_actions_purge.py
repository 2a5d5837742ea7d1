from __future__ import annotations

import sys
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from async_actions.retention import reports_purge, reports_purge_count


class Command(BaseCommand):
    help = (
        "Delete finished reports (and their steps) older than --older-than days, in batches. "
        "Active reports are never deleted."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", type=float, required=True, metavar="DAYS")
        parser.add_argument("--batch-size", type=int, default=1000, metavar="N")

    def handle(self, *args: Any, older_than: float, batch_size: int, **options: Any) -> None:
        if not older_than >= 0:  # also rejects NaN
            raise CommandError(f"--older-than must be a number of days >= 0, got {older_than}.")
        if batch_size < 1:
            raise CommandError(f"--batch-size must be at least 1, got {batch_size}.")
        age = timedelta(days=older_than)
        total = reports_purge_count(older_than=age)
        progress = _Progress(total) if options["verbosity"] > 0 else None
        deleted = reports_purge(
            older_than=age, batch_size=batch_size, on_batch=progress.update if progress else None
        )
        if progress is not None:
            progress.close()
        self.stdout.write(f"Deleted {deleted} finished report(s) older than {older_than:g} day(s).")


class _Progress:
    """A one-line progress bar on stderr (redrawn in place on a terminal)."""

    WIDTH = 30

    def __init__(self, total: int) -> None:
        self.total = total
        self.tty = sys.stderr.isatty()

    def update(self, done: int) -> None:
        share = done / self.total if self.total else 1.0
        bar = "#" * int(share * self.WIDTH)
        line = f"[{bar:<{self.WIDTH}}] {done}/{self.total} reports deleted"
        sys.stderr.write(("\r" + line) if self.tty else line + "\n")
        sys.stderr.flush()

    def close(self) -> None:
        if self.tty:
            sys.stderr.write("\n")
