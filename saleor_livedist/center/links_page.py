"""The pages of My links: the list (with each link's QR code and what it converted), getting a link to a live,
replay, clip or product, and a link's QR code and poster as SVG files."""
from __future__ import annotations

from django.http import HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _

from ..distribution.services import KIND_NAMES
from ..exceptions import ServiceError
from ..identity import display_name
from ..models import ShareLink
from . import links
from .pages import Center, Route, framed


def links_list(center: Center, error: str = "", status: int = 200) -> HttpResponse:
    rows = links.my_links(center.identity)
    for row in rows:
        row.url = center.click_url(row.token)  # type: ignore[attr-defined]
        row.qr = links.qr_svg(row.url)  # type: ignore[attr-defined]
    unlinked, unlinked_gmv = links.unlinked_orders(center.identity)
    return center.render("links.html", {
        "title": _("My links"), "rows": rows, "shareable": links.shareable(center.identity),
        "unlinked": unlinked, "unlinked_gmv": unlinked_gmv, "kinds": [(k, KIND_NAMES[k]) for k in links.KINDS],
        "error": error}, status=status, area="links/")


def get_link(center: Center) -> HttpResponse:
    """POST kind, target: the distributor's link to it (the one they have, or a new one)."""
    post = center.request.POST
    kind, target = post.get("kind", "").strip(), post.get("target", "").strip()
    try:
        link = links.link_for(center.identity, kind, target)
    except ServiceError as exc:
        return links_list(center, error=exc.message, status=400)
    return HttpResponseRedirect(center.url("links/") + f"#link-{link.id}", status=303)


def _own_link(center: Center, link_id: str) -> ShareLink | None:
    return ShareLink.objects.filter(id=int(link_id), distributor=center.identity).first()


def qr(center: Center, link_id: str) -> HttpResponse:
    link = _own_link(center, link_id)
    if link is None:
        return framed(HttpResponse(_("There is no such link of yours."), status=404, content_type="text/plain"))
    return _svg(links.qr_svg(center.click_url(link.token), scale=10), f"qr-{link.id}.svg")


def poster(center: Center, link_id: str) -> HttpResponse:
    link = _own_link(center, link_id)
    if link is None:
        return framed(HttpResponse(_("There is no such link of yours."), status=404, content_type="text/plain"))
    title = links.titles([(link.kind, link.target)])[(link.kind, link.target)]
    body = links.poster_svg(title, display_name(center.identity), str(KIND_NAMES.get(link.kind, link.kind)),
                            center.click_url(link.token))
    return _svg(body, f"poster-{link.id}.svg")


def _svg(body: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="image/svg+xml; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return framed(response)


ROUTES = [
    Route("links/", get=links_list, post=get_link),
    Route(r"links/(?P<link_id>\d{1,18})/qr\.svg", get=qr),
    Route(r"links/(?P<link_id>\d{1,18})/poster\.svg", get=poster),
]
