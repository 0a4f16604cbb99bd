"""manage.py livedist_pay_pools: pay pool bonuses (分红奖) by hand. Idempotent per (pool, period)."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...core.events import parse_datetime
from ...exceptions import EventError, LiveDistError


class Command(BaseCommand):
    help = "Pay pool bonuses for a period (a period already paid books nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--pool", help="one pool's id (default: every pool in the rules)")
        parser.add_argument("--period", help="e.g. 2026-11 or 2026-W48 (default: each pool's latest due period)")
        parser.add_argument("--now", help="the clock, ISO 8601 with offset (default: now)")

    def handle(self, *args: Any, **options: Any) -> None:
        from ...distribution.pools import describe, pay_named
        from ...inbox.processing import rules_source

        try:
            now = parse_datetime(options["now"], "--now") if options["now"] else None
            active = rules_source().current()
            results = pay_named(active.ruleset, active.version, options["pool"], options["period"], now)
        except (EventError, LiveDistError) as exc:
            raise CommandError(str(exc)) from None
        if not results:
            self.stdout.write("the rules define no pools: nothing to pay")
        for result in results:
            self.stdout.write(describe(result))
