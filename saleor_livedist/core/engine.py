"""The engine: consumes events, keeps business state in a Store, books commissions and points.

It imports neither Django nor Saleor. The same Engine runs `livedist simulate` on a MemoryStore and, in
production, on the PostgreSQL store inside one transaction per event.
"""
from __future__ import annotations

import logging
from bisect import insort
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from ..rules.model import DEFAULT_RANK, RuleSet
from ..rules.provider import ActiveRules
from .attribution import attribute, bind, live_context, valid_clicks
from .events import Event
from .ledger import LIFECYCLE_RANK, Projection, project
from .live_room import LiveRoom, _all_need_a_watch
from .pricing import Beneficiary, OrderContext, price_lines
from .records import (
    ActionContext, BanMark, Click, DistributorRecord, OrderRecord, OrderSnapshot, PaidOrder, WatchRecord, banned_at,
)
from .store import Store

NOTHING_FEATURED: frozenset[str] = frozenset()
GUEST_PREFIX = "guest:"  # how identities name a guest checkout's e-mail (identity.of_guest)

__all__ = ["ActionContext", "Engine", "RuleSource"]  # ActionContext lives in records; importable from here too

logger = logging.getLogger(__name__)


class RuleSource(Protocol):
    def current(self) -> ActiveRules: ...


class Engine(LiveRoom):
    def __init__(self, store: Store, rules: RuleSource):
        self.store = store
        self.rules = rules
        self.notices: list[str] = []  # events accepted but ignored, with the reason (bounded)
        self.on_order_priced: Any = None  # callback(ctx, chain, active, snapshot), for `livedist rules explain`
        self._handlers: dict[str, Any] = {}  # event type -> bound handler

    # ------------------------------------------------------------------ entry points

    def process(self, event: Event) -> bool:
        """Apply one event; False if its id was seen before (nothing changes)."""
        if not self.store.mark_processed(event.id):
            return False
        handler = self._handlers.get(event.type)
        if handler is None:
            handler = self._handlers[event.type] = getattr(self, "_on_" + event.type.replace(".", "_"))
        handler(event, event.data, self.rules.current())
        return True

    def settle(self, now: datetime) -> int:
        """Approve commissions whose after-sale window has passed by `now`; idempotent. Returns orders changed."""
        active = self.rules.current()
        changed = 0
        for order_id in self.store.orders_due(now):
            record = self.store.get_order(order_id)
            if record is not None and record.snapshot is not None:
                self._project(record, active, now)
                changed += 1
        return changed

    def _notice(self, event: Event, reason: str) -> None:
        logger.info("event %s (%s) ignored: %s", event.id, event.type, reason)
        if len(self.notices) < 1000:
            self.notices.append(f"{event.id} {event.type}: {reason}")

    # ------------------------------------------------------------------ clicks, customers, distributors

    def _on_link_clicked(self, event: Event, d: dict[str, Any], active: ActiveRules) -> None:
        distributor = d["distributor"]
        if self.store.get_distributor(distributor) is None:
            return self._notice(event, f"{distributor} is not a distributor")
        if self._banned(distributor, event.at):
            return self._notice(event, f"{distributor} is banned: their links record no clicks")
        visitor = self.store.resolve(d["visitor"])
        if visitor == distributor:
            return self._notice(event, "a distributor's click on their own link is not recorded")
        target = d["target"]
        self.store.add_click(visitor, Click(at=event.at, distributor=distributor, kind=target["kind"],
                                            target=target["id"]))
        self._count_invitation(target, distributor, visitor)
        if active.ruleset.binding.bind_on == "click":
            bind(self.store, active.ruleset.binding, visitor, distributor, event.at, via="click")

    def _count_invitation(self, target: dict[str, str], distributor: str, viewer: str) -> None:
        """For the live's leaderboard: a viewer invited by this distributor counts once."""
        if target["kind"] == "live" and self.store.add_live_invitation(target["id"], distributor, viewer):
            self.store.bump_live_stat(target["id"], distributor, invited=1)

    def _on_customer_registered(self, event: Event, d: dict[str, Any], active: ActiveRules) -> None:
        customer = d["customer"]
        self.store.mark_customer(customer)
        if d["visitor"]:
            self._stitch(d["visitor"], customer, active.ruleset, event.at, event)
        policy = active.ruleset.binding
        if policy.bind_on == "registration":
            clicks = valid_clicks(self.store.clicks(customer), event.at, policy)
            if clicks:
                bind(self.store, policy, customer, clicks[-1].distributor, event.at, via="registration")
        if active.ruleset.guards.invitees == "customers":  # what they watched as a visitor counts from now on
            for live_id in self.store.lives_watched(customer):
                self._qualify(active, live_id, customer, event.at)

    def _stitch(self, visitor: str, customer: str, ruleset: RuleSet, at: datetime, event: Event) -> None:
        """The visitor is this customer: their binding and watch time follow, and one person is one invitee.
        A visitor id already stitched to an account stays that account's: a visitor id travels in URLs
        (`livedist_visitor`), and whoever else signs in with it must not take over its binding or history.
        (Only a guest's, an e-mail anyone may type, can still move to an account.)"""
        owner = self.store.resolve(visitor)
        if visitor == customer or owner == customer:
            return
        if owner != visitor and not (owner.startswith(GUEST_PREFIX) and not customer.startswith(GUEST_PREFIX)):
            return self._notice(event, f"visitor {visitor} is already another person's; not stitched to {customer}")
        self.store.link_identity(visitor, customer)
        moved = self.store.get_binding(visitor)
        if moved is not None:
            self.store.drop_binding(visitor)
            bind(self.store, ruleset.binding, customer, moved.distributor, moved.at, via=moved.via)
        silent = ruleset.viewing.silent_after_seconds
        for live_id in self.store.lives_watched(visitor):
            watch = self.store.get_watch(live_id, visitor)
            if watch is None:
                continue
            mine = self.store.get_watch(live_id, customer) or WatchRecord(live=live_id, viewer=customer)
            mine.absorb(watch, at, silent)  # the union of both: three devices at once count once
            self.store.put_watch(watch)
            self.store.put_watch(mine)
        self._merge_invitee(visitor, customer, ruleset, at)

    def _merge_invitee(self, visitor: str, customer: str, ruleset: RuleSet, at: datetime) -> None:
        """What the visitor counted as an invitee now counts for the customer, once: an invitation or a task
        qualification both ids have is the same person's twice, and the second is taken back."""
        store = self.store
        for live_id, distributor in store.invitations(visitor):
            if not store.add_live_invitation(live_id, distributor, customer):
                store.bump_live_stat(live_id, distributor, invited=-1)
        tasks = {task.id: task for task in ruleset.tasks}
        for task_id, scope_key in store.qualifications(visitor):
            if store.add_qualified(task_id, scope_key, customer):
                continue
            key = f"task:{task_id}:{scope_key}:{visitor}"
            grant = store.get_points(key)
            task = tasks.get(task_id)
            inviter = grant.beneficiary if grant is not None else (
                self._inviter(visitor, scope_key, task, at) if task is not None else None)
            if grant is not None and grant.points:
                store.add_points(replace(grant, key=f"{key}:merged", points=-grant.points, at=at,
                                         reason=f"task {task_id}: the same person as invitee {customer}"))
            progress = store.get_task_progress(task_id, inviter, scope_key) if inviter else None
            if progress is not None and progress.completed_at is None and progress.qualified > 0:
                progress.qualified -= 1  # a completed task stays completed: its reward was earned then
                store.put_task_progress(progress)
        for live_id in {scope for _, scope in store.qualifications(visitor) if scope}:
            if store.is_live_qualified(live_id, visitor) and not store.add_live_qualified(live_id, customer):
                inviter = next((c.distributor for c in store.clicks(visitor)
                                if c.kind == "live" and c.target == live_id), None)
                if inviter is not None:
                    store.bump_live_stat(live_id, inviter, qualified=-1)

    def _on_distributor_joined(self, event: Event, d: dict[str, Any], active: ActiveRules) -> None:
        customer = self.store.resolve(d["customer"])
        self.store.mark_customer(customer)
        if self.store.get_distributor(customer) is not None:
            return self._notice(event, f"{customer} is already a distributor")
        binding = self.store.get_binding(customer)
        upline = binding.distributor if binding is not None and binding.valid_at(event.at) else None
        if upline is None and d["live"] and active.ruleset.join.upline_fallback == "host":
            live = self.store.get_live(d["live"])  # joined in a live room, brought by no link: the host's network
            host = live.host if live is not None else None
            if host and host != customer and self.store.get_distributor(host) is not None:
                upline = host
        self.store.put_distributor(DistributorRecord(
            id=customer, upline=upline, joined_at=event.at, ranks=[(event.at, DEFAULT_RANK)],
        ))

    # ------------------------------------------------------------------ bans

    def _banned(self, distributor: str, at: datetime) -> bool:
        marks = self.store.ban_marks().get(distributor)
        return marks is not None and banned_at(marks, at)

    def _on_distributor_banned(self, event: Event, d: dict[str, Any], active: ActiveRules) -> None:
        self._mark_ban(event, d, active, banned=True)

    def _on_distributor_unbanned(self, event: Event, d: dict[str, Any], active: ActiveRules) -> None:
        self._mark_ban(event, d, active, banned=False)

    def _mark_ban(self, event: Event, d: dict[str, Any], active: ActiveRules, banned: bool) -> None:
        """Keep the mark, then recompute the orders it can change: those paid since `at` with a share of the
        distributor's (none, unless payments dated after the ban were processed before it: their ledger comes
        out as if the events had arrived in order)."""
        distributor = d["distributor"]
        self.store.add_ban_mark(BanMark(distributor, event.at, event.id, banned, d["reason"]))
        for order_id in self.store.orders_paying(distributor, event.at):
            record = self.store.get_order(order_id)
            if record is not None and record.snapshot is not None and record.lifecycle:
                self._project(record, active, event.at)

    # ------------------------------------------------------------------ orders

    def _on_order_created(self, event: Event, d: dict[str, Any], active: ActiveRules) -> None:
        store = self.store
        record = store.get_order(d["order"]) or OrderRecord(id=d["order"])
        if record.snapshot is not None:
            return self._notice(event, f"order {record.id} was already created")
        ruleset = active.ruleset
        policy = ruleset.binding
        at = event.at
        customer = d["customer"]
        if d["visitor"]:
            self._stitch(d["visitor"], customer, ruleset, at, event)
        customer = store.resolve(customer)
        if d["ref"] is not None:
            self._record_ref(event, d["ref"], customer, active)
        coupon = d["coupon"]
        if coupon is not None and coupon["distributor"]:  # a distributor's live coupon code: a click at order time
            self._record_ref(event, {"distributor": coupon["distributor"], "target": {"kind": "live",
                                                                                   "id": coupon["live"]}},
                             customer, active, via="coupon")
        clicks = store.clicks(customer)  # oldest first: only a click after the order is left out
        if clicks and clicks[-1].at > at:
            clicks = [c for c in clicks if c.at <= at]
        if policy.bind_on == "first_order":
            recent = valid_clicks(clicks, at, policy)
            if recent and store.get_binding(customer) is None:
                bind(store, policy, customer, recent[-1].distributor, at, via="first_order")
        watched = store.lives_watched(customer)
        context, live = live_context(store, clicks, watched, at)
        attribution = attribute(store, policy, customer, at, clicks, watched, context, live)
        live_seconds, featured = None, NOTHING_FEATURED
        if context == "live" and live is not None:
            featured = live.products
            if live.started_at is not None:
                live_seconds = int((at - live.started_at).total_seconds())
        ctx = OrderContext(
            record.id, customer, d["channel"], d["currency"], at, context, live.id if live is not None else None,
            live_seconds, featured, tuple(d["lines"]),
        )
        chain = self._chain(attribution.paid_to, customer, ctx, ruleset)
        record.snapshot = OrderSnapshot(
            record.id, customer, ctx.channel, ctx.currency, at,
            price_lines(ctx, chain, active.compiled, active.matcher), attribution, active.version,
        )
        if self.on_order_priced is not None:
            self.on_order_priced(ctx, chain, active, record.snapshot)
        self._project(record, active)

    def _record_ref(self, event: Event, ref: Any, customer: str, active: ActiveRules, via: str = "click") -> None:
        """A share token or distributor id carried from the checkout counts as a click at order time."""
        if ref is None:
            return
        distributor, target = (ref, {"kind": "product", "id": ""}) if isinstance(ref, str) else (
            ref["distributor"], ref["target"])
        if self.store.get_distributor(distributor) is None:
            return self._notice(event, f"ref {distributor} is not a distributor")
        if self._banned(distributor, event.at):
            return self._notice(event, f"ref {distributor} is banned: it binds nobody")
        if distributor == customer:
            return
        self.store.add_click(customer, Click(at=event.at, distributor=distributor, kind=target["kind"],
                                             target=target["id"]))
        self._count_invitation(target, distributor, customer)
        if active.ruleset.binding.bind_on in ("click", "first_order"):
            bind(self.store, active.ruleset.binding, customer, distributor, event.at, via=via)

    def _chain(self, paid_to: str | None, buyer: str, ctx: OrderContext, ruleset: RuleSet) -> list[Beneficiary]:
        """Level 1 is who is paid; each further level is the upline, up to the compliance limit."""
        chain: list[Beneficiary] = []
        if paid_to is None:
            return chain
        paid: list[str] = []
        max_levels, self_purchase = ruleset.compliance.max_levels, ruleset.binding.self_purchase
        at = ctx.at
        get_distributor = self.store.get_distributor
        current: str | None = paid_to
        level = 0
        while current is not None and level < max_levels:
            if current in paid:
                break  # defensive: the binding rules never create a loop
            if current == buyer and not self_purchase:
                break  # nobody earns team commission on their own purchase
            record = get_distributor(current)
            if record is None:
                break
            level += 1
            last_sale = record.last_sale_at
            tasks: tuple[str, ...] = ()
            if level == 1:
                completed = self.store.completed_tasks(current)
                if completed:
                    tasks = tuple(
                        p.task for p in completed
                        if p.completed_at is not None and p.completed_at <= at
                        and (p.scope_key == "" or (ctx.context == "live" and p.scope_key == ctx.live))
                    )
            ranks = record.ranks
            chain.append(Beneficiary(
                level, current, ranks[0][1] if len(ranks) == 1 else record.rank_at(at),
                int((at - last_sale).total_seconds()) if last_sale is not None and last_sale <= at else None, tasks,
            ))
            paid.append(current)
            current = record.upline
        return chain

    def _on_order_lifecycle(self, event: Event, d: dict[str, Any], active: ActiveRules) -> None:
        record = self.store.get_order(d["order"]) or OrderRecord(id=d["order"])
        refunds = tuple(d.get("lines") or ())
        insort(record.lifecycle, (event.at, LIFECYCLE_RANK[event.type], event.id, event.type, refunds))
        if record.snapshot is None:
            self.store.put_order(record)  # kept until order.created arrives
            return
        self._project(record, active)

    _on_order_paid = _on_order_fulfilled = _on_order_cancelled = _on_order_refunded = _on_order_lifecycle

    def _project(self, record: OrderRecord, active: ActiveRules, now: datetime | None = None) -> None:
        snapshot = record.snapshot
        assert snapshot is not None
        if not record.lifecycle:
            self.store.put_order(record)  # created, nothing booked until it is paid
            return
        marks = self.store.ban_marks()
        banned = (lambda who, at: who in marks and banned_at(marks[who], at)) if marks else None
        if now is None and record.paid_at is not None and record.approve_at is not None and not record.has_pending:
            # settled already: an event dated inside the after-sale window but arriving after the approval (a
            # delayed refund) changes the amounts, approved at once; it never takes the approval back to pending
            now = record.approve_at
        result = project(record, active.ruleset.settlement.approve_after_days, now, banned)
        first_payment = record.paid_at is None and result.paid_at is not None
        record.paid_at, record.approve_at = result.paid_at, result.approve_at
        pending = False
        for entry in result.entries:
            if entry.status == "pending":
                pending = True
                break
        record.has_pending = pending
        self._count_on_leaderboard(record, snapshot, result)
        self.store.replace_entries(record.id, result.entries)
        self.store.put_order(record)
        if first_payment:
            assert result.paid_at is not None
            self._on_first_payment(snapshot, result.paid_at, active)

    def _count_on_leaderboard(self, record: OrderRecord, snapshot: OrderSnapshot, result: Projection) -> None:
        """A paid order placed in a live counts on its leaderboard for its seller: one order and what the
        customer kept of it, so a refund takes its amount off and a cancel or a whole refund the order too."""
        a = snapshot.attribution
        orders, gmv = 0, Decimal(0)
        if a.context == "live" and a.live is not None and a.paid_to is not None and result.paid_at is not None:
            orders, gmv = (0 if result.void else 1), result.kept
        if (orders, gmv) != (record.board_orders, record.board_gmv):
            assert a.live is not None and a.paid_to is not None  # counted before, so counted for them
            self.store.bump_live_stat(a.live, a.paid_to, orders=orders - record.board_orders,
                                      gmv=gmv - record.board_gmv, currency=snapshot.currency)
            record.board_orders, record.board_gmv = orders, gmv

    def _on_first_payment(self, snapshot: OrderSnapshot, paid_at: datetime, active: ActiveRules) -> None:
        """Facts that follow from an order being paid: the seller's last sale, paying invitees and promotions,
        'ordered' task qualification, and custom reward actions."""
        seller = snapshot.attribution.paid_to
        a = snapshot.attribution
        customer = snapshot.customer
        self.store.mark_customer(customer)
        previous = self.store.paying_order(customer)
        if previous is None or previous.at <= snapshot.at:  # the latest paid order qualifies for tasks
            self.store.put_paying_order(customer, PaidOrder(snapshot.id, snapshot.at, a.live))
        if seller is not None and seller != customer:
            record = self.store.get_distributor(seller)
            if record is not None:
                if record.last_sale_at is None or record.last_sale_at < paid_at:
                    record.last_sale_at = paid_at
                if previous is None and not self._banned(seller, paid_at):  # no promotion earned while banned
                    record.paying_invitees += 1
                    self._promote(record, paid_at, active.ruleset)
                self.store.put_distributor(record)
        if active.ruleset.tasks:
            lives = self.store.lives_watched(customer)
            if a.live is not None and a.live not in lives:
                lives.append(a.live)  # bought from a live (on air, its replay or a clip) they did not watch
            for live_id in lives:
                self._qualify(active, live_id, customer, paid_at)
            if not _all_need_a_watch(active.ruleset.tasks):  # else no task can count a buyer without a live
                self._qualify(active, None, customer, paid_at)  # tasks over all lives, for a buyer who watched none
        for priced in snapshot.lines:
            for share in priced.shares:
                if share.actions and self._banned(share.beneficiary, paid_at):
                    continue  # a banned distributor's share earns nothing, custom rewards included
                for name, params in share.actions:
                    booked = sum(
                        (e.amount for e in self.store.entries(snapshot.id)
                         if e.line == priced.line.line and e.level == share.level and e.rule_ids == share.rule_ids),
                        Decimal(0),
                    )
                    ctx = ActionContext(
                        beneficiary=share.beneficiary, at=paid_at, rules_version=snapshot.rules_version,
                        order=snapshot.id, line=priced.line.line, amount=booked, live=snapshot.attribution.live,
                    )
                    self._run_action(name, params, ctx, key=f"action:{name}:{snapshot.id}:{priced.line.line}:"
                                     f"{share.level}", rule_ids=share.rule_ids)

    def _promote(self, record: DistributorRecord, at: datetime, ruleset: RuleSet) -> None:
        """链动2+1: promotions are listed lowest first; a distributor only moves up."""
        invitees = record.paying_invitees
        for p in ruleset.promotions:
            if p.paying_invitees <= invitees:
                break
        else:
            return  # not enough paying invitees for any promotion
        held = {r for _, r in record.ranks}
        reached = [n for n, p in enumerate(ruleset.promotions) if p.rank in held]
        floor = max(reached, default=-1)
        for n, promotion in enumerate(ruleset.promotions):
            if n <= floor or record.paying_invitees < promotion.paying_invitees:
                continue
            if promotion.from_ranks and record.rank not in promotion.from_ranks:
                continue
            record.ranks.append((max(at, record.ranks[-1][0]), promotion.rank))
            floor = n
