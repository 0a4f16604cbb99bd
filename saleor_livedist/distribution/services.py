"""What the API and the endpoints do: create share links, record clicks, become a distributor in one tap, and
(staff) ban or unban a distributor.
Each either succeeds or raises ServiceError with a field and a stable code, and leaves nothing half-done."""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _, gettext_lazy

from ..catalogue import store_catalogue
from ..conf import get_setting
from ..core.attribution import clip_key
from ..core.events import TARGET_KINDS
from ..exceptions import ClickRateLimited, ServiceError
from ..inbox import processing
from ..models import (
    ID, Binding, Distributor, DistributorBan, Live, LiveClip, LiveReplay, LiveSession, Replay, ShareLink,
)
from . import invite_coupons
from .guards import admit_click
from .links import (
    LinkError, ShareTarget, make_share_token, new_visitor_id, read_share_token, read_visitor, sign_visitor,
)


@dataclass(frozen=True)
class ClickResult:
    redirect_url: str
    visitor: str  # the visitor id to keep in the cookie (signed by the caller)


def _event_id(kind: str) -> str:
    return f"{kind}:{uuid.uuid4().hex}"


def _now() -> datetime:
    return timezone.now()


def storefront_url(token: str, kind: str, target: str) -> str:
    """Where a click on the share link lands: the STOREFRONT_URL template filled in, every value
    percent-encoded (a target's `?`, `&`, `#` or `/` cannot add a query parameter, a fragment or a path)."""
    return str(get_setting("STOREFRONT_URL")).format(kind=quote(kind, safe=""), target=quote(target, safe=""),
                                                     token=quote(token, safe=":"))


def landing_url(token: str, kind: str, target: str, visitor: str) -> str:
    """The storefront URL plus the signed visitor id (`livedist_visitor`), so a storefront on another domain
    than the API (which cannot read our cookie) can keep it in checkout metadata too."""
    url = storefront_url(token, kind, target)
    fragment = ""
    if "#" in url:
        url, fragment = url.split("#", 1)
        fragment = "#" + fragment
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}livedist_visitor={quote(sign_visitor(visitor), safe='')}{fragment}"


# What a share link points at, as a message names it (the kinds themselves stay English in the API).
KIND_NAMES = {"live": gettext_lazy("live"), "replay": gettext_lazy("replay"), "clip": gettext_lazy("clip"),
              "product": gettext_lazy("product")}
PRODUCT_SLUG = re.compile(r"[-\w]+")  # Saleor's slugs (slugify, Unicode allowed)
UNSHAREABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def create_share_link(distributor: str, kind: str, target: str) -> ShareLink:
    """A distributor's link to a live, replay or clip that exists here, or to a product of the store."""
    if not Distributor.objects.filter(id=distributor).exists():
        raise ServiceError(None, "NOT_A_DISTRIBUTOR", _("only distributors can create share links; become one "
                                                        "first"))
    if DistributorBan.objects.filter(distributor=distributor).exists():
        raise ServiceError(None, "BANNED", _("this distributor account is banned; it cannot create share links"))
    try:
        token = make_share_token(distributor, kind, target)
    except LinkError as exc:
        raise ServiceError("kind" if kind not in TARGET_KINDS else "target", "INVALID", str(exc)) from None
    check_target(kind, target)
    return ShareLink.objects.create(token=token, distributor=distributor, kind=kind, target=target)


def check_target(kind: str, target: str) -> None:
    """ServiceError unless `target` names a `kind` that exists: lives, replays and clips in our own tables (the
    engine's, from events, or the ones staff run), products in the store's catalogue (target_exists)."""
    if len(target) > ID or target in (".", "..") or UNSHAREABLE.search(target) or target != target.strip():
        raise ServiceError("target", "INVALID", _("a share link's target is the id of what it points at (1 to "
                                                  "%(n)d printable characters)") % {"n": ID})
    if kind == "product" and not PRODUCT_SLUG.fullmatch(target):
        raise ServiceError("target", "INVALID", _("a product is named by its slug (letters, digits, '-' and '_'), "
                                                  "not %(target)r") % {"target": target})
    if not target_exists(kind, target):
        raise ServiceError("target", "NOT_FOUND", _("there is no %(kind)s %(target)r to share") % {
            "kind": KIND_NAMES.get(kind, kind), "target": target})


def target_exists(kind: str, target: str) -> bool:
    if kind == "live":
        return Live.objects.filter(id=target).exists() or LiveSession.objects.filter(id=target).exists()
    if kind == "replay":
        return Replay.objects.filter(id=target).exists() or LiveReplay.objects.filter(id=target).exists()
    if kind == "clip":  # the engine keeps clips with the replays, under clip_key
        return LiveClip.objects.filter(id=target).exists() or Replay.objects.filter(id=clip_key(target)).exists()
    port = store_catalogue()
    if port is not None:  # Saleor's products, in process or through its API (App mode)
        return port.product_exists(target)
    return True  # the sandbox has no catalogue: any well-formed slug is a product


def record_click(token: str, signed_visitor: str | None, viewer: str | None = None,
                 address: str = "unknown") -> ClickResult:
    """A click on a share link: verify the token, keep the click, bind per the rules, redirect.

    `viewer` is the signed-in customer's identity, if any; else the visitor cookie's id, else a new one.
    `address` is the client's (for the rate limits and the rules' daily guards, guards.py). Tampered, expired or
    unknown tokens raise LinkError, a click over a rate limit ClickRateLimited; both record nothing. A click
    over a daily guard still redirects, but binds nobody and counts for nobody."""
    share = read_share_token(token, max_age_days=get_setting("LINK_MAX_AGE_DAYS"))
    if not ShareLink.objects.filter(token=token).exists() or not Distributor.objects.filter(
            id=share.distributor).exists():
        raise LinkError("unknown", _("this share link is unknown: it was not created here, or it was removed"))
    if DistributorBan.objects.filter(distributor=share.distributor).exists():
        raise LinkError("withdrawn", _("this share link was withdrawn"))
    visitor = viewer
    if visitor is None and signed_visitor:
        try:
            visitor = read_visitor(signed_visitor)
        except LinkError:
            visitor = None  # a forged cookie is ignored: the click gets a fresh visitor id
    visitor = visitor or new_visitor_id()
    admission = admit_click(token, address, visitor, processing.rules_source().current().ruleset.guards, _now())
    if admission.refused_for is not None:
        raise ClickRateLimited(admission.refused_for)
    if admission.counted:
        with transaction.atomic():
            if admission.first_from_address:  # the public count: one per address and link a day
                ShareLink.objects.filter(token=token).update(clicks=F("clicks") + 1)
            processing.submit(_click_event(share, visitor))
            invite_coupons.note_arrival(visitor, share.distributor)
    return ClickResult(redirect_url=landing_url(token, share.kind, share.target, visitor), visitor=visitor)


def _click_event(share: ShareTarget, visitor: str) -> dict[str, Any]:
    return {
        "id": _event_id("click"), "type": "link.clicked", "at": _now().isoformat(),
        "distributor": share.distributor, "visitor": visitor, "target": {share.kind: share.target},
    }


def become_distributor(identity: str, consent: bool, live: str | None = None) -> Distributor:
    """One tap, no fee, no form beyond consent; the upline is whoever the customer is bound to, else (from a
    live room, when the rules' join.upline_fallback says host) the live's host."""
    if not consent:
        raise ServiceError("consent", "CONSENT_REQUIRED", _("agree to the distributor terms to become a "
                                                            "distributor"))
    if Distributor.objects.filter(id=identity).exists():
        raise ServiceError(None, "ALREADY_DISTRIBUTOR", _("you are already a distributor"))
    event = {"id": _event_id("join"), "type": "distributor.joined", "at": _now().isoformat(), "customer": identity,
             **({"live": live} if live else {})}
    with transaction.atomic():
        processing.submit(event, process=False)
    processing.process_pending()  # one tap means the answer now, not after a worker gets to it
    distributor = Distributor.objects.filter(id=identity).first()
    if distributor is None:
        raise ServiceError(None, "NOT_PROCESSED", _("your request is queued; try again in a moment"))
    return distributor


def bound_to(identity: str) -> str | None:
    binding = Binding.objects.filter(identity=identity).first()
    return binding.distributor if binding is not None else None


def ban_distributor(distributor: str, reason: str, banned_by: str = "") -> DistributorBan:
    """Stop a distributor: no new share links, clicks on their links refused, and (through a distributor.banned
    event the engine applies) nothing earned on orders paid while banned; their uplines keep their own shares.
    Commissions booked before the ban stay and settle as usual. The reason is kept for the record."""
    reason = reason.strip()
    if not Distributor.objects.filter(id=distributor).exists():
        raise ServiceError("distributor", "NOT_FOUND", _("there is no distributor %(id)s") % {"id": distributor})
    if not reason or len(reason) > 500:
        raise ServiceError("reason", "REQUIRED", _("say why the distributor is banned (1 to 500 characters)"))
    with transaction.atomic():
        ban, created = DistributorBan.objects.get_or_create(
            distributor=distributor, defaults={"reason": reason, "banned_by": banned_by, "banned_at": _now()})
        if created:  # the engine hears of it in the same transaction: both or neither
            processing.submit(_ban_event("distributor.banned", distributor, ban.banned_at, reason, banned_by))
    if not created:
        raise ServiceError("distributor", "ALREADY_BANNED", _("this distributor is banned already"))
    return ban


def unban_distributor(distributor: str, unbanned_by: str = "") -> Distributor:
    """Lift a ban: share links work again from now on (clicks refused meanwhile stay unrecorded), and orders paid
    from now on pay the distributor again (a distributor.unbanned event)."""
    with transaction.atomic():
        if not DistributorBan.objects.filter(distributor=distributor).delete()[0]:
            raise ServiceError("distributor", "NOT_BANNED", _("this distributor is not banned"))
        processing.submit(_ban_event("distributor.unbanned", distributor, _now(), "", unbanned_by))
    return Distributor.objects.get(id=distributor)


def _ban_event(etype: str, distributor: str, at: datetime, reason: str, by: str) -> dict[str, Any]:
    """A new id for every ban action, so a ban, its unban and a second ban are three events."""
    return {"id": _event_id("ban" if etype == "distributor.banned" else "unban"), "type": etype,
            "at": at.isoformat(), "distributor": distributor, **({"reason": reason} if reason else {}),
            **({"by": by} if by else {})}
