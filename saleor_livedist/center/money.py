"""The Earnings page's money sections: withdrawing approved commission (payouts/services.py) and spending points
on a voucher or gift card (distribution/redemption.py). Each form carries a request id made when the page was
drawn, so a form sent twice (a double tap, a reload) is one withdrawal or redemption."""
from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _

from ..distribution import redemption
from ..exceptions import ServiceError
from ..payouts import services as payouts
from ..payouts.accounts import METHOD_NAMES, methods
from .pages import Center


def context(center: Center) -> dict[str, Any]:
    """What the sections show: balances, the withdrawal form's choices, what points buy, the history."""
    balances = list(payouts.balance(center.identity).values())
    return {
        "balances": [(b, payouts.minimum_for(b.currency)) for b in balances],
        "currencies": [b.currency for b in balances if b.available > 0],
        "methods": [(m, METHOD_NAMES.get(m, m)) for m in methods()],
        "withdrawals": list(payouts.withdrawals_of(center.identity)[:20]),
        "options": redemption.redemption_options(center.identity),
        "redemptions": redemption.redemptions_of(center.identity, 20),
        "withdraw_request": uuid.uuid4().hex, "redeem_request": uuid.uuid4().hex,
    }


def withdraw(center: Center) -> HttpResponse:
    from .earnings_page import earnings_page

    post = center.request.POST
    account = {"name": post.get("name", ""), "number": post.get("number", "")}
    if post.get("method") == "bank":
        account["bank"] = post.get("bank", "")
    try:
        payouts.request_withdrawal(center.identity, post.get("amount", "").strip(), post.get("method", ""), account,
                                   post.get("request", ""), currency=post.get("currency") or None)
    except ServiceError as exc:
        return earnings_page(center, withdraw_error=exc.message, status=400)
    return HttpResponseRedirect(center.url("earnings/", done="withdrawal") + "#withdraw", status=303)


def redeem(center: Center) -> HttpResponse:
    from .earnings_page import earnings_page

    post = center.request.POST
    try:
        points = int(post.get("points", "").strip())
    except ValueError:
        return earnings_page(center, redeem_error=_("give the points as a whole number"), status=400)
    try:
        row = redemption.redeem(center.identity, post.get("request", ""), points, post.get("kind", ""))
    except ServiceError as exc:
        return earnings_page(center, redeem_error=exc.message, status=400)
    if row.status == row.FAILED:
        return earnings_page(center, redeem_error=_("the store could not issue it; your points were given back. "
                                                    "Try again later."), status=502)
    return HttpResponseRedirect(center.url("earnings/", done="redemption") + "#points", status=303)
