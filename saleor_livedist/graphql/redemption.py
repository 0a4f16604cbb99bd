"""Points redemption in the API: what a distributor's points buy (`me { redemptionOptions }`), their
redemptions (`me { redemptions }`) and `redeemPoints` (docs/rules.md, "redemption")."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import graphene

from ..core.money import round_money
from ..distribution import redemption
from ..models import PointsRedemption
from .payload import payload_mutation


class OfferType(graphene.ObjectType):
    class Meta:
        name = "PointsOffer"

    kind = graphene.String(required=True, description="voucher or gift_card")
    points = graphene.Int(required=True, description="The fewest points it costs.")
    value = graphene.Decimal(required=True, description="What those points buy.")
    currency = graphene.String(required=True)


class RedemptionOptionsType(graphene.ObjectType):
    class Meta:
        name = "PointsRedemptionOptions"
        description = "What your points buy now."

    balance = graphene.Int(required=True, description="Points you can spend: granted, less those redeemed or held.")
    step = graphene.Int(required=True, description="A redemption spends a whole multiple of this many points.")
    step_value = graphene.Decimal(required=True, description="What `step` points are worth.")
    currency = graphene.String(required=True)
    minimum = graphene.Int(required=True)
    max_points = graphene.Int(required=True, description="The most one redemption can spend now (0: none).")
    max_value = graphene.Decimal(required=True)
    valid_days = graphene.Int(required=True, description="How long a redeemed voucher or gift card is valid.")
    offers = graphene.List(graphene.NonNull(OfferType), required=True)
    reason = graphene.String(required=True, description="Why nothing can be redeemed now, when maxPoints is 0.")

    def resolve_step_value(root: redemption.RedemptionOptions, info: Any) -> Decimal:
        return round_money(root.step_value, root.currency)

    def resolve_max_value(root: redemption.RedemptionOptions, info: Any) -> Decimal:
        return round_money(root.max_value, root.currency)


class RedemptionType(graphene.ObjectType):
    class Meta:
        name = "PointsRedemption"

    request_id = graphene.String(required=True)
    points = graphene.Int(required=True)
    kind = graphene.String(required=True, description="voucher or gift_card")
    value = graphene.Decimal(required=True)
    currency = graphene.String(required=True)
    status = graphene.String(required=True, description="pending (points held), issued, or failed (points given back)")
    code = graphene.String(required=True, description="The voucher's or gift card's code, once issued.")
    valid_until = graphene.DateTime()
    created_at = graphene.DateTime(required=True)

    def resolve_request_id(root: PointsRedemption, info: Any) -> str:
        return root.request

    def resolve_value(root: PointsRedemption, info: Any) -> Decimal:
        return round_money(root.value, root.currency)


def _redeem(context: Any, request_id: str, points: int, kind: str, channel: str | None = None) -> PointsRedemption:
    return redemption.redeem(str(context.identity), request_id, points, kind, channel=channel)


RedeemPoints = payload_mutation(
    "RedeemPoints", {
        "request_id": graphene.String(required=True, description="Your id for this redemption: retrying with the "
                                                                  "same id never spends twice."),
        "points": graphene.Int(required=True),
        "kind": graphene.String(required=True, description="voucher or gift_card"),
        "channel": graphene.String(description="The channel a voucher is for (default: the rules' channel)."),
    }, "redemption", RedemptionType, _redeem)


class RedemptionFields:
    """The distributor's (`me`) redemption fields."""

    redemption_options = graphene.Field(RedemptionOptionsType,
                                        description="What your points buy; null when the store does not redeem points.")
    redemptions = graphene.List(graphene.NonNull(RedemptionType), required=True, first=graphene.Int())

    def resolve_redemption_options(root: Any, info: Any) -> redemption.RedemptionOptions | None:
        return redemption.redemption_options(root.id)

    def resolve_redemptions(root: Any, info: Any, first: int | None = None) -> list[PointsRedemption]:
        return redemption.redemptions_of(root.id, min(max(first or 50, 1), 200))
