"""The console's sign-in with the Dashboard's token, on real PostgreSQL: tokens shaped like Saleor's, signed
with a test RSA key, through the app endpoints (app/session, console/whoami, app/open/..., app/register,
app/manifest): a valid token signs the staff member in; a forged, expired, foreign, `alg: none` or HS256 one,
or a staff member without the permission, is refused with the reason."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.http import HttpResponse
from django.test import RequestFactory

from saleor_livedist.console import tokens
from saleor_livedist.console.app import AppHost
from saleor_livedist.console.tokens import Profile, Refused, staff_from_request, verify_token
from saleor_livedist.models import AppRegistration
from saleor_livedist.web.endpoints import handle, sandbox_authenticate

pytestmark = pytest.mark.django_db

ISSUER = "https://shop.example.com/graphql/"
APP_ID = base64.b64encode(b"App:3").decode()
KID = "test-key"
BASE = "/plugins/global/saleor_livedist/"
SIGNING_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
APP_TOKEN = "app-token-saleor-sent-1234"


class InstanceStandIn:
    """The TokenIssuer port as a Saleor with one key (the test's), the app installed as App:3."""

    def issuer(self) -> str:
        return ISSUER

    def app_id(self) -> str | None:
        return APP_ID

    def signing_key(self, kid: str | None) -> Any:
        return SIGNING_KEY.public_key() if kid == KID else None

    def profile(self, user_id: str) -> Profile | None:
        return Profile(name="Wang Fang", language="zh-hans") if user_id == global_id("User", 7) else None


HOST = AppHost(issuer=InstanceStandIn(), is_app_token=lambda token: token == APP_TOKEN,
               product_slug=lambda pk: {"12": "tea-set"}.get(pk))


def global_id(kind: str, pk: Any) -> str:
    return base64.b64encode(f"{kind}:{pk}".encode()).decode()


def claims(**changes: Any) -> dict[str, Any]:
    """What Saleor 3.23 puts in an app extension's token (saleor/core/jwt.py)."""
    now = int(time.time())
    payload = {"iat": now, "owner": "saleor", "iss": ISSUER, "exp": now + 300, "token": "jwt-key", "email":
               "fang@example.com", "type": "thirdparty", "user_id": global_id("User", 7), "is_staff": True,
               "app": APP_ID, "permissions": ["MANAGE_ORDERS", "MANAGE_PRODUCTS"],
               "user_permissions": ["MANAGE_ORDERS", "MANAGE_PRODUCTS", "MANAGE_STAFF"],
               "app_extension": global_id("AppExtension", 1)}
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not None}


def token(key: Any = SIGNING_KEY, kid: str = KID, **changes: Any) -> str:
    return jwt.encode(claims(**changes), key, algorithm="RS256", headers={"kid": kid})


def unsigned(header: dict[str, Any], payload: dict[str, Any], secret: bytes | None = None) -> str:
    """A token built by hand (PyJWT refuses to make these): `alg: none`, or HS256 with any secret."""
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    signing_input = f"{part(header)}.{part(payload)}"
    signature = b"" if secret is None else hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


def call(method: str, path: str, host: AppHost | None = HOST, **kwargs: Any) -> HttpResponse:
    request = getattr(RequestFactory(), method)(BASE + path, **kwargs)
    return handle(request, path, sandbox_authenticate, app=host)


def sign_in(value: str, **kwargs: Any) -> HttpResponse:
    return call("post", "app/session", data={"token": value}, secure=True, **kwargs)


def message(response: HttpResponse) -> str:
    return json.loads(response.content)["error"]["message"]


def whoami(cookie: str) -> HttpResponse:
    factory = RequestFactory()
    factory.cookies[tokens.SESSION_COOKIE] = cookie
    return handle(factory.get(BASE + "console/whoami", secure=True), "console/whoami", sandbox_authenticate, app=HOST)


def test_a_valid_token_signs_the_staff_member_in_with_a_session_for_the_console_pages() -> None:
    response = sign_in(token())
    assert response.status_code == 200, response.content
    cookie = response.cookies[tokens.SESSION_COOKIE]
    assert cookie["path"] == BASE + "console/"
    assert cookie["samesite"] == "None" and cookie["secure"] and cookie["httponly"]
    me = whoami(cookie.value)
    assert me.status_code == 200, me.content
    assert json.loads(me.content) == {"id": "user:7", "email": "fang@example.com", "name": "Wang Fang",
                                      "language": "zh-hans", "permissions": ["MANAGE_ORDERS", "MANAGE_PRODUCTS"]}


def test_a_sign_in_posted_from_another_site_is_refused_and_sets_no_cookie() -> None:
    refused = sign_in(token(), HTTP_ORIGIN="https://evil.example")  # login CSRF: its own token, staff's browser
    assert refused.status_code == 403 and tokens.SESSION_COOKIE not in refused.cookies
    assert message(refused) == "Only the console's own page can sign in here."
    assert sign_in(token(), HTTP_ORIGIN="https://testserver").status_code == 200  # the console's own page


def test_the_permissions_are_the_ones_the_token_grants_not_the_users_own() -> None:
    staff = verify_token(token(), InstanceStandIn())
    assert staff.permissions == frozenset({"MANAGE_ORDERS", "MANAGE_PRODUCTS"})  # not MANAGE_STAFF


@pytest.mark.parametrize("bad, reason", [
    (lambda: token(key=OTHER_KEY), tokens.INVALID),  # forged: signed by another key under the same kid
    (lambda: token(kid="unknown"), tokens.INVALID),
    (lambda: token()[:-6] + "AAAAAA", tokens.INVALID),  # signature tampered with
    (lambda: token(exp=int(time.time()) - 60), tokens.EXPIRED),
    (lambda: token(exp=None), tokens.INVALID),  # a token that never expires is not one Saleor gives apps
    (lambda: token(iss="https://other.example.com/graphql/"), tokens.OTHER_ISSUER),
    (lambda: token(app=global_id("App", 99)), tokens.OTHER_APP),  # another app's extension token
    (lambda: token(type="access"), tokens.INVALID),  # the staff member's own session token
    (lambda: token(user_id="not-a-global-id"), tokens.INVALID),
    (lambda: unsigned({"alg": "none", "typ": "JWT"}, claims()), tokens.INVALID),
    (lambda: unsigned({"alg": "HS256", "typ": "JWT", "kid": KID}, claims(), SIGNING_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)), tokens.INVALID),
    (lambda: "not.a.token", tokens.INVALID),
], ids=["forged", "unknown-kid", "tampered", "expired", "no-exp", "other-issuer", "other-app", "access-type",
        "bad-user-id", "alg-none", "hs256-public-key", "garbage"])
def test_a_token_not_to_trust_is_refused_with_401_and_the_reason(bad: Any, reason: Any) -> None:
    response = sign_in(bad())
    assert response.status_code == 401
    assert message(response) == str(reason)
    assert tokens.SESSION_COOKIE not in response.cookies


def test_a_staff_member_without_the_permission_is_refused_with_403() -> None:
    response = sign_in(token(permissions=["MANAGE_PRODUCTS"]))
    assert response.status_code == 403
    assert message(response) == str(tokens.NO_PERMISSION)
    assert tokens.SESSION_COOKIE not in response.cookies


def test_no_token_and_a_tampered_session_are_401() -> None:
    assert sign_in("").status_code == 401
    good = sign_in(token()).cookies[tokens.SESSION_COOKIE].value
    assert whoami(good[:-3] + "xyz").status_code == 401
    assert whoami("").status_code == 401


def test_bearer_tokens_go_through_the_same_checks() -> None:
    factory = RequestFactory()
    good = factory.get(BASE + "console/", HTTP_AUTHORIZATION=f"Bearer {token()}")
    assert staff_from_request(good, InstanceStandIn()).id == "user:7"  # type: ignore[union-attr]
    for bad in (token(key=OTHER_KEY), token(exp=int(time.time()) - 60), unsigned({"alg": "none"}, claims())):
        assert staff_from_request(factory.get(BASE + "console/", HTTP_AUTHORIZATION=f"Bearer {bad}"),
                                  InstanceStandIn()) is None
    assert staff_from_request(factory.get(BASE + "console/"), InstanceStandIn()) is None
    with pytest.raises(Refused) as refused:
        verify_token(token(key=OTHER_KEY), InstanceStandIn())
    assert refused.value.status == 401


def test_the_language_comes_from_saleor_else_from_the_browser() -> None:
    unknown = token(user_id=global_id("User", 8), email="li@example.com")
    request = RequestFactory().get(BASE + "console/", HTTP_AUTHORIZATION=f"Bearer {unknown}",
                                   HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    staff = staff_from_request(request, InstanceStandIn())
    assert staff is not None and (staff.name, staff.language) == ("li@example.com", "zh-hans")
    assert verify_token(token(user_id=global_id("User", 8)), InstanceStandIn()).language == "en"


def test_the_extensions_entry_points_lead_to_the_console_page_of_the_dashboards_object() -> None:
    order = global_id("Order", "0b7f9a52-5c1e-4d27-9d0a-3f1f4b8f7a10")
    response = call("get", "app/open/orders", data={"orderId": order, "theme": "light"})
    assert response.status_code == 302
    assert response["Location"] == BASE + "console/orders/0b7f9a52-5c1e-4d27-9d0a-3f1f4b8f7a10?theme=light"
    assert call("get", "app/open/customers", data={"customerId": global_id("User", 7)})["Location"] == \
        BASE + "console/customers/user:7"
    assert call("get", "app/open/products", data={"productId": global_id("Product", 12)})["Location"] == \
        BASE + "console/products/tea-set"
    assert call("get", "app/open/products", data={"productId": global_id("Product", 13)}).status_code == 400
    assert call("get", "app/open/orders", data={"orderId": global_id("User", 7)}).status_code == 400


def test_a_new_tab_post_with_the_token_starts_the_session_and_a_forged_one_does_not() -> None:
    order = global_id("Order", "0b7f9a52-5c1e-4d27-9d0a-3f1f4b8f7a10")
    response = call("post", "app/open/orders", data={"orderId": order, "accessToken": token(), "appId": APP_ID},
                    secure=True)
    assert response.status_code == 303
    assert response["Location"] == BASE + "console/orders/0b7f9a52-5c1e-4d27-9d0a-3f1f4b8f7a10"
    assert whoami(response.cookies[tokens.SESSION_COOKIE].value).status_code == 200
    forged = call("post", "app/open/orders", data={"orderId": order, "accessToken": token(key=OTHER_KEY)})
    assert forged.status_code == 401 and tokens.SESSION_COOKIE not in forged.cookies


def test_register_keeps_only_the_token_saleor_issued_to_the_app() -> None:
    headers = {"HTTP_SALEOR_API_URL": ISSUER}
    refused = call("post", "app/register", data={"auth_token": "someone-elses"}, content_type="application/json",
                   **headers)
    assert refused.status_code == 401 and not AppRegistration.objects.exists()
    for _ in range(2):  # Saleor may install the app again: one row per Saleor
        ok = call("post", "app/register", data={"auth_token": APP_TOKEN}, content_type="application/json", **headers)
        assert ok.status_code == 200 and json.loads(ok.content) == {"success": True}
    assert list(AppRegistration.objects.values_list("saleor_api_url", "token")) == [(ISSUER, APP_TOKEN)]
    assert call("get", "app/register").status_code == 405


def test_the_manifest_mounts_the_console_in_the_dashboard(settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["shop.example.com"]
    response = call("get", "app/manifest", secure=True, HTTP_HOST="shop.example.com")
    assert response.status_code == 200
    manifest = json.loads(response.content)
    base = "https://shop.example.com" + BASE
    assert (manifest["id"], manifest["appUrl"], manifest["tokenTargetUrl"]) == \
        ("saleor-livedist", base + "console", base + "app/register")
    assert manifest["permissions"] == ["MANAGE_ORDERS", "MANAGE_USERS", "MANAGE_PRODUCTS", "MANAGE_DISCOUNTS"]
    mounts = {e["mount"]: (e["target"], e["url"]) for e in manifest["extensions"]}
    assert mounts == {"NAVIGATION_ORDERS": ("APP_PAGE", "/"),
                      "ORDER_DETAILS_MORE_ACTIONS": ("POPUP", base + "app/open/orders"),
                      "CUSTOMER_DETAILS_MORE_ACTIONS": ("POPUP", base + "app/open/customers"),
                      "PRODUCT_DETAILS_MORE_ACTIONS": ("POPUP", base + "app/open/products")}
    assert all(set(e["permissions"]) <= set(manifest["permissions"]) for e in manifest["extensions"])


def test_the_sandbox_serves_no_app_endpoints() -> None:
    assert call("get", "app/manifest", host=None).status_code == 404
    assert call("get", "console/whoami", host=None).status_code == 404


def test_the_sign_in_page_takes_the_dashboards_handshake_to_app_session() -> None:
    request = RequestFactory().get(BASE + "console/orders/x")
    response = tokens.sign_in_response(request)
    assert response.status_code == 401
    page = response.content.decode()
    assert '"/plugins/global/saleor_livedist/app/session"' in page and '"handshake"' in page
    refused = tokens.sign_in_response(request, Refused(tokens.NO_PERMISSION, status=403))
    assert refused.status_code == 403 and str(tokens.NO_PERMISSION)[:30] in refused.content.decode()


def test_refusals_speak_the_requests_language() -> None:
    response = sign_in(token(exp=int(time.time()) - 60), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert response.status_code == 401
    assert message(response) == "登录令牌已过期：请在 Saleor 的 Dashboard 中重新加载页面。"
    assert message(sign_in(token(permissions=[]), HTTP_ACCEPT_LANGUAGE="en")) == str(tokens.NO_PERMISSION)
