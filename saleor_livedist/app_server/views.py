"""App mode's endpoints: the manifest, the install token (tokenTargetUrl) and Saleor's webhook deliveries.

A delivery is trusted only when all of these hold, else it is refused (401/403) and nothing is recorded: it
names (Saleor-Api-Url) an instance that installed the app and is still allowlisted; its Saleor-Signature
signs exactly its body with a key of that instance's JWKS; its body says it was made for this app there
(`recipient`) and was issued within APP_REPLAY_WINDOW. A trusted delivery's events are kept in the tenant's inbox and handed to a worker after
commit: the request does no engine work and answers at once."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from ..conf import get_setting
from ..console.manifest import PERMISSIONS, build_manifest
from ..exceptions import EventError
from ..inbox.processing import submit
from . import jwks, saleor_api, tenants
from .payloads import PayloadError, events_of, read_body
from .signature import BadSignature
from .subscriptions import manifest_webhooks
from .tasks import hand_off

logger = logging.getLogger(__name__)

FUTURE_LEEWAY = timedelta(minutes=5)  # the instance's clock may be a little ahead of ours
WEBHOOKS_PATH = "app/webhooks"
# The plugin's, and gift cards: App mode issues rewards through Saleor's API (store_api.py), not its models.
APP_PERMISSIONS = [*PERMISSIONS, "MANAGE_GIFT_CARD"]


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_("Live + distribution runs here as a Saleor App: it receives this store's order and "
                          "customer events."), content_type="text/plain; charset=utf-8")


def manifest(request: HttpRequest) -> HttpResponse:
    """The manifest, its URLs under APP_PUBLIC_URL (behind a proxy the request's own URL may be an inner one)."""
    public = str(get_setting("APP_PUBLIC_URL") or "")
    base = (public.rstrip("/") + "/") if public else request.build_absolute_uri("/")
    document = build_manifest(base, webhooks=manifest_webhooks(base + WEBHOOKS_PATH), console=True,
                              permissions=APP_PERMISSIONS)
    return JsonResponse(document, json_dumps_params={"ensure_ascii": False})


@csrf_exempt
def register(request: HttpRequest) -> HttpResponse:
    """Saleor POSTs {"auth_token"} here at install, with its API's URL in Saleor-Api-Url. Kept only for an
    allowlisted instance, and only once that instance's API accepts the token as this app's."""
    if request.method != "POST":
        return _error(_("Saleor sends the app's token here with POST."), 405)
    try:
        api_url = tenants.normalize_api_url(request.headers.get("Saleor-Api-Url", ""))
    except tenants.NotAnApiUrl:
        return _error(_("The request does not say which Saleor it comes from (the Saleor-Api-Url header)."), 400)
    if not tenants.is_allowed(api_url):
        logger.warning("livedist app: install refused for %s (not in APP_ALLOWED_SALEORS)", api_url)
        return _error(_("This Saleor (%(url)s) may not install the app: its operator must add the URL to the "
                        "app's APP_ALLOWED_SALEORS setting.") % {"url": api_url}, 403)
    token = _auth_token(request.body)
    if token is None:
        return _error(_("The request carries no auth_token."), 400)
    try:
        app_id = saleor_api.app_id(api_url, token)
    except saleor_api.SaleorUnreachable as exc:
        logger.warning("livedist app: cannot check the install token with %s: %s", api_url, exc)
        return _error(_("The app could not reach this Saleor's API to check the token; try again."), 502)
    if app_id is None:
        return _error(_("This Saleor does not accept the token as an app's token."), 401)
    tenants.register(api_url, token, app_id)
    logger.info("livedist app: installed in %s", api_url)
    return JsonResponse({"success": True})


@csrf_exempt
def webhook(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _error(_("Saleor delivers its events here with POST."), 405)
    body = request.body
    try:
        api_url = tenants.normalize_api_url(request.headers.get("Saleor-Api-Url", ""))
    except tenants.NotAnApiUrl:
        api_url = ""
    tenant = tenants.tenant_for(api_url) if api_url else None
    if tenant is None or not tenants.is_allowed(tenant.api_url):  # taken off the allowlist since it installed
        return _error(_("The delivery comes from no Saleor that installed this app."), 403)
    signature = request.headers.get("Saleor-Signature")
    if not signature:
        return _error(_("The delivery is not signed."), 401)
    try:
        jwks.verify(tenant.api_url, body, signature)
    except BadSignature as exc:
        logger.warning("livedist app: refused a delivery for %s: %s", tenant.api_url, exc)
        return _error(_("The delivery's signature is not this Saleor's."), 401)
    try:
        payload = read_body(body)
    except PayloadError:
        return _error(_("The delivery's body is not what the app's subscription asks for."), 400)
    refused = _refusal(payload, tenant.app_id)
    if refused is not None:
        return refused
    with tenants.in_tenant(tenant):
        try:
            new = _keep(payload, tenant.schema)
        except (PayloadError, EventError) as exc:
            logger.warning("livedist app: a delivery for %s could not be read: %s", tenant.api_url, exc)
            return _error(_("The delivery's body is not what the app's subscription asks for."), 400)
    return JsonResponse({"success": True, "new_events": new})


def _keep(payload: dict[str, Any], schema: str) -> int:
    """The delivery's events in the tenant's inbox, all or none; a worker is told after commit."""
    with transaction.atomic():
        new = sum(submit(event, process=False) for event in events_of(payload))
        if new:
            transaction.on_commit(lambda: hand_off(schema))
    return new


def _refusal(payload: dict[str, Any], app_id: str) -> HttpResponse | None:
    recipient = payload.get("recipient")
    if not isinstance(recipient, dict) or recipient.get("id") != app_id:
        return _error(_("The delivery was made for another app."), 403)
    try:
        issued = datetime.fromisoformat(str(payload.get("issuedAt")))
    except ValueError:
        issued = None
    if issued is None or issued.tzinfo is None:
        return _error(_("The delivery does not say when it was issued."), 400)
    now = timezone.now()
    if issued < now - timedelta(seconds=get_setting("APP_REPLAY_WINDOW")) or issued > now + FUTURE_LEEWAY:
        logger.warning("livedist app: refused a delivery issued at %s (a replay)", issued.isoformat())
        return _error(_("The delivery was issued too long ago: it is refused as a replay."), 403)
    return None


def _auth_token(body: bytes) -> str | None:
    import json

    try:
        token = json.loads(body or b"{}").get("auth_token")
    except (ValueError, AttributeError):
        return None
    return token if isinstance(token, str) and token else None


def _error(message: object, status: int) -> JsonResponse:
    return JsonResponse({"error": {"message": str(message)}}, status=status, json_dumps_params={"ensure_ascii": False})
