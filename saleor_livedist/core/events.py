"""The event vocabulary the engine consumes (docs/events.md), parsed and checked into `Event` objects.

Every event is `{"id": ..., "type": ..., "at": ISO 8601 with offset, ...fields}`. Parsing never trusts
input: a missing field, a wrong type, a naive datetime or a value beyond the limits below raises EventError
naming the field, so no event can fail later in the database or the arithmetic.

Limits (docs/events.md, "Limits"): an event is a JSON object of at most MAX_EVENT_BYTES, nested at most
MAX_DEPTH deep; strings carry no NUL byte and no lone surrogate; identifiers are at most MAX_ID_INPUT
characters, and one longer than MAX_ID (a long guest e-mail, say) is kept as `compact_id(...)`: its start,
`~#` and a hash of the whole, the same for the same input, so it fits every column; the event's stored
body keeps the original.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
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

MAX_EVENT_BYTES = 262_144  # one event (one JSON line), encoded as UTF-8
MAX_DEPTH = 16  # nesting of objects and lists
MAX_ID_INPUT = 1024  # the longest identifier accepted at all
MAX_ID = 120  # the longest identifier stored as it is; longer ones are compacted (fits every column, also composed)
MAX_KEY = 255  # the longest object key
MAX_ITEMS = 1000  # lines of an order, products of a live, collections of a line
MAX_INT_DIGITS = 100
MAX_QUANTITY = 1_000_000
MAX_REASON = 500  # a ban's reason, as staff wrote it (the console and the API take as much)
_HASH_CHARS = 40
_BAD_CHARACTERS = re.compile("[\x00\ud800-\udfff]")


def compact_id(value: str) -> str:
    """An identifier that fits every column: itself when short, else its start, `~#` and 40 hex digits of its
    SHA-256 (the same input always gives the same id, different inputs practically never the same)."""
    if len(value) <= MAX_ID:
        return value
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_CHARS]
    return f"{value[:MAX_ID - _HASH_CHARS - 2]}~#{digest}"


def _scan(value: Any, where: str, path: str = "", depth: int = 0) -> None:
    """Refuse what JSON can carry but no field may hold: deep nesting, NUL bytes, lone surrogates, huge numbers."""
    if depth > MAX_DEPTH:
        raise EventError(f"{where}: '{path or '.'}' is nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise EventError(f"{where}: object keys must be strings, got {key!r}")
            _check_text(key, where, f"{path}.{key[:40]}" if path else key[:40], MAX_KEY, "a key")
            _scan(item, where, f"{path}.{key}" if path else key, depth + 1)
    elif isinstance(value, list):
        if len(value) > MAX_ITEMS:
            raise EventError(f"{where}: '{path}' has {len(value)} items; at most {MAX_ITEMS} are accepted")
        for n, item in enumerate(value):
            _scan(item, where, f"{path}[{n}]", depth + 1)
    elif isinstance(value, str):
        _check_text(value, where, path, MAX_EVENT_BYTES, "a string")
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if abs(value) >= 10 ** MAX_INT_DIGITS:
            raise EventError(f"{where}: '{path}' is a number of more than {MAX_INT_DIGITS} digits")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise EventError(f"{where}: '{path}' is not a finite number")
    elif not isinstance(value, Decimal):
        raise EventError(f"{where}: '{path}' is a {type(value).__name__}, not a JSON value")


def _check_text(value: str, where: str, path: str, limit: int, what: str) -> None:
    if len(value) > limit:
        raise EventError(f"{where}: '{path}' is {what} of {len(value)} characters; at most {limit} are accepted")
    bad = _BAD_CHARACTERS.search(value)
    if bad:
        kind = "a NUL byte" if bad.group() == "\x00" else "a lone surrogate (not valid Unicode)"
        raise EventError(f"{where}: '{path}' contains {kind} at character {bad.start()}")


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


MIN_YEAR, MAX_YEAR = 1970, 2999


def parse_datetime(value: object, what: str) -> datetime:
    if not isinstance(value, str):
        raise EventError(f"{what} must be an ISO 8601 string with an offset, got {_short(value)}")
    if len(value) > 64:
        raise EventError(f"{what} is not an RFC 3339 datetime such as 2026-11-20T20:00:00+08:00: {_short(value)}")
    if not _DATETIME.fullmatch(value):
        if _NAIVE.fullmatch(value):
            raise EventError(f"{what} {value!r} has no UTC offset; write e.g. {value}+08:00")
        raise EventError(f"{what} is not an RFC 3339 datetime such as 2026-11-20T20:00:00+08:00: {value!r}")
    fraction = re.search(r"\.(\d+)", value)
    if fraction and len(fraction.group(1)) > 6:  # keep microseconds, as Python can
        value = value.replace(fraction.group(0), fraction.group(0)[:7])
    if not MIN_YEAR <= int(value[:4]) <= MAX_YEAR:
        raise EventError(f"{what} {value!r} is outside the years {MIN_YEAR}-{MAX_YEAR}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        parsed.astimezone(timezone.utc)  # an offset can still push it out of range
    except (ValueError, OverflowError):
        raise EventError(f"{what} is not a valid date and time: {value!r}") from None
    return parsed


def _str(raw: dict[str, Any], key: str, where: str, optional: bool = False) -> str | None:
    value = raw.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise EventError(f"{where}: '{key}' must be a non-empty string, got {_short(value)}")
    return _id(value, where, key)


def _text(raw: dict[str, Any], key: str, where: str, optional: bool = False) -> str:
    """Free text staff wrote (a reason): kept as it is, never compacted; "" when optional and absent."""
    value = raw.get(key)
    if value is None and optional:
        return ""
    if not isinstance(value, str) or not value or len(value) > MAX_REASON:
        raise EventError(f"{where}: '{key}' must be a string of 1 to {MAX_REASON} characters, got {_short(value)}")
    return value


def _id(value: str, where: str, key: str) -> str:
    if len(value) > MAX_ID_INPUT:
        raise EventError(f"{where}: '{key}' is {len(value)} characters long; identifiers are at most {MAX_ID_INPUT}")
    return compact_id(value)


def _short(value: object) -> str:
    """repr() of a value for a message, cut short: an error never echoes a huge input back."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _ids(raw: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    """An optional list of non-empty string ids."""
    value = raw.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise EventError(f"{where}: '{key}' must be a list of non-empty strings, got {_short(value)}")
    return tuple(_id(v, where, key) for v in value)


def _target(raw: dict[str, Any], where: str) -> dict[str, str]:
    target = raw.get("target")
    if not isinstance(target, dict) or len(target) != 1:
        raise EventError(f"{where}: 'target' must be one of {{live|replay|product|clip: id}}, got {_short(target)}")
    ((kind, ident),) = target.items()
    if kind not in TARGET_KINDS or not isinstance(ident, str) or not ident:
        raise EventError(f"{where}: 'target' must be one of {{live|replay|product|clip: id}}, got {_short(target)}")
    return {"kind": kind, "id": _id(ident, where, "target")}


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
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
            raise EventError(f"{at}.quantity must be a whole number from 1 to {MAX_QUANTITY}, got {_short(quantity)}")
        out.append(Line(
            line=line_id, product=_str(line, "product", at) or "", category=_str(line, "category", at, True),
            collections=tuple(collections), quantity=quantity, amount=amount,
        ))
    return out


def _currency(raw: dict[str, Any], where: str) -> str:
    currency = raw.get("currency")
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise EventError(f"{where}: 'currency' must be an ISO 4217 code such as \"CNY\", got {_short(currency)}")
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
        signed_in = raw.get("signed_in") or False
        if not isinstance(signed_in, bool):
            raise EventError(f"{where}: 'signed_in' must be true or false, got {_short(signed_in)}")
        return {"live": _str(raw, "live", where), "viewer": _str(raw, "viewer", where), "signed_in": signed_in}
    if etype == "invitee.reviewed":
        decision = raw.get("decision")
        if decision not in ("approve", "reject"):
            raise EventError(f"{where}: 'decision' must be \"approve\" or \"reject\", got {_short(decision)}")
        return {"held": _str(raw, "held", where), "decision": decision, "by": _str(raw, "by", where, optional=True)}
    if etype == "customer.registered":
        return {"customer": _str(raw, "customer", where), "visitor": _str(raw, "visitor", where, optional=True)}
    if etype == "distributor.joined":
        return {"customer": _str(raw, "customer", where), "live": _str(raw, "live", where, optional=True)}
    if etype in ("distributor.banned", "distributor.unbanned"):
        return {"distributor": _str(raw, "distributor", where),
                "reason": _text(raw, "reason", where, optional=etype == "distributor.unbanned"),
                "by": _str(raw, "by", where, optional=True)}
    if etype == "order.created":
        currency = _currency(raw, where)
        ref = raw.get("ref")
        if ref is not None and (not isinstance(ref, (str, dict)) or ref == ""):
            raise EventError(f"{where}: 'ref' must be a distributor id or {{distributor, target}}, got {_short(ref)}")
        if isinstance(ref, dict):
            ref = {"distributor": _str(ref, "distributor", f"{where}: ref"), "target": _target(ref, f"{where}: ref")}
        elif isinstance(ref, str):
            ref = _id(ref, where, "ref")
        coupon = raw.get("coupon")
        if coupon is not None:
            if not isinstance(coupon, dict):
                raise EventError(f"{where}: 'coupon' must be {{code, live, distributor}}, got {_short(coupon)}")
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
    raise EventError(f"{where}: unknown event type {_short(etype)}; known: {', '.join(EVENT_TYPES)}")


EVENT_TYPES = (
    "live.scheduled", "live.started", "live.ended", "replay.published", "clip.published", "link.clicked", "live.joined",
    "live.left", "live.heartbeat", "customer.registered", "distributor.joined", "distributor.banned",
    "distributor.unbanned", "invitee.reviewed", "order.created",
    *ORDER_LIFECYCLE,
)


def parse_event(raw: object) -> Event:
    if not isinstance(raw, dict):
        raise EventError(f"an event must be a JSON object, got {type(raw).__name__}")
    event_id = raw.get("id")
    if not isinstance(event_id, str) or not event_id:
        raise EventError(f"event 'id' must be a non-empty string, got {_short(event_id)}")
    _scan(raw, f"event {_short(event_id)}")
    event_id = _id(event_id, "event", "id")
    where = f"event {event_id}"
    etype = raw.get("type")
    if not isinstance(etype, str):
        raise EventError(f"{where}: 'type' must be a string")
    if etype not in EVENT_TYPES:
        raise EventError(f"{where}: unknown event type {_short(etype)}; known: {', '.join(EVENT_TYPES)}")
    at = parse_datetime(raw.get("at"), f"{where}: at")
    return Event(id=event_id, type=etype, at=at, data=_check(etype, raw, where))


def same_event(a: Event, b: Event) -> bool:
    """Whether two events with one id say the same thing. Their times may differ: a redelivery, or Saleor's
    order_paid and order_fully_paid, which both hand off `saleor:order:<pk>:paid`."""
    return a.type == b.type and a.to_json() | {"at": None} == b.to_json() | {"at": None}


def parse_line(text: str) -> Event:
    """One event from one JSON text, within the limits (EventError otherwise, never another exception)."""
    if len(text) > MAX_EVENT_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_EVENT_BYTES:
        raise EventError(f"the event is longer than {MAX_EVENT_BYTES} bytes")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EventError(f"not valid JSON: {exc.msg} (column {exc.colno})") from None
    except ValueError as exc:  # e.g. an integer of thousands of digits
        raise EventError(f"not valid JSON: {str(exc).split(';')[0]}") from None
    except RecursionError:
        raise EventError(f"not valid JSON: nested more than {MAX_DEPTH} levels deep") from None
    return parse_event(raw)


def read_lines(lines: Iterable[str]) -> Iterator[tuple[int, Event | EventError]]:
    """(line number, event or the EventError that line gives) for each event line of JSON Lines; blank lines
    and lines starting with '#' are skipped."""
    for number, text in enumerate(lines, 1):
        text = text.strip()
        if not text or text.startswith("#"):
            continue
        try:
            yield number, parse_line(text)
        except EventError as exc:
            yield number, exc


def read_events(lines: Iterable[str], source: str = "<events>") -> Iterator[Event]:
    """Events from JSON Lines; blank lines and lines starting with '#' are skipped. The first bad line raises
    EventError as `SOURCE:LINE: message`."""
    for number, item in read_lines(lines):
        if isinstance(item, EventError):
            raise EventError(f"{source}:{number}: {item}") from None
        yield item
