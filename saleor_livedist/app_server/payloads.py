"""A verified webhook delivery's body (subscriptions.py asks for it) -> events of the engine's vocabulary, the
same events the plugin's hooks hand off for the same order (saleor_livedist/saleor/mapping.py, refunds.py):
the same ids, derived from Saleor's own ids, so a retried or repeated delivery is applied once, and the same
bodies. Amounts arrive as JSON numbers: the body is read with Decimal for them (`read_body`)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..console.app import global_pk
from ..core.money import quantum
from ..exceptions import LiveDistError
from ..identity import USER_PREFIX, of_guest
from ..saleor.mapping import (REF_KEY, VISITOR_KEY, customer_registered_events, order_created_event,
                              order_lifecycle_event)
from ..saleor.refunds import ZERO, _by_quantity, _by_share, _event

REFUNDED_FULFILLMENTS = ("REFUNDED", "REFUNDED_AND_RETURNED")


class PayloadError(LiveDistError, ValueError):
    """A signed delivery whose body is not what the subscription query asks for."""


def read_body(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body, parse_float=Decimal)
    except (ValueError, RecursionError):
        raise PayloadError("the body is not JSON") from None
    if not isinstance(payload, dict):
        raise PayloadError("the body is not a JSON object")
    return payload


def events_of(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The events one delivery stands for ([] for an event type App mode does not map)."""
    kind = payload.get("__typename")
    if kind in ("OrderCreated", "OrderMetadataUpdated"):
        # A metadata change says again what the order was: the same event (applied once); a binding that
        # arrives only after the order is a different body under a used id, kept aside and never applied.
        return [order_created(_object(payload, "order"))]
    lifecycle = {"OrderPaid": "paid", "OrderFullyPaid": "paid", "OrderFulfilled": "fulfilled",
                 "OrderCancelled": "cancelled"}
    if kind in lifecycle:
        order = _object(payload, "order")
        return [order_lifecycle_event(lifecycle[kind], _pk(order.get("id"), "Order"), _issued_at(payload))]
    if kind in ("OrderRefunded", "OrderFullyRefunded"):
        return order_refunds(_object(payload, "order"), _issued_at(payload), full=kind == "OrderFullyRefunded")
    if kind in ("CustomerCreated", "CustomerMetadataUpdated"):
        return customer_registered(_object(payload, "user"), _issued_at(payload))
    return []


def order_created(order: dict[str, Any]) -> dict[str, Any]:
    pk = _pk(order.get("id"), "Order")
    currency = _currency(order)
    return order_created_event(pk, _text(order, "created"), _customer(order, pk),
                               _text(order.get("channel") or {}, "slug"), currency,
                               [_line(line, currency) for line in _list(order, "lines")], _metadata(order),
                               order.get("voucherCode"))


def customer_registered(user: dict[str, Any], issued_at: str) -> list[dict[str, Any]]:
    pk = _pk(user.get("id"), "User")
    return customer_registered_events(pk, f"{USER_PREFIX}{pk}", user.get("dateJoined") or issued_at, _metadata(user))


# ---------------------------------------------------------------------- refunds (as refunds.py reads them)


@dataclass(frozen=True)
class _Line:
    quantity: int
    total_price_net_amount: Decimal
    total_price_gross_amount: Decimal


@dataclass(frozen=True)
class _Ref:
    """The order as refunds._event reads it."""

    pk: str
    currency: str


def order_refunds(order: dict[str, Any], issued_at: str, full: bool = False) -> list[dict[str, Any]]:
    """Every refund Saleor recorded on the order, one event each, as the plugin reads them from its models."""
    pk = _pk(order.get("id"), "Order")
    currency = _currency(order)
    ref = _Ref(pk, currency)
    lines = {_pk(line.get("id"), "OrderLine"): _Line(
        int(line.get("quantity") or 0), _amount(line, "totalPrice", "net"), _amount(line, "totalPrice", "gross"))
        for line in _list(order, "lines")}
    payment_refunds = sorted(
        ((_text(txn, "created"), _pk(txn.get("id"), "Transaction"), _money(txn.get("amount")))
         for payment in _list(order, "payments") for txn in _list(payment, "transactions")
         if txn.get("kind") == "REFUND" and txn.get("isSuccess")), key=lambda t: (t[0], int(t[1])))
    events: list[dict[str, Any]] = []
    fulfillments = [f for f in _list(order, "fulfillments") if f.get("status") in REFUNDED_FULFILLMENTS]
    for fulfillment in sorted(fulfillments, key=lambda f: (_text(f, "created"), int(_pk(f.get("id"), "Fulfillment")))):
        refunded = [(_pk((fl.get("orderLine") or {}).get("id"), "OrderLine"), int(fl.get("quantity") or 0))
                    for fl in _list(fulfillment, "lines")]
        if not refunded:
            continue
        total = fulfillment.get("totalRefundedAmount")
        created = _text(fulfillment, "created")
        if total is not None:
            for txn in reversed(payment_refunds):  # the payment refund this refund of products made
                if txn[2] == _money(total) and txn[0] <= created:
                    payment_refunds.remove(txn)
                    break
        goods = None if total is None else _money(total) - _money(fulfillment.get("shippingRefundedAmount"))
        events.append(_event(f"saleor:refund:{_pk(fulfillment.get('id'), 'Fulfillment')}", ref, _At(created),
                             _by_quantity(lines, refunded, goods, currency)))
    for created, txn_pk, amount in payment_refunds:
        events.append(_event(f"saleor:payment-refund:{txn_pk}", ref, _At(created), _by_share(lines, amount, currency)))
    granted = {(e.get("id") or ""): g for g in _list(order, "grantedRefunds") for e in _list(g, "transactionEvents")}
    shipping = _amount(order, "shippingPrice", "gross")
    for event_id, refund in _transaction_refunds(order):
        grant = granted.get(refund.get("id") or "")
        refunded = [(_pk((gl.get("orderLine") or {}).get("id"), "OrderLine"), int(gl.get("quantity") or 0))
                    for gl in _list(grant or {}, "lines")]
        amount = _money(refund.get("amount"))
        if refunded:
            goods = amount - shipping if grant and grant.get("shippingCostsIncluded") else amount
            amounts = _by_quantity(lines, refunded, goods, currency)
        else:
            amounts = _by_share(lines, amount, currency)
        events.append(_event(event_id, ref, _At(_text(refund, "createdAt")), amounts))
    refunds = [event for event in events if event["lines"]]
    if full:
        refunds.append({"id": f"saleor:order:{pk}:fully-refunded", "type": "order.refunded", "at": issued_at,
                        "order": pk, "currency": currency})
    return refunds


def _transaction_refunds(order: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Successful refund events; with a PSP reference, the last one of it, named after the first."""
    out: list[tuple[str, dict[str, Any]]] = []
    for item in _list(order, "transactions"):
        by_reference: dict[str, tuple[str, dict[str, Any]]] = {}
        refunds = [e for e in _list(item, "events") if e.get("type") == "REFUND_SUCCESS"]
        for refund in sorted(refunds, key=lambda e: (_text(e, "createdAt"), int(_pk(e.get("id"), "TransactionEvent")))):
            name = f"saleor:transaction-refund:{_pk(refund.get('id'), 'TransactionEvent')}"
            reference = refund.get("pspReference")
            if not reference:
                out.append((name, refund))
                continue
            first = by_reference.get(reference)
            by_reference[reference] = (first[0] if first else name, refund)
        out.extend(by_reference.values())
    return out


class _At(str):
    """An ISO time where refunds._event wants a datetime (it calls .isoformat())."""

    def isoformat(self) -> str:
        return str(self)


# ---------------------------------------------------------------------- reading the body


def _object(payload: dict[str, Any], field: str) -> dict[str, Any]:
    value = payload.get(field)
    if not isinstance(value, dict):
        raise PayloadError(f"the delivery has no {field} (is the webhook's subscription query the app's?)")
    return value


def _issued_at(payload: dict[str, Any]) -> str:
    return _text(payload, "issuedAt")


def _text(obj: dict[str, Any], field: str) -> str:
    value = obj.get(field)
    if not isinstance(value, str) or not value:
        raise PayloadError(f"the delivery has no {field}")
    return value


def _list(obj: dict[str, Any], field: str) -> list[dict[str, Any]]:
    value = obj.get(field) or []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise PayloadError(f"{field} is not a list of objects")
    return value


def _pk(global_id: Any, kind: str) -> str:
    """The pk inside Saleor's global id (base64 of `Kind:pk`)."""
    pk = global_pk(global_id, kind) if isinstance(global_id, str) else None
    if pk is None:
        raise PayloadError(f"not a {kind} id: {global_id!r}")
    return pk


def _money(value: Any) -> Decimal:
    amount = value.get("amount") if isinstance(value, dict) else value
    if amount is None:
        return ZERO
    if isinstance(amount, bool) or not isinstance(amount, (int, Decimal, str)):
        raise PayloadError(f"not an amount: {amount!r}")
    try:
        return Decimal(str(amount))
    except ArithmeticError:
        raise PayloadError(f"not an amount: {amount!r}") from None


def _amount(obj: dict[str, Any], field: str, part: str) -> Decimal:
    return _money(((obj.get(field) or {}).get(part)) or {})


def _currency(order: dict[str, Any]) -> str:
    return _text(order.get("total") or {}, "currency")


def _metadata(obj: dict[str, Any]) -> dict[str, Any]:
    """Public over private, as the plugin reads them (only the two keys it uses matter)."""
    out: dict[str, Any] = {}
    for field in ("privateMetadata", "metadata"):
        for item in obj.get(field) or []:
            if isinstance(item, dict) and item.get("key") in (REF_KEY, VISITOR_KEY):
                out[item["key"]] = item.get("value")
    return out


def _customer(order: dict[str, Any], pk: str) -> str:
    user = order.get("user")
    if isinstance(user, dict) and user.get("id"):
        return f"{USER_PREFIX}{_pk(user['id'], 'User')}"
    return of_guest(order.get("userEmail") or f"order-{pk}@unknown.invalid")


def _line(line: dict[str, Any], currency: str) -> dict[str, Any]:
    product = (line.get("variant") or {}).get("product")
    category = (product or {}).get("category")
    return {
        "line": _pk(line.get("id"), "OrderLine"),
        "product": product["slug"] if product else (line.get("productSku") or line.get("productName")),
        "category": category["slug"] if category else None,
        "collections": sorted(c["slug"] for c in (product or {}).get("collections") or []) if product else [],
        "quantity": int(line.get("quantity") or 0),
        "amount": str(_amount(line, "totalPrice", "net").quantize(quantum(currency))),
    }
