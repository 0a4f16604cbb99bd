"""The distributor's center inside Saleor: served at the plugin's endpoint, signed in with Saleor's own access
token for the customer (the same check as the plugin's API), refused with a bad one or a refresh token, and its
templates found by Saleor."""
from __future__ import annotations

from typing import Any

from saleor_livedist.center.session import SESSION_COOKIE
from saleor_livedist.distribution.services import become_distributor
from saleor_livedist.identity import of_user

PLUGIN_URL = "/plugins/global/saleor_livedist"
CENTER = f"{PLUGIN_URL}/center/"


def test_the_center_signs_in_with_saleors_access_token(livedist: Any, client: Any, customer_user: Any) -> None:
    from saleor.core.jwt import create_access_token, create_refresh_token

    refused = client.get(CENTER + "links/")
    assert refused.status_code == 401 and "frame-ancestors 'self'" in refused["Content-Security-Policy"]
    for bad in ("not-a-jwt", create_refresh_token(customer_user)):
        answer = client.post(CENTER + "session", {"token": bad})
        assert answer.status_code == 401 and SESSION_COOKIE not in answer.cookies

    signed_in = client.post(CENTER + "session", {"token": create_access_token(customer_user),
                                                 "next": CENTER + "earnings/"})
    assert signed_in.status_code == 303 and signed_in["Location"] == CENTER + "earnings/"
    assert signed_in.cookies[SESSION_COOKIE]["path"] == CENTER
    assert client.get(CENTER + "links/").status_code == 403  # signed in, not a distributor yet: the join page

    become_distributor(of_user(customer_user), consent=True)
    page = client.get(CENTER + "links/")
    assert page.status_code == 200 and "My links" in page.content.decode()  # Saleor found our templates
    bearer = client.get(CENTER + "earnings/", HTTP_AUTHORIZATION=f"Bearer {create_access_token(customer_user)}")
    assert bearer.status_code == 200
