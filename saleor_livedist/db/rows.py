"""Rows and records: the engine's records read from the plugin's tables, and the bulk upsert the Store writes
them back with."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from django.db import connection

from .. import models as m
from ..core.money import round_money
from ..core.records import BindingRecord, Click, DistributorRecord, LedgerEntry, OrderRecord, PaidOrder, PointsGrant
from .codec import (
    lifecycle_from_json, lifecycle_to_json, ranks_from_json, ranks_to_json, rewards_from_json, rewards_to_json,
    snapshot_from_json, snapshot_to_json,
)

__all__ = ["MISSING", "binding_of", "click_time", "distributor_of", "entry_of", "grant_of", "lifecycle_to_json",
           "order_of", "paid_of", "plain", "ranks_to_json", "rewards_to_json", "snapshot_to_json", "upsert"]

MISSING = object()


def click_time(click: Click) -> datetime:
    return click.at


def upsert(model: type, columns: list[str], rows: list[tuple[Any, ...]], conflict: list[str] | None = None,
           json_columns: tuple[str, ...] = ()) -> None:
    """INSERT ... ON CONFLICT DO UPDATE for many rows with executemany (psycopg 3 pipelines it and prepares the
    statement once). Django's bulk_create sends these through array parameters, several times slower for
    our JSON-heavy rows."""
    if not rows:
        return
    table = model._meta.db_table
    cast = ["%s::jsonb" if c in json_columns else "%s" for c in columns]
    row_sql = "(" + ", ".join(cast) + ")"
    quoted = ", ".join('"' + c + '"' for c in columns)
    head = f'INSERT INTO "{table}" ({quoted}) VALUES '
    tail = ""
    if conflict:
        updates = [c for c in columns if c not in conflict]
        keys = ", ".join('"' + c + '"' for c in conflict)
        sets = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in updates)
        tail = f" ON CONFLICT ({keys}) " + (f"DO UPDATE SET {sets}" if updates else "DO NOTHING")
    params = [
        tuple(json.dumps(value) if columns[n] in json_columns else value for n, value in enumerate(row))
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(head + row_sql + tail, params)


def binding_of(row: m.Binding) -> BindingRecord:
    return BindingRecord(identity=row.identity, distributor=row.distributor, at=row.at, expires_at=row.expires_at,
                         via=row.via)


def distributor_of(row: m.Distributor) -> DistributorRecord:
    return DistributorRecord(id=row.id, upline=row.upline, joined_at=row.joined_at, ranks=ranks_from_json(row.ranks),
                             last_sale_at=row.last_sale_at, paying_invitees=row.paying_invitees)


def order_of(row: m.Order) -> OrderRecord:
    return OrderRecord(
        id=row.id, snapshot=snapshot_from_json(row.snapshot) if row.snapshot else None,
        lifecycle=lifecycle_from_json(row.lifecycle), paid_at=row.paid_at, approve_at=row.approve_at,
        has_pending=row.has_pending, rewards=rewards_from_json(row.rewards), board_orders=row.board_orders,
        board_gmv=plain(row.board_gmv),
    )


_LONG_AGO = datetime(1, 1, 1, tzinfo=timezone.utc)


def paid_of(row: m.PayingCustomer) -> PaidOrder:
    # A customer recorded before orders were kept with them (nothing found by migration 0013) still counts as
    # paying; no order of theirs qualifies for a task.
    return PaidOrder(order=row.order, at=row.order_at or _LONG_AGO, live=row.live)


def entry_of(row: m.LedgerEntry) -> LedgerEntry:
    return LedgerEntry(
        id=row.id, order=row.order, line=row.line, beneficiary=row.beneficiary, kind=row.kind, level=row.level,
        amount=round_money(row.amount, row.currency), currency=row.currency, status=row.status,
        percent=plain(row.percent), rule_ids=tuple(row.rule_ids), rules_version=row.rules_version, at=row.at,
    )


def plain(value: Decimal) -> Decimal:
    """Decimal('14.0000') -> Decimal('14'), Decimal('2.5000') -> Decimal('2.5'): as the rules wrote it."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def grant_of(row: m.PointsGrant) -> PointsGrant:
    return PointsGrant(key=row.key, beneficiary=row.beneficiary, points=row.points, reason=row.reason,
                       rule_ids=tuple(row.rule_ids), rules_version=row.rules_version, at=row.at, live=row.live,
                       invitee=row.invitee)

