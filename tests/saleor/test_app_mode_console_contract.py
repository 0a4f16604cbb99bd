"""App mode's console, in a real Saleor over real HTTP: Saleor (its live server) installs the app that
`livedist app serve` runs in another process, from its manifest URL, with the plugin's extensions; Saleor's
GraphQL gives a staff member with Manage orders the console extension's token (`appExtensions { accessToken }`,
as the Dashboard gets it); the app verifies it against that Saleor's JWKS, over HTTP, and its session cookie
opens the console's pages with the data of that Saleor's schema."""
from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from http.cookies import SimpleCookie
from typing import Any

import pytest

from .test_app_contract import extension_tokens
from .test_app_mode_e2e_contract import AppProcess, app_process, installed  # noqa: F401 - the fixture

DISTRIBUTOR = "user:90210"  # a Saleor user id (its pk)


def fetch(url: str, data: dict[str, str] | None = None, cookie: str | None = None) -> tuple[int, Any, str]:
    request = urllib.request.Request(url, data=urllib.parse.urlencode(data).encode() if data is not None else None,
                                     method="POST" if data is not None else "GET",
                                     headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.headers, answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers, refused.read().decode()


def log(app_process: AppProcess) -> str:
    app_process.log.seek(0)
    return "\nthe app's log:\n" + app_process.log.read().decode("utf-8", "replace")[-6000:]


@pytest.mark.django_db(transaction=True)
def test_a_staff_member_opens_app_modes_console_with_the_token_saleor_gives_the_extension(
        app_process: AppProcess, staff_user: Any, permission_manage_orders: Any,  # noqa: F811
        permission_manage_users: Any) -> None:
    app = installed(app_process, permission_manage_orders, permission_manage_users)
    assert sorted((e.mount, e.target) for e in app.extensions.all()) == [
        ("customer_details_more_actions", "popup"), ("navigation_orders", "app_page"),
        ("order_details_more_actions", "popup"), ("product_details_more_actions", "popup")]
    assert app.app_url == app_process.url + "console"
    app_process.python(f"""
        from django.utils import timezone
        from saleor_livedist.inbox.processing import process_pending, submit
        with tenants.in_tenant(tenant):
            submit({{"id": "console-distributor", "type": "distributor.joined", "at": timezone.now().isoformat(),
                     "customer": {DISTRIBUTOR!r}}}, process=False)
            process_pending()
        result = None
    """)
    staff_user.user_permissions.add(permission_manage_orders)
    token = extension_tokens(staff_user)["NAVIGATION_ORDERS"]["accessToken"]

    status, headers, body = fetch(app_process.url + "app/session", {"token": token})
    assert status == 200, body + log(app_process)
    cookie = SimpleCookie(headers["Set-Cookie"])["livedist_console"]
    assert cookie["path"] == "/console/"
    session = f"livedist_console={cookie.value}"

    status, _headers, page = fetch(app_process.url + "console/distributors/", cookie=session)
    assert status == 200, page + log(app_process)
    assert DISTRIBUTOR in page
    status, _headers, me = fetch(app_process.url + "console/whoami", cookie=session)
    assert status == 200 and staff_user.email in me and "MANAGE_ORDERS" in me

    assert fetch(app_process.url + "console/distributors/")[0] == 401  # no session: the sign-in page
    assert fetch(app_process.url + "console/distributors/", cookie=session[:-4] + "AAAA")[0] == 401
    assert fetch(app_process.url + "app/session", {"token": token[:-6] + "AAAAAA"})[0] == 401  # tampered


@pytest.mark.django_db(transaction=True)
def test_a_staff_member_without_manage_orders_gets_no_console(
        app_process: AppProcess, staff_user: Any, permission_manage_orders: Any,  # noqa: F811
        permission_manage_users: Any) -> None:
    from saleor.core.jwt import create_access_token_for_app_extension

    app = installed(app_process, permission_manage_orders, permission_manage_users)
    staff_user.user_permissions.add(permission_manage_users)
    # Saleor gives no token for an extension the staff member lacks a permission of ...
    assert extension_tokens(staff_user)["NAVIGATION_ORDERS"]["accessToken"] is None
    assert fetch(app_process.url + "app/session", {"token": ""})[0] == 401
    # ... and a token Saleor signs for this app and staff member that grants no MANAGE_ORDERS is refused: 403
    token = create_access_token_for_app_extension(app.extensions.get(mount="navigation_orders"),
                                                  [permission_manage_users], staff_user, app)
    status, _headers, body = fetch(app_process.url + "app/session", {"token": token})
    assert status == 403, body + log(app_process)
