"""What every console page shares: the request's staff member and where the console is mounted, rendering a
page in the layout, pages of rows, and the outcome of an action (done, or the service's errors)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from ..display import zone
from ..exceptions import ServiceError
from . import csrf
from .access import MANAGE_ORDERS, VIEW, Staff

PER_PAGE = 50
TEMPLATES = "saleor_livedist/console/"

# (path, title, permission to see it in the navigation)
NAVIGATION = [
    ("distributors/", _("Distributors"), MANAGE_ORDERS),
    ("ledger/", _("Ledger"), MANAGE_ORDERS),
    ("events/", _("Events"), MANAGE_ORDERS),
    ("rules/", _("Rule versions"), MANAGE_ORDERS),
    ("lives/", _("Lives"), MANAGE_ORDERS),
    ("tasks/", _("Invite tasks"), MANAGE_ORDERS),
    ("coupons/", _("Live coupons"), MANAGE_ORDERS),
    ("reminders/", _("Reminders"), MANAGE_ORDERS),
    ("questions/", _("Questions"), MANAGE_ORDERS),
    ("held/", _("Held invitees"), MANAGE_ORDERS),
    ("payouts/", _("Payouts"), MANAGE_ORDERS),
    ("loop/", _("Data loop"), MANAGE_ORDERS),
    ("loop/matrix/", _("Distributors × lives"), MANAGE_ORDERS),
    ("loop/attribution/", _("Attribution"), MANAGE_ORDERS),
    ("loop/products/", _("Distribution fit of products"), MANAGE_ORDERS),
]


@dataclass(frozen=True)
class Route:
    """A page (`get`) and the actions posted to it (`post`, which needs `permission` besides viewing)."""

    pattern: str
    get: Callable[..., HttpResponse] | None = None
    post: Callable[..., HttpResponse] | None = None
    permission: str = VIEW


@dataclass
class Outcome:
    """What an action did, shown at the top of the page: a notice, or the service's errors (field, message)."""

    notice: str = ""
    errors: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def of(cls, exc: ServiceError) -> Outcome:
        problems = getattr(exc, "problems", None)  # rule problems: one error each, in the loader's words
        if problems:
            return cls(errors=[(exc.field or "", p.render()) for p in problems])
        return cls(errors=[(exc.field or "", exc.message)])


@dataclass
class Console:
    """One request to the console: who made it and where the console is mounted (`base`, ending in /)."""

    request: HttpRequest
    staff: Staff
    base: str

    def url(self, path: str = "", **query: Any) -> str:
        """A console URL; empty query values are left out."""
        kept = {k: v for k, v in query.items() if v not in (None, "")}
        return self.base + path + ("?" + urlencode(kept) if kept else "")

    def can(self, permission: str) -> bool:
        return permission in self.staff.permissions

    def query(self, name: str) -> str:
        return self.request.GET.get(name, "").strip()

    def render(self, template: str, context: dict[str, Any], outcome: Outcome | None = None,
               status: int | None = None) -> HttpResponse:
        outcome = outcome or Outcome()
        page = {
            "console": self, "staff": self.staff, "base": self.base, "outcome": outcome,
            "csrf_field": csrf.FIELD, "zone": str(zone()), "csrf_token": csrf.token_for(self.request, self.staff),
            "navigation": [(self.base + path, title, path == context.get("area"))
                           for path, title, permission in NAVIGATION if self.can(permission)],
            **context,
        }
        body = render_to_string(TEMPLATES + template, page)
        return HttpResponse(body, status=status or (400 if outcome.errors else 200))


@dataclass
class Rows:
    """One page of a query's rows, with links to the pages around it (`total` and `pages`: None when not counted)."""

    rows: list[Any]
    number: int
    pages: int | None
    total: int | None
    previous_url: str
    next_url: str


def paginate(console: Console, queryset: QuerySet[Any], path: str, per_page: int = PER_PAGE, count: bool = True,
             **query: Any) -> Rows:
    """The page the request asks for (`?page=`): one COUNT and one LIMIT/OFFSET query; with count=False (tables
    that grow with every order) only the LIMIT/OFFSET query, one row more than the page to know there is a next."""
    link = lambda n: console.url(path, page=n, **query)  # noqa: E731
    if count:
        paginator = Paginator(queryset, per_page, allow_empty_first_page=True)
        page = paginator.get_page(console.query("page") or 1)
        return Rows(rows=list(page.object_list), number=page.number, pages=paginator.num_pages,
                    total=paginator.count, previous_url=link(page.number - 1) if page.has_previous() else "",
                    next_url=link(page.number + 1) if page.has_next() else "")
    try:
        number = max(1, int(console.query("page") or 1))
    except ValueError:
        number = 1
    rows = list(queryset[(number - 1) * per_page: number * per_page + 1])
    return Rows(rows=rows[:per_page], number=number, pages=None, total=None,
                previous_url=link(number - 1) if number > 1 else "",
                next_url=link(number + 1) if len(rows) > per_page else "")
