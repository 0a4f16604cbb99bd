"""The outcome of a run as one plain document (`livedist simulate --format json`) and as readable tables.

`summary` and `render_text` build the whole document in memory (a few KB per order); `write_json` and
`write_text` write the same bytes section by section from the store, holding one row at a time plus a sort
index, so `livedist simulate` on hundreds of thousands of orders needs little more than the engine's own state.
"""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any, TextIO

from .money import round_money
from .store import Store

STATUSES = ("pending", "approved", "reversed")


def balances(store: Store, entries: Iterable[Any] | None = None) -> dict[str, dict[str, Any]]:
    """Per beneficiary: {currency: {status: amount}} and points. Reversed entries count in their own column.
    `entries` defaults to store.entries() (every entry at once); the streamed output passes them order by
    order."""
    money: dict[str, dict[str, dict[str, Decimal]]] = defaultdict(
        lambda: defaultdict(lambda: {s: Decimal(0) for s in STATUSES}))
    for entry in store.entries() if entries is None else entries:
        money[entry.beneficiary][entry.currency][entry.status] += entry.amount
    points: dict[str, int] = defaultdict(int)
    for grant in store.points():
        points[grant.beneficiary] += grant.points
    out: dict[str, dict[str, Any]] = {}
    for who in sorted(set(money) | set(points)):
        out[who] = {
            "money": {cur: {s: str(round_money(v, cur)) for s, v in by.items()}
                      for cur, by in sorted(money.get(who, {}).items())},
            "points": points.get(who, 0),
        }
    return out


def summary(store: Store, version: str) -> dict[str, Any]:
    """The whole document at once (tests compare the streamed output with it)."""
    entries = sorted(store.entries(), key=lambda e: (e.at, e.id))
    grants = sorted(store.points(), key=lambda g: (g.at, g.key))
    orders = []
    for order_id in sorted({e.order for e in entries} | _order_ids(store)):
        row = _attribution_row(store, order_id)
        if row is not None:
            orders.append(row)
    return {
        "rules_version": version,
        "entries": [_entry_row(e) for e in entries],
        "points": [_points_row(g) for g in grants],
        "balances": balances(store),
        "ranks": _ranks(store),
        "attribution": orders,
    }


def _entry_row(e: Any) -> dict[str, Any]:
    return {
        "id": e.id, "order": e.order, "line": e.line, "beneficiary": e.beneficiary, "kind": e.kind,
        "level": e.level, "amount": str(e.amount), "currency": e.currency, "status": e.status,
        "percent": str(e.percent), "rule_ids": list(e.rule_ids), "rules_version": e.rules_version,
        "at": e.at.isoformat(),
    }


def _points_row(g: Any) -> dict[str, Any]:
    return {
        "beneficiary": g.beneficiary, "points": g.points, "reason": g.reason, "rule_ids": list(g.rule_ids),
        "rules_version": g.rules_version, "at": g.at.isoformat(), "live": g.live, "invitee": g.invitee,
    }


def _attribution_row(store: Store, order_id: str) -> dict[str, Any] | None:
    record = store.get_order(order_id)
    if record is None or record.snapshot is None:
        return None
    a = record.snapshot.attribution
    return {
        "order": order_id, "customer": record.snapshot.customer, "paid_to": a.paid_to,
        "last_click": a.last_click, "assists": list(a.assists), "lives_watched": list(a.lives_watched),
        "context": a.context, "live": a.live, "reason": a.reason, "rules_version": record.snapshot.rules_version,
    }


def _ranks(store: Store) -> dict[str, Any]:
    return {d.id: d.rank for d in sorted(store.distributors(), key=lambda d: d.id)}


def _each_entry(store: Store) -> Iterator[Any]:
    """Every ledger entry, one order's at a time: `store.entries()` would build them all at once. Entries are
    only ever booked for an order the store keeps (the engine puts the order with its entries)."""
    for order_id in store.order_ids():
        yield from store.entries(order_id)


# ---------------------------------------------------------------------------------------------- streaming


def _sorted_entries(store: Store) -> Iterator[dict[str, Any]]:
    """The entries' rows in (at, id) order. The sort holds one small key per entry; each order's entries are
    read back from the store when its turn comes (consecutive keys are often the same order's)."""
    keys: list[tuple[datetime, str, str]] = [(e.at, e.id, e.order) for e in _each_entry(store)]
    keys.sort()
    cached: tuple[str, dict[str, Any]] = ("", {})
    for _, entry_id, order_id in keys:
        if cached[0] != order_id or entry_id not in cached[1]:
            cached = (order_id, {e.id: e for e in store.entries(order_id)})
        yield _entry_row(cached[1][entry_id])


def _sorted_points(store: Store) -> Iterator[dict[str, Any]]:
    for grant in sorted(store.points(), key=lambda g: (g.at, g.key)):
        yield _points_row(grant)


def _sorted_attribution(store: Store) -> Iterator[dict[str, Any]]:
    for order_id in sorted(store.order_ids()):
        row = _attribution_row(store, order_id)
        if row is not None:
            yield row


def _sections(store: Store, version: str, engine: str, notices: list[str]) -> list[tuple[str, Any]]:
    """The document's keys in its order, each with its value or a callable giving an iterator of its items."""
    return [
        ("rules_version", version),
        ("entries", lambda: _sorted_entries(store)),
        ("points", lambda: _sorted_points(store)),
        ("balances", balances(store, _each_entry(store))),
        ("ranks", _ranks(store)),
        ("attribution", lambda: _sorted_attribution(store)),
        ("engine", engine),
        ("notices", notices),
    ]


def write_json(out: TextIO, store: Store, version: str, engine: str, notices: list[str]) -> None:
    """The bytes of `json.dump(summary(...) | {engine, notices}, indent=2, ensure_ascii=False)` and a newline,
    written one list item at a time."""
    out.write("{")
    for n, (key, value) in enumerate(_sections(store, version, engine, notices)):
        out.write(("," if n else "") + "\n  " + json.dumps(key, ensure_ascii=False) + ": ")
        if callable(value):
            _write_json_list(out, value())
        else:
            out.write(json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  "))
    out.write("\n}\n")


def _write_json_list(out: TextIO, items: Iterable[Any]) -> None:
    """A list two levels deep as json.dump(indent=2) writes it: "[]" when empty. A newline inside an item's
    JSON is always indentation (one in a string is escaped), so re-indenting is a plain replace."""
    first = True
    for item in items:
        out.write(("[" if first else ",") + "\n    ")
        out.write(json.dumps(item, indent=2, ensure_ascii=False).replace("\n", "\n    "))
        first = False
    out.write("[]" if first else "\n  ]")


def _order_ids(store: Store) -> set[str]:
    return set(store.order_ids())


LEDGER = ("order", "line", "beneficiary", "kind", "lvl", "percent", "amount", "status", "rules")
BALANCES = ("beneficiary", "currency", "pending", "approved", "reversed", "points", "rank")
POINTS = ("beneficiary", "points", "reason", "live", "invitee")
ATTRIBUTION = ("order", "paid to", "last click", "assists", "context", "live")


def _ledger_cells(e: dict[str, Any]) -> tuple[str, ...]:
    return (e["order"], e["line"], e["beneficiary"], e["kind"], str(e["level"]), e["percent"] + "%",
            f"{e['amount']} {e['currency']}", e["status"], ",".join(e["rule_ids"]))


def _balance_cells(balances_: dict[str, Any], ranks: dict[str, Any]) -> Iterator[tuple[str, ...]]:
    for who, b in balances_.items():
        currencies = b["money"] or {"-": {s: "0" for s in STATUSES}}
        for n, (cur, by) in enumerate(currencies.items()):
            yield (who if n == 0 else "", cur, by["pending"], by["approved"], by["reversed"],
                   str(b["points"]) if n == 0 else "", ranks.get(who, "-") if n == 0 else "")


def _points_cells(g: dict[str, Any]) -> tuple[str, ...]:
    return (g["beneficiary"], str(g["points"]), g["reason"], g["live"] or "", g["invitee"] or "")


def _attribution_cells(a: dict[str, Any]) -> tuple[str, ...]:
    return (a["order"], a["paid_to"] or "-", a["last_click"] or "-", ",".join(a["assists"]) or "-",
            a["context"], a["live"] or "-")


def render_text(doc: dict[str, Any]) -> str:
    """Readable tables for a terminal."""
    out = [f"rules version {doc['rules_version']}", "", "Ledger"]
    out += _table([LEDGER, *map(_ledger_cells, doc["entries"])])
    out += ["", "Balances"]
    out += _table([BALANCES, *_balance_cells(doc["balances"], doc["ranks"])])
    out += ["", "Points"]
    out += _table([POINTS, *map(_points_cells, doc["points"])])
    out += ["", "Attribution"]
    out += _table([ATTRIBUTION, *map(_attribution_cells, doc["attribution"])])
    return "\n".join(out)


def write_text(out: TextIO, store: Store, version: str) -> None:
    """The bytes of `render_text(summary(store, version))`, each table in two passes over the store: one for
    the column widths, one to write the rows."""
    balances_, ranks = balances(store, _each_entry(store)), _ranks(store)
    out.write(f"rules version {version}\n\nLedger\n")
    _write_table(out, LEDGER, lambda: map(_ledger_cells, _sorted_entries(store)))
    out.write("\n\nBalances\n")
    _write_table(out, BALANCES, lambda: _balance_cells(balances_, ranks))
    out.write("\n\nPoints\n")
    _write_table(out, POINTS, lambda: map(_points_cells, _sorted_points(store)))
    out.write("\n\nAttribution\n")
    _write_table(out, ATTRIBUTION, lambda: map(_attribution_cells, _sorted_attribution(store)))


def _write_table(out: TextIO, head: tuple[str, ...], rows: Callable[[], Iterable[tuple[str, ...]]]) -> None:
    """_table's lines, without the last newline, from rows read twice."""
    widths = [len(cell) for cell in head]
    empty = True
    for row in rows():
        empty = False
        widths = [max(w, len(cell)) for w, cell in zip(widths, row)]
    if empty:
        out.write("  (none)")
        return
    out.write(_line(head, widths) + "\n  " + "  ".join("-" * w for w in widths))
    for row in rows():
        out.write("\n" + _line(row, widths))


def _line(row: tuple[str, ...], widths: list[int]) -> str:
    return "  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    if len(rows) == 1:
        return ["  (none)"]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [_line(row, widths) for row in rows]
    lines.insert(1, "  " + "  ".join("-" * w for w in widths))
    return lines
