"""Engine records <-> JSON for the PostgreSQL store. Decimals travel as strings, datetimes as ISO 8601 with
offset, and tuples come back as tuples so a record read back equals the record written."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ..core.events import Line
from ..core.records import Attribution, OrderSnapshot, PricedLine, Share, TaskCash


def thaw(value: Any) -> Any:
    """Hashable params (tuples of pairs) -> JSON-able lists."""
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    return value


def freeze(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
    if isinstance(value, dict) and set(value) == {"$decimal"}:
        return Decimal(value["$decimal"])
    return value


def snapshot_to_json(s: OrderSnapshot) -> dict[str, Any]:
    a = s.attribution
    return {
        "id": s.id, "customer": s.customer, "channel": s.channel, "currency": s.currency,
        "at": s.at.isoformat(), "rules_version": s.rules_version,
        "attribution": {
            "paid_to": a.paid_to, "last_click": a.last_click, "assists": list(a.assists),
            "lives_watched": list(a.lives_watched), "context": a.context, "live": a.live, "reason": a.reason,
        },
        "lines": [
            {
                "line": p.line.line, "product": p.line.product, "category": p.line.category,
                "collections": list(p.line.collections), "quantity": p.line.quantity, "amount": str(p.line.amount),
                "shares": [
                    {"level": sh.level, "beneficiary": sh.beneficiary, "percent": str(sh.percent),
                     "rule_ids": list(sh.rule_ids), "actions": thaw(sh.actions),
                     **({"kind": sh.kind} if sh.kind else {})}  # absent in snapshots written before peer bonuses
                    for sh in p.shares
                ],
            }
            for p in s.lines
        ],
    }


def snapshot_from_json(d: dict[str, Any]) -> OrderSnapshot:
    a = d["attribution"]
    return OrderSnapshot(
        id=d["id"], customer=d["customer"], channel=d["channel"], currency=d["currency"],
        at=datetime.fromisoformat(d["at"]), rules_version=d["rules_version"],
        attribution=Attribution(
            paid_to=a["paid_to"], last_click=a["last_click"], assists=tuple(a["assists"]),
            lives_watched=tuple(a["lives_watched"]), context=a["context"], live=a["live"], reason=a["reason"],
        ),
        lines=tuple(
            PricedLine(
                line=Line(line=p["line"], product=p["product"], category=p["category"],
                          collections=tuple(p["collections"]), quantity=p["quantity"], amount=Decimal(p["amount"])),
                shares=tuple(
                    Share(level=sh["level"], beneficiary=sh["beneficiary"], percent=Decimal(sh["percent"]),
                          rule_ids=tuple(sh["rule_ids"]), actions=freeze(sh["actions"]), kind=sh.get("kind", ""))
                    for sh in p["shares"]
                ),
            )
            for p in d["lines"]
        ),
    )


LifecycleItem = tuple[datetime, int, str, str, tuple[tuple[str, Decimal], ...]]


def lifecycle_to_json(items: list[LifecycleItem]) -> list[Any]:
    return [[at.isoformat(), rank, eid, etype, [[line, str(amount)] for line, amount in refunds]]
            for at, rank, eid, etype, refunds in items]


def lifecycle_from_json(items: list[Any]) -> list[LifecycleItem]:
    return [
        (datetime.fromisoformat(at), rank, eid, etype, tuple((line, Decimal(amount)) for line, amount in refunds))
        for at, rank, eid, etype, refunds in items
    ]


def ranks_to_json(ranks: list[tuple[datetime, str]]) -> list[Any]:
    return [[since.isoformat(), rank] for since, rank in ranks]


def ranks_from_json(ranks: list[Any]) -> list[tuple[datetime, str]]:
    return [(datetime.fromisoformat(since), rank) for since, rank in ranks]


def rewards_to_json(rewards: list[TaskCash]) -> list[Any]:
    return [{"key": r.key, "beneficiary": r.beneficiary, "task": r.task, "amount": str(r.amount),
             "rules_version": r.rules_version, "at": r.at.isoformat()} for r in rewards]


def rewards_from_json(items: list[Any]) -> list[TaskCash]:
    return [TaskCash(key=r["key"], beneficiary=r["beneficiary"], task=r["task"], amount=Decimal(r["amount"]),
                     rules_version=r["rules_version"], at=datetime.fromisoformat(r["at"])) for r in items]
