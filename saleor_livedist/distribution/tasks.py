"""Distribution's Celery tasks: making an invited customer's first-order coupon after their click commits, the
periodic sweep that finishes redemptions and coupons a crash or a failing store left behind, and the periodic
payment of pool bonuses (all in the beat schedule of inbox.tasks)."""
from __future__ import annotations

from celery import shared_task

from ..inbox.broker import FINISH_REWARDS, ISSUE_FIRST_ORDER_COUPON, PAY_POOLS
from ..inbox.tasks import RETRY


@shared_task(name=ISSUE_FIRST_ORDER_COUPON, **RETRY)
def issue_first_order_coupon(person: str) -> str:
    """The store's voucher for the person's first-order coupon; once per person, whatever is delivered twice."""
    from .invite_coupons import issue

    row = issue(person)
    return row.status if row is not None else "none"


@shared_task(name=FINISH_REWARDS, **RETRY)
def finish_rewards() -> int:
    """Redemptions left pending (a process died before the store answered) and first-order coupons the store
    has not made yet; how many were finished now."""
    from .invite_coupons import retry_failed
    from .redemption import resume_pending

    return resume_pending() + retry_failed()


@shared_task(name=PAY_POOLS, **RETRY)
def pay_pools() -> int:
    """Pay each pool's latest due period; idempotent per (pool, period). Returns the periods booked now."""
    from ..inbox.processing import rules_source
    from .pools import pay_due_pools

    active = rules_source().current()
    return sum(1 for result in pay_due_pools(active.ruleset, active.version) if result.booked)
