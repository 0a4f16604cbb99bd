"""The console in App mode: each Saleor instance's staff sign in with the Dashboard's token of THAT instance and
see that instance's data only.

Which instance a console request is for:

- a Dashboard token (posted to app/session or app/open/<kind>, or a Bearer header) names its Saleor in `iss`
  (its API URL). That claim is read unverified only to pick the tenant; the token is then verified against
  that tenant's own keys (its JWKS), issuer and app id, so a token signed by B's key naming A is refused;
- else the Dashboard's `saleorApiUrl` query parameter (it adds it to every app URL it opens) names one;
- else the session cookie's signed value does (console/tokens.start_session's scope: the tenant's schema).

The session cookie is read only for the tenant it was made for (read_session with the tenant's schema): a
cookie made for A on a request naming B is no session, and the request gets the sign-in page. Every console
page then runs inside the tenant's schema (tenants.in_tenant), so its reads, writes and the voucher port
(store_api: live coupons through that instance's API) are the tenant's.
"""
from __future__ import annotations

import logging
from typing import Any

import jwt
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from ..console import app as console_app
from ..console.app import AppHost
from ..console.tokens import NO_TOKEN, NOT_INSTALLED, Profile, Refused, session_scope, sign_in_response
from . import jwks, saleor_api, tenants
from .models import Tenant
from .signature import BadSignature
from .store_api import gid

logger = logging.getLogger(__name__)

USER = """query LivedistStaff($id: ID!) { user(id: $id) { email firstName lastName languageCode } }"""
PRODUCT = """query LivedistProduct($id: ID!) { product(id: $id) { slug } }"""
API_URL_PARAMETER = "saleorApiUrl"  # the Dashboard adds it (and `domain`) to the URLs of an app's frames


class HttpIssuer:
    """The TokenIssuer port for one tenant, over HTTP: its JWKS (cached, jwks.py) and its GraphQL API with the
    app's token. `iss`: the spelling of the tenant's API URL the token carries (it normalizes to the tenant's)."""

    def __init__(self, tenant: Tenant, iss: str | None = None) -> None:
        self.tenant = tenant
        self.iss = iss or tenant.api_url

    def issuer(self) -> str:
        return self.iss

    def app_id(self) -> str | None:
        return self.tenant.app_id or None

    def signing_key(self, kid: str | None) -> Any:
        if not kid:
            return None
        try:
            key = _key(jwks.keys_of(self.tenant.api_url), kid)
            if key is None:  # the instance rotated its key: its set fetched again, once (jwks.py)
                key = _key(jwks.keys_of(self.tenant.api_url, refresh=True), kid)
        except BadSignature as exc:
            logger.warning("livedist app: no keys of %s to check a sign-in: %s", self.tenant.api_url, exc)
            return None
        return key

    def profile(self, user_id: str) -> Profile | None:
        """The staff member's name and language as the instance's API gives them to the app, or None when it
        does not (an app without MANAGE_STAFF may not read staff accounts: the token's email names them)."""
        data = self._data(USER, {"id": user_id})
        user = data.get("user") if data else None
        if not isinstance(user, dict):
            return None
        name = " ".join(str(part) for part in (user.get("firstName"), user.get("lastName")) if part).strip()
        language = str(user.get("languageCode") or "").lower().replace("_", "-")
        return Profile(name=name or str(user.get("email") or ""), language=language)

    def product_slug(self, pk: str) -> str | None:
        if not pk.isdigit():
            return None
        data = self._data(PRODUCT, {"id": gid("Product", pk)})
        product = data.get("product") if data else None
        slug = product.get("slug") if isinstance(product, dict) else None
        return slug if isinstance(slug, str) and slug else None

    def _data(self, query: str, variables: dict[str, Any]) -> dict[str, Any] | None:
        try:
            document = saleor_api.graphql(self.tenant.api_url, tenants.token_of(self.tenant), query, variables)
        except saleor_api.SaleorUnreachable as exc:
            logger.warning("livedist app: %s did not answer the console: %s", self.tenant.api_url, exc)
            return None
        data = document.get("data")
        return data if isinstance(data, dict) and not document.get("errors") else None


def _key(document: dict[str, Any], kid: str) -> Any:
    for jwk in document.get("keys", []):
        if isinstance(jwk, dict) and jwk.get("kid") == kid and jwk.get("alg", "RS256") == "RS256":
            try:
                return jwt.PyJWK(jwk, algorithm="RS256").key
            except jwt.PyJWTError:
                return None
    return None


def host_for(tenant: Tenant, iss: str | None = None) -> AppHost:
    issuer = HttpIssuer(tenant, iss)
    return AppHost(issuer=issuer, is_app_token=lambda _token: False,  # App mode's app/register checks its own
                   product_slug=issuer.product_slug)


# ---------------------------------------------------------------------- which tenant a request is for


def _installed(api_url: str | None) -> Tenant | None:
    """The tenant of an API URL, if it installed the app and is still allowlisted."""
    try:
        normalized = tenants.normalize_api_url(api_url or "")
    except tenants.NotAnApiUrl:
        return None
    tenant = tenants.tenant_for(normalized)
    return tenant if tenant is not None and tenants.is_allowed(tenant.api_url) else None


def _token_issuer(token: str | None) -> str | None:
    """The `iss` a token claims, unverified (it only picks the tenant whose keys must then verify it)."""
    if not token:
        return None
    try:
        iss = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError:
        return None
    return iss if isinstance(iss, str) else None


def _bearer(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    return (header[7:].strip() or None) if header.startswith("Bearer ") else None


def tenant_of(request: HttpRequest, token: str | None = None) -> tuple[Tenant, str | None] | None:
    """(the tenant the request is for, the token's own spelling of its API URL), or None when it names none
    that installed the app. A token names the tenant first, then the Dashboard's saleorApiUrl, then the
    session cookie's signed scope."""
    token = token or _bearer(request)
    iss = _token_issuer(token)
    if token:  # a token names its tenant, whatever else the request says
        tenant = _installed(iss)
        return (tenant, iss) if tenant is not None else None
    named = request.GET.get(API_URL_PARAMETER)
    if named:
        tenant = _installed(named)
        return (tenant, None) if tenant is not None else None
    scope = session_scope(request)
    if not scope:
        return None
    tenant = Tenant.objects.filter(schema=scope).first()
    return (tenant, None) if tenant is not None and tenants.is_allowed(tenant.api_url) else None


def _no_tenant(token: str | None) -> Refused:
    """Why a request is for no tenant: no token (nor session) came, or its Saleor has not installed the app."""
    return Refused(NOT_INSTALLED if token else NO_TOKEN)


# ---------------------------------------------------------------------- the endpoints


@csrf_exempt
def session(request: HttpRequest) -> HttpResponse:
    """app/session: the Dashboard's token for the console's session cookie of the token's instance."""
    if request.method != "POST":
        return _error(_("Post the Dashboard's token here."), 405)
    token = request.POST.get("token")
    found = tenant_of(request, token)
    if found is None:
        return _error(_no_tenant(token).message, 401)
    tenant, iss = found
    with tenants.in_tenant(tenant):
        return console_app.session(request, host_for(tenant, iss), tenant.schema)


@csrf_exempt
def open_page(request: HttpRequest, kind: str) -> HttpResponse:
    """app/open/<kind>: an extension's entry point, for the instance its token (POST) or its Dashboard's
    saleorApiUrl or session (GET) names."""
    if kind not in console_app.OPENERS:
        return _error(_("No endpoint at app/%(path)s.") % {"path": f"open/{kind}"}, 404)
    token = request.POST.get("accessToken") if request.method == "POST" else None
    found = tenant_of(request, token)
    if found is None:
        if request.method == "POST":
            return _error(_no_tenant(token).message, 401)
        return sign_in_response(request, _no_tenant(request.GET.get(API_URL_PARAMETER)))
    tenant, iss = found
    with tenants.in_tenant(tenant):
        return console_app.open_page(request, kind, host_for(tenant, iss), tenant.schema)


@csrf_exempt  # the console's forms carry their own token (console/csrf.py)
def console(request: HttpRequest, subpath: str = "") -> HttpResponse:
    """console/<subpath>: the console's pages, in the schema of the instance the request is for."""
    found = tenant_of(request)
    if found is None:
        return sign_in_response(request, _no_tenant(_bearer(request) or request.GET.get(API_URL_PARAMETER)))
    tenant, iss = found
    with tenants.in_tenant(tenant):
        return console_app.console_page(request, subpath, host_for(tenant, iss), tenant.schema)


@csrf_exempt
def whoami(request: HttpRequest) -> HttpResponse:
    found = tenant_of(request)
    if found is None:
        return _error(_no_tenant(_bearer(request)).message, 401)
    tenant, iss = found
    with tenants.in_tenant(tenant):
        return console_app.whoami(request, host_for(tenant, iss), tenant.schema)


def _error(message: object, status: int) -> JsonResponse:
    return JsonResponse({"error": {"message": str(message)}}, status=status, json_dumps_params={"ensure_ascii": False})
