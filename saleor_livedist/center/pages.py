"""What every page of the center shares: who is signed in, where the center is mounted, its language in links,
rendering a page in the layout, and the headers that let storefronts (only the configured ones) frame it."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from ..conf import get_setting
from ..display import zone
from ..models import Distributor
from . import session

TEMPLATES = "saleor_livedist/center/"

NAVIGATION = [  # (path, title)
    ("links/", _("My links")),
    ("tasks/", _("My tasks")),
    ("people/", _("Customers")),
    ("earnings/", _("Earnings")),
    ("clip/", _("Cut a clip")),
]


@dataclass(frozen=True)
class Route:
    pattern: str
    get: Callable[..., HttpResponse] | None = None
    post: Callable[..., HttpResponse] | None = None
    distributors_only: bool = True


@dataclass
class Center:
    """One request to the center: the signed-in customer, their distributor record (None if they are not one) and
    the center's mount point (`base`, ending in center/)."""

    request: HttpRequest
    visitor: session.Visitor
    distributor: Distributor | None
    base: str

    @property
    def identity(self) -> str:
        return self.visitor.identity

    @property
    def plugin_base(self) -> str:
        """The plugin's endpoints' base (where click/ is): the center's mount point without center/."""
        return self.base[: -len("center/")] if self.base.endswith("center/") else self.base

    def url(self, path: str = "", **query: Any) -> str:
        """A center URL that keeps the page's `?lang=`; empty query values are left out."""
        kept = {k: v for k, v in query.items() if v not in (None, "")}
        if self.request.GET.get("lang"):
            kept.setdefault("lang", self.request.GET["lang"])
        return self.base + path + ("?" + urlencode(kept) if kept else "")

    def lang_query(self) -> str:
        lang = self.request.GET.get("lang", "")
        return "?" + urlencode({"lang": lang}) if lang else ""

    def click_url(self, token: str) -> str:
        return self.request.build_absolute_uri(self.plugin_base + "click/" + token)

    def query(self, name: str) -> str:
        return self.request.GET.get(name, "").strip()

    def render(self, template: str, context: dict[str, Any], status: int = 200, area: str = "") -> HttpResponse:
        page = {
            "center": self, "zone": str(zone()), "csrf_field": session.CSRF_FIELD,
            "csrf_token": session.csrf_token(self.visitor), "lang_query": self.lang_query(),
            "request_lang": self.request.GET.get("lang", ""),
            "navigation": [(self.url(path), title, path == area) for path, title in NAVIGATION]
            if self.distributor is not None else [],
            **context,
        }
        return framed(HttpResponse(render_to_string(TEMPLATES + template, page), status=status))


def frame_ancestors() -> str:
    return " ".join(["'self'", *get_setting("CENTER_FRAME_ANCESTORS")])


def framed(response: HttpResponse) -> HttpResponse:
    """Only the storefronts in CENTER_FRAME_ANCESTORS (and the center itself) may frame the page; it is never
    cached by a shared cache and sends no Referer (a page's address is nobody else's business)."""
    response["Content-Security-Policy"] = f"frame-ancestors {frame_ancestors()}"
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Content-Type-Options"] = "nosniff"
    response.xframe_options_exempt = True  # type: ignore[attr-defined]  # the CSP above decides, not DENY
    return response
