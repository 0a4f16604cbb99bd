"""The data loop's pages about what sold and why: the attribution report (orders by binding, by last click and
with assists per distributor; the live's and the distributors' shares of GMV) and the distribution fit of
products with the recommendations and their reasons. The figures are the reports' (saleor_livedist/reports)."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.http import HttpResponse
from django.utils.translation import gettext as _

from ..identity import staff_labels
from ..reports.attribution import AttributionRow, GmvShares, attribution_by_distributor, gmv_shares
from ..reports.products import ProductFit, Recommendation, product_fit, recommendations
from . import charts
from .pages import Console, Route
from .report_filter import read_filter
from .report_pages import Table, render_report, wanted_csv

SHOWN = 200
CHARTED = 10  # products in the chart


def share(value: Decimal | None) -> str:
    """0.4286 -> 42.9%; '-' for none."""
    return "-" if value is None else f"{(value * 100).quantize(Decimal('0.1'), ROUND_HALF_UP)}%"


def roi(value: Decimal | None) -> str:
    return "-" if value is None else f"{value.quantize(Decimal('0.01'), ROUND_HALF_UP)}"


def shares_chart(row: GmvShares) -> str:
    return charts.shares([(_("The live"), row.live_percent), (_("Distributors"), row.distributor_percent)],
                         _("The live's and the distributors' shares of GMV, %(currency)s") % {"currency": row.currency},
                         chart=f"shares-{row.currency}")


def attribution_page(console: Console) -> HttpResponse:
    form = read_filter(console)
    f = form.report
    tables = {"shares": Table(GmvShares, lambda: gmv_shares(f)),
              "distributors": Table(AttributionRow, lambda: attribution_by_distributor(f, first=None))}
    exported = wanted_csv(console, tables, "attribution")
    if exported is not None:
        return exported
    by_distributor = attribution_by_distributor(f, first=SHOWN)
    names = staff_labels(sorted({r.distributor for r in by_distributor}))
    return render_report(console, "loop_attribution.html", "loop/attribution/", form, tables, {
        "shares": [{"row": r, "chart": shares_chart(r)} for r in gmv_shares(f)],
        "distributors": [{"row": r, "name": names[r.distributor]} for r in by_distributor], "shown": SHOWN,
    })


def fit_chart(fits: list[ProductFit]) -> str:
    charted = [p for p in fits if p.distributed_gmv > 0][:CHARTED]
    return charts.bars([(p.product, p.distributed_gmv, f"{p.currency} {p.distributed_gmv:,}") for p in charted],
                       _("GMV through distributors, per product"), chart="fit")


def fit_items(fits: list[ProductFit]) -> list[dict[str, object]]:
    return [{"row": p, "conversion": share(p.conversion), "roi": roi(p.roi)} for p in fits]


def products_page(console: Console) -> HttpResponse:
    form = read_filter(console)
    f = form.report
    tables = {"fit": Table(ProductFit, lambda: product_fit(f)),
              "recommendations": Table(Recommendation, lambda: recommendations(f))}
    exported = wanted_csv(console, tables, "products")
    if exported is not None:
        return exported
    fits = product_fit(f)
    return render_report(console, "loop_products.html", "loop/products/", form, tables, {
        "fits": fit_items(fits[:SHOWN]), "chart": fit_chart(fits), "recommendations": recommendations(f, fits=fits),
        "shown": SHOWN,
    })


ROUTES = [Route("loop/attribution/", get=attribution_page), Route("loop/products/", get=products_page)]
