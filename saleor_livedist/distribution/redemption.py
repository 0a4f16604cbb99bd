"""Points redemption: a distributor's points buy a store voucher or gift card at the rules' rate
(docs/rules.md, "redemption"), through the voucher port (a Saleor voucher or gift card inside Saleor).

The steps, so that points are never spent twice, never go negative and are never lost:
1. hold: with the distributor's row locked, the balance (points granted minus points held by pending and
   issued redemptions) is checked and a `pending` redemption is written and committed. Concurrent
   redemptions of one distributor queue on the lock, so the balance cannot go below zero; the same
   (distributor, request id) is one row, so a retried request is the same redemption.
2. issue: with the redemption's row locked, the port makes the voucher or gift card (keyed by the
   redemption, so a second attempt returns the one made before) and the row becomes `issued`, in one
   transaction: inside Saleor both are in the same database and commit together.
3. if the port fails, that transaction rolls back and the redemption becomes `failed`, which gives its
   points back; retrying the same request id tries again. A process that dies between 1 and 2 leaves it
   `pending` (its points held, not lost): the same request id, or `resume_pending`, finishes it.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from ..exceptions import ServiceError
from ..inbox import processing
from ..live_room.coupons import Granted, StoreGrant, VoucherPort, voucher_port
from ..models import Distributor, PointsGrant, PointsRedemption
from ..rules.model import Redemption as RedemptionRules

logger = logging.getLogger(__name__)
HOLDING = (PointsRedemption.PENDING, PointsRedemption.ISSUED)
REQUEST_MAX = 100


@dataclass(frozen=True)
class Offer:
    kind: str
    points: int  # the fewest points it costs (the rules' minimum)
    value: Decimal  # what those points buy
    currency: str


@dataclass(frozen=True)
class RedemptionOptions:
    """What a distributor's points can buy now. `reason` says why nothing, when `max_points` is 0."""

    balance: int  # points granted, less points held by pending and issued redemptions
    step: int  # a redemption spends a whole multiple of this
    step_value: Decimal
    currency: str
    minimum: int
    max_points: int  # the most one redemption can spend now (a multiple of step; 0: none)
    max_value: Decimal
    offers: tuple[Offer, ...]
    valid_days: int
    reason: str = ""


def points_balance(distributor: str) -> int:
    granted = PointsGrant.objects.filter(beneficiary=distributor).aggregate(n=Sum("points"))["n"] or 0
    held = PointsRedemption.objects.filter(distributor=distributor, status__in=HOLDING).aggregate(
        n=Sum("points"))["n"] or 0
    return granted - held


def _rules() -> RedemptionRules | None:
    return processing.rules_source().current().ruleset.redemption


def redemption_options(distributor: str) -> RedemptionOptions | None:
    """What the distributor's points buy; None when the rules let points buy nothing."""
    rules = _rules()
    if rules is None:
        return None
    balance = points_balance(distributor)
    most = max(balance, 0) // rules.points * rules.points
    reason = "" if most >= rules.minimum else _(
        "you have %(balance)s points; a redemption needs at least %(minimum)s") % {
        "balance": balance, "minimum": rules.minimum}
    most = most if not reason else 0
    return RedemptionOptions(
        balance=balance, step=rules.points, step_value=rules.value, currency=rules.currency, minimum=rules.minimum,
        max_points=most, max_value=rules.worth(most), valid_days=rules.valid_days, reason=reason,
        offers=tuple(Offer(kind, rules.minimum, rules.worth(rules.minimum), rules.currency) for kind in rules.kinds))


def redemptions_of(distributor: str, limit: int = 50) -> list[PointsRedemption]:
    return list(PointsRedemption.objects.filter(distributor=distributor)[:limit])


def redeem(distributor: str, request: str, points: int, kind: str, channel: str | None = None,
           port: VoucherPort | None = None) -> PointsRedemption:
    """Spend `points` on a voucher or gift card, exactly once per `request` (the caller's id for this
    redemption: a retry with the same id returns the same redemption, finishing it if it was interrupted)."""
    rules = _rules()
    if rules is None:
        raise ServiceError(None, "NOT_AVAILABLE", _("points cannot be redeemed in this store (the rules have no "
                                                    "'redemption' section)"))
    request = (request or "").strip()
    if not request or len(request) > REQUEST_MAX:
        raise ServiceError("requestId", "INVALID", _("requestId must be 1 to %(max)s characters, unique per "
                                                     "redemption you make") % {"max": REQUEST_MAX})
    if kind not in rules.kinds:
        raise ServiceError("kind", "INVALID", _("points buy %(kinds)s here, not %(kind)r") % {
            "kinds": " | ".join(rules.kinds), "kind": kind})
    if not isinstance(points, int) or isinstance(points, bool) or points < rules.minimum or points % rules.points:
        raise ServiceError("points", "INVALID", _(
            "points must be at least %(minimum)s and a multiple of %(step)s (%(step)s points = %(value)s "
            "%(currency)s), got %(points)s") % {"minimum": rules.minimum, "step": rules.points,
                                                 "value": rules.value, "currency": rules.currency, "points": points})
    row = _hold(distributor, request, points, kind, channel or rules.channel, rules)
    if row.status == PointsRedemption.PENDING:
        row = _issue(row.pk, port or voucher_port())
    return row


def _hold(distributor: str, request: str, points: int, kind: str, channel: str,
          rules: RedemptionRules) -> PointsRedemption:
    """Step 1: the redemption written as pending, its points held; or the one this request made before."""
    with transaction.atomic():
        if Distributor.objects.select_for_update().filter(id=distributor).first() is None:
            raise ServiceError(None, "NOT_DISTRIBUTOR", _("only distributors have points to redeem"))
        row = PointsRedemption.objects.filter(distributor=distributor, request=request).first()
        if row is not None:
            if (row.points, row.kind) != (points, kind):
                raise ServiceError("requestId", "UNIQUE", _(
                    "requestId %(request)r was used for another redemption (%(points)s points, %(kind)s); use a "
                    "new id for a new redemption") % {"request": request, "points": row.points, "kind": row.kind})
            if row.status != PointsRedemption.FAILED:
                return row
        balance = points_balance(distributor)
        if points > balance:
            raise ServiceError("points", "INSUFFICIENT", _("you have %(balance)s points, not %(points)s") % {
                "balance": balance, "points": points})
        values = {"points": points, "kind": kind, "value": rules.worth(points), "currency": rules.currency,
                  "channel": channel if kind == PointsRedemption.VOUCHER else "", "rules_version": _version(),
                  "valid_until": timezone.now() + timedelta(days=rules.valid_days),
                  "status": PointsRedemption.PENDING, "error": ""}
        if row is None:
            try:
                with transaction.atomic():
                    return PointsRedemption.objects.create(distributor=distributor, request=request, **values)
            except IntegrityError:  # unreachable while the distributor's row is locked; kept for safety
                raise ServiceError("requestId", "UNIQUE", _("requestId %(request)r is in use") % {
                    "request": request}) from None
        for name, value in values.items():
            setattr(row, name, value)
        row.save()
        return row


def _issue(pk: int, port: VoucherPort) -> PointsRedemption:
    """Steps 2 and 3: the store's voucher or gift card, or the redemption failed and its points given back."""
    try:
        with transaction.atomic():
            row = PointsRedemption.objects.select_for_update().get(pk=pk)
            if row.status != PointsRedemption.PENDING:
                return row  # a concurrent retry of the same request finished it
            granted = _grant(row, port)
            row.status, row.store_id, row.code, row.issued_at = (PointsRedemption.ISSUED, granted.store_id,
                                                                 granted.code, timezone.now())
            row.save(update_fields=["status", "store_id", "code", "issued_at"])
            return row
    except Exception as exc:
        logger.exception("points redemption %s: the store did not make the %s", pk, "voucher or gift card")
        message = exc.message if isinstance(exc, ServiceError) else f"{type(exc).__name__}: {exc}"
        PointsRedemption.objects.filter(pk=pk, status=PointsRedemption.PENDING).update(
            status=PointsRedemption.FAILED, error=message[:2000])
        raise ServiceError(None, "STORE_FAILED", _(
            "the store could not make your %(kind)s, so no points were spent; try again with the same "
            "requestId (%(reason)s)") % {"kind": _kind_name(_kind_of(pk)), "reason": message[:300]}) from exc


def _grant(row: PointsRedemption, port: VoucherPort) -> Granted:
    grant = StoreGrant(
        key=f"redemption:{row.pk}", person=row.distributor, value=row.value, currency=row.currency,
        channel=row.channel, valid_until=row.valid_until,
        title=_("%(points)s points redeemed") % {"points": row.points})
    if row.kind == PointsRedemption.GIFT_CARD:
        return port.grant_gift_card(grant)
    return port.grant_voucher(grant)


def resume_pending(older_than: timedelta = timedelta(minutes=5), now: datetime | None = None,
                   port: VoucherPort | None = None) -> int:
    """Finish redemptions a process left pending (it died between holding the points and the store's reply);
    returns how many were issued now. The failed ones give their points back."""
    cutoff = (now or timezone.now()) - older_than
    done = 0
    for pk in PointsRedemption.objects.filter(status=PointsRedemption.PENDING, created_at__lte=cutoff).values_list(
            "pk", flat=True):
        try:
            done += _issue(pk, port or voucher_port()).status == PointsRedemption.ISSUED
        except ServiceError:
            pass
    return done


def _kind_of(pk: int) -> str:
    return PointsRedemption.objects.filter(pk=pk).values_list("kind", flat=True).first() or ""


def _kind_name(kind: str) -> str:
    return _("gift card") if kind == PointsRedemption.GIFT_CARD else _("voucher")


def _version() -> str:
    return processing.rules_source().current().version
