"""What the data-loop pages share: a page's tables, each shown on the page and downloadable as CSV
(`?csv=<table>`, with the page's filter), written by the reports' own export (reports/export.py)."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _

from ..reports.export import header, to_csv
from .pages import Console, Outcome
from .report_filter import FilterForm, live_choices


@dataclass(frozen=True)
class Table:
    """A report table: its row type (the CSV's columns) and how to get all its rows (for the CSV)."""

    row_type: type
    all_rows: Callable[[], Sequence[Any]]


def csv_response(name: str, table: Table, filename: str) -> HttpResponse:
    """The table as CSV (UTF-8 with a BOM, so spreadsheet programs read Chinese names), as a download."""
    body = "\ufeff" + to_csv(list(table.all_rows()), header(table.row_type))
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}-{name}.csv"'
    return response


def wanted_csv(console: Console, tables: dict[str, Table], filename: str) -> HttpResponse | None:
    """The CSV the request asks for (`?csv=`), None when it asks for the page; 404 for a table the page has not."""
    name = console.query("csv")
    if not name:
        return None
    if name not in tables:
        return HttpResponse(_("This page has no table %(table)s.") % {"table": name}, status=404,
                            content_type="text/plain; charset=utf-8")
    return csv_response(name, tables[name], filename)


def render_report(console: Console, template: str, path: str, form: FilterForm, tables: dict[str, Table],
                  context: dict[str, Any], area: str | None = None, fixed_live: bool = False) -> HttpResponse:
    """A data-loop page: the filter form (with its problems at the top, 400 when there are any; `fixed_live`:
    the page is about one live, which the form does not offer), the CSV links of its tables, and `context`."""
    csv_urls = {name: console.url(path, csv=name, **form.query()) for name in tables}
    return console.render(template, {
        "area": area or path, "filters": form.values, "filter_path": console.url(path), "csv_urls": csv_urls,
        "lives": [] if fixed_live else live_choices(), "fixed_live": fixed_live, **context,
    }, Outcome(errors=form.errors))
