"""Share links and visitor ids, signed with Django's signing (the SECRET_KEY): they cannot be forged or
altered. A share token names the distributor and the target; a visitor id is a random id we issued."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.utils.translation import gettext as _

from ..core.events import TARGET_KINDS
from ..exceptions import LiveDistError

SHARE_SALT = "saleor_livedist.share"
VISITOR_SALT = "saleor_livedist.visitor"
VISITOR_COOKIE = "livedist_vid"
DEFAULT_MAX_AGE_DAYS = 365


class LinkError(LiveDistError, ValueError):
    """A share token or visitor id is tampered with, expired or unknown. `code` is stable for APIs."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


@dataclass(frozen=True)
class ShareTarget:
    distributor: str
    kind: str  # live | replay | product | clip
    target: str

    def as_ref(self) -> dict[str, Any]:
        return {"distributor": self.distributor, "target": {self.kind: self.target}}


def make_share_token(distributor: str, kind: str, target: str) -> str:
    if kind not in TARGET_KINDS:
        raise LinkError("invalid", _("a share link points at one of %(kinds)s, not %(kind)r") % {
            "kinds": ", ".join(TARGET_KINDS), "kind": kind})
    if not target:
        raise LinkError("invalid", _("a share link needs the id of what it points at"))
    return signing.dumps({"d": distributor, "k": kind, "t": target, "n": secrets.token_hex(4)}, salt=SHARE_SALT,
                         compress=True)


def read_share_token(token: str, max_age_days: int = DEFAULT_MAX_AGE_DAYS) -> ShareTarget:
    try:
        data = signing.loads(token, salt=SHARE_SALT, max_age=max_age_days * 86400)
    except signing.SignatureExpired:
        raise LinkError("expired", _("this share link has expired (links are valid for %(n)d days)") % {
            "n": max_age_days}) from None
    except signing.BadSignature:
        raise LinkError("tampered", _("this share link is not one we issued, or it was altered")) from None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("d", "k", "t")):
        raise LinkError("tampered", _("this share link is not one we issued, or it was altered"))
    return ShareTarget(distributor=data["d"], kind=data["k"], target=data["t"])


def new_visitor_id() -> str:
    return f"visitor:{secrets.token_hex(12)}"


def sign_visitor(visitor: str) -> str:
    return signing.dumps(visitor, salt=VISITOR_SALT)


def read_visitor(signed: str) -> str:
    """The visitor id inside a signed value; LinkError if it was not signed by us."""
    try:
        value = signing.loads(signed, salt=VISITOR_SALT)
    except signing.BadSignature:
        raise LinkError("tampered", _("this visitor id is not one we issued")) from None
    if not isinstance(value, str) or not value.startswith("visitor:"):
        raise LinkError("tampered", _("this visitor id is not one we issued"))
    return value
