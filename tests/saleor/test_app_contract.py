"""The console as a Saleor App, in a real Saleor: `livedist_install_app` installs it with Saleor's installer from
the manifest the plugin serves (Saleor fetches it and POSTs the App's token to app/register), Saleor's GraphQL
gives a staff member the extension's token (`appExtension.accessToken`, as the Dashboard gets it), and the
console signs that staff member in with it; a forged token, an expired one and a staff member without the
permission are refused.

Saleor's HTTP client reaches the plugin in process (a requests adapter that hands the request to Django's test
client): the test's transaction, where the plugin is active, is the one the endpoints see."""
from __future__ import annotations

import io
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

BASE = "/plugins/global/saleor_livedist/"
EXTENSIONS = """{ appExtensions(first: 20) { edges { node { id mountName targetName url accessToken
    app { id identifier } } } } }"""
APP_TOKEN = "query($id: ID!) { app(id: $id) { id accessToken } }"


def saleor_http_client() -> Any:
    """Stands in for Saleor's HTTPClient (requests_hardened.Manager): the same call, with a requests transport that
    serves https://example.com/... (Saleor's PUBLIC_URL in its test settings) with Django's test client, i.e.
    Saleor's URLs, middleware and the plugin's webhook. (requests is Saleor's dependency, imported here only.)"""
    import requests

    class InProcess(requests.adapters.BaseAdapter):
        def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
            parts = urlsplit(request.url)
            headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in request.headers.items()
                       if k.lower() not in ("content-type", "content-length", "host")}
            answer = Client().generic(request.method or "GET",
                                      parts.path + ("?" + parts.query if parts.query else ""),
                                      data=request.body or b"", content_type=request.headers.get("Content-Type", ""),
                                      secure=parts.scheme == "https", HTTP_HOST=parts.netloc, **headers)
            response = requests.Response()
            response.status_code = answer.status_code
            response.headers.update(dict(answer.items()))
            response._content = answer.content
            response.url, response.request, response.encoding = request.url, request, "utf-8"
            return response

        def close(self) -> None:
            pass

    class SaleorHTTP:
        def send_request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
            with requests.Session() as session:
                session.mount("https://example.com/", InProcess())
                kwargs.pop("stream", None)
                return session.request(method, url, **kwargs)

    return SaleorHTTP()


@pytest.fixture
def saleor_http(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from saleor.app import installation_utils

    settings.ALLOWED_HOSTS = ["example.com", "testserver"]
    monkeypatch.setattr(installation_utils, "HTTPClient", saleor_http_client())


@pytest.fixture
def installed(livedist: Any, saleor_http: None) -> Any:
    from saleor.app.models import App

    out = io.StringIO()
    call_command("livedist_install_app", stdout=out)
    assert "installed the app" in out.getvalue()
    return App.objects.get(identifier="saleor-livedist")


@pytest.fixture
def manager(staff_user: Any, permission_manage_orders: Any, permission_manage_products: Any) -> Any:
    """A staff member who may open the console (Manage orders) and products' figures."""
    staff_user.first_name, staff_user.last_name, staff_user.language_code = "Fang", "Wang", "zh-hans"
    staff_user.save()
    staff_user.user_permissions.add(permission_manage_orders, permission_manage_products)
    return staff_user


def extension_tokens(user: Any) -> dict[str, Any]:
    """mountName -> the extension as Saleor's GraphQL gives it to that staff member (what the Dashboard does)."""
    from saleor.graphql.tests.fixtures import ApiClient

    content = ApiClient(user=user).post_graphql(EXTENSIONS).json()
    assert "errors" not in content, content
    return {edge["node"]["mountName"]: edge["node"] for edge in content["data"]["appExtensions"]["edges"]}


def sign_in(token: str | None) -> Any:
    return Client().post(BASE + "app/session", {"token": token or ""}, secure=True, HTTP_HOST="example.com")


def test_the_install_command_installs_the_app_with_its_extensions_and_saleor_hands_over_the_token(
        installed: Any) -> None:
    from saleor.app.models import AppToken

    from saleor_livedist.models import AppRegistration

    assert installed.is_installed and installed.is_active
    assert installed.app_url == "https://example.com" + BASE + "console"
    assert sorted(f"{p.content_type.app_label}.{p.codename}" for p in installed.permissions.all()) == [
        "account.manage_users", "discount.manage_discounts", "order.manage_orders", "product.manage_products"]
    assert sorted((e.mount, e.target) for e in installed.extensions.all()) == [
        ("customer_details_more_actions", "popup"), ("navigation_orders", "app_page"),
        ("order_details_more_actions", "popup"), ("product_details_more_actions", "popup")]
    registration = AppRegistration.objects.get()
    assert registration.saleor_api_url == "https://example.com/graphql/"
    token = AppToken.objects.get(app=installed)
    assert registration.token.endswith(token.token_last_4)

    out = io.StringIO()
    call_command("livedist_install_app", stdout=out)  # again: nothing changes
    assert "installed already" in out.getvalue()
    assert installed.tokens.count() == 1 and AppRegistration.objects.count() == 1


def test_install_needs_the_plugin_active_and_says_so(settings: Any, db: None, saleor_http: None) -> None:
    with pytest.raises(CommandError, match="plugin is not active"):
        call_command("livedist_install_app")


def test_install_from_an_address_nothing_answers_says_what_to_check(livedist: Any, saleor_http: None) -> None:
    with pytest.raises(CommandError, match="could not fetch the manifest from http://127.0.0.1:19/"):
        call_command("livedist_install_app", "--manifest-url", "http://127.0.0.1:19/app/manifest")


def test_the_extensions_token_from_saleors_graphql_signs_the_staff_member_in_to_the_console(
        installed: Any, manager: Any) -> None:
    import graphene

    extensions = extension_tokens(manager)
    order_action = extensions["ORDER_DETAILS_MORE_ACTIONS"]
    assert order_action["targetName"] == "POPUP" and order_action["url"] == \
        "https://example.com" + BASE + "app/open/orders"
    response = sign_in(order_action["accessToken"])
    assert response.status_code == 200, response.content
    cookie = response.cookies["livedist_console"]
    assert cookie["path"] == BASE + "console/" and cookie["samesite"] == "None" and cookie["secure"]

    page = Client()
    page.cookies["livedist_console"] = cookie.value
    whoami = page.get(BASE + "console/whoami", secure=True, HTTP_HOST="example.com")
    assert whoami.status_code == 200, whoami.content
    # an extension's token grants the extension's permissions (of those the staff member has), not all of theirs
    assert whoami.json() == {"id": f"user:{manager.pk}", "email": manager.email, "name": "Fang Wang",
                             "language": "zh-hans", "permissions": ["MANAGE_ORDERS"]}
    # the same token as a Bearer header (a script, or a page reached without the cookie)
    bearer = Client().get(BASE + "console/whoami", secure=True, HTTP_HOST="example.com",
                          HTTP_AUTHORIZATION=f"Bearer {order_action['accessToken']}")
    assert bearer.status_code == 200 and bearer.json()["id"] == f"user:{manager.pk}"
    # the popup's entry point leads to the console's page for the Dashboard's order
    order_id = graphene.Node.to_global_id("Order", "0b7f9a52-5c1e-4d27-9d0a-3f1f4b8f7a10")
    opened = page.get(BASE + "app/open/orders", {"orderId": order_id}, secure=True, HTTP_HOST="example.com")
    assert opened.status_code == 302 and opened["Location"] == \
        BASE + "console/orders/0b7f9a52-5c1e-4d27-9d0a-3f1f4b8f7a10"


def test_the_consoles_pages_load_with_the_dashboards_token_and_without_it_take_the_handshake(
        installed: Any, manager: Any) -> None:
    import graphene
    from saleor.graphql.tests.fixtures import ApiClient

    content = ApiClient(user=manager).post_graphql(
        APP_TOKEN, {"id": graphene.Node.to_global_id("App", installed.pk)}).json()
    bare = Client().get(BASE + "console/", secure=True, HTTP_HOST="example.com")
    assert bare.status_code == 401 and b'"handshake"' in bare.content and b"app/session" in bare.content
    page = Client()
    page.cookies["livedist_console"] = sign_in(content["data"]["app"]["accessToken"]).cookies["livedist_console"].value
    home = page.get(BASE + "console/", secure=True, HTTP_HOST="example.com", follow=True)
    assert home.status_code == 200, home.content
    assert home.redirect_chain and home.redirect_chain[-1][0].startswith(BASE + "console/")
    assert "Fang Wang" in home.content.decode()


def test_the_app_pages_token_signs_in_too(installed: Any, manager: Any) -> None:
    """The navigation's APP_PAGE gets the App's token (`app.accessToken`), not an extension's."""
    import graphene
    from saleor.graphql.tests.fixtures import ApiClient

    content = ApiClient(user=manager).post_graphql(
        APP_TOKEN, {"id": graphene.Node.to_global_id("App", installed.pk)}).json()
    response = sign_in(content["data"]["app"]["accessToken"])
    assert response.status_code == 200, response.content
    page = Client()
    page.cookies["livedist_console"] = response.cookies["livedist_console"].value
    whoami = page.get(BASE + "console/whoami", secure=True, HTTP_HOST="example.com").json()
    assert whoami["permissions"] == ["MANAGE_ORDERS", "MANAGE_PRODUCTS"]  # the app's, of those the staff has


@pytest.mark.filterwarnings("ignore:The HMAC key")
def test_a_forged_token_is_refused(installed: Any, manager: Any, settings: Any) -> None:
    from saleor.core.jwt_manager import get_jwt_manager

    genuine = extension_tokens(manager)["ORDER_DETAILS_MORE_ACTIONS"]["accessToken"]
    claims = jwt.decode(genuine, options={"verify_signature": False})
    claims["permissions"] = claims["user_permissions"] = ["MANAGE_ORDERS", "MANAGE_STAFF"]
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, attacker, algorithm="RS256", headers={"kid": get_jwt_manager().get_key_id()})
    response = sign_in(forged)
    assert response.status_code == 401 and "not valid" in response.json()["error"]["message"]
    assert "livedist_console" not in response.cookies
    # and Saleor's own HS256 fallback (SECRET_KEY) is no way in: the console takes RS256 only
    hs256 = jwt.encode(claims, settings.SECRET_KEY, algorithm="HS256")
    assert sign_in(hs256).status_code == 401


def test_an_expired_token_is_refused(installed: Any, manager: Any, settings: Any) -> None:
    settings.JWT_TTL_APP_ACCESS = timedelta(seconds=-60)  # Saleor issues it already expired
    expired = extension_tokens(manager)["ORDER_DETAILS_MORE_ACTIONS"]["accessToken"]
    assert jwt.decode(expired, options={"verify_signature": False})["exp"] < time.time()
    response = sign_in(expired)
    assert response.status_code == 401 and "expired" in response.json()["error"]["message"]


def test_a_staff_member_without_the_permission_is_refused(
        installed: Any, staff_user: Any, permission_manage_products: Any) -> None:
    import graphene
    from saleor.graphql.tests.fixtures import ApiClient

    staff_user.user_permissions.add(permission_manage_products)
    # Saleor gives no token for an extension whose permission the staff member lacks ...
    assert extension_tokens(staff_user)["ORDER_DETAILS_MORE_ACTIONS"]["accessToken"] is None
    # ... and the app page's token grants only what the staff member has: the console answers 403
    content = ApiClient(user=staff_user).post_graphql(
        APP_TOKEN, {"id": graphene.Node.to_global_id("App", installed.pk)}).json()
    token = content["data"]["app"]["accessToken"]
    assert jwt.decode(token, options={"verify_signature": False})["permissions"] == ["MANAGE_PRODUCTS"]
    response = sign_in(token)
    assert response.status_code == 403 and "permission" in response.json()["error"]["message"]
    assert Client().get(BASE + "console/whoami", secure=True, HTTP_HOST="example.com",
                        HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 403


def test_a_token_for_the_app_after_it_is_deactivated_is_refused(installed: Any, manager: Any) -> None:
    token = extension_tokens(manager)["ORDER_DETAILS_MORE_ACTIONS"]["accessToken"]
    installed.is_active = False
    installed.save(update_fields=["is_active"])
    assert sign_in(token).status_code == 401

