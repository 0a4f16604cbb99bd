"""The webhooks App mode asks Saleor for: one per event the plugin hooks, each with a subscription query that
asks exactly what payloads.py maps (the order's metadata with the share-link binding, its lines and their
net totals, the customer; the money records only where a refund is read). Every query asks `__typename` (what
happened, inside the signed body: the Saleor-Event header is not signed), `issuedAt` (replays) and
`recipient { id }` (the delivery was made for this app, not another app of the same Saleor)."""
from __future__ import annotations

from typing import Any

EVENT_FIELDS = "__typename issuedAt recipient { id }"

ORDER_FIELDS = """
  id created userEmail voucherCode
  user { id }
  channel { slug }
  metadata { key value }
  privateMetadata { key value }
  total { currency }
  lines {
    id productName productSku quantity
    totalPrice { net { amount } gross { amount } }
    variant { product { slug category { slug } collections { slug } } }
  }"""

REFUND_FIELDS = """
  shippingPrice { gross { amount } }
  fulfillments {
    id status created
    totalRefundedAmount { amount }
    shippingRefundedAmount { amount }
    lines { quantity orderLine { id } }
  }
  payments { transactions { id kind isSuccess created amount { amount } } }
  transactions { events { id type pspReference createdAt amount { amount } } }
  grantedRefunds { shippingCostsIncluded lines { quantity orderLine { id } } transactionEvents { id } }"""

REFUNDED_ORDER_FIELDS = """
  id total { currency }
  lines { id quantity totalPrice { net { amount } gross { amount } } }""" + REFUND_FIELDS

CUSTOMER_FIELDS = """
  id email dateJoined
  metadata { key value }
  privateMetadata { key value }"""

ORDER_LIFECYCLE_FIELDS = "id"


def _query(typename: str, field: str, selection: str) -> str:
    return f"subscription {{ event {{ {EVENT_FIELDS} ... on {typename} {{ {field} {{{selection}\n}} }} }} }}"


# Saleor's async event (the manifest's name) -> the event type's GraphQL name, its object and its selection.
WEBHOOKS: dict[str, tuple[str, str, str]] = {
    "ORDER_CREATED": ("OrderCreated", "order", ORDER_FIELDS),
    "ORDER_METADATA_UPDATED": ("OrderMetadataUpdated", "order", ORDER_FIELDS),
    "ORDER_PAID": ("OrderPaid", "order", ORDER_LIFECYCLE_FIELDS),
    "ORDER_FULLY_PAID": ("OrderFullyPaid", "order", ORDER_LIFECYCLE_FIELDS),
    "ORDER_FULFILLED": ("OrderFulfilled", "order", ORDER_LIFECYCLE_FIELDS),
    "ORDER_CANCELLED": ("OrderCancelled", "order", ORDER_LIFECYCLE_FIELDS),
    "ORDER_REFUNDED": ("OrderRefunded", "order", REFUNDED_ORDER_FIELDS),
    "ORDER_FULLY_REFUNDED": ("OrderFullyRefunded", "order", REFUNDED_ORDER_FIELDS),
    "CUSTOMER_CREATED": ("CustomerCreated", "user", CUSTOMER_FIELDS),
    "CUSTOMER_METADATA_UPDATED": ("CustomerMetadataUpdated", "user", CUSTOMER_FIELDS),
}


def subscription_query(event: str) -> str:
    typename, field, selection = WEBHOOKS[event]
    return _query(typename, field, selection)


def manifest_webhooks(target_url: str) -> list[dict[str, Any]]:
    """The manifest's `webhooks`: every delivery goes to target_url (the body's __typename says what it is)."""
    return [{"name": f"livedist {event.lower()}", "identifier": f"livedist-{event.lower().replace('_', '-')}",
             "asyncEvents": [event], "query": subscription_query(event), "targetUrl": target_url,
             "isActive": True} for event in WEBHOOKS]
