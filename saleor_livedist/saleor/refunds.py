"""Saleor refunds -> `order.refunded` events, read from the money records Saleor keeps (docs/saleor.md,
"Refunds"). Line amounts are net of tax, like the line amounts of `order.created`.

- A refund of products (a refund fulfillment with lines): each line's net price for the refunded quantity;
  if the money given back for the goods is less than their price, the same fraction of it.
- A refund of an amount through the payment API (`orderRefund`, `paymentRefund`, a gateway's own refund):
  each successful refund transaction of the order's payments that no refund of products accounts for.
- A Transactions API refund (`transactionRequestAction`, `transactionEventReport`, a granted refund paid
  back): each successful refund event of the order's transactions; a granted refund's lines, if it has any.

An amount without lines is spread over the lines as the same share of each line's price, tax included
(the amount is presumed to be for the goods, never more than their total), and that share of each line's
net amount is refunded. Ids come from Saleor's record ids, so a hook that fires again hands off nothing new.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from ..core.money import quantum

REFUNDED_FULFILLMENTS = ("refunded", "refunded_and_returned")
PAYMENT_REFUND = "refund"  # saleor.payment.TransactionKind.REFUND
TRANSACTION_REFUND_SUCCESS = "refund_success"  # saleor.payment.TransactionEventType.REFUND_SUCCESS
ZERO = Decimal(0)


def order_refunds(order: Any, full: bool = False) -> list[dict[str, Any]]:
    """Every refund Saleor recorded on the order, one event each. `full`: the order is fully refunded."""
    lines = {str(line.pk): line for line in order.lines.all()}
    events: list[dict[str, Any]] = []
    payment_refunds = _payment_refunds(order)
    for fulfillment in order.fulfillments.filter(status__in=REFUNDED_FULFILLMENTS).prefetch_related(
            "lines").order_by("created_at", "pk"):
        refunded = [(str(fl.order_line_id), fl.quantity) for fl in fulfillment.lines.all()]
        if not refunded:  # `orderRefund` records its amount this way too: its payment refund counts it
            continue
        _claim(payment_refunds, fulfillment)
        goods = None
        if fulfillment.total_refund_amount is not None:
            goods = fulfillment.total_refund_amount - (fulfillment.shipping_refund_amount or ZERO)
        events.append(_event(f"saleor:refund:{fulfillment.pk}", order, fulfillment.created_at,
                             _by_quantity(lines, refunded, goods, order.currency)))
    for refund in payment_refunds:
        events.append(_event(f"saleor:payment-refund:{refund.pk}", order, refund.created_at,
                             _by_share(lines, refund.amount, order.currency)))
    for event_id, refund in _transaction_refunds(order):
        events.append(_event(event_id, order, refund.created_at, _of_transaction_refund(order, lines, refund)))
    refunds = [event for event in events if event["lines"]]  # `lines: []` would mean the whole order
    if full:
        refunds.append({"id": f"saleor:order:{order.pk}:fully-refunded", "type": "order.refunded",
                        "at": timezone.now().isoformat(), "order": str(order.pk), "currency": order.currency})
    return refunds


def _payment_refunds(order: Any) -> list[Any]:
    refunds = [txn for payment in order.payments.all()
               for txn in payment.transactions.filter(kind=PAYMENT_REFUND, is_success=True)]
    return sorted(refunds, key=lambda txn: (txn.created_at, txn.pk))


def _claim(payment_refunds: list[Any], fulfillment: Any) -> None:
    """Take out the payment refund a refund of products made: Saleor refunds the payment, then records the
    fulfillment, in one transaction, for the same amount. The latest such refund before it is its own."""
    amount = fulfillment.total_refund_amount
    for txn in reversed(payment_refunds):
        if txn.amount == amount and txn.created_at <= fulfillment.created_at:
            payment_refunds.remove(txn)
            return


def _transaction_refunds(order: Any) -> list[tuple[str, Any]]:
    """The successful refund events Saleor counts in a transaction's refunded amount: with a PSP reference,
    the last one of that reference (named after the first, so a corrected report is not a second refund);
    without one (transactionCreate / transactionUpdate adjustments), each."""
    out: list[tuple[str, Any]] = []
    for item in order.payment_transactions.all():
        by_reference: dict[str, tuple[str, Any]] = {}
        for refund in item.events.filter(type=TRANSACTION_REFUND_SUCCESS, include_in_calculations=True).order_by(
                "created_at", "pk").select_related("related_granted_refund"):
            if not refund.psp_reference:
                out.append((f"saleor:transaction-refund:{refund.pk}", refund))
                continue
            first = by_reference.get(refund.psp_reference)
            by_reference[refund.psp_reference] = (first[0] if first else f"saleor:transaction-refund:{refund.pk}",
                                                  refund)
        out.extend(by_reference.values())
    return out


def _of_transaction_refund(order: Any, lines: dict[str, Any], refund: Any) -> dict[str, Decimal]:
    granted = refund.related_granted_refund
    refunded = [(str(gl.order_line_id), gl.quantity) for gl in granted.lines.all()] if granted is not None else []
    if not refunded:
        return _by_share(lines, refund.amount_value, order.currency)
    goods = refund.amount_value
    if granted.shipping_costs_included:
        goods -= order.shipping_price_gross_amount
    return _by_quantity(lines, refunded, goods, order.currency)


def _event(event_id: str, order: Any, at: datetime, amounts: dict[str, Decimal]) -> dict[str, Any]:
    return {"id": event_id, "type": "order.refunded", "at": at.isoformat(), "order": str(order.pk),
            "currency": order.currency,
            "lines": [{"line": line, "amount": str(amount)} for line, amount in amounts.items() if amount > 0]}


def _by_quantity(lines: dict[str, Any], refunded: list[tuple[str, int]], goods: Decimal | None,
                 currency: str) -> dict[str, Decimal]:
    """The net price of the refunded quantities; scaled down when less money than their price went back."""
    nets: dict[str, Decimal] = {}
    gross = ZERO
    for line_id, quantity in refunded:
        line = lines.get(line_id)
        if line is None or not line.quantity:
            continue
        nets[line_id] = nets.get(line_id, ZERO) + line.total_price_net_amount * quantity / line.quantity
        gross += line.total_price_gross_amount * quantity / line.quantity
    scale = Decimal(1)
    if goods is not None and gross > 0 and goods < gross.quantize(quantum(currency)):
        scale = max(goods, ZERO) / gross
    return {line_id: min(lines[line_id].total_price_net_amount, net * scale).quantize(quantum(currency))
            for line_id, net in nets.items()}


def _by_share(lines: dict[str, Any], amount: Decimal, currency: str) -> dict[str, Decimal]:
    """An amount (tax included) as the same share of every line's price; that share of each net amount.
    The last line takes the rounding rest."""
    gross = sum((line.total_price_gross_amount for line in lines.values()), ZERO)
    net = sum((line.total_price_net_amount for line in lines.values()), ZERO)
    if gross <= 0 or amount is None or amount <= 0:
        return {}
    share = min(amount, gross) / gross
    total = (net * min(amount, gross) / gross).quantize(quantum(currency))
    out: dict[str, Decimal] = {}
    left = total
    items = list(lines.items())
    for n, (line_id, line) in enumerate(items):
        part = left if n == len(items) - 1 else (line.total_price_net_amount * share).quantize(quantum(currency))
        out[line_id] = part
        left -= part
    return out
