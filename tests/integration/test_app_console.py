"""The console in App mode, on real PostgreSQL with real HTTP: two Saleor instances stand in
(tests/app_saleor.py: their JWKS and GraphQL API over HTTP on 127.0.0.1, the Dashboard's tokens signed with each
one's key). A staff member of A signs in with A's token and sees A's data, never B's; a session made for A is no
session for B; a token signed by B's key naming A, or one without MANAGE_ORDERS, is refused."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from django.test import Client

from saleor_livedist.app_server import console_host, jwks, tenants
from saleor_livedist.app_server.models import Tenant
from saleor_livedist.console import tokens
from saleor_livedist.db.schemas import use_schema
from saleor_livedist.models import Distributor
from tests.app_saleor import Pair, SigningKey, gid, two_instances

pytestmark = pytest.mark.django_db
JOINED = datetime(2026, 12, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def saleors(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Pair]:
    with two_instances((31, 32), django_db_blocker) as pair:
        yield pair


@pytest.fixture
def app_mode(settings: Any, saleors: Pair) -> Iterator[Pair]:
    """The app's URLs, both instances installed, each with one distributor of its own in its schema."""
    settings.ROOT_URLCONF = "saleor_livedist.app_server.urls"
    settings.LIVEDIST = {**settings.LIVEDIST, "APP_ALLOWED_SALEORS": [s.api_url for s in saleors]}
    jwks.forget()
    for saleor, distributor in zip(saleors, ("user:1001", "user:2002")):
        Tenant.objects.create(api_url=saleor.api_url, schema=tenants.schema_for(saleor.api_url),
                              sealed_token=tenants.seal_token(saleor.token), app_id=saleor.app_id)
        with use_schema(tenants.schema_for(saleor.api_url)):
            Distributor.objects.create(id=distributor, joined_at=JOINED, rank="member", ranks=[[JOINED.isoformat(),
                                                                                                 "member"]])
        saleor.users = {gid("User", 7): {"email": "staff@example.com", "firstName": "Wang", "lastName": "Fang",
                                         "languageCode": "EN"}}
    yield saleors
    jwks.forget()


def secure_client() -> Client:
    return Client()


def sign_in(client: Client, token: str) -> Any:
    return client.post("/app/session", data={"token": token}, secure=True)


def test_the_manifest_has_the_plugins_extensions_under_the_apps_url(client: Client, app_mode: Any) -> None:
    manifest = client.get("/app/manifest").json()
    assert manifest["appUrl"] == "http://testserver/console"
    assert {e["identifier"]: e["url"] for e in manifest["extensions"]} == {
        "livedist-console": "/", "livedist-order": "http://testserver/app/open/orders",
        "livedist-customer": "http://testserver/app/open/customers",
        "livedist-product": "http://testserver/app/open/products"}


def test_a_staff_member_of_a_sees_as_console_and_not_bs(app_mode: Pair) -> None:
    a, b = app_mode
    client = secure_client()
    signed_in = sign_in(client, a.dashboard_token())
    assert signed_in.status_code == 200, signed_in.content
    assert signed_in.json() == {"staff": {"id": "user:7", "name": "Wang Fang"}}
    assert signed_in.cookies[tokens.SESSION_COOKIE]["path"] == "/console/"
    page = client.get("/console/distributors/", secure=True)
    assert page.status_code == 200, page.content
    assert "user:1001" in page.content.decode() and "user:2002" not in page.content.decode()
    me = client.get("/console/whoami", secure=True).json()
    assert (me["id"], me["name"], me["permissions"]) == ("user:7", "Wang Fang", ["MANAGE_ORDERS"])
    # B's staff, on its own, sees B's
    other = secure_client()
    assert sign_in(other, b.dashboard_token()).status_code == 200
    page_b = other.get("/console/distributors/", secure=True).content.decode()
    assert "user:2002" in page_b and "user:1001" not in page_b


def test_as_session_is_no_session_for_b(app_mode: Pair) -> None:
    a, b = app_mode
    client = secure_client()
    assert sign_in(client, a.dashboard_token()).status_code == 200
    refused = client.get("/console/distributors/", {"saleorApiUrl": b.api_url}, secure=True)  # B's Dashboard
    assert refused.status_code == 401 and "user:2002" not in refused.content.decode()
    assert b"app/session" in refused.content  # the sign-in page: B's token is asked for
    # a Bearer token names its own instance, whatever the cookie says; B's token is checked against B
    bearer = client.get("/console/distributors/", secure=True,
                        HTTP_AUTHORIZATION=f"Bearer {b.dashboard_token()}").content.decode()
    assert "user:2002" in bearer and "user:1001" not in bearer
    # A's Dashboard naming A keeps the session
    assert client.get("/console/distributors/", {"saleorApiUrl": a.api_url}, secure=True).status_code == 200
    # whoami for B with A's cookie: no session there
    assert client.get("/console/whoami", {"saleorApiUrl": b.api_url}, secure=True).status_code == 401


def test_a_tampered_session_is_refused(app_mode: Pair) -> None:
    a, _b = app_mode
    client = secure_client()
    value = sign_in(client, a.dashboard_token()).cookies[tokens.SESSION_COOKIE].value
    client.cookies[tokens.SESSION_COOKIE] = value[:-3] + "xyz"
    assert client.get("/console/distributors/", secure=True).status_code == 401


def test_a_token_signed_by_bs_key_naming_a_is_refused(app_mode: Pair) -> None:
    a, b = app_mode
    forged = a.dashboard_token(key=b.key)  # A's iss and app, B's key (B's key id too)
    assert sign_in(secure_client(), forged).status_code == 401
    also = a.dashboard_token(key=b.key, app=b.app_id)
    assert sign_in(secure_client(), also).status_code == 401
    stranger = SigningKey()
    assert sign_in(secure_client(), a.dashboard_token(key=stranger)).status_code == 401
    page = secure_client().get("/console/distributors/", secure=True, HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert page.status_code == 401 and "user:1001" not in page.content.decode()


def test_a_token_for_another_app_or_an_uninstalled_saleor_is_refused(app_mode: Pair,
                                                                    settings: Any) -> None:
    a, b = app_mode
    response = sign_in(secure_client(), a.dashboard_token(app=b.app_id))
    assert response.status_code == 401 and response.json()["error"]["message"] == str(tokens.OTHER_APP)
    unknown = sign_in(secure_client(), a.dashboard_token(iss="http://127.0.0.1:1/graphql/"))
    assert unknown.status_code == 401 and unknown.json()["error"]["message"] == str(tokens.NOT_INSTALLED)
    client = secure_client()
    assert sign_in(client, a.dashboard_token()).status_code == 200
    settings.LIVEDIST = {**settings.LIVEDIST, "APP_ALLOWED_SALEORS": [b.api_url]}  # A taken off the allowlist
    assert client.get("/console/distributors/", secure=True).status_code == 401
    assert sign_in(secure_client(), a.dashboard_token()).status_code == 401


def test_the_token_spells_the_instances_url_its_own_way(app_mode: Pair) -> None:
    a, _b = app_mode
    spelled = a.api_url.replace("http://127.0.0.1", "HTTP://127.0.0.1").rstrip("/")
    assert sign_in(secure_client(), a.dashboard_token(iss=spelled)).status_code == 200


def test_without_manage_orders_403_and_without_a_token_the_sign_in_page(app_mode: Pair
                                                                         ) -> None:
    a, _b = app_mode
    client = secure_client()
    refused = sign_in(client, a.dashboard_token(permissions=("MANAGE_PRODUCTS",)))
    assert refused.status_code == 403 and tokens.SESSION_COOKIE not in refused.cookies
    assert refused.json()["error"]["message"] == str(tokens.NO_PERMISSION)
    page = client.get("/console/distributors/", secure=True,
                      HTTP_AUTHORIZATION=f"Bearer {a.dashboard_token(permissions=('MANAGE_PRODUCTS',))}")
    assert page.status_code == 403
    signed_out = secure_client().get("/console/distributors/", secure=True)
    assert signed_out.status_code == 401 and b"app/session" in signed_out.content
    assert "user:1001" not in signed_out.content.decode()
    assert secure_client().get("/console", secure=True).status_code == 401
    assert sign_in(secure_client(), "").status_code == 401
    assert secure_client().get("/console/whoami", secure=True).status_code == 401


def test_the_extensions_entry_points_in_app_mode(app_mode: Pair) -> None:
    a, b = app_mode
    a.products = {gid("Product", 12): "tea-set"}
    client = secure_client()
    opened = client.post("/app/open/products", {"productId": gid("Product", 12),
                                                "accessToken": a.dashboard_token()}, secure=True)
    assert opened.status_code == 303 and opened["Location"] == "/console/products/tea-set"
    assert tokens.SESSION_COOKIE in opened.cookies
    popup = client.get("/app/open/orders", {"orderId": gid("Order", "0b7f9a52-5c1e-4d27-9d0a-3f1f4b8f7a10"),
                                            "saleorApiUrl": a.api_url}, secure=True)
    assert popup.status_code == 302
    assert popup["Location"].startswith("/console/orders/0b7f9a52-5c1e-4d27-9d0a-3f1f4b8f7a10?saleorApiUrl=")
    # B's product ids are looked up in B: A's slug is not B's
    assert client.get("/app/open/products", {"productId": gid("Product", 12), "saleorApiUrl": b.api_url},
                      secure=True).status_code == 400
    assert secure_client().get("/app/open/products", {"productId": gid("Product", 12)},
                               secure=True).status_code == 401


def test_the_issuer_reads_the_instances_keys_and_profiles(app_mode: Pair) -> None:
    a, _b = app_mode
    tenant = tenants.tenant_for(a.api_url)
    assert tenant is not None
    issuer = console_host.HttpIssuer(tenant)
    assert issuer.profile(gid("User", 7)) == tokens.Profile(name="Wang Fang", language="en")
    assert issuer.profile(gid("User", 8)) is None  # the app may not read that account: the email names them
    a.jwks_fetches = 0
    assert issuer.signing_key(a.key.kid) is not None
    kept = a.key, a.published
    try:
        rotated = a.rotate()
        assert issuer.signing_key(rotated.kid) is not None  # the instance rotated its key: fetched again, once
        assert issuer.signing_key("unknown") is None and issuer.signing_key("made-up") is None
        assert a.jwks_fetches == 2  # made-up key ids do not fetch the set again within REFETCH_INTERVAL
    finally:
        a.key, a.published = kept


def test_a_session_is_good_for_its_scope_only_and_plugin_mode_keeps_its_own() -> None:
    from django.http import HttpResponse
    from django.test import RequestFactory

    from saleor_livedist.console.access import Staff

    staff = Staff(id="user:7", email="staff@example.com", name="Wang Fang", language="en",
                  permissions=frozenset({"MANAGE_ORDERS"}))
    cookies = {}
    for scope in ("", "livedist_a"):
        response = HttpResponse()
        tokens.start_session(RequestFactory().get("/console/"), response, staff, "/console/", scope)
        cookies[scope] = response.cookies[tokens.SESSION_COOKIE].value

    def read(scope_of_cookie: str, scope: str) -> Any:
        factory = RequestFactory()
        factory.cookies[tokens.SESSION_COOKIE] = cookies[scope_of_cookie]
        request = factory.get("/console/")
        return tokens.session_scope(request), tokens.read_session(request, scope)

    assert read("", "") == ("", staff)  # plugin mode, as before
    assert read("livedist_a", "livedist_a") == ("livedist_a", staff)
    assert read("livedist_a", "")[1] is None and read("", "livedist_a")[1] is None
    assert read("livedist_a", "livedist_b")[1] is None


def test_a_console_form_writes_in_its_instances_schema_only(app_mode: Pair) -> None:
    import re

    from saleor_livedist.models import DistributorBan

    a, b = app_mode
    client = secure_client()
    assert sign_in(client, a.dashboard_token(permissions=("MANAGE_ORDERS", "MANAGE_USERS"))).status_code == 200
    html = client.get("/console/distributors/", secure=True).content.decode()
    form_token = re.search(r'name="csrf" value="([^"]+)"', html)
    assert form_token is not None, html
    banned = client.post("/console/distributors/ban", {"distributor": "user:1001", "reason": "fake orders",
                                                      "csrf": form_token.group(1)}, secure=True)
    assert banned.status_code == 200, banned.content
    # B's distributor is not A's: A's console cannot reach it
    other = client.post("/console/distributors/ban", {"distributor": "user:2002", "reason": "x",
                                                     "csrf": form_token.group(1)}, secure=True)
    assert other.status_code == 400 and "there is no distributor user:2002" in other.content.decode()
    with use_schema(tenants.schema_for(a.api_url)):
        assert list(DistributorBan.objects.values_list("distributor", "banned_by")) == [("user:1001", "user:7")]
    with use_schema(tenants.schema_for(b.api_url)):
        assert not DistributorBan.objects.exists()
    assert not DistributorBan.objects.exists()  # nor in the public schema


def test_a_live_coupon_made_in_the_console_is_a_voucher_of_its_instance(
        app_mode: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    from saleor_livedist.app_server.store_api import GraphQLVouchers
    from saleor_livedist.live_room import coupons
    from saleor_livedist.models import LiveCoupon, LiveSession

    monkeypatch.setattr(coupons, "_store_vouchers", GraphQLVouchers)  # what App mode's ready() installs
    a, b = app_mode
    for saleor in (a, b):
        saleor.channels, saleor.mutations = {"default-channel": "CNY"}, []
    with use_schema(tenants.schema_for(a.api_url)):
        LiveSession.objects.create(id="night", title="Night market", channel="default-channel",
                                   scheduled_start=datetime(2027, 1, 1, tzinfo=timezone.utc))
    client = secure_client()
    assert sign_in(client, a.dashboard_token(permissions=("MANAGE_ORDERS", "MANAGE_DISCOUNTS"))).status_code == 200
    html = client.get("/console/coupons/", secure=True).content.decode()
    form_token = re.search(r'name="csrf" value="([^"]+)"', html)
    assert form_token is not None, html
    made = client.post("/console/coupons/create", {
        "live": "night", "coupon_id": "night-50", "title": "50 off", "kind": "fixed", "value": "50",
        "currency": "CNY", "min_spent": "200", "csrf": form_token.group(1)}, secure=True)
    assert made.status_code == 200 and "night-50" in made.content.decode(), made.content
    assert [field for field, _variables in a.mutations] == [
        "voucherCreate", "updateMetadata", "voucherChannelListingUpdate"]
    assert b.mutations == []
    with use_schema(tenants.schema_for(a.api_url)):
        assert LiveCoupon.objects.get(id="night-50").voucher == gid("Voucher", 1)
    with use_schema(tenants.schema_for(b.api_url)):
        assert not LiveCoupon.objects.exists()


def test_share_links_and_featured_products_read_the_instances_own_catalogue(
        app_mode: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    from saleor_livedist import catalogue
    from saleor_livedist.app_server.store_api import GraphQLCatalogue
    from saleor_livedist.console.lives import catalogue as featured_choices
    from saleor_livedist.distribution.services import target_exists

    monkeypatch.setattr(catalogue, "_store_catalogue", GraphQLCatalogue)  # what App mode's ready() installs
    a, b = app_mode
    a.products, b.products = {gid("Product", 1): "tea"}, {gid("Product", 2): "silk"}
    with use_schema(tenants.schema_for(a.api_url)):
        assert target_exists("product", "tea") and not target_exists("product", "silk")
        assert featured_choices() == ["tea"]
    with use_schema(tenants.schema_for(b.api_url)):
        assert target_exists("product", "silk") and not target_exists("product", "tea")
        assert featured_choices() == ["silk"]
