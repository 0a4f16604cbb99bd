"""Signing a distributor in to the center: the customer's access token (Saleor's JWT inside Saleor, the sandbox's
token in the sandbox) is checked by the same authenticator as the GraphQL API, once, then a short signed session
cookie keeps them signed in. Form tokens (CSRF) are tied to that session."""
from __future__ import annotations

import copy
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core import signing
from django.http import HttpRequest, HttpResponse

from ..conf import get_setting
from ..graphql.view import Authenticator
from ..identity import of_user
from ..origins import posted_from_trusted_origin

SESSION_COOKIE = "livedist_center"
SESSION_SALT = "saleor_livedist.center.session"
SESSION_MAX_AGE = timedelta(hours=1)  # a storefront hands a fresh token whenever it opens the center again
CSRF_SALT = "saleor_livedist.center.csrf"
CSRF_FIELD = "csrf"
CSRF_MAX_AGE_SECONDS = int(SESSION_MAX_AGE.total_seconds())


@dataclass(frozen=True)
class Visitor:
    """Who the center is showing: the signed-in customer's identity and the session the forms are tied to."""

    identity: str
    session: str


def with_token(request: HttpRequest, token: str) -> HttpRequest:
    """The request as the API's authenticator reads it, with `token` as its Bearer token (and no other)."""
    shim = copy.copy(request)
    meta = {k: v for k, v in request.META.items() if k not in ("HTTP_AUTHORIZATION", "HTTP_AUTHORIZATION_BEARER")}
    meta["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    shim.META = meta
    shim.__dict__.pop("headers", None)  # HttpRequest.headers is cached from META
    return shim


def customer_of(request: HttpRequest, token: str, authenticate: Authenticator) -> str | None:
    """The identity of the active customer `token` stands for, else None (no token, a bad or expired one)."""
    token = token.strip()
    if not token or len(token) > 4096:
        return None
    try:
        user = authenticate(with_token(request, token))
    except Exception:  # an authenticator that cannot read the token refuses it; it never signs anybody in
        return None
    if user is None or not getattr(user, "is_active", False):
        return None
    return of_user(user)


def bearer(request: HttpRequest) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    return header[7:].strip() if header.startswith("Bearer ") else ""


def origin_trusted(request: HttpRequest) -> bool:
    """A sign-in POST from the center's own pages or a storefront in CENTER_FRAME_ANCESTORS (saleor_livedist.origins:
    another site posting its own token would sign a visitor in as someone else, whose withdrawal form they would
    then fill in)."""
    return posted_from_trusted_origin(request, also=get_setting("CENTER_FRAME_ANCESTORS"))


def start_session(request: HttpRequest, response: HttpResponse, identity: str, path: str) -> None:
    """The session cookie for the pages under `path`. Embedded in a storefront on another site, the center is a
    third-party frame: its cookie must be SameSite=None, so Secure (browsers treat http://localhost as secure)."""
    value = signing.dumps({"id": identity, "sid": secrets.token_urlsafe(12)}, salt=SESSION_SALT, compress=True)
    cross_site = request.is_secure() or request.get_host().split(":")[0] in ("localhost", "127.0.0.1")
    response.set_cookie(SESSION_COOKIE, value, max_age=int(SESSION_MAX_AGE.total_seconds()), path=path,
                        httponly=True, secure=cross_site, samesite="None" if cross_site else "Lax")


def end_session(response: HttpResponse, path: str) -> None:
    response.delete_cookie(SESSION_COOKIE, path=path)


def read_session(request: HttpRequest) -> Visitor | None:
    value = request.COOKIES.get(SESSION_COOKIE)
    if not value:
        return None
    try:
        data = signing.loads(value, salt=SESSION_SALT, max_age=SESSION_MAX_AGE)
        return Visitor(identity=str(data["id"]), session=str(data["sid"]))
    except (signing.BadSignature, KeyError, TypeError):
        return None


def visitor_of(request: HttpRequest, authenticate: Authenticator) -> Visitor | None:
    """The session cookie's customer, else the request's own Bearer token's (an app's web view may send one)."""
    visitor = read_session(request)
    if visitor is not None:
        return visitor
    token = bearer(request)
    identity = customer_of(request, token, authenticate) if token else None
    if identity is None:
        return None
    return Visitor(identity=identity, session=hashlib.sha256(token.encode()).hexdigest()[:24])


def csrf_token(visitor: Visitor) -> str:
    return signing.dumps([visitor.identity, visitor.session], salt=CSRF_SALT, compress=True)


def csrf_valid(request: HttpRequest, visitor: Visitor) -> bool:
    try:
        who, session = signing.loads(request.POST.get(CSRF_FIELD, ""), salt=CSRF_SALT, max_age=CSRF_MAX_AGE_SECONDS)
    except (signing.BadSignature, ValueError, TypeError):
        return False
    return hmac.compare_digest(str(who), visitor.identity) and hmac.compare_digest(str(session), visitor.session)


def user_active(identity: str) -> bool:
    """A session outlives its token: the account must still be active on every page."""
    from django.contrib.auth import get_user_model

    from ..identity import user_pk

    pk = user_pk(identity)
    return pk is not None and get_user_model().objects.filter(pk=pk, is_active=True).exists()
