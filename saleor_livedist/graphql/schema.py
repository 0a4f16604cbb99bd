"""The plugin's GraphQL API (graphene 2, Saleor's conventions: mutations return the object and `errors`).

A distributor reaches only their own data: every distributor field hangs off `me`, which is resolved from
the authenticated user; nothing takes another distributor's id. Staff fields check `is_staff`. People other
than the caller are shown masked."""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import graphene
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from ..core.money import round_money
from ..db.rows import plain
from ..distribution import services
from ..identity import display_name
from ..models import Binding, Distributor, LedgerEntry, Order, PointsGrant, RuleVersion, ShareLink
from .coupons import CouponCodeType, CouponQueries, CreateLiveCoupon, IssueLiveCoupon, distributor_codes
from .live import LiveQueries, live_mutations
from .payload import PermissionDenied, payload_mutation
from .payouts import PayoutFields, PayoutMutations, PayoutQueries
from .redemption import RedeemPoints, RedemptionFields

MAX_PAGE = 200


class Context:
    """What resolvers know about the caller."""

    def __init__(self, user: Any, identity: str | None, is_staff: bool, request: Any = None):
        self.user, self.identity, self.is_staff, self.request = user, identity, is_staff, request

    def can(self, permission: str) -> bool:
        """Staff holding one of Saleor's permissions (payload.PERMISSIONS): inside Saleor the permission itself
        (from the user's groups or the token), in the sandbox the Django permission standing for it."""
        from .payload import PERMISSIONS

        perms = PERMISSIONS.get(permission, ())
        return self.is_staff and self.user is not None and any(self.user.has_perm(p) for p in perms)


def _caller(info: Any) -> str:
    if not info.context.identity:
        raise PermissionDenied(_("sign in to use this field"))
    return str(info.context.identity)


def _staff(info: Any) -> None:
    if not info.context.is_staff:
        raise PermissionDenied(_("this field is for staff only"))


def _page(first: int | None, offset: int | None) -> slice:
    """A page of rows; a `first` over GRAPHQL_MAX_PAGE is refused before execution (limits.py)."""
    from ..conf import get_setting

    first = min(max(first or 50, 1), get_setting("GRAPHQL_MAX_PAGE"))
    offset = max(offset or 0, 0)
    return slice(offset, offset + first)


class Balance(graphene.ObjectType):
    currency = graphene.String(required=True)
    pending = graphene.Decimal(required=True)
    approved = graphene.Decimal(required=True)
    reversed = graphene.Decimal(required=True)


class LedgerEntryType(graphene.ObjectType):
    class Meta:
        name = "LedgerEntry"

    id = graphene.String(required=True)
    order = graphene.String(required=True)
    line = graphene.String(required=True)
    kind = graphene.String(required=True,
                           description="commission, team, peer_bonus (a peer bonus), adjustment, clawback, task_cash "
                           "(a task's cash; no line), or pool_bonus (a share of a period's pool; no line)")
    level = graphene.Int(required=True)
    amount = graphene.Decimal(required=True)
    currency = graphene.String(required=True)
    status = graphene.String(required=True, description="pending, approved or reversed")
    percent = graphene.Decimal(required=True)
    rule_ids = graphene.List(graphene.NonNull(graphene.String), required=True,
                             description="The rules that produced this entry.")
    rules_version = graphene.String(required=True)
    at = graphene.DateTime(required=True)

    def resolve_amount(root: LedgerEntry, info: Any) -> Decimal:
        return round_money(root.amount, root.currency)

    def resolve_percent(root: LedgerEntry, info: Any) -> Decimal:
        return plain(root.percent)


class PointsGrantType(graphene.ObjectType):
    class Meta:
        name = "PointsGrant"

    points = graphene.Int(required=True)
    reason = graphene.String(required=True)
    rule_ids = graphene.List(graphene.NonNull(graphene.String), required=True)
    live = graphene.String()
    at = graphene.DateTime(required=True)


class ShareLinkType(graphene.ObjectType):
    class Meta:
        name = "ShareLink"

    token = graphene.String(required=True)
    url = graphene.String(required=True, description="The link to share: our click endpoint, which records the "
                                                     "click, binds the visitor and redirects to landingUrl.")
    landing_url = graphene.String(required=True, description="Where a click lands on the storefront.")
    kind = graphene.String(required=True)
    target = graphene.String(required=True)
    clicks = graphene.Int(required=True)
    created_at = graphene.DateTime(required=True)

    def resolve_url(root: ShareLink, info: Any) -> str:
        request = info.context.request
        path = f"click/{root.token}"
        if request is None:
            return path
        # The API is served at <prefix>/graphql/ (Saleor: /plugins/global/saleor_livedist/graphql/), the click
        # endpoint at <prefix>/click/<token>.
        prefix = request.path.rsplit("graphql", 1)[0]
        return request.build_absolute_uri(prefix + path)

    def resolve_landing_url(root: ShareLink, info: Any) -> str:
        return services.storefront_url(root.token, root.kind, root.target)


class Person(graphene.ObjectType):
    name = graphene.String(required=True, description="Masked, e.g. j***@example.com.")
    rank = graphene.String(description="For distributors.")
    orders = graphene.Int(required=True, description="Paid orders attributed through you.")


def balances(identity: str) -> list[Balance]:
    sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for currency, status, amount in LedgerEntry.objects.filter(beneficiary=identity).values_list(
            "currency", "status", "amount"):
        sums[currency][status] += amount
    return [Balance(currency=c, **{k: round_money(s[k], c) for k in ("pending", "approved", "reversed")})
            for c, s in sorted(sums.items())]


class TaskProgressType(graphene.ObjectType):
    class Meta:
        name = "TaskProgress"

    task = graphene.String(required=True)
    description = graphene.String(required=True)
    invited = graphene.Int(required=True, description="Viewers who came to the live through your link.")
    entered = graphene.Int(required=True, description="Of those, viewers who joined the live.")
    qualified = graphene.Int(required=True, description="Of those, viewers who qualified for this task.")
    target = graphene.Int(description="Qualified invitees needed for the reward; null for per-invitee tasks.")
    completed_at = graphene.DateTime()
    points = graphene.Int(required=True, description="Points this task has granted you in this live.")


def task_progress(distributor: str, live: str) -> list[TaskProgressType]:
    """A distributor's progress on the live-scoped tasks of the active rules, for one live."""
    from ..models import Alias, LiveInvitation, QualifiedInvitee, TaskProgress, Watch
    from ..inbox.processing import rules_source

    invited = list(LiveInvitation.objects.filter(live=live, distributor=distributor)  # a stitched visitor id is
                   .exclude(viewer__in=Alias.objects.values("visitor"))             # its customer's, counted there
                   .values_list("viewer", flat=True))
    entered = Watch.objects.filter(live=live, viewer__in=invited).count()
    out = []
    for task in rules_source().current().ruleset.tasks:
        if task.scope != "live" or not task.applies_to(live):
            continue
        progress = TaskProgress.objects.filter(task=task.id, distributor=distributor, scope_key=live).first()
        qualified = (progress.qualified if progress is not None else QualifiedInvitee.objects.filter(
            task=task.id, scope_key=live, invitee__in=invited).count())
        points = sum(PointsGrant.objects.filter(beneficiary=distributor, live=live, rule_ids=[task.id])
                     .values_list("points", flat=True))
        out.append(TaskProgressType(
            task=task.id, description=_task_description(task), invited=len(invited), entered=entered,
            qualified=qualified, target=task.target, completed_at=progress.completed_at if progress else None,
            points=points))
    return out


def _task_description(task: Any) -> str:
    q = task.qualify
    needs = [_("watch %(n)d min") % {"n": q.watched_minutes} if q.watched_minutes else "",
             _("join") if q.entered else "", _("buy") if q.ordered else ""]
    return _(" and ").join(n for n in needs if n) or _("join")


class DistributorType(PayoutFields, RedemptionFields, graphene.ObjectType):
    """A distributor as they see themselves (through `me`) or as staff see them."""

    class Meta:
        name = "Distributor"

    id = graphene.String(required=True)
    rank = graphene.String(required=True)
    joined_at = graphene.DateTime(required=True)
    upline = graphene.Field(Person, description="Masked.")
    downline = graphene.List(graphene.NonNull(Person), required=True,
                             description="Distributors who joined through you (masked).")
    customers = graphene.List(graphene.NonNull(Person), required=True,
                              description="Customers bound to you (masked), with their paid order counts.")
    balances = graphene.List(graphene.NonNull(Balance), required=True)
    ledger = graphene.List(graphene.NonNull(LedgerEntryType), required=True, first=graphene.Int(),
                           offset=graphene.Int())
    points = graphene.Int(required=True)
    points_grants = graphene.List(graphene.NonNull(PointsGrantType), required=True, first=graphene.Int())
    share_links = graphene.List(graphene.NonNull(ShareLinkType), required=True, first=graphene.Int())
    tasks = graphene.List(graphene.NonNull(TaskProgressType), required=True, live=graphene.String(required=True),
                          description="Your progress on the invite tasks of a live.")

    coupon_codes = graphene.List(graphene.NonNull(CouponCodeType), required=True, live=graphene.String(required=True),
                                 description="Your own code of each coupon of a live: orders with it are yours.")

    def resolve_tasks(root: Distributor, info: Any, live: str) -> list[TaskProgressType]:
        return task_progress(root.id, live)

    def resolve_coupon_codes(root: Distributor, info: Any, live: str) -> list[CouponCodeType]:
        return distributor_codes(root.id, live)

    def resolve_upline(root: Distributor, info: Any) -> Person | None:
        if not root.upline:
            return None
        upline = Distributor.objects.filter(id=root.upline).first()
        return Person(name=display_name(root.upline), rank=upline.rank if upline else None,
                      orders=_paid_orders_through([root.upline]).get(root.upline, 0))

    def resolve_downline(root: Distributor, info: Any) -> list[Person]:
        team = list(Distributor.objects.filter(upline=root.id).order_by("joined_at")[:MAX_PAGE])
        counts = _paid_orders_through([d.id for d in team])
        return [Person(name=display_name(d.id), rank=d.rank, orders=counts.get(d.id, 0)) for d in team]

    def resolve_customers(root: Distributor, info: Any) -> list[Person]:
        bound = list(Binding.objects.filter(distributor=root.id).order_by("at")[:MAX_PAGE])
        ids = [b.identity for b in bound]
        counts = dict(Order.objects.filter(customer__in=ids, paid_at__isnull=False, snapshot__attribution__paid_to=root.id)
                      .values_list("customer").annotate(n=Count("id")).values_list("customer", "n"))
        return [Person(name=display_name(i), orders=counts.get(i, 0)) for i in ids]

    def resolve_balances(root: Distributor, info: Any) -> list[Balance]:
        return balances(root.id)

    def resolve_ledger(root: Distributor, info: Any, first: int | None = None, offset: int | None = None) -> Any:
        return LedgerEntry.objects.filter(beneficiary=root.id).order_by("-at", "id")[_page(first, offset)]

    def resolve_points(root: Distributor, info: Any) -> int:
        return sum(PointsGrant.objects.filter(beneficiary=root.id).values_list("points", flat=True))

    def resolve_points_grants(root: Distributor, info: Any, first: int | None = None) -> Any:
        return PointsGrant.objects.filter(beneficiary=root.id).order_by("-at")[_page(first, 0)]

    def resolve_share_links(root: Distributor, info: Any, first: int | None = None) -> Any:
        return ShareLink.objects.filter(distributor=root.id)[_page(first, 0)]


def _paid_orders_through(distributors: list[str]) -> dict[str, int]:
    rows = (Order.objects.filter(paid_at__isnull=False, snapshot__attribution__paid_to__in=distributors)
            .values_list("snapshot__attribution__paid_to").annotate(n=Count("id")))
    return {str(who): n for who, n in rows}


class RuleVersionType(graphene.ObjectType):
    class Meta:
        name = "RuleVersion"

    version = graphene.String(required=True)
    active = graphene.Boolean(required=True)
    first_seen = graphene.DateTime(required=True)
    files = graphene.List(graphene.NonNull(graphene.String), required=True)
    problems = graphene.List(graphene.NonNull(graphene.String), required=True,
                             description="For a rejected change: every problem, as `file:line:col: message [code]`.")

    def resolve_files(root: RuleVersion, info: Any) -> list[str]:
        return sorted(root.files)


class Query(PayoutQueries, LiveQueries, CouponQueries, graphene.ObjectType):
    me = graphene.Field(DistributorType, description="The signed-in distributor; null if not a distributor.")
    distributors = graphene.List(graphene.NonNull(DistributorType), required=True, rank=graphene.String(),
                                 first=graphene.Int(), offset=graphene.Int(), description="Staff only.")
    ledger = graphene.List(graphene.NonNull(LedgerEntryType), required=True, beneficiary=graphene.String(),
                           order=graphene.String(), status=graphene.String(), first=graphene.Int(),
                           offset=graphene.Int(), description="Staff only.")
    rule_versions = graphene.List(graphene.NonNull(RuleVersionType), required=True, description="Staff only.")

    def resolve_me(root: Any, info: Any) -> Distributor | None:
        return Distributor.objects.filter(id=_caller(info)).first()

    def resolve_distributors(root: Any, info: Any, rank: str | None = None, first: int | None = None,
                             offset: int | None = None) -> Any:
        _staff(info)
        rows = Distributor.objects.order_by("joined_at", "id")
        if rank:
            rows = rows.filter(rank=rank)
        return rows[_page(first, offset)]

    def resolve_ledger(root: Any, info: Any, first: int | None = None, offset: int | None = None,
                       **filters: str) -> Any:
        _staff(info)
        query = Q(**{k: v for k, v in filters.items() if v})
        return LedgerEntry.objects.filter(query).order_by("-at", "id")[_page(first, offset)]

    def resolve_rule_versions(root: Any, info: Any) -> Any:
        _staff(info)
        return RuleVersion.objects.all()[:MAX_PAGE]


def _opt_out(context: Context, opt_out: bool) -> bool:
    from ..live_room.reminders import set_opt_out

    return set_opt_out(context.identity, opt_out)


CreateShareLink = payload_mutation(
    "CreateShareLink", {"kind": graphene.String(required=True, description="live, replay, product or clip"),
                        "target": graphene.String(required=True,
                                                  description="The id of the live, replay, product or clip.")},
    "share_link", ShareLinkType, lambda context, kind, target: services.create_share_link(context.identity, kind, target))
BecomeDistributor = payload_mutation(
    "BecomeDistributor",
    {"consent": graphene.Boolean(required=True, description="Agreement to the distributor terms. No fee, ever."),
     "live": graphene.String(description="The live room the tap came from (its host may become your upline).")},
    "distributor", DistributorType,
    lambda context, consent, live=None: services.become_distributor(context.identity, consent, live))
ReminderOptOut = payload_mutation(
    "ReminderOptOut", {"opt_out": graphene.Boolean(required=True, description="True: no more live reminders for me.")},
    "opted_out", graphene.Boolean(), _opt_out)


def _ban(context: Context, distributor: str, reason: str) -> Distributor:
    services.ban_distributor(distributor, reason, banned_by=context.identity or "")
    return Distributor.objects.get(id=distributor)


BanDistributor = payload_mutation(
    "DistributorBan", {"distributor": graphene.String(required=True, description="The distributor's id."),
                       "reason": graphene.String(required=True, description="Why, for the record.")},
    "distributor", DistributorType, _ban, staff=True)
UnbanDistributor = payload_mutation(
    "DistributorUnban", {"distributor": graphene.String(required=True, description="The distributor's id.")},
    "distributor", DistributorType,
    lambda context, distributor: services.unban_distributor(distributor, unbanned_by=context.identity or ""),
    staff=True)


class Mutation(PayoutMutations, live_mutations(), graphene.ObjectType):  # type: ignore[misc]
    create_share_link = CreateShareLink.Field()
    become_distributor = BecomeDistributor.Field()
    reminder_opt_out = ReminderOptOut.Field()
    live_coupon_create = CreateLiveCoupon.Field()
    live_coupon_issue = IssueLiveCoupon.Field()
    distributor_ban = BanDistributor.Field()
    distributor_unban = UnbanDistributor.Field()
    redeem_points = RedeemPoints.Field()


schema = graphene.Schema(query=Query, mutation=Mutation)
