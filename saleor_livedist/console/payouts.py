"""Payouts: withdrawals waiting for staff (approve, or refuse with a reason), the batches approved ones leave in
(CSV download, the gateway's webhook, marked paid). Through the same services as the GraphQL API; each form
carries a request id, so a form sent twice changes nothing the second time."""
from __future__ import annotations

import uuid

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import get_language, gettext as _

from ..core.money import round_money
from ..exceptions import ServiceError
from ..identity import staff_labels
from ..models import PayoutBatch, Withdrawal
from ..payouts import services, webhook
from ..payouts.accounts import METHOD_NAMES
from .access import MANAGE_USERS, PERMISSION_NAMES
from .pages import TEMPLATES, Console, Outcome, Route, paginate

STATUSES = ("requested", "approved", "refused", "exported", "paid", "all")


def listing(console: Console, outcome: Outcome | None = None) -> HttpResponse:
    status = console.query("status") or "requested"
    status = status if status in STATUSES else "requested"
    rows = Withdrawal.objects.all() if status == "all" else Withdrawal.objects.filter(status=status)
    page = paginate(console, rows.order_by("created_at", "id"), "payouts/", status=status)
    labels = staff_labels(sorted({w.distributor for w in page.rows}))
    waiting = sorted(set(Withdrawal.objects.filter(status=Withdrawal.APPROVED, batch=None)
                         .values_list("currency", flat=True)))
    return console.render("payouts.html", {
        "area": "payouts/", "page": page, "status": status, "statuses": STATUSES,
        "status_names": dict(Withdrawal.STATUSES), "methods": {k: str(v) for k, v in METHOD_NAMES.items()},
        "items": [{"w": w, "who": labels[w.distributor]} for w in page.rows],
        "batches": PayoutBatch.objects.order_by("-created_at")[:20], "waiting_currencies": waiting,
        "can_manage": console.can(MANAGE_USERS), "request_id": uuid.uuid4().hex,
        "here": console.url("payouts/", status=status, page=console.query("page")),
    }, outcome)


def _act(console: Console, action: str) -> HttpResponse:
    post, by = console.request.POST, console.staff.id
    request_id = post.get("request_id", "")
    try:
        if action == "decide":
            pk = _pk(post.get("withdrawal", ""))
            if post.get("decision") == "approve":
                w = services.approve_withdrawal(pk, request_id, by=by)
                notice = _("Approved: %(amount)s %(currency)s for %(who)s joins the next payout batch.")
            else:
                w = services.refuse_withdrawal(pk, post.get("reason", ""), request_id, by=by)
                notice = _("Refused: %(amount)s %(currency)s for %(who)s is available to them again.")
            notice %= {"amount": round_money(w.amount, w.currency), "currency": w.currency, "who": staff_labels([w.distributor])[w.distributor]}
        elif action == "batch":
            batch = services.create_payout_batch(post.get("currency", ""), request_id, by=by)
            notice = _("Payout batch %(id)s: %(count)d withdrawals, %(total)s %(currency)s.") % {
                "id": batch.id, "count": batch.count, "total": round_money(batch.total, batch.currency), "currency": batch.currency}
        elif action == "paid":
            batch = services.mark_batch_paid(post.get("batch", ""), request_id, by=by)
            notice = _("Payout batch %(id)s is marked paid.") % {"id": batch.id}
        else:
            batch_id = post.get("batch", "")
            if not PayoutBatch.objects.filter(id=batch_id).exists():
                raise ServiceError("batch", "NOT_FOUND", _("there is no payout batch %(id)s") % {"id": batch_id})
            PayoutBatch.objects.filter(id=batch_id).exclude(delivery="sent").update(delivery="pending")
            webhook.send_batch_later(batch_id)
            notice = _("Payout batch %(id)s is being sent to the payment gateway again.") % {"id": batch_id}
    except ServiceError as exc:
        return listing(console, Outcome.of(exc))
    return listing(console, Outcome(notice=notice))


def _pk(value: str) -> int:
    if not value.isdigit():
        raise ServiceError("withdrawal", "NOT_FOUND", _("there is no withdrawal %(id)s") % {"id": value})
    return int(value)


def batch_csv(console: Console, batch: str) -> HttpResponse:
    """The batch with the full account details, for staff who pay it by hand (the page shows them masked)."""
    if not console.can(MANAGE_USERS):
        message = _("You need the permission “%(permission)s” for this.") % {
            "permission": PERMISSION_NAMES[MANAGE_USERS]}
        return HttpResponse(render_to_string(TEMPLATES + "refusal.html", {
            "title": _("Not allowed"), "message": message, "status": 403, "language": get_language()}), status=403)
    found = PayoutBatch.objects.filter(id=batch).first()
    if found is None:
        return HttpResponse(_("There is no payout batch %(id)s.") % {"id": batch}, status=404,
                            content_type="text/plain; charset=utf-8")
    response = HttpResponse(webhook.batch_csv(found), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{found.id}.csv"'
    response["Cache-Control"] = "no-store"
    return response


ROUTES = [
    Route("payouts/", get=listing),
    Route("payouts/decide", post=lambda c: _act(c, "decide"), permission=MANAGE_USERS),
    Route("payouts/batch", post=lambda c: _act(c, "batch"), permission=MANAGE_USERS),
    Route("payouts/paid", post=lambda c: _act(c, "paid"), permission=MANAGE_USERS),
    Route("payouts/resend", post=lambda c: _act(c, "resend"), permission=MANAGE_USERS),
    Route(r"payouts/batches/(?P<batch>[\w-]+)\.csv", get=batch_csv),
]
