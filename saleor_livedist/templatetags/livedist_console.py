"""Template filters of the console's pages: times in the display time zone, money in the currency's format."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django import template
from django.utils.translation import gettext_lazy

from ..core.money import minor_unit, round_money
from ..db.rows import plain
from ..display import show

register = template.Library()


@register.filter
def when(at: datetime | None) -> str:
    """2026-11-20 20:00 +08:00, in the display zone; '-' for none."""
    return show(at) if at is not None else "-"


def show_money(amount: Decimal, currency: str) -> str:
    """CNY 1,234.50: rounded to the currency's minor unit (JPY 1,200; KWD 1.250), thousands grouped."""
    return f"{currency} {round_money(Decimal(amount), currency):,.{minor_unit(currency)}f}"


@register.filter
def money(amount: Any, currency: str) -> str:
    return show_money(amount, currency) if amount is not None else "-"


@register.filter
def percent(value: Any) -> str:
    """14%, 2.5%: as the rules wrote it."""
    return f"{plain(Decimal(value))}%"


CODES = {  # stored codes shown to staff in their language (the stored value stays the code)
    "pending": gettext_lazy("pending"), "approved": gettext_lazy("approved"), "reversed": gettext_lazy("reversed"),
    "paid": gettext_lazy("paid"), "voucher": gettext_lazy("voucher"), "gift_card": gettext_lazy("gift card"),
    "issued": gettext_lazy("issued"),
    "commission": gettext_lazy("commission"), "team": gettext_lazy("team commission"),
    "adjustment": gettext_lazy("adjustment"), "clawback": gettext_lazy("clawback"),
    "task_cash": gettext_lazy("task cash"), "peer_bonus": gettext_lazy("peer bonus"),
    "pool_bonus": gettext_lazy("pool bonus"), "sent": gettext_lazy("sent"), "partial": gettext_lazy("partly sent"),
    "failed": gettext_lazy("failed"), "skipped": gettext_lazy("skipped"), "sending": gettext_lazy("sending"),
}


@register.filter
def label(code: str) -> str:
    """A stored status or kind in the staff member's language; an unknown code as it is."""
    return str(CODES.get(code, code))


@register.filter
def kind_name(kind: str) -> str:
    """What a share link points at (live, replay, clip, product) in the reader's language."""
    from ..distribution.services import KIND_NAMES

    return str(KIND_NAMES.get(kind, kind))


BOARD_ORDERS = {"gmv": gettext_lazy("by GMV"), "orders": gettext_lazy("by orders"),
                "invited": gettext_lazy("by invited"), "qualified": gettext_lazy("by qualified")}


@register.filter
def board_order(key: str) -> str:
    return str(BOARD_ORDERS.get(key, key))
