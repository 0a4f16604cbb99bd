"""Staff signed in to the console with the token Saleor's Dashboard gives the app's pages.

What the pages call: `staff_from_request(request, issuer) -> Staff | None`. It reads the console's own session
cookie, else an `Authorization: Bearer <token>` header, and returns the staff member, or None (the page then
answers 401, e.g. with `sign_in_response`). The Staff's permissions are the Saleor permissions the token
grants (the app's and the user's, intersected by Saleor); each page checks the one it needs (403 without it).

How the token arrives (Saleor 3.23's Dashboard): an APP_PAGE or POPUP extension is an iframe, to which the
Dashboard posts `{type: "handshake", payload: {token}}` (and `tokenRefresh` later) with postMessage; the
sign-in page's script posts that token to `app/session`, which verifies it and sets the session cookie. A
NEW_TAB or WIDGET extension with method POST submits a form with `accessToken` (see console/app.py).

A token is accepted only if it is signed with RS256 by one of the keys the issuer publishes (its JWKS),
names that issuer, has not expired, is of Saleor's third-party type and was issued for this app. The keys
come through the `TokenIssuer` port: in plugin mode from Saleor's JWT manager, in process
(saleor_livedist/saleor/app_tokens.py); in App mode from each instance's JWKS over HTTP
(saleor_livedist/app_server/console_host.py), the session then made for that instance only (its `scope`).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

import jwt
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from ..exceptions import LiveDistError
from ..i18n import DEFAULT_LANGUAGE, package_language, request_language
from ..identity import USER_PREFIX
from .access import Staff

ALGORITHM = "RS256"  # the only one: never HS256 (a public key is no secret) nor "none"
TOKEN_TYPE = "thirdparty"  # Saleor's tokens for apps and app extensions
TOKEN_OWNER = "saleor"
LEEWAY_SECONDS = 10  # clocks of the Dashboard's Saleor and ours may differ a little
CONSOLE_PERMISSION = "MANAGE_ORDERS"  # needed to open the console at all
SESSION_COOKIE = "livedist_console"
SESSION_SALT = "saleor_livedist.console.session"
SESSION_MAX_AGE = timedelta(minutes=30)  # the Dashboard's tokens live 5 minutes; a page stays open longer


@dataclass(frozen=True)
class Profile:
    """What the token does not say about a staff member: how to name them and the language they chose."""

    name: str
    language: str


class TokenIssuer(Protocol):
    """The Saleor that issues the Dashboard's tokens, as the verifier needs it."""

    def issuer(self) -> str:
        """The `iss` its tokens carry (its GraphQL API's URL)."""

    def app_id(self) -> str | None:
        """This app's id in that Saleor (the tokens' `app` claim), or None while it is not installed."""

    def signing_key(self, kid: str | None) -> Any:
        """The public key of its JWKS with that key id, or None."""

    def profile(self, user_id: str) -> Profile | None:
        """The staff member's name and language (user_id: Saleor's global id), or None if unknown."""


class Refused(LiveDistError, PermissionError):
    """A sign-in refused: 401 (no valid token) or 403 (a valid one without the permission)."""

    def __init__(self, message: Any, status: int = 401) -> None:
        super().__init__(str(message))
        self.message = message
        self.status = status


NO_TOKEN = _("Open the console from Saleor's Dashboard: no sign-in token came with this request.")
EXPIRED = _("Your sign-in token has expired: reload the page in Saleor's Dashboard.")
INVALID = _("The sign-in token is not valid (it is not signed by this Saleor).")
OTHER_ISSUER = _("The sign-in token was issued by another Saleor.")
OTHER_APP = _("The sign-in token was issued for another app.")
NOT_INSTALLED = _("The app is not installed in this Saleor (or it is deactivated).")
COOKIE_BLOCKED = _("Your browser keeps no cookie for the console inside the Dashboard: allow third-party "
                   "cookies for this site in the browser's settings, then reload the page.")
NO_PERMISSION = _("Your Saleor account lacks the permission to use the console (Manage orders).")


def verify_token(token: str, issuer: TokenIssuer, *, language: str = DEFAULT_LANGUAGE) -> Staff:
    """The staff member a Dashboard token stands for; raises Refused (401) for any token not to trust."""
    claims = _verified_claims(token, issuer)
    if claims.get("type") != TOKEN_TYPE or claims.get("owner") != TOKEN_OWNER:
        raise Refused(INVALID)
    app_id = issuer.app_id()
    if app_id is None:
        raise Refused(NOT_INSTALLED)
    if claims.get("app") != app_id:
        raise Refused(OTHER_APP)
    user_id, email = claims.get("user_id"), claims.get("email")
    pk = _user_pk(user_id)
    if pk is None or not isinstance(email, str):
        raise Refused(INVALID)
    permissions = claims.get("permissions")
    if not isinstance(permissions, list):
        raise Refused(INVALID)
    profile = issuer.profile(user_id) or Profile(name=email, language=language)
    return Staff(id=f"{USER_PREFIX}{pk}", email=email, name=profile.name or email,
                 language=package_language(profile.language) or package_language(language) or DEFAULT_LANGUAGE,
                 permissions=frozenset(p for p in permissions if isinstance(p, str)))


def _verified_claims(token: str, issuer: TokenIssuer) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Refused(INVALID) from None
    if header.get("alg") != ALGORITHM:
        raise Refused(INVALID)
    key = issuer.signing_key(header.get("kid"))
    if key is None:
        raise Refused(INVALID)
    try:
        return jwt.decode(token, key, algorithms=[ALGORITHM], issuer=issuer.issuer(), leeway=LEEWAY_SECONDS,
                          options={"require": ["exp", "iat", "iss"], "verify_aud": False})
    except jwt.ExpiredSignatureError:
        raise Refused(EXPIRED) from None
    except jwt.InvalidIssuerError:
        raise Refused(OTHER_ISSUER) from None
    except jwt.PyJWTError:
        raise Refused(INVALID) from None


def _user_pk(user_id: Any) -> str | None:
    """The pk inside Saleor's global id `User:<pk>` (base64), or None."""
    if not isinstance(user_id, str):
        return None
    try:
        kind, _, pk = base64.b64decode(user_id + "=" * (-len(user_id) % 4), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return pk if kind == "User" and pk else None


def require(staff: Staff, permission: str = CONSOLE_PERMISSION) -> Staff:
    if permission not in staff.permissions:
        raise Refused(NO_PERMISSION, status=403)
    return staff


def authenticate(request: HttpRequest, issuer: TokenIssuer, token: str | None = None) -> Staff:
    """The console's staff member from `token` (or the request's Bearer token), with the console permission;
    raises Refused (401 or 403) with a message for the person."""
    token = token or _bearer(request)
    if not token:
        raise Refused(NO_TOKEN)
    return require(verify_token(token, issuer, language=request_language(request)))


def staff_from_request(request: HttpRequest, issuer: TokenIssuer, scope: str = "") -> Staff | None:
    """The staff member of the console's session cookie (made for `scope`) or of the request's Bearer token,
    else None."""
    staff = read_session(request, scope)
    if staff is not None:
        return staff
    token = _bearer(request)
    if not token:
        return None
    try:
        staff = verify_token(token, issuer, language=request_language(request))
    except Refused:
        return None
    request.livedist_console_session = hashlib.sha256(token.encode()).hexdigest()[:24]  # type: ignore[attr-defined]
    return staff


def _bearer(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    return (header[7:].strip() or None) if header.startswith("Bearer ") else None


# ---------------------------------------------------------------------- the console's own session


def start_session(request: HttpRequest, response: HttpResponse, staff: Staff, console_path: str,
                  scope: str = "") -> None:
    """Keeps `staff` signed in to the pages under console_path for SESSION_MAX_AGE. Inside the Dashboard the
    console is a third-party iframe: its cookie must be SameSite=None, so Secure (browsers treat
    http://localhost as secure). scope: what the session is good for, inside its signed value ("" in plugin
    mode; App mode's tenant schema, so a session made for one Saleor instance is no session for another)."""
    value = signing.dumps({"id": staff.id, "email": staff.email, "name": staff.name, "language": staff.language,
                           "permissions": sorted(staff.permissions), "sid": secrets.token_urlsafe(12),
                           "scope": scope}, salt=SESSION_SALT, compress=True)
    cross_site = request.is_secure() or request.get_host().split(":")[0] in ("localhost", "127.0.0.1")
    response.set_cookie(SESSION_COOKIE, value, max_age=int(SESSION_MAX_AGE.total_seconds()), path=console_path,
                        httponly=True, secure=cross_site, samesite="None" if cross_site else "Lax")


def read_session(request: HttpRequest, scope: str = "") -> Staff | None:
    """The staff member of the console's session cookie if it was made for `scope`; records the session on the
    request (`livedist_console_session`, what the console's form tokens are tied to)."""
    data = _session_data(request)
    if data is None or data.get("scope", "") != scope:
        return None
    try:
        staff = Staff(id=data["id"], email=data["email"], name=data["name"], language=data["language"],
                      permissions=frozenset(data["permissions"]))
    except (KeyError, TypeError):
        return None
    request.livedist_console_session = data.get("sid", "")  # type: ignore[attr-defined]
    return staff


def session_scope(request: HttpRequest) -> str | None:
    """The scope the request's session cookie was made for (its signed value says it), or None without a valid
    one: App mode reads it to know which instance a request with only the cookie is for."""
    data = _session_data(request)
    scope = data.get("scope", "") if data is not None else None
    return scope if isinstance(scope, str) else None


def _session_data(request: HttpRequest) -> dict[str, Any] | None:
    value = request.COOKIES.get(SESSION_COOKIE)
    if not value:
        return None
    try:
        data = signing.loads(value, salt=SESSION_SALT, max_age=SESSION_MAX_AGE)
    except signing.BadSignature:
        return None
    return data if isinstance(data, dict) else None


def sign_in_response(request: HttpRequest, refused: Refused | None = None) -> HttpResponse:
    """401 (or 403): the page a request without a session gets. Inside the Dashboard its script takes the
    token the Dashboard posts to the frame, exchanges it at app/session for the session cookie and reloads."""
    from django.shortcuts import render

    prefix = plugin_prefix(request)
    status = refused.status if refused is not None else 401
    message = refused.message if refused is not None else NO_TOKEN
    context = {"message": message, "session_url_json": _script_string(prefix + "app/session"),
               "cookie_blocked_json": _script_string(str(COOKIE_BLOCKED))}
    return render(request, "saleor_livedist/app_sign_in.html", context, status=status)


def plugin_prefix(request: HttpRequest) -> str:
    """The plugin's base path: /plugins/global/saleor_livedist/ inside Saleor, / in the sandbox."""
    for marker in ("/app/", "/console/"):
        if marker in request.path:
            return request.path.split(marker, 1)[0] + "/"
    return "/"


def _script_string(text: str) -> str:
    """A JavaScript string literal that cannot close the <script> it is in."""
    return json.dumps(text).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
