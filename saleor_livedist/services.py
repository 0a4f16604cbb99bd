"""What the API and the endpoints do: create share links, record clicks, become a distributor in one tap.
Each either succeeds or raises ServiceError with a field and a stable code, and leaves nothing half-done."""
from __future__ import annotations

import uuid
from urllib.parse import quote
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from . import processing
from .conf import get_setting
from .links import (
    LinkError, ShareTarget, make_share_token, new_visitor_id, read_share_token, read_visitor, sign_visitor,
)
from .models import Binding, Distributor, ShareLink


class ServiceError(Exception):
    def __init__(self, field: str | None, code: str, message: str):
        self.field, self.code, self.message = field, code, message
        super().__init__(message)


@dataclass(frozen=True)
class ClickResult:
    redirect_url: str
    visitor: str  # the visitor id to keep in the cookie (signed by the caller)


def _event_id(kind: str) -> str:
    return f"{kind}:{uuid.uuid4().hex}"


def _now() -> datetime:
    return timezone.now()


def storefront_url(token: str, kind: str, target: str) -> str:
    """Where a click on the share link lands: the STOREFRONT_URL template filled in."""
    return str(get_setting("STOREFRONT_URL")).format(kind=kind, target=target, token=token)


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


def create_share_link(distributor: str, kind: str, target: str) -> ShareLink:
    if not Distributor.objects.filter(id=distributor).exists():
        raise ServiceError(None, "NOT_A_DISTRIBUTOR", "only distributors can create share links; become one first")
    try:
        token = make_share_token(distributor, kind, target)
    except LinkError as exc:
        raise ServiceError("kind" if "points at one of" in str(exc) else "target", "INVALID", str(exc)) from None
    return ShareLink.objects.create(token=token, distributor=distributor, kind=kind, target=target)


def record_click(token: str, signed_visitor: str | None, viewer: str | None = None) -> ClickResult:
    """A click on a share link: verify the token, keep the click, bind per the rules, redirect.

    `viewer` is the signed-in customer's identity, if any; else the visitor cookie's id, else a new one.
    Tampered, expired or unknown tokens raise LinkError and record nothing."""
    share = read_share_token(token, max_age_days=get_setting("LINK_MAX_AGE_DAYS"))
    if not ShareLink.objects.filter(token=token).exists() or not Distributor.objects.filter(
            id=share.distributor).exists():
        raise LinkError("unknown", "this share link is unknown: it was not created here, or it was removed")
    visitor = viewer
    if visitor is None and signed_visitor:
        try:
            visitor = read_visitor(signed_visitor)
        except LinkError:
            visitor = None  # a forged cookie is ignored: the click gets a fresh visitor id
    visitor = visitor or new_visitor_id()
    with transaction.atomic():
        ShareLink.objects.filter(token=token).update(clicks=F("clicks") + 1)
        processing.submit(_click_event(share, visitor))
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
        raise ServiceError("consent", "CONSENT_REQUIRED", "agree to the distributor terms to become a distributor")
    if Distributor.objects.filter(id=identity).exists():
        raise ServiceError(None, "ALREADY_DISTRIBUTOR", "you are already a distributor")
    event = {"id": _event_id("join"), "type": "distributor.joined", "at": _now().isoformat(), "customer": identity,
             **({"live": live} if live else {})}
    with transaction.atomic():
        processing.submit(event, process=False)
    processing.process_pending()  # one tap means the answer now, not after a worker gets to it
    distributor = Distributor.objects.filter(id=identity).first()
    if distributor is None:
        raise ServiceError(None, "NOT_PROCESSED", "your request is queued; try again in a moment")
    return distributor


def bound_to(identity: str) -> str | None:
    binding = Binding.objects.filter(identity=identity).first()
    return binding.distributor if binding is not None else None
