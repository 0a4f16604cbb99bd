"""The data loop's pages about one thing, which the Dashboard's "more actions" open (console/manifest.py): a
person's journey on one timeline (staff see names unmasked) with their commissions, an order's attribution and
the commissions booked on it with their provenance, a product's distribution figures."""
from __future__ import annotations

from django.db.models import Sum
from django.http import HttpResponse
from django.utils.translation import gettext as _, gettext_lazy

from ..identity import staff_label, staff_labels
from ..models import LedgerEntry, ReportLine, ReportOrder
from ..reports.facts import refresh
from ..reports.journey import JourneyStep, journey
from ..reports.products import ProductFit, product_fit
from .insights import fit_items
from .ledger import booked_on
from .pages import Console, Outcome, Route
from .report_filter import read_filter
from .report_pages import Table, render_report, wanted_csv

STEP_LABELS = {
    "clicked": gettext_lazy("clicked a link"), "bound": gettext_lazy("bound to a distributor"),
    "entered": gettext_lazy("entered the live"), "watched": gettext_lazy("watched"),
    "ordered": gettext_lazy("ordered"), "paid": gettext_lazy("paid"),
    "became_distributor": gettext_lazy("became a distributor"),
}
CONTEXTS = {"live": gettext_lazy("on air"), "replay": gettext_lazy("replay or clip"), "none": gettext_lazy("no live")}


def customer_page(console: Console, person: str) -> HttpResponse:
    form = read_filter(console)
    f = form.report
    tables = {"journey": Table(JourneyStep, lambda: journey(person, f, masked=False))}
    exported = wanted_csv(console, tables, f"journey-{person}")
    if exported is not None:
        return exported
    steps = journey(person, f, masked=False)
    balances = (LedgerEntry.objects.filter(beneficiary=person).values("currency", "status")
                .annotate(total=Sum("amount")).order_by("currency", "status"))
    return render_report(console, "loop_customer.html", f"customers/{person}/", form, tables, {
        "person": person, "name": staff_label(person), "balances": list(balances),
        "steps": [{"step": s, "label": STEP_LABELS.get(s.step, s.step)} for s in steps],
        "ledger_url": console.url("ledger/", q=person),
    }, area="loop/")


def order_page(console: Console, order: str) -> HttpResponse:
    refresh()
    row = ReportOrder.objects.filter(order=order).first()
    if row is None:
        return console.render("loop_order.html", {"area": "loop/", "order": order, "row": None}, Outcome(
            errors=[("order", _("There is no order %(order)s.") % {"order": order})]), 404)
    entries = list(LedgerEntry.objects.filter(order=order).order_by("at", "seq"))
    names = staff_labels(sorted({e.beneficiary for e in entries} | {row.customer}
                                | {who for who in (row.paid_to, row.last_click, *row.assists) if who}))
    events = booked_on(entries)
    return console.render("loop_order.html", {
        "area": "loop/", "order": order, "row": row, "context": CONTEXTS.get(row.context, row.context),
        "paid_to": names.get(row.paid_to or ""), "last_click": names.get(row.last_click or ""),
        "assists": [names[who] for who in row.assists],
        "lines": list(ReportLine.objects.filter(order=order).order_by("line")),
        "entries": [{"entry": e, "name": names[e.beneficiary], "event": events.get(e.id)} for e in entries],
        "customer_name": names[row.customer], "customer_url": console.url(f"customers/{row.customer}/"),
        "csv_url": console.url("ledger.csv", order=order),
    })


def product_page(console: Console, product: str) -> HttpResponse:
    form = read_filter(console)
    f = form.report
    tables = {"fit": Table(ProductFit, lambda: product_fit(f, product=product))}
    exported = wanted_csv(console, tables, f"product-{product}")
    if exported is not None:
        return exported
    return render_report(console, "loop_product.html", f"products/{product}/", form, tables, {
        "product": product, "fits": fit_items(product_fit(f, product=product)),
    }, area="loop/products/")


ID = r"[^/]+"  # identities (user:12), orders and product slugs as the Dashboard's actions give them
ROUTES = [Route(rf"customers/(?P<person>{ID})/?", get=customer_page),
          Route(rf"orders/(?P<order>{ID})/?", get=order_page),
          Route(rf"products/(?P<product>{ID})/?", get=product_page)]
