"""The live coupons page: each coupon of a live with its store voucher and its distributors' codes, and
creating one through the same service as the API's liveCouponCreate (which makes the store's voucher)."""
from __future__ import annotations

from django.db.models import Count
from django.http import HttpResponse
from django.utils.translation import gettext as _

from ..exceptions import ServiceError
from ..identity import staff_labels
from ..live_room import coupons
from ..models import LiveCoupon, LiveSession
from .access import MANAGE_DISCOUNTS
from .pages import Console, Outcome, Route, paginate


def listing(console: Console, outcome: Outcome | None = None, status: int | None = None) -> HttpResponse:
    live = console.query("live")
    rows = LiveCoupon.objects.all() if not live else LiveCoupon.objects.filter(live_id=live)
    rows = rows.select_related("live").annotate(code_count=Count("codes", distinct=True),
                                                issued=Count("issues", distinct=True))
    page = paginate(console, rows.order_by("-created_at", "id"), "coupons/", live=live)
    form = console.request.POST if outcome is not None and outcome.errors else {}
    return console.render("coupons.html", {
        "area": "coupons/", "page": page, "live": live, "form": form, "kinds": coupons.KINDS,
        "lives": list(LiveSession.objects.exclude(status=LiveSession.ENDED).order_by("scheduled_start")
                      .values_list("id", flat=True)[:200]),
        "can_edit": console.can(MANAGE_DISCOUNTS), "create_url": console.url("coupons/create", live=live),
    }, outcome, status)


def codes(console: Console, coupon: str) -> HttpResponse:
    row = LiveCoupon.objects.filter(id=coupon).select_related("live").first()
    if row is None:
        return listing(console, Outcome(errors=[("id", _("There is no coupon %(id)s.") % {"id": coupon})]), 404)
    page = paginate(console, row.codes.annotate(issued=Count("issues")).order_by("code"), f"coupons/{coupon}/")
    labels = staff_labels([c.distributor for c in page.rows if c.distributor])
    return console.render("coupon.html", {
        "area": "coupons/", "coupon": row, "page": page,
        "items": [{"code": c, "name": labels.get(c.distributor, "-")} for c in page.rows]})


def create(console: Console) -> HttpResponse:
    form = console.request.POST
    try:
        coupon = coupons.create_coupon(
            form.get("live", "").strip(), form.get("coupon_id", "").strip(), form.get("title", "").strip(),
            form.get("kind", ""), form.get("value", "").strip(), form.get("currency", "").strip(),
            min_spent=form.get("min_spent", "").strip() or None, created_by=console.staff.id)
    except ServiceError as exc:
        return listing(console, Outcome.of(exc))
    return listing(console, Outcome(notice=_("The coupon %(id)s is created, with its store voucher.") % {
        "id": coupon.id}))


ROUTES = [Route("coupons/", get=listing), Route("coupons/create", post=create, permission=MANAGE_DISCOUNTS),
          Route(r"coupons/(?P<coupon>[-\w]+)/", get=codes)]
