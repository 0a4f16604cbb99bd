"""What the API, the console and the distributor's center do with payouts. Every change runs in one
transaction, is kept as a PayoutChange row (who, when) and carries a request id: the same request sent twice
changes nothing the second time and answers what the first did. Errors are ServiceError with a field and a
stable code; nothing is half-written."""
from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

from django.db import connection, transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from ..conf import get_setting
from ..core.money import MAX_AMOUNT, quantum, round_money
from ..exceptions import ServiceError
from ..models import Distributor, DistributorBan, PayoutBatch, PayoutChange, Withdrawal
from .accounts import Account, check_account, seal
from .balance import Balance, balance_in, balances

__all__ = ["balance", "balances", "request_withdrawal", "withdrawals_of", "approve_withdrawal", "refuse_withdrawal",
           "create_payout_batch", "mark_batch_paid", "minimum_for"]


def balance(distributor: str) -> dict[str, Balance]:
    """The distributor's balance in each currency they have commission or withdrawals in."""
    return balances(distributor)


def withdrawals_of(distributor: str) -> QuerySet[Withdrawal]:
    """The distributor's withdrawals, newest first (account details as `account_masked` only)."""
    return Withdrawal.objects.filter(distributor=distributor).order_by("-created_at", "-id")


def minimum_for(currency: str) -> Decimal:
    minimums = get_setting("WITHDRAWAL_MINIMUM")
    return minimums.get(currency, minimums.get("*", Decimal(0)))


def _lock_payee(distributor: str) -> None:
    """Serialise every balance-changing request of one distributor: the payee row, created on first use, locked
    until the transaction ends. A second request waits here and then sees the first one's withdrawal."""
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO livedist_payee (distributor, created_at) VALUES (%s, %s) "
                       "ON CONFLICT (distributor) DO NOTHING", [distributor, timezone.now()])
        cursor.execute("SELECT 1 FROM livedist_payee WHERE distributor = %s FOR UPDATE", [distributor])


def _amount(value: object, currency: str) -> Decimal:
    if isinstance(value, (bool, float)):
        value = None  # money is never a float
    try:
        amount = Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount <= 0 or amount >= MAX_AMOUNT:
        raise ServiceError("amount", "INVALID_AMOUNT", _("give the amount as a positive decimal such as 100.00"))
    if amount != round_money(amount, currency):
        raise ServiceError("amount", "INVALID_AMOUNT", _("%(currency)s amounts have at most %(places)d decimal "
                                                         "places") % {"currency": currency,
                                                                      "places": -quantum(currency).as_tuple().exponent})
    return amount


def _request_id(value: str) -> str:
    value = (value or "").strip()
    if not 1 <= len(value) <= 100:
        raise ServiceError("requestId", "REQUEST_ID_REQUIRED", _("every change needs a request id (1 to 100 "
                                                                 "characters), new for each new request"))
    return value


def request_withdrawal(distributor: str, amount: object, method: str, account: dict[str, str] | Account,
                       request_id: str, currency: str | None = None) -> Withdrawal:
    """Ask for `amount` of the approved balance to be paid to `account` by `method`. `currency` may be left out
    when the distributor has a balance in one currency only. Never more than the available balance, even with
    other requests at the same time; the same request id twice gives the first request's withdrawal."""
    request_id = _request_id(request_id)
    if not Distributor.objects.filter(id=distributor).exists():
        raise ServiceError(None, "NOT_A_DISTRIBUTOR", _("only distributors can withdraw commission"))
    details = check_account(method, account)
    with transaction.atomic():
        _lock_payee(distributor)
        earlier = Withdrawal.objects.filter(distributor=distributor, request_id=request_id).first()
        currency = currency or _only_currency(distributor, earlier)
        value = _amount(amount, currency)
        if earlier is not None:
            if (earlier.amount, earlier.currency, earlier.method) != (value, currency, method):
                raise ServiceError("requestId", "REQUEST_ID_REUSED", _("this request id was used for another "
                                                                       "withdrawal; send a new one"))
            return earlier
        if DistributorBan.objects.filter(distributor=distributor).exists():
            raise ServiceError(None, "BANNED", _("this distributor account is banned; withdrawals wait until staff "
                                                 "lift the ban"))
        minimum = minimum_for(currency)
        if value < minimum:
            raise ServiceError("amount", "BELOW_MINIMUM", _("the smallest withdrawal is %(minimum)s %(currency)s") % {
                "minimum": round_money(minimum, currency), "currency": currency})
        available = balance_in(distributor, currency).available
        if value > available:
            message = _("you can withdraw at most %(available)s %(currency)s now") if available > 0 else _(
                "nothing can be withdrawn now: a refund after approval (%(owed)s %(currency)s) is taken from the "
                "next commission first")
            raise ServiceError("amount", "INSUFFICIENT_BALANCE", message % {
                "available": available, "owed": -available, "currency": currency})
        withdrawal = Withdrawal.objects.create(
            distributor=distributor, request_id=request_id, amount=value, currency=currency, method=method,
            account=seal(details), account_masked=details.masked())
        PayoutChange.objects.create(request_id=f"request:{distributor}:{request_id}", action="requested",
                                    withdrawal=withdrawal, by=distributor)
    return withdrawal


def _only_currency(distributor: str, earlier: Withdrawal | None) -> str:
    if earlier is not None:
        return earlier.currency
    found = list(balances(distributor))
    if len(found) != 1:
        raise ServiceError("currency", "CURRENCY_REQUIRED", _("say which currency to withdraw (you have balances "
                                                              "in %(currencies)s)") % {
            "currencies": ", ".join(found) or "-"}) if found else ServiceError(
            "amount", "INSUFFICIENT_BALANCE", _("you have no approved commission to withdraw yet"))
    return found[0]


def _replayed(key: str, action: str, **target: object) -> bool:
    """True if this exact change was made already under `key`; ServiceError if `key` was used for another."""
    change = PayoutChange.objects.filter(request_id=key).first()
    if change is None:
        return False
    if change.action != action or any(getattr(change, f"{k}_id") != v for k, v in target.items()):
        raise ServiceError("requestId", "REQUEST_ID_REUSED", _("this request id was used for another change; send "
                                                               "a new one"))
    return True


def _decide(withdrawal_id: int, request_id: str, by: str, action: str, reason: str = "") -> Withdrawal:
    request_id = _request_id(request_id)
    key = f"decide:{request_id}"
    with transaction.atomic():
        found = Withdrawal.objects.filter(pk=withdrawal_id).first()
        if found is None:
            raise ServiceError("withdrawal", "NOT_FOUND", _("there is no withdrawal %(id)s") % {"id": withdrawal_id})
        _lock_payee(found.distributor)
        withdrawal = Withdrawal.objects.select_for_update().get(pk=withdrawal_id)
        if _replayed(key, action, withdrawal=withdrawal.pk):
            return withdrawal
        if withdrawal.status != Withdrawal.REQUESTED:
            raise ServiceError("withdrawal", "ALREADY_DECIDED", _("this withdrawal is %(status)s already") % {
                "status": withdrawal.get_status_display()})
        if action == "approved" and DistributorBan.objects.filter(distributor=withdrawal.distributor).exists():
            raise ServiceError("withdrawal", "BANNED", _("the distributor is banned: refuse this withdrawal, or lift "
                                                         "the ban first"))
        if action == "approved":
            short = balance_in(withdrawal.distributor, withdrawal.currency).available
            if short < 0:  # a clawback since the request: this withdrawal is no longer covered
                raise ServiceError("withdrawal", "NOT_COVERED", _(
                    "a refund after approval leaves this withdrawal %(short)s %(currency)s short; refuse it, or wait "
                    "for new commission to cover it") % {"short": -short, "currency": withdrawal.currency})
        withdrawal.status = Withdrawal.APPROVED if action == "approved" else Withdrawal.REFUSED
        withdrawal.reason, withdrawal.decided_by, withdrawal.decided_at = reason, by, timezone.now()
        withdrawal.save(update_fields=["status", "reason", "decided_by", "decided_at"])
        PayoutChange.objects.create(request_id=key, action=action, withdrawal=withdrawal, by=by, note=reason)
    return withdrawal


def approve_withdrawal(withdrawal_id: int, request_id: str, by: str) -> Withdrawal:
    """Staff agree to pay a requested withdrawal; it joins the next payout batch of its currency."""
    return _decide(withdrawal_id, request_id, by, "approved")


def refuse_withdrawal(withdrawal_id: int, reason: str, request_id: str, by: str) -> Withdrawal:
    """Staff refuse a requested withdrawal, saying why (the distributor sees the reason); its amount is
    available again."""
    reason = (reason or "").strip()
    if not 1 <= len(reason) <= 500:
        raise ServiceError("reason", "REASON_REQUIRED", _("say why the withdrawal is refused (1 to 500 characters)"))
    return _decide(withdrawal_id, request_id, by, "refused", reason)


def create_payout_batch(currency: str, request_id: str, by: str) -> PayoutBatch:
    """Every approved withdrawal of `currency` not yet exported, in one new batch; the gateway is sent it
    (payouts/webhook.py) once the transaction commits."""
    request_id = _request_id(request_id)
    key = f"batch:{request_id}"
    with transaction.atomic():
        earlier = PayoutChange.objects.filter(request_id=key).select_related("batch").first()
        if earlier is not None:
            if earlier.action != "exported" or earlier.batch is None or earlier.batch.currency != currency:
                raise ServiceError("requestId", "REQUEST_ID_REUSED", _("this request id was used for another "
                                                                       "change; send a new one"))
            return earlier.batch
        rows = list(Withdrawal.objects.select_for_update().filter(status=Withdrawal.APPROVED, currency=currency,
                                                                  batch=None).order_by("id"))
        if not rows:
            raise ServiceError("currency", "NOTHING_TO_PAY", _("no approved withdrawal in %(currency)s waits for a "
                                                               "batch") % {"currency": currency})
        from .webhook import webhook_configured

        batch = PayoutBatch.objects.create(
            id=f"pb_{uuid.uuid4().hex}", currency=currency, total=sum((w.amount for w in rows), Decimal(0)),
            count=len(rows), created_by=by, delivery="pending" if webhook_configured() else "none")
        Withdrawal.objects.filter(pk__in=[w.pk for w in rows]).update(status=Withdrawal.EXPORTED, batch=batch)
        PayoutChange.objects.create(request_id=key, action="exported", batch=batch, by=by)
        PayoutChange.objects.bulk_create([PayoutChange(request_id=f"{key}:{w.pk}", action="exported", withdrawal=w,
                                                       batch=batch, by=by) for w in rows])
        if batch.delivery == "pending":
            from .webhook import send_batch_later

            transaction.on_commit(lambda: send_batch_later(batch.id))
    return batch


def mark_batch_paid(batch_id: str, request_id: str, by: str) -> PayoutBatch:
    """The gateway (or staff, by hand) paid the batch: its withdrawals count as withdrawn from now on."""
    request_id = _request_id(request_id)
    key = f"paid:{request_id}"
    with transaction.atomic():
        batch = PayoutBatch.objects.select_for_update().filter(id=batch_id).first()
        if batch is None:
            raise ServiceError("batch", "NOT_FOUND", _("there is no payout batch %(id)s") % {"id": batch_id})
        if _replayed(key, "paid", batch=batch.id):
            return batch
        if batch.status == PayoutBatch.PAID:
            raise ServiceError("batch", "ALREADY_PAID", _("this payout batch was marked paid already"))
        now = timezone.now()
        rows = list(batch.withdrawals.select_for_update().order_by("id"))
        batch.withdrawals.update(status=Withdrawal.PAID, paid_at=now)
        batch.status, batch.paid_by, batch.paid_at = PayoutBatch.PAID, by, now
        batch.save(update_fields=["status", "paid_by", "paid_at"])
        PayoutChange.objects.create(request_id=key, action="paid", batch=batch, by=by, at=now)
        PayoutChange.objects.bulk_create([PayoutChange(request_id=f"{key}:{w.pk}", action="paid", withdrawal=w,
                                                       batch=batch, by=by, at=now) for w in rows])
    return batch


def totals_by_status(currency: str | None = None) -> dict[str, Decimal]:
    """All withdrawals' amounts by status (the console's summary)."""
    rows = Withdrawal.objects.all() if currency is None else Withdrawal.objects.filter(currency=currency)
    return {r["status"]: r["total"] for r in rows.values("status").annotate(total=Sum("amount")).order_by()}
