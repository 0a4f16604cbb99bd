"""manage.py livedist_settle: approve commissions whose after-sale window has passed. Idempotent."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...core.events import parse_datetime
from ...exceptions import EventError


class Command(BaseCommand):
    help = "Approve commissions whose after-sale window has passed (running it twice changes nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", help="the clock, ISO 8601 with offset (default: now)")

    def handle(self, *args: Any, **options: Any) -> None:
        from ...inbox.processing import settle

        try:
            now = parse_datetime(options["now"], "--now") if options["now"] else None
        except EventError as exc:
            raise CommandError(str(exc)) from None
        changed = settle(now)
        self.stdout.write(f"{changed} order(s) had commissions approved")
