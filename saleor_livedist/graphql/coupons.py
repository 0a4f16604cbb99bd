"""Live coupons in the API: staff create them, distributors get their own code, invited viewers see the code
they were issued, and anyone can ask whether a code can be used now (and if not, why)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import graphene
from django.utils.translation import gettext as _

from ..core.money import round_money
from ..db.rows import plain
from ..distribution import invite_coupons
from ..distribution.links import VISITOR_COOKIE
from ..live_room import coupons
from ..models import FirstOrderCoupon, LiveCoupon
from ..viewers.contract import VISITOR_HEADER, ViewerError, verified_visitor
from .payload import payload_mutation


class LiveCouponType(graphene.ObjectType):
    class Meta:
        name = "LiveCoupon"
        description = "A coupon valid only while its live is on air."

    id = graphene.String(required=True)
    live = graphene.String(required=True)
    title = graphene.String(required=True)
    kind = graphene.String(required=True, description="fixed (amount off) or percent (percent off)")
    value = graphene.Decimal(required=True)
    currency = graphene.String(required=True)
    min_spent = graphene.Decimal(description="The subtotal an order must reach ('spend 200, save 50').")

    def resolve_live(root: LiveCoupon, info: Any) -> str:
        return root.live_id


class CouponCodeType(graphene.ObjectType):
    class Meta:
        name = "LiveCouponCode"

    code = graphene.String(required=True)
    coupon = graphene.Field(LiveCouponType, required=True)


class CodeCheckType(graphene.ObjectType):
    class Meta:
        name = "LiveCouponCheck"

    valid = graphene.Boolean(required=True)
    message = graphene.String(required=True, description="Why the code can or cannot be used now.")
    discount = graphene.Decimal(description="The amount off for the subtotal given, when valid.")
    coupon = graphene.Field(LiveCouponType)


class FirstOrderCouponType(graphene.ObjectType):
    class Meta:
        name = "FirstOrderCoupon"
        description = "The coupon for your first order, for arriving through a distributor's link."

    code = graphene.String(description="The voucher's code; null until the store has made it.")
    title = graphene.String(required=True, description="What it gives, in words.")
    kind = graphene.String(required=True, description="fixed (amount off) or percent (percent off)")
    value = graphene.Decimal(required=True)
    currency = graphene.String(required=True)
    min_spent = graphene.Decimal()
    valid_until = graphene.DateTime(required=True)
    status = graphene.String(required=True, description="issued, or pending / failed while the store makes it")

    def resolve_code(root: FirstOrderCoupon, info: Any) -> str | None:
        return root.code or None

    def resolve_value(root: FirstOrderCoupon, info: Any) -> Decimal:
        return round_money(root.value, root.currency) if root.kind == "fixed" else plain(root.value)

    def resolve_min_spent(root: FirstOrderCoupon, info: Any) -> Decimal | None:
        return None if root.min_spent is None else round_money(root.min_spent, root.currency)

    def resolve_title(root: FirstOrderCoupon, info: Any) -> str:
        return coupons.first_order_title(root)


def viewer_identity(context: Any) -> str | None:
    """The signed-in customer, else the signed visitor id (header or cookie) of an anonymous viewer."""
    if context.identity:
        return str(context.identity)
    request = context.request
    if request is None:
        return None
    try:  # the viewer endpoint's own reading of the header or cookie
        return verified_visitor(request.headers.get(VISITOR_HEADER) or request.COOKIES.get(VISITOR_COOKIE))
    except ViewerError:  # not one of ours: nobody
        return None


class CouponQueries(graphene.ObjectType):
    live_coupon_check = graphene.Field(
        CodeCheckType, required=True, code=graphene.String(required=True), subtotal=graphene.Decimal(),
        currency=graphene.String(), description="Whether a live coupon code can be used now, and if not, why.")
    my_live_coupons = graphene.List(
        graphene.NonNull(CouponCodeType), required=True, live=graphene.String(required=True),
        description="The live coupons you were issued as an invited viewer (signed in, or by your visitor id).")

    my_first_order_coupon = graphene.Field(
        FirstOrderCouponType, description="Your first-order coupon, if you arrived through a distributor's link "
                                          "as a new customer (signed in, or by your visitor id).")

    def resolve_my_first_order_coupon(root: Any, info: Any) -> FirstOrderCoupon | None:
        person = viewer_identity(info.context)
        return invite_coupons.first_order_coupon_of(person) if person else None

    def resolve_live_coupon_check(root: Any, info: Any, code: str, subtotal: Any = None,
                                  currency: str | None = None) -> CodeCheckType:
        result = coupons.check_code(code, subtotal=subtotal, currency=currency)
        return CodeCheckType(valid=result.valid, message=result.message, discount=result.discount,
                             coupon=result.coupon)

    def resolve_my_live_coupons(root: Any, info: Any, live: str) -> list[CouponCodeType]:
        person = viewer_identity(info.context)
        if person is None:
            return []
        return [CouponCodeType(code=issue.code_id, coupon=issue.coupon) for issue in coupons.coupons_of(person, live)]


def distributor_codes(distributor: str, live: str) -> list[CouponCodeType]:
    """A distributor's own code of each coupon of the live (made on first request)."""
    return [CouponCodeType(code=coupons.code_for(coupon, distributor).code, coupon=coupon)
            for coupon in LiveCoupon.objects.filter(live_id=live).order_by("created_at", "id")]


CreateLiveCoupon = payload_mutation(
    "LiveCouponCreate", {
        "live": graphene.String(required=True), "id": graphene.String(required=True),
        "title": graphene.String(required=True),
        "kind": graphene.String(required=True, description="fixed (amount off) or percent (percent off)"),
        "value": graphene.Decimal(required=True), "currency": graphene.String(required=True),
        "min_spent": graphene.Decimal(description="The subtotal an order must reach ('spend 200, save 50')."),
    }, "coupon", LiveCouponType,
    lambda context, live, id, title, kind, value, currency, min_spent=None: coupons.create_coupon(
        live, id, title, kind, value, currency, min_spent=min_spent, created_by=context.identity or ""),
    staff=True)
IssueLiveCoupon = payload_mutation(
    "LiveCouponIssue", {"id": graphene.String(required=True)}, "issued", graphene.Int(),
    lambda context, id: _issue(id), staff=True)


def _issue(coupon_id: str) -> int:
    from ..exceptions import ServiceError

    coupon = LiveCoupon.objects.filter(id=coupon_id).first()
    if coupon is None:
        raise ServiceError("id", "NOT_FOUND", _("no coupon %(id)r") % {"id": coupon_id})
    return coupons.issue(coupon)
