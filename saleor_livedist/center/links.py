"""My links: a distributor's share link to each live, replay, clip and product, which of them convert (clicks,
orders, GMV), and each link's QR code and poster, drawn on the server as SVG."""
from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from xml.sax.saxutils import escape

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..core.money import round_money
from ..distribution import services
from ..models import LiveClip, LiveReplay, LiveSession, ShareLink
from ..reports import facts

KINDS = ("live", "replay", "clip", "product")


@dataclass
class LinkRow:
    """One target the distributor shares, with what its link brought: a buyer's order counts for the link of the
    distributor the buyer clicked last before ordering (GMV: what the buyers kept, refunds off)."""

    id: int
    token: str
    kind: str
    target: str
    title: str
    clicks: int
    orders: int = 0
    gmv: list[tuple[str, Decimal]] = field(default_factory=list)


@dataclass(frozen=True)
class Shareable:
    kind: str
    target: str
    title: str


# The distributor's paid orders (level 1), each credited to the distributor's link the buyer clicked last before
# ordering (the buyer's own clicks and those of the visitor ids stitched to them); orders wholly refunded or
# cancelled count for nothing. An order with no such click (a coupon code, a binding from before) has no link.
_CONVERSIONS = """
SELECT lc.kind, lc.target, o.currency, COUNT(*) FILTER (WHERE o.kept > 0), COALESCE(SUM(o.kept), 0)
FROM livedist_report_order o
LEFT JOIN LATERAL (
    SELECT x.kind, x.target FROM (
        SELECT c.kind, c.target, c.at, c.id FROM livedist_click c
        WHERE c.identity = o.customer AND c.distributor = %s AND c.at <= o.placed_at
        UNION ALL
        SELECT c.kind, c.target, c.at, c.id FROM livedist_alias a JOIN livedist_click c ON c.identity = a.visitor
        WHERE a.customer = o.customer AND c.distributor = %s AND c.at <= o.placed_at
    ) x ORDER BY x.at DESC, x.id DESC LIMIT 1
) lc ON TRUE
WHERE o.paid_to = %s AND o.paid_at IS NOT NULL
GROUP BY lc.kind, lc.target, o.currency
"""  # two index probes per order (the buyer's clicks, their stitched visitors'): an OR would scan every click


def conversions(distributor: str) -> dict[tuple[str | None, str | None], tuple[int, dict[str, Decimal]]]:
    """(kind, target) -> (orders, {currency: GMV}); (None, None) holds the orders no link of theirs brought."""
    facts.refresh()
    out: dict[tuple[str | None, str | None], tuple[int, dict[str, Decimal]]] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")  # compiling the plan costs more than running it
        cursor.execute(_CONVERSIONS, [distributor, distributor, distributor])
        for kind, target, currency, orders, gmv in cursor.fetchall():
            count, money = out.get((kind, target), (0, {}))
            out[(kind, target)] = (count + orders, {**money, currency: round_money(Decimal(gmv), currency)})
    return out


def titles(pairs: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """What a person calls each target: a live's title, '<title> (replay)', a clip's title; a product's slug."""
    ids = defaultdict(set)
    for kind, target in pairs:
        ids[kind].add(target)
    found: dict[tuple[str, str], str] = {}
    for live in LiveSession.objects.filter(id__in=ids["live"]):
        found[("live", live.id)] = live.title
    for replay in LiveReplay.objects.filter(id__in=ids["replay"]).select_related("live"):
        found[("replay", replay.id)] = _("%(title)s (replay)") % {"title": replay.live.title}
    for clip in LiveClip.objects.filter(id__in=ids["clip"]).select_related("live"):
        found[("clip", clip.id)] = clip.title or _("%(title)s (clip)") % {"title": clip.live.title}
    return {pair: found.get(pair, pair[1]) for pair in pairs}


def my_links(distributor: str) -> list[LinkRow]:
    """One row per target the distributor has a link to (their first link to it; the clicks of all of them)."""
    rows: dict[tuple[str, str], LinkRow] = {}
    for link in ShareLink.objects.filter(distributor=distributor).order_by("created_at", "id"):
        key = (link.kind, link.target)
        if key in rows:
            rows[key].clicks += link.clicks
        else:
            rows[key] = LinkRow(id=link.id, token=link.token, kind=link.kind, target=link.target, title="",
                                clicks=link.clicks)
    names = titles(list(rows))
    converted = conversions(distributor)
    for key, row in rows.items():
        row.title = names[key]
        orders, gmv = converted.get(key, (0, {}))
        row.orders, row.gmv = orders, sorted(gmv.items())
    return sorted(rows.values(), key=lambda r: (-r.orders, -sum(g for _c, g in r.gmv), -r.clicks, r.id))


def unlinked_orders(distributor: str) -> tuple[int, list[tuple[str, Decimal]]]:
    """Orders paid to the distributor that no link of theirs brought (a coupon code, an older binding)."""
    orders, gmv = conversions(distributor).get((None, None), (0, {}))
    return orders, sorted(gmv.items())


def shareable(distributor: str, limit: int = 20) -> list[Shareable]:
    """Lives not yet ended and the products they feature, replays still available and their clips, that the
    distributor has no link to yet."""
    now = timezone.now()
    have = set(ShareLink.objects.filter(distributor=distributor).values_list("kind", "target"))
    lives = list(LiveSession.objects.exclude(status=LiveSession.ENDED).order_by("scheduled_start")[:limit])
    found = [Shareable("live", live.id, live.title) for live in lives]
    found += [Shareable("product", slug, slug) for slug in dict.fromkeys(  # what those lives feature
        p for live in lives for p in live.featured_products if isinstance(p, str))]
    replays = list(LiveReplay.objects.select_related("live").filter(available_from__lte=now)
                   .exclude(available_until__lte=now).order_by("-available_from")[:limit])
    found += [Shareable("replay", r.id, _("%(title)s (replay)") % {"title": r.live.title}) for r in replays]
    found += [Shareable("clip", c.id, c.title or c.live.title) for c in
              LiveClip.objects.select_related("live").filter(replay__in=replays).order_by("live", "start_seconds")]
    return [s for s in found if (s.kind, s.target) not in have][:limit]


def link_for(distributor: str, kind: str, target: str) -> ShareLink:
    """The distributor's link to the target: the one they have, else a new one (ServiceError if it cannot be)."""
    existing = ShareLink.objects.filter(distributor=distributor, kind=kind, target=target).order_by("id").first()
    return existing or services.create_share_link(distributor, kind, target)


def qr_svg(url: str, scale: int = 4) -> str:
    """The QR code of `url` as an inline SVG element (error correction M: a printed poster survives a smudge)."""
    import segno

    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=scale, border=2, xmldecl=False, svgns=True,
                                    svgclass="qr", lineclass=None, omitsize=False, title=url, nl=False)
    return buffer.getvalue().decode("utf-8")


def poster_svg(title: str, distributor_name: str, kind_name: str, url: str) -> str:
    """A poster to share (1080 x 1440, a phone's photo ratio): the title, who shares it, the QR of the link."""
    import segno

    qr = segno.make(url, error="m")
    size = qr.symbol_size(scale=1, border=2)[0]
    cell = 640 / size
    buffer = io.BytesIO()
    qr.save(buffer, kind="svg", scale=1, border=2, xmldecl=False, svgns=False, omitsize=True, nl=False)
    modules = buffer.getvalue().decode("utf-8")
    path = modules[modules.index("<path"): modules.rindex("/>") + 2]
    lines = _wrap(title, 12 if any(ord(ch) > 0x2E80 for ch in title) else 22)  # what fits 1080 px at 76 px
    if len(lines) > 3:
        lines = [*lines[:2], lines[2] + "…"]
    heading = "".join(f'<text x="540" y="{230 + 96 * n}" class="title">{escape(line)}</text>'
                      for n, line in enumerate(lines))
    by = escape(_("shared by %(name)s") % {"name": distributor_name})
    scan = escape(_("Scan to watch and shop"))
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="1080" height="1440" viewBox="0 0 1080 1440">'
        '<style>text{font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;'
        'text-anchor:middle}.title{font-size:76px;font-weight:700;fill:#fff}.kind{font-size:40px;fill:#ffcf4a}'
        '.by{font-size:44px;fill:#fff}.scan{font-size:40px;fill:#3b2a63}</style>'
        '<rect width="1080" height="1440" fill="#3b2a63"/>'
        f'<text x="540" y="130" class="kind">{escape(kind_name)}</text>{heading}'
        f'<text x="540" y="{250 + 96 * len(lines)}" class="by">{by}</text>'
        '<rect x="190" y="600" width="700" height="780" rx="36" fill="#fff"/>'
        f'<g transform="translate(220 630) scale({cell:.4f})">{path}</g>'
        f'<text x="540" y="1340" class="scan">{scan}</text></svg>'
    )


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` characters, broken at spaces where there are any (Chinese has none)."""
    words, lines, line = text.split(" ") if " " in text else list(text), [], ""
    joiner = " " if " " in text else ""
    for word in words:
        candidate = f"{line}{joiner}{word}" if line else word
        if len(candidate) > width and line:
            lines.append(line)
            line = word
        else:
            line = candidate
    return [*lines, line] if line else lines
