"""The ledger page: every entry with its provenance (the rules version and rule ids that produced it, the
event it was booked on), totals for the filter, and the same rows as CSV."""
from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.http import HttpResponse, StreamingHttpResponse

from ..core.money import round_money
from ..db.rows import plain
from ..display import zone
from ..identity import identities_matching, staff_labels
from ..models import LedgerEntry, Order
from .pages import Console, Route, paginate

FILTERS = ("q", "order", "status", "kind", "version")
CSV_CHUNK = 2000
BOOKED_AT_CREATION = ("commission", "team", "peer_bonus")


def entries(console: Console) -> QuerySet[LedgerEntry]:
    """The entries the request's filters select, newest first."""
    f = {name: console.query(name) for name in FILTERS}
    rows = LedgerEntry.objects.all()
    if f["q"]:
        rows = rows.filter(Q(beneficiary=f["q"]) | Q(beneficiary__in=identities_matching(f["q"])))
    for name, column in (("order", "order"), ("status", "status"), ("kind", "kind"), ("version", "rules_version")):
        if f[name]:
            rows = rows.filter(**{column: f[name]})
    return rows.order_by("-at", "-order", "-seq")


def listing(console: Console) -> HttpResponse:
    f = {name: console.query(name) for name in FILTERS}
    rows = entries(console)
    page = paginate(console, rows, "ledger/", count=False, **f)
    labels = staff_labels(sorted({e.beneficiary for e in page.rows}))
    events = booked_on(page.rows)
    # Totals of what the filter selects (a person's balances, an order's entries); not of the whole ledger,
    # which would be a scan of every entry on each page load.
    totals = (rows.order_by().values("currency", "status").annotate(total=Sum("amount"))
              .order_by("currency", "status")) if any(f.values()) else []
    return console.render("ledger.html", {
        "area": "ledger/", "page": page, "filters": f, "totals": list(totals),
        "items": [{"entry": e, "name": labels[e.beneficiary], "event": events.get(e.id)} for e in page.rows],
        "csv_url": console.url("ledger.csv", **f),
        "statuses": [s for s, _label in LedgerEntry.STATUSES],
        "kinds": ["commission", "team", "peer_bonus", "adjustment", "clawback", "task_cash", "pool_bonus"],
    })


def booked_on(page: list[LedgerEntry]) -> dict[str, tuple[str, str]]:
    """For each entry, the event it was booked on (type, event id): a commission on the order's creation (the
    inbox has that event's id), an adjustment or clawback on its order's refund or cancel at the entry's time,
    task cash on the order's event at the time the invitee qualified."""
    later = [e for e in page if e.kind not in BOOKED_AT_CREATION]
    orders = dict(Order.objects.filter(id__in={e.order for e in later}).values_list("id", "lifecycle")) if later else {}
    found = {}
    for entry in page:
        if entry.kind in BOOKED_AT_CREATION:
            found[entry.id] = ("order.created", "")
            continue
        steps = [(etype, eid) for at, _rank, eid, etype, _lines in orders.get(entry.order) or []
                 if datetime.fromisoformat(at) == entry.at]
        reversal = [step for step in steps if step[0] in ("order.refunded", "order.cancelled")]
        if reversal or steps:
            found[entry.id] = (reversal or steps)[0]
    return found


CSV_COLUMNS = ["at", "order", "line", "beneficiary", "name", "kind", "level", "percent", "amount", "currency",
               "status", "rule_ids", "rules_version", "event_type", "event_id"]


def export(console: Console) -> StreamingHttpResponse:
    """The filtered ledger as CSV (UTF-8 with a BOM, so spreadsheet programs read Chinese names), times in the
    display zone, amounts as plain decimals, streamed in chunks."""
    response = StreamingHttpResponse(_csv_lines(entries(console)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="ledger.csv"'
    return response


class _Line:
    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: QuerySet[LedgerEntry]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield "\ufeff" + writer.writerow(CSV_COLUMNS)
    chunk: list[LedgerEntry] = []
    for entry in rows.iterator(chunk_size=CSV_CHUNK):
        chunk.append(entry)
        if len(chunk) == CSV_CHUNK:
            yield from _csv_rows(writer, chunk)
            chunk = []
    yield from _csv_rows(writer, chunk)


def _csv_rows(writer: Any, chunk: list[LedgerEntry]) -> Iterator[str]:
    labels = staff_labels(sorted({e.beneficiary for e in chunk}))
    events = booked_on(chunk)
    local = zone()
    for e in chunk:
        etype, eid = events.get(e.id, ("", ""))
        yield writer.writerow([
            e.at.astimezone(local).isoformat(), e.order, e.line, e.beneficiary, labels[e.beneficiary], e.kind,
            e.level, plain(e.percent), round_money(e.amount, e.currency), e.currency, e.status, " ".join(e.rule_ids),
            e.rules_version, etype, eid])


ROUTES = [Route("ledger/", get=listing), Route("ledger.csv", get=export)]
