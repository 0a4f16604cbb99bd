"""The data loop's pages about lives: the lives to pick from, one live's funnel (per distributor and in total),
its GMV and commission over the live's minutes and its leaderboard; and the distributor x live matrix with the
viewers who became distributors and what they sold later. The figures are the reports' (saleor_livedist/reports)."""
from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from itertools import accumulate, groupby

from django.http import HttpResponse
from django.utils.translation import gettext as _, gettext_lazy

from ..identity import staff_labels
from ..models import Live
from ..reports.funnel import FunnelRow, LeaderboardEntry, MinuteRow, live_funnel, live_leaderboard, live_minutes
from ..reports.matrix import ConvertedRow, MatrixRow, converted_viewers, distributor_live_matrix
from . import charts
from .pages import Console, Outcome, Route
from .report_filter import read_filter, recent_lives
from .report_pages import Table, render_report, wanted_csv

SHOWN = 200  # rows of a table on the page; its CSV has them all
MATRIX_SHOWN = 100  # the matrix page's two tables (their rows carry the most columns and names); the CSV has all

STAGES = [("clicked", gettext_lazy("Clicked a link")), ("entered", gettext_lazy("Entered the live")),
          ("watched", gettext_lazy("Watched %(minutes)d min or more")), ("ordered", gettext_lazy("Ordered")),
          ("paid", gettext_lazy("Paid")), ("became_distributors", gettext_lazy("Became distributors"))]


def index(console: Console) -> HttpResponse:
    """The lives, each linking to its funnel page."""
    return console.render("loop_index.html", {
        "area": "loop/", "lives": recent_lives()})


def stage_labels(minutes: int) -> list[tuple[str, str]]:
    return [(name, str(label) % {"minutes": minutes} if name == "watched" else str(label)) for name, label in STAGES]


def total_stages(total: FunnelRow) -> list[tuple[str, str, int]]:
    """(stage, label, people) of the live's funnel in total."""
    return [(name, label, getattr(total, name)) for name, label in stage_labels(total.watched_minutes)]


def funnel_chart(total: FunnelRow) -> str:
    return charts.funnel([(label, count) for _name, label, count in total_stages(total)],
                         _("Funnel of live %(live)s") % {"live": total.live})


def minute_charts(minutes: Sequence[MinuteRow]) -> list[dict[str, object]]:
    """Per currency: the running totals of GMV and commission over the live's minutes, and the minutes that sold."""
    out = []
    for currency, group in groupby(minutes, key=lambda m: m.currency):
        rows = list(group)
        gmv, commission = list(accumulate(m.gmv for m in rows)), list(accumulate(m.commission for m in rows))
        chart = charts.lines(
            [charts.Series(_("GMV (running total)"), gmv), charts.Series(_("Commission (running total)"), commission)],
            _("GMV and commission over the live's minutes, %(currency)s") % {"currency": currency},
            _("minute of the live"), chart=f"minutes-{currency}")
        sold = [{"row": m, "gmv_total": gmv[i], "commission_total": commission[i]}
                for i, m in enumerate(rows) if m.orders]
        out.append({"currency": currency, "chart": chart, "sold": sold,
                    "gmv": gmv[-1] if gmv else Decimal(0), "commission": commission[-1] if commission else Decimal(0)})
    return out


def live_page(console: Console, live: str) -> HttpResponse:
    if not Live.objects.filter(id=live).exists():
        return console.render("loop_index.html", {"area": "loop/", "lives": []}, Outcome(
            errors=[("live", _("There is no live %(live)s.") % {"live": live})]), 404)
    form = read_filter(console, live=live)
    f = form.report
    tables = {"funnel": Table(FunnelRow, lambda: live_funnel(f)), "minutes": Table(MinuteRow, lambda: live_minutes(f)),
              "leaderboard": Table(LeaderboardEntry, lambda: live_leaderboard(f, first=100))}
    exported = wanted_csv(console, tables, f"live-{live}")
    if exported is not None:
        return exported
    funnel = live_funnel(f)
    funnel = funnel if funnel and funnel[0].clicked else []  # the total's row of zeros when nobody clicked
    names = staff_labels(sorted({r.distributor for r in funnel if r.distributor}))
    path = f"loop/lives/{live}/"
    return render_report(console, "loop_live.html", path, form, tables, {
        "live": live, "stages": stage_labels(funnel[0].watched_minutes if funnel else 0),
        "total": funnel[0] if funnel else None, "total_stages": total_stages(funnel[0]) if funnel else [],
        "chart": funnel_chart(funnel[0]) if funnel else "",
        "by_distributor": [{"row": r, "name": names[r.distributor]} for r in funnel[1:SHOWN + 1]],
        "minutes": minute_charts(live_minutes(f)), "board": live_leaderboard(f),
    }, area="loop/", fixed_live=True)


def matrix_page(console: Console) -> HttpResponse:
    form = read_filter(console)
    f = form.report
    tables = {"matrix": Table(MatrixRow, lambda: distributor_live_matrix(f, first=None)),
              "converted": Table(ConvertedRow, lambda: converted_viewers(f, first=None))}
    exported = wanted_csv(console, tables, "distributors-lives")
    if exported is not None:
        return exported
    matrix, converted = distributor_live_matrix(f, first=MATRIX_SHOWN), converted_viewers(f, first=MATRIX_SHOWN)
    names = staff_labels(sorted({r.distributor for r in matrix} | {r.distributor for r in converted}
                                | {r.brought_by for r in converted if r.brought_by}))
    return render_report(console, "loop_matrix.html", "loop/matrix/", form, tables, {
        "matrix": [{"row": r, "name": names[r.distributor]} for r in matrix],
        "converted": [{"row": r, "name": names[r.distributor], "upline": names.get(r.brought_by or "", "")}
                      for r in converted],
        "shown": MATRIX_SHOWN,
    })


ROUTES = [Route("loop/", get=index), Route(r"loop/lives/(?P<live>[-\w:.]+)/", get=live_page),
          Route("loop/matrix/", get=matrix_page)]
