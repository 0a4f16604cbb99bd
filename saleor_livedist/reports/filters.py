"""What every report is narrowed by (a date range, a channel, a live) and the SQL conditions that come of it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class ReportFilter:
    """All optional. `since` is included and `until` excluded; both must be timezone-aware. Orders are chosen
    by when they were placed and their channel, clicks by when they were made; lives by their id, their live
    session's channel and when they started (docs/reports.md, "Filters")."""

    since: datetime | None = None
    until: datetime | None = None
    channel: str | None = None
    live: str | None = None

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and value.utcoffset() is None:
                raise ValueError(f"ReportFilter.{name} must be timezone-aware, got {value!r}")

    def require_live(self) -> str:
        if not self.live:
            raise ValueError("this report is about one live: give ReportFilter(live=...)")
        return self.live


EVERYTHING = ReportFilter()  # no filter: the default of every report (frozen, so one shared value is safe)


def time_range(column: str, f: ReportFilter) -> tuple[str, list[Any]]:
    """`column` within [since, until): SQL conditions joined by AND (always true when neither is set)."""
    parts, params = ["TRUE"], []
    if f.since is not None:
        parts.append(f"{column} >= %s")
        params.append(f.since)
    if f.until is not None:
        parts.append(f"{column} < %s")
        params.append(f.until)
    return " AND ".join(parts), params


def order_lines(f: ReportFilter, alias: str = "f", live: bool = True) -> tuple[str, list[Any]]:
    """Conditions on report lines (livedist_report_line AS `alias`): placed in the range, in the channel, and,
    unless `live` is False, from the filter's live."""
    sql, params = time_range(f"{alias}.placed_at", f)
    if f.channel:
        sql += f" AND {alias}.channel = %s"
        params.append(f.channel)
    if live and f.live:
        sql += f" AND {alias}.live = %s"
        params.append(f.live)
    return sql, params


def lives(f: ReportFilter, alias: str = "lv") -> tuple[str, list[Any]]:
    """Conditions on engine lives (livedist_live AS `alias`): the filter's live, its session's channel, and a
    start (or, never started, a scheduled start) within the range."""
    sql, params = time_range(f"COALESCE({alias}.started_at, {alias}.starts_at)", f)
    if f.live:
        sql += f" AND {alias}.id = %s"
        params.append(f.live)
    if f.channel:
        sql += f" AND {alias}.id IN (SELECT id FROM livedist_live_session WHERE channel = %s)"
        params.append(f.channel)
    return sql, params
