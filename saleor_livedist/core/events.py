"""The event vocabulary the engine consumes (docs/events.md), parsed and checked into `Event` objects.

Every event is `{"id": ..., "type": ..., "at": ISO 8601 with offset, ...fields}`. Parsing never trusts
input: a missing field, a wrong type or a naive datetime raises EventError naming the field.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..exceptions import EventError
from .money import parse_amount

TARGET_KINDS = ("live", "replay", "product", "clip")
# RFC 3339 with a mandatory offset; fromisoformat alone also takes other ISO 8601 forms and odd separators.
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", re.ASCII)
_NAIVE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?", re.ASCII)
_CURRENCY = re.compile(r"[A-Z]{3}", re.ASCII)
ORDER_LIFECYCLE = ("order.paid", "order.fulfilled", "order.cancelled", "order.refunded")


@dataclass(slots=True, unsafe_hash=True)  # not frozen: built for every order line, read back by stores
class Line:
    line: str
    product: str
    category: str | None
    collections: tuple[str, ...]
    quantity: int
    amount: Decimal  # net paid amount of the whole line, after discounts


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    at: datetime
    data: dict[str, Any] = field(compare=False)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "at": self.at.isoformat(), **_jsonable(self.data)}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Line):
        return {
            "line": value.line, "product": value.product, "category": value.category,
            "collections": list(value.collections), "quantity": value.quantity, "amount": str(value.amount),
        }
    return value


def parse_datetime(value: object, what: str) -> datetime:
    if not isinstance(value, str):
        raise EventError(f"{what} must be an ISO 8601 string with an offset, got {value!r}")
    if not _DATETIME.fullmatch(value):
        if _NAIVE.fullmatch(value):
            raise EventError(f"{what} {value!r} has no UTC offset; write e.g. {value}+08:00")
        raise EventError(f"{what} is not an RFC 3339 datetime such as 2026-11-20T20:00:00+08:00: {value!r}")
    fraction = re.search(r"\.(\d+)", value)
    if fraction and len(fraction.group(1)) > 6:  # keep microseconds, as Python can
        value = value.replace(fraction.group(0), fraction.group(0)[:7])
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise EventError(f"{what} is not a valid date and time: {value!r}") from None


def _str(raw: dict[str, Any], key: str, where: str, optional: bool = False) -> str | None:
    value = raw.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise EventError(f"{where}: '{key}' must be a non-empty string, got {value!r}")
    return value


def _ids(raw: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    """An optional list of non-empty string ids."""
    value = raw.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise EventError(f"{where}: '{key}' must be a list of non-empty strings, got {value!r}")
    return tuple(value)


def _target(raw: dict[str, Any], where: str) -> dict[str, str]:
    target = raw.get("target")
    if not isinstance(target, dict) or len(target) != 1:
        raise EventError(f"{where}: 'target' must be one of {{live|replay|product|clip: id}}, got {target!r}")
    ((kind, ident),) = target.items()
    if kind not in TARGET_KINDS or not isinstance(ident, str) or not ident:
        raise EventError(f"{where}: 'target' must be one of {{live|replay|product|clip: id}}, got {target!r}")
    return {"kind": kind, "id": ident}


def _lines(raw: dict[str, Any], currency: str, where: str, refund: bool) -> list[Any]:
    lines = raw.get("lines")
    if refund and lines is None:
        return []  # a refund without lines refunds the whole order
    if not isinstance(lines, list) or (not lines and not refund):
        raise EventError(f"{where}: 'lines' must be a non-empty list")
    out: list[Any] = []
    seen: set[str] = set()
    for n, line in enumerate(lines):
        at = f"{where}: lines[{n}]"
        if not isinstance(line, dict):
            raise EventError(f"{at} must be an object")
        line_id = _str(line, "line", at)
        assert line_id is not None
        amount = parse_amount(line.get("amount"), currency, f"{at}.amount")
        if refund:
            out.append((line_id, amount))
            continue
        if line_id in seen:
            raise EventError(f"{at}: line id {line_id!r} appears twice")
        seen.add(line_id)
        collections = _ids(line, "collections", at)
        quantity = line.get("quantity", 1)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise EventError(f"{at}.quantity must be a whole number >= 1, got {quantity!r}")
        out.append(Line(
            line=line_id, product=_str(line, "product", at) or "", category=_str(line, "category", at, True),
            collections=tuple(collections), quantity=quantity, amount=amount,
        ))
    return out


def _currency(raw: dict[str, Any], where: str) -> str:
    currency = raw.get("currency")
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise EventError(f"{where}: 'currency' must be an ISO 4217 code such as \"CNY\", got {currency!r}")
    return currency


def _check(etype: str, raw: dict[str, Any], where: str) -> dict[str, Any]:
    """Validated, normalized payload of one event type."""
    if etype == "live.scheduled":
        return {
            "live": _str(raw, "live", where), "starts_at": parse_datetime(raw.get("starts_at"), f"{where}: starts_at"),
            "products": _ids(raw, "products", where), "host": _str(raw, "host", where, optional=True),
        }
    if etype in ("live.started", "live.ended"):
        return {"live": _str(raw, "live", where)}
    if etype == "replay.published":
        until = raw.get("until")
        return {
            "live": _str(raw, "live", where), "replay": _str(raw, "replay", where),
            "until": parse_datetime(until, f"{where}: until") if until is not None else None,
        }
    if etype == "clip.published":
        until = raw.get("until")
        return {
            "live": _str(raw, "live", where), "clip": _str(raw, "clip", where),
            "replay": _str(raw, "replay", where, optional=True),
            "until": parse_datetime(until, f"{where}: until") if until is not None else None,
        }
    if etype == "link.clicked":
        return {
            "distributor": _str(raw, "distributor", where), "visitor": _str(raw, "visitor", where),
            "target": _target(raw, where),
        }
    if etype in ("live.joined", "live.left", "live.heartbeat"):
        return {"live": _str(raw, "live", where), "viewer": _str(raw, "viewer", where)}
    if etype == "customer.registered":
        return {"customer": _str(raw, "customer", where), "visitor": _str(raw, "visitor", where, optional=True)}
    if etype == "distributor.joined":
        return {"customer": _str(raw, "customer", where), "live": _str(raw, "live", where, optional=True)}
    if etype == "order.created":
        currency = _currency(raw, where)
        ref = raw.get("ref")
        if ref is not None and (not isinstance(ref, (str, dict)) or ref == ""):
            raise EventError(f"{where}: 'ref' must be a distributor id or {{distributor, target}}, got {ref!r}")
        if isinstance(ref, dict):
            ref = {"distributor": _str(ref, "distributor", f"{where}: ref"), "target": _target(ref, f"{where}: ref")}
        coupon = raw.get("coupon")
        if coupon is not None:
            if not isinstance(coupon, dict):
                raise EventError(f"{where}: 'coupon' must be {{code, live, distributor}}, got {coupon!r}")
            coupon = {"code": _str(coupon, "code", f"{where}: coupon"), "live": _str(coupon, "live", f"{where}: coupon"),
                      "distributor": _str(coupon, "distributor", f"{where}: coupon", optional=True)}
        return {
            "order": _str(raw, "order", where), "customer": _str(raw, "customer", where),
            "visitor": _str(raw, "visitor", where, optional=True), "channel": _str(raw, "channel", where),
            "currency": currency, "lines": _lines(raw, currency, where, refund=False), "ref": ref,
            "coupon": coupon,
        }
    if etype in ("order.paid", "order.fulfilled", "order.cancelled"):
        return {"order": _str(raw, "order", where)}
    if etype == "order.refunded":
        # An optional currency sets the precision refund amounts are checked with (default: 2 decimals).
        currency = _currency(raw, where) if raw.get("currency") is not None else "XXX"
        return {"order": _str(raw, "order", where), "lines": _lines(raw, currency, where, refund=True)}
    raise EventError(f"{where}: unknown event type {etype!r}; known: {', '.join(EVENT_TYPES)}")


EVENT_TYPES = (
    "live.scheduled", "live.started", "live.ended", "replay.published", "clip.published", "link.clicked", "live.joined",
    "live.left", "live.heartbeat", "customer.registered", "distributor.joined", "order.created",
    *ORDER_LIFECYCLE,
)


def parse_event(raw: object) -> Event:
    if not isinstance(raw, dict):
        raise EventError(f"an event must be a JSON object, got {type(raw).__name__}")
    event_id = raw.get("id")
    if not isinstance(event_id, str) or not event_id:
        raise EventError(f"event 'id' must be a non-empty string, got {event_id!r}")
    where = f"event {event_id}"
    etype = raw.get("type")
    if not isinstance(etype, str):
        raise EventError(f"{where}: 'type' must be a string")
    at = parse_datetime(raw.get("at"), f"{where}: at")
    return Event(id=event_id, type=etype, at=at, data=_check(etype, raw, where))


def read_events(lines: Iterable[str], source: str = "<events>") -> Iterator[Event]:
    """Events from JSON Lines; blank lines and lines starting with '#' are skipped."""
    for number, text in enumerate(lines, 1):
        text = text.strip()
        if not text or text.startswith("#"):
            continue
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise EventError(f"{source}:{number}: not valid JSON: {exc.msg}") from None
        try:
            yield parse_event(raw)
        except EventError as exc:
            raise EventError(f"{source}:{number}: {exc}") from None
