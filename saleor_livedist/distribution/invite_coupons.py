"""Two-sided invites: a new customer who arrives through a distributor's share link gets a first-order coupon
(rules: invite_coupon), while the distributor earns what the other rules give (docs/rules.md, "invite_coupon").

The click writes the person's coupon as `pending` (one row per person, so one coupon however often they click)
with the rules' terms of that moment; the store's voucher is made after the click commits (a Celery task where
a broker is configured) or when the person first asks for it, through the voucher port, keyed by the person so
it is never made twice. A store that fails leaves it `failed`, tried again on the next ask or sweep."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..inbox import broker, processing
from ..live_room.coupons import StoreGrant, VoucherPort, first_order_title as title_of, voucher_port
from ..models import Alias, FirstOrderCoupon, PayingCustomer

logger = logging.getLogger(__name__)


def identities_of(person: str) -> list[str]:
    """The person and every visitor id stitched to them (a visitor who signed up is that customer)."""
    customer = Alias.objects.filter(visitor=person).values_list("customer", flat=True).first() or person
    return [customer, *Alias.objects.filter(customer=customer).values_list("visitor", flat=True)]


def note_arrival(person: str, distributor: str, at: datetime | None = None) -> bool:
    """A click on `distributor`'s link by `person`: their coupon, pending, if the rules give one and the person
    is new (no paid order, no coupon yet). True if one was written now. Call inside the click's transaction."""
    rules = processing.rules_source().current().ruleset.invite_coupon
    if rules is None or person == distributor:
        return False
    people = identities_of(person)
    if distributor in people or PayingCustomer.objects.filter(customer__in=people).exists() or (
            FirstOrderCoupon.objects.filter(person__in=people).exists()):
        return False
    at = at or timezone.now()
    try:
        with transaction.atomic():
            FirstOrderCoupon.objects.create(
                person=people[0], distributor=distributor, kind=rules.kind, value=rules.value,
                currency=rules.currency, min_spent=rules.min_spent, channel=rules.channel,
                valid_until=at + timedelta(days=rules.valid_days),
                rules_version=processing.rules_source().current().version, created_at=at)
    except IntegrityError:  # a concurrent click of the same person wrote it
        return False
    transaction.on_commit(lambda: _issue_later(people[0]))
    return True


def _issue_later(person: str) -> None:
    if broker.broker_configured() and broker.publish(broker.ISSUE_FIRST_ORDER_COUPON, (person,)):
        return
    try:
        issue(person)
    except Exception:  # the click has answered already; the next ask tries again
        logger.exception("could not make the first-order coupon of %s", person)


def issue(person: str, port: VoucherPort | None = None) -> FirstOrderCoupon | None:
    """Make the store's voucher for the person's pending (or failed) coupon; the coupon as it is now."""
    with transaction.atomic():
        row = FirstOrderCoupon.objects.select_for_update().filter(person=person).first()
        if row is None or row.status == FirstOrderCoupon.ISSUED:
            return row
        try:
            with transaction.atomic():
                granted = (port or voucher_port()).grant_voucher(StoreGrant(
                    key=f"first-order:{person}", person=person, title=title_of(row), value=row.value,
                    currency=row.currency, channel=row.channel, percent=row.kind == "percent",
                    min_spent=row.min_spent, valid_until=row.valid_until))
        except Exception as exc:
            logger.warning("first-order coupon of %s: the store did not make the voucher: %s", person, exc)
            row.status, row.error = FirstOrderCoupon.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
            row.save(update_fields=["status", "error"])
            return row
        row.status, row.store_id, row.code, row.error, row.issued_at = (
            FirstOrderCoupon.ISSUED, granted.store_id, granted.code, "", timezone.now())
        row.save(update_fields=["status", "store_id", "code", "error", "issued_at"])
        return row


def first_order_coupon_of(person: str, port: VoucherPort | None = None) -> FirstOrderCoupon | None:
    """The person's first-order coupon (made now if the store had not made it yet); None if they have none."""
    row = FirstOrderCoupon.objects.filter(person__in=identities_of(person)).first()
    if row is not None and row.status != FirstOrderCoupon.ISSUED:
        row = issue(row.person, port)
    return row


def retry_failed(now: datetime | None = None) -> int:
    """Make the vouchers still pending or failed (the periodic sweep); how many were issued now."""
    now = now or timezone.now()
    done = 0
    for person in FirstOrderCoupon.objects.exclude(status=FirstOrderCoupon.ISSUED).filter(
            valid_until__gt=now).values_list("person", flat=True)[:500]:
        row = issue(person)
        done += row is not None and row.status == FirstOrderCoupon.ISSUED
    return done
