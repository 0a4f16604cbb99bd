"""The filter every data-loop page takes from its query string (`since`, `until`, `channel`, `live`): dates typed
in the display time zone, checked, and turned into the reports' ReportFilter; each problem a message for the page."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import F
from django.utils.translation import gettext as _

from ..display import zone
from ..models import Live
from ..reports.filters import ReportFilter
from .pages import Console

FIELDS = ("since", "until", "channel", "live")
LONGEST = 100  # characters of a channel or live id


@dataclass
class FilterForm:
    """What was typed (`values`, shown back in the form), the report filter made of what was valid, and the
    problems with the rest (field, message)."""

    values: dict[str, str]
    report: ReportFilter
    errors: list[tuple[str, str]] = field(default_factory=list)

    def query(self) -> dict[str, str]:
        """The typed values, for links that keep the filter (the CSV's)."""
        return {k: v for k, v in self.values.items() if v}


def _day(value: str, name: str, errors: list[tuple[str, str]]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append((name, _("“%(value)s” is not a date: enter one such as 2026-12-05.") % {"value": value}))
        return None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone())


def read_filter(console: Console, live: str | None = None) -> FilterForm:
    """The request's filter; `live` (a page about one live) overrides the query's. `until` is the last day
    included: the report's range ends at the next midnight in the display zone."""
    values = {name: console.query(name)[:LONGEST] for name in FIELDS}
    if live is not None:
        values["live"] = live
    errors: list[tuple[str, str]] = []
    since, until = _day(values["since"], "since", errors), _day(values["until"], "until", errors)
    if since and until and since > until:
        errors.append(("until", _("The last day (%(until)s) is before the first (%(since)s).") % {
            "until": until.isoformat(), "since": since.isoformat()}))
        since = until = None
    chosen = values["live"] or None
    if chosen and live is None and not Live.objects.filter(id=chosen).exists():
        errors.append(("live", _("There is no live %(live)s.") % {"live": chosen}))
        chosen = None
    report = ReportFilter(since=_midnight(since) if since else None,
                          until=_midnight(until + timedelta(days=1)) if until else None,
                          channel=values["channel"] or None, live=chosen)
    return FilterForm(values, report, errors)


def recent_lives(first: int = 200) -> list[Live]:
    """The latest lives (by start, never started last)."""
    return list(Live.objects.order_by(F("started_at").desc(nulls_last=True), "-id")[:first])


def live_choices() -> list[str]:
    """The lives a filter can pick (newest first), for the form's list."""
    return [live.id for live in recent_lives()]
