"""Payouts in the API: a distributor's balance by status and withdrawals (`me { payoutBalances withdrawals }`),
`requestWithdrawal`; for staff, `withdrawals`, `payoutBatches`, and for staff with Saleor's "Manage customers"
(as on the console's Payouts page) `withdrawalApprove`, `withdrawalRefuse`, `payoutBatchCreate`,
`payoutBatchMarkPaid` (docs/payouts.md). Accounts are only ever shown masked."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import graphene
from django.utils.translation import gettext as _

from ..core.money import round_money
from ..identity import display_name
from ..models import PayoutBatch, Withdrawal
from ..payouts import services
from ..payouts.balance import Balance
from .payload import MANAGE_USERS, PermissionDenied, payload_mutation


def _money(name: str, description: str) -> graphene.Decimal:
    def resolve(root: Balance, info: Any) -> Decimal:
        return round_money(getattr(root, name), root.currency)

    return graphene.Decimal(required=True, description=description, resolver=resolve)


class PayoutBalanceType(graphene.ObjectType):
    class Meta:
        name = "PayoutBalance"
        description = "Your commission and withdrawals in one currency; available = approved - offsets - " \
                      "withdrawn - pending."

    currency = graphene.String(required=True)
    earning = _money("earning", "Commission still in its after-sale window: not withdrawable yet.")
    approved = _money("approved", "Approved commission and rewards.")
    offsets = _money("offsets", "Refunds after approval, taken from what you earn next.")
    withdrawn = _money("withdrawn", "Paid out to you.")
    pending = _money("pending", "Requested, approved or in a payout batch, not paid yet.")
    available = _money("available", "What you can withdraw now; below zero while an offset is not covered.")
    minimum = graphene.Decimal(required=True, description="The smallest withdrawal in this currency.")

    def resolve_minimum(root: Balance, info: Any) -> Decimal:
        return round_money(services.minimum_for(root.currency), root.currency)


class WithdrawalType(graphene.ObjectType):
    class Meta:
        name = "Withdrawal"

    id = graphene.ID(required=True)
    request_id = graphene.String(required=True)
    distributor = graphene.String(required=True, description="Masked for distributors (it is yourself).")
    amount = graphene.Decimal(required=True)
    currency = graphene.String(required=True)
    method = graphene.String(required=True, description="bank, alipay, wechat or paypal")
    account = graphene.String(required=True, description="Masked.")
    status = graphene.String(required=True, description="requested, approved, refused, exported or paid")
    reason = graphene.String(required=True, description="Why staff refused it.")
    batch = graphene.String(description="The payout batch it left in.")
    created_at = graphene.DateTime(required=True)
    decided_at = graphene.DateTime()
    paid_at = graphene.DateTime()

    def resolve_id(root: Withdrawal, info: Any) -> int:
        return root.pk

    def resolve_distributor(root: Withdrawal, info: Any) -> str:
        return root.distributor if info.context.is_staff else display_name(root.distributor)

    def resolve_amount(root: Withdrawal, info: Any) -> Decimal:
        return round_money(root.amount, root.currency)

    def resolve_account(root: Withdrawal, info: Any) -> str:
        return root.account_masked

    def resolve_batch(root: Withdrawal, info: Any) -> str | None:
        return root.batch_id


class PayoutBatchType(graphene.ObjectType):
    class Meta:
        name = "PayoutBatch"

    id = graphene.String(required=True, description="Also the webhook's Idempotency-Key.")
    currency = graphene.String(required=True)
    total = graphene.Decimal(required=True)
    count = graphene.Int(required=True)
    status = graphene.String(required=True, description="exported or paid")
    delivery = graphene.String(required=True, description="The webhook: none, pending, sent or failed")
    created_at = graphene.DateTime(required=True)
    paid_at = graphene.DateTime()

    def resolve_total(root: PayoutBatch, info: Any) -> Decimal:
        return round_money(root.total, root.currency)


def _page(first: int | None) -> int:
    return min(max(first or 50, 1), 200)


class PayoutFields:
    """The distributor's (`me`) payout fields."""

    payout_balances = graphene.List(graphene.NonNull(PayoutBalanceType), required=True)
    withdrawals = graphene.List(graphene.NonNull(WithdrawalType), required=True, first=graphene.Int())

    def resolve_payout_balances(root: Any, info: Any) -> list[Balance]:
        return list(services.balance(root.id).values())

    def resolve_withdrawals(root: Any, info: Any, first: int | None = None) -> Any:
        return services.withdrawals_of(root.id)[:_page(first)]


class PayoutQueries:
    withdrawals = graphene.List(graphene.NonNull(WithdrawalType), required=True, status=graphene.String(),
                                distributor=graphene.String(), first=graphene.Int(), offset=graphene.Int(),
                                description="Staff only; oldest first.")
    payout_batches = graphene.List(graphene.NonNull(PayoutBatchType), required=True, first=graphene.Int(),
                                   description="Staff only; newest first.")

    def resolve_withdrawals(root: Any, info: Any, status: str | None = None, distributor: str | None = None,
                            first: int | None = None, offset: int | None = None) -> Any:
        _staff(info)
        rows = Withdrawal.objects.order_by("created_at", "id")
        rows = rows.filter(status=status) if status else rows
        rows = rows.filter(distributor=distributor) if distributor else rows
        start = max(offset or 0, 0)
        return rows[start:start + _page(first)]

    def resolve_payout_batches(root: Any, info: Any, first: int | None = None) -> Any:
        _staff(info)
        return PayoutBatch.objects.order_by("-created_at")[:_page(first)]


def _staff(info: Any) -> None:
    if not info.context.is_staff:
        raise PermissionDenied(_("this field is for staff only"))


class AccountInput(graphene.InputObjectType):
    class Meta:
        name = "PayoutAccountInput"

    name = graphene.String(required=True, description="The account holder.")
    number = graphene.String(required=True, description="Card or account number, Alipay or WeChat account, "
                                                         "PayPal e-mail.")
    bank = graphene.String(description="The bank, for a bank transfer.")


REQUEST_ID = graphene.String(required=True, description="Your id for this change: sending it again changes nothing.")


def _request(context: Any, request_id: str, amount: Decimal, method: str, account: Any,
             currency: str | None = None) -> Withdrawal:
    return services.request_withdrawal(str(context.identity), amount, method, dict(account), request_id, currency)


RequestWithdrawal = payload_mutation(
    "RequestWithdrawal", {"request_id": REQUEST_ID, "amount": graphene.Decimal(required=True),
                          "method": graphene.String(required=True, description="bank, alipay, wechat or paypal"),
                          "account": AccountInput(required=True),
                          "currency": graphene.String(description="Needed if you have balances in several.")},
    "withdrawal", WithdrawalType, _request)
ApproveWithdrawal = payload_mutation(
    "WithdrawalApprove", {"id": graphene.ID(required=True), "request_id": REQUEST_ID}, "withdrawal", WithdrawalType,
    lambda context, id, request_id: services.approve_withdrawal(_int(id), request_id, by=context.identity or ""),
    permission=MANAGE_USERS)
RefuseWithdrawal = payload_mutation(
    "WithdrawalRefuse", {"id": graphene.ID(required=True), "reason": graphene.String(required=True),
                         "request_id": REQUEST_ID}, "withdrawal", WithdrawalType,
    lambda context, id, reason, request_id: services.refuse_withdrawal(_int(id), reason, request_id,
                                                                       by=context.identity or ""),
    permission=MANAGE_USERS)
CreatePayoutBatch = payload_mutation(
    "PayoutBatchCreate", {"currency": graphene.String(required=True), "request_id": REQUEST_ID}, "batch",
    PayoutBatchType, lambda context, currency, request_id: services.create_payout_batch(
        currency, request_id, by=context.identity or ""), permission=MANAGE_USERS)
MarkBatchPaid = payload_mutation(
    "PayoutBatchMarkPaid", {"id": graphene.String(required=True), "request_id": REQUEST_ID}, "batch",
    PayoutBatchType, lambda context, id, request_id: services.mark_batch_paid(id, request_id,
                                                                              by=context.identity or ""),
    permission=MANAGE_USERS)


def _int(value: str) -> int:
    from ..exceptions import ServiceError

    if not str(value).isdigit():
        raise ServiceError("id", "NOT_FOUND", _("there is no withdrawal %(id)s") % {"id": value})
    return int(value)


class PayoutMutations:
    request_withdrawal = RequestWithdrawal.Field()
    withdrawal_approve = ApproveWithdrawal.Field()
    withdrawal_refuse = RefuseWithdrawal.Field()
    payout_batch_create = CreatePayoutBatch.Field()
    payout_batch_mark_paid = MarkBatchPaid.Field()
