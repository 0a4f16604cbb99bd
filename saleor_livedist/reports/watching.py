"""Who watched a live and for how long, in SQL: one row per person (a visitor stitched to a customer is the
customer), as the engine counts watch time."""
from __future__ import annotations

from datetime import datetime
from typing import Any

# Seconds a watch row has counted at %s (now): what it counted while closed, plus its open clock, which stops
# `silent` (%s) seconds after the viewer's last event (WatchRecord.watched_seconds; an interval counted both
# before and on the open clock, after a stitch, may count twice here).
WATCHED_SECONDS = """
    w.seconds + CASE WHEN w.active_since IS NULL THEN 0 ELSE GREATEST(0, EXTRACT(EPOCH FROM (
        CASE WHEN w.last_seen IS NULL THEN %s::timestamptz
             ELSE LEAST(%s::timestamptz, GREATEST(w.last_seen, w.active_since) + %s * INTERVAL '1 second') END
        - w.active_since))) END"""


def watchers_sql(now: datetime, silent: int) -> tuple[str, list[Any]]:
    """SELECT person, seconds for the live given as one more parameter (append it after these)."""
    sql = f"""
        SELECT COALESCE(a.customer, w.viewer) AS person, MAX({WATCHED_SECONDS}) AS seconds
        FROM livedist_watch w LEFT JOIN livedist_alias a ON a.visitor = w.viewer
        WHERE w.live = %s GROUP BY 1"""
    return sql, [now, now, silent]


def live_links_sql() -> str:
    """(kind, target) of every link that leads to the live given as three parameters: the live itself, its
    replays and its clips (clips are kept with the replays under 'clip:<id>')."""
    return """
        SELECT 'live'::varchar AS kind, %s::varchar AS target
        UNION ALL SELECT 'replay', id FROM livedist_replay WHERE live = %s AND id NOT LIKE 'clip:%%'
        UNION ALL SELECT 'clip', substr(id, 6) FROM livedist_replay WHERE live = %s AND id LIKE 'clip:%%'"""
