"""The outcome of a run as one plain document (`livedist simulate --format json`) and as readable tables."""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from .money import round_money
from .store import Store

STATUSES = ("pending", "approved", "reversed")


def balances(store: Store) -> dict[str, dict[str, Any]]:
    """Per beneficiary: {currency: {status: amount}} and points. Reversed entries count in their own column."""
    money: dict[str, dict[str, dict[str, Decimal]]] = defaultdict(
        lambda: defaultdict(lambda: {s: Decimal(0) for s in STATUSES}))
    for entry in store.entries():
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
    entries = sorted(store.entries(), key=lambda e: (e.at, e.id))
    grants = sorted(store.points(), key=lambda g: (g.at, g.key))
    orders = []
    for order_id in sorted({e.order for e in entries} | _order_ids(store)):
        record = store.get_order(order_id)
        if record is None or record.snapshot is None:
            continue
        a = record.snapshot.attribution
        orders.append({
            "order": order_id, "customer": record.snapshot.customer, "paid_to": a.paid_to,
            "last_click": a.last_click, "assists": list(a.assists), "lives_watched": list(a.lives_watched),
            "context": a.context, "live": a.live, "reason": a.reason, "rules_version": record.snapshot.rules_version,
        })
    return {
        "rules_version": version,
        "entries": [
            {
                "id": e.id, "order": e.order, "line": e.line, "beneficiary": e.beneficiary, "kind": e.kind,
                "level": e.level, "amount": str(e.amount), "currency": e.currency, "status": e.status,
                "percent": str(e.percent), "rule_ids": list(e.rule_ids), "rules_version": e.rules_version,
                "at": e.at.isoformat(),
            }
            for e in entries
        ],
        "points": [
            {
                "beneficiary": g.beneficiary, "points": g.points, "reason": g.reason, "rule_ids": list(g.rule_ids),
                "rules_version": g.rules_version, "at": g.at.isoformat(), "live": g.live, "invitee": g.invitee,
            }
            for g in grants
        ],
        "balances": balances(store),
        "ranks": {d.id: d.rank for d in sorted(store.distributors(), key=lambda d: d.id)},
        "attribution": orders,
    }


def _order_ids(store: Store) -> set[str]:
    return set(store.order_ids())


def render_text(doc: dict[str, Any]) -> str:
    """Readable tables for a terminal."""
    out = [f"rules version {doc['rules_version']}", "", "Ledger"]
    rows = [("order", "line", "beneficiary", "kind", "lvl", "percent", "amount", "status", "rules")]
    rows += [
        (e["order"], e["line"], e["beneficiary"], e["kind"], str(e["level"]), e["percent"] + "%",
         f"{e['amount']} {e['currency']}", e["status"], ",".join(e["rule_ids"]))
        for e in doc["entries"]
    ]
    out += _table(rows)
    out += ["", "Balances"]
    rows = [("beneficiary", "currency", "pending", "approved", "reversed", "points", "rank")]
    for who, b in doc["balances"].items():
        currencies = b["money"] or {"-": {s: "0" for s in STATUSES}}
        for n, (cur, by) in enumerate(currencies.items()):
            rows.append((who if n == 0 else "", cur, by["pending"], by["approved"], by["reversed"],
                         str(b["points"]) if n == 0 else "", doc["ranks"].get(who, "-") if n == 0 else ""))
    out += _table(rows)
    out += ["", "Points"]
    rows = [("beneficiary", "points", "reason", "live", "invitee")]
    rows += [(g["beneficiary"], str(g["points"]), g["reason"], g["live"] or "", g["invitee"] or "")
             for g in doc["points"]]
    out += _table(rows)
    out += ["", "Attribution"]
    rows = [("order", "paid to", "last click", "assists", "context", "live")]
    rows += [(a["order"], a["paid_to"] or "-", a["last_click"] or "-", ",".join(a["assists"]) or "-",
              a["context"], a["live"] or "-") for a in doc["attribution"]]
    out += _table(rows)
    return "\n".join(out)


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    if len(rows) == 1:
        return ["  (none)"]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  " + "  ".join("-" * w for w in widths))
    return lines
