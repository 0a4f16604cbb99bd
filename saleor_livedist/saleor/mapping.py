"""Saleor orders and customers -> events of the engine's vocabulary (docs/events.md).

Identifiers a merchant writes in rule files: product, category, collection and channel *slugs*. Amounts:
the line's total net price (after discounts, before tax). Refunds: refunds.py. Event ids are derived from Saleor's ids, so a hook
that fires twice hands off the same event, which is then applied once.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.utils import timezone

from ..core.money import quantum
from ..distribution.links import LinkError, read_share_token, read_visitor
from ..identity import of_guest, of_user
from ..live_room.coupons import coupon_of_order

logger = logging.getLogger(__name__)

REF_KEY = "livedist_ref"  # a share token from the click URL, kept by the storefront in checkout metadata
VISITOR_KEY = "livedist_visitor"  # the signed visitor id (the livedist_vid cookie), likewise


def customer_identity(order: Any) -> str:
    if order.user_id:
        return of_user(order.user)
    return of_guest(order.user_email or f"order-{order.pk}@unknown.invalid")


def _metadata(obj: Any) -> dict[str, Any]:
    return {**(getattr(obj, "private_metadata", None) or {}), **(getattr(obj, "metadata", None) or {})}


def ref_from_metadata(meta: dict[str, Any]) -> dict[str, Any] | None:
    token = meta.get(REF_KEY)
    if not isinstance(token, str) or not token:
        return None
    try:
        return read_share_token(token).as_ref()
    except LinkError as exc:
        logger.info("ignoring share token in metadata: %s", exc)
        return None


def visitor_from_metadata(meta: dict[str, Any]) -> str | None:
    signed = meta.get(VISITOR_KEY)
    if not isinstance(signed, str) or not signed:
        return None
    try:
        return read_visitor(signed)
    except LinkError as exc:
        logger.info("ignoring visitor id in metadata: %s", exc)
        return None


def _line(line: Any) -> dict[str, Any]:
    variant = line.variant
    product = variant.product if variant is not None else None
    return {
        "line": str(line.pk),
        "product": product.slug if product is not None else (line.product_sku or line.product_name),
        "category": product.category.slug if product is not None and product.category_id else None,
        "collections": sorted(c.slug for c in product.collections.all()) if product is not None else [],
        "quantity": line.quantity,
        "amount": str(line.total_price_net_amount.quantize(quantum(line.currency))),
    }


def order_created(order: Any) -> dict[str, Any]:
    lines = [_line(line) for line in order.lines.select_related("variant__product__category").all()]
    return order_created_event(str(order.pk), order.created_at.isoformat(), customer_identity(order),
                               order.channel.slug, order.currency, lines, _metadata(order),
                               getattr(order, "voucher_code", None))


def order_created_event(pk: str, at: str, customer: str, channel: str, currency: str, lines: list[dict[str, Any]],
                        meta: dict[str, Any], voucher_code: str | None) -> dict[str, Any]:
    """order.created from what Saleor says of the order (its models here, a webhook's body in App mode): the
    share token and visitor id in its metadata, a distributor's live coupon code as its voucher code."""
    event: dict[str, Any] = {
        "id": f"saleor:order:{pk}:created", "type": "order.created", "at": at, "order": pk, "customer": customer,
        "channel": channel, "currency": currency, "lines": lines,
    }
    ref = ref_from_metadata(meta)
    if ref is not None:
        event["ref"] = ref
    visitor = visitor_from_metadata(meta)
    if visitor is not None:
        event["visitor"] = visitor
    coupon = coupon_of_order(voucher_code)
    if coupon is not None:
        event["coupon"] = coupon
    return event


def order_lifecycle(kind: str, order: Any, at: datetime | None = None) -> dict[str, Any]:
    """kind: paid, fulfilled, cancelled."""
    return order_lifecycle_event(kind, str(order.pk), (at or timezone.now()).isoformat())


def order_lifecycle_event(kind: str, pk: str, at: str) -> dict[str, Any]:
    return {"id": f"saleor:order:{pk}:{kind}", "type": f"order.{kind}", "at": at, "order": pk}


def customer_registered(user: Any) -> list[dict[str, Any]]:
    """accountRegister(metadata: [{key: livedist_visitor | livedist_ref}]) reaches the new customer."""
    at = (getattr(user, "date_joined", None) or timezone.now()).isoformat()
    return customer_registered_events(str(user.pk), of_user(user), at, _metadata(user))


def customer_registered_events(pk: str, identity: str, at: str, meta: dict[str, Any]) -> list[dict[str, Any]]:
    """customer.registered, after the click its share token stands for (if its metadata has one)."""
    events: list[dict[str, Any]] = []
    visitor = visitor_from_metadata(meta)
    ref = ref_from_metadata(meta)
    if ref is not None:
        events.append({"id": f"saleor:customer:{pk}:ref", "type": "link.clicked", "at": at,
                       "distributor": ref["distributor"], "visitor": identity, "target": ref["target"]})
    events.append({"id": f"saleor:customer:{pk}:registered", "type": "customer.registered", "at": at,
                   "customer": identity, **({"visitor": visitor} if visitor else {})})
    return events
