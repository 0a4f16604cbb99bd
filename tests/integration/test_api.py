"""The GraphQL API and the share-link endpoint in the sandbox, on real PostgreSQL: one-tap join, share links,
clicks that bind, `me` with masked people, and authorization (A can never read B's data)."""
from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.test import Client
from django.utils import timezone

from saleor_livedist.inbox import processing
from saleor_livedist.web.endpoints import sandbox_token
from saleor_livedist.identity import of_user
from saleor_livedist.distribution.links import SHARE_SALT, VISITOR_COOKIE, read_visitor
from saleor_livedist.models import Click, InboxEvent, ShareLink

pytestmark = pytest.mark.django_db(transaction=True)


def user(name: str, staff: bool = False) -> Any:
    return get_user_model().objects.create_user(username=name, email=f"{name}@example.com", password="x",
                                                is_staff=staff)


def gql(client: Client, query: str, who: Any = None, **variables: Any) -> dict[str, Any]:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {sandbox_token(who)}"} if who is not None else {}
    response = client.post("/graphql/", {"query": query, "variables": variables}, content_type="application/json",
                           **headers)
    assert response.status_code == 200, response.content
    return response.json()


JOIN = "mutation($c: Boolean!) { becomeDistributor(consent: $c) { distributor { id rank } errors { field code } } }"
SHARE = """mutation($k: String!, $t: String!) { createShareLink(kind: $k, target: $t) {
    shareLink { token url landingUrl kind target } errors { field code message } } }"""
ME = """{ me { rank upline { name } downline { name orders } customers { name orders }
    balances { currency pending approved } ledger { order amount ruleIds } points shareLinks { token } } }"""


def join(client: Client, who: Any) -> None:
    result = gql(client, JOIN, who, c=True)["data"]["becomeDistributor"]
    assert result["errors"] == [] and result["distributor"]["id"] == of_user(who)


def share(client: Client, who: Any, kind: str = "product", target: str = "p1") -> dict[str, Any]:
    result = gql(client, SHARE, who, k=kind, t=target)["data"]["createShareLink"]
    assert result["errors"] == [], result["errors"]
    return result["shareLink"]


def order(customer: Any, order_id: str, amount: str, visitor: str | None = None) -> None:
    at = timezone.now().isoformat()
    processing.submit({"id": f"c-{order_id}", "type": "order.created", "at": at, "order": order_id,
                       "customer": of_user(customer), "channel": "default", "currency": "USD",
                       "lines": [{"line": "1", "product": "p1", "amount": amount}],
                       **({"visitor": visitor} if visitor else {})})
    processing.submit({"id": f"p-{order_id}", "type": "order.paid", "at": at, "order": order_id})


def test_one_tap_join_needs_consent_and_happens_once() -> None:
    client, amy = Client(), user("amy")
    refused = gql(client, JOIN, amy, c=False)["data"]["becomeDistributor"]
    assert refused == {"distributor": None, "errors": [{"field": "consent", "code": "CONSENT_REQUIRED"}]}
    join(client, amy)
    again = gql(client, JOIN, amy, c=True)["data"]["becomeDistributor"]
    assert again["errors"] == [{"field": None, "code": "ALREADY_DISTRIBUTOR"}]
    anonymous = gql(client, JOIN, None, c=True)["data"]["becomeDistributor"]
    assert anonymous["errors"][0]["code"] == "UNAUTHENTICATED"


def a_live(live: str) -> None:
    """A live the engine knows (share links point only at lives that exist)."""
    processing.submit({"id": f"s-{live}", "type": "live.scheduled", "at": timezone.now().isoformat(), "live": live,
                       "starts_at": timezone.now().isoformat()})


def test_share_link_click_binds_the_visitor_and_the_order_pays_the_distributor() -> None:
    client, amy, ben = Client(), user("amy"), user("ben")
    join(client, amy)
    a_live("L1")
    link = share(client, amy, "live", "L1")
    assert link["url"] == f"http://testserver/click/{link['token']}"  # the link to share records the click
    assert link["landingUrl"].startswith("http://localhost:3000/live/L1?livedist_ref=")
    response = client.get(link["url"])
    assert response.status_code == 302 and response["Location"].startswith(link["landingUrl"] + "&livedist_visitor=")
    visitor = read_visitor(response.cookies[VISITOR_COOKIE].value)
    signed_in_url = parse_qs(urlsplit(response["Location"]).query)["livedist_visitor"][0]
    assert read_visitor(signed_in_url) == visitor  # a storefront on another domain gets it from the URL
    assert Click.objects.filter(identity=visitor, distributor=of_user(amy), kind="live", target="L1").exists()
    order(ben, "o1", "200.00", visitor=visitor)  # the visitor checks out as ben: stitched, bound, paid
    me = gql(client, ME, amy)["data"]["me"]
    assert me["balances"] == [{"currency": "USD", "pending": "10.00", "approved": "0.00"}]
    assert me["ledger"] == [{"order": "o1", "amount": "10.00", "ruleIds": ["direct"]}]
    assert me["customers"] == [{"name": "b***@example.com", "orders": 1}]  # masked
    assert ShareLink.objects.get(token=link["token"]).clicks == 1


def test_bad_links_are_refused_and_record_nothing() -> None:
    client, amy = Client(), user("amy")
    join(client, amy)
    token = share(client, amy)["token"]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    forged = signing.dumps({"d": of_user(amy), "k": "product", "t": "p1", "n": "0"}, salt=SHARE_SALT,
                           compress=True)  # signed correctly but never created here
    before = InboxEvent.objects.count()
    assert client.get(f"/click/{tampered}").status_code == 400
    assert client.get(f"/click/{forged}").json()["errors"][0]["code"] == "UNKNOWN"
    assert client.get("/click/not-a-token").status_code == 400
    assert InboxEvent.objects.count() == before and not Click.objects.exists()


def test_expired_links_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    client, amy = Client(), user("amy")
    join(client, amy)
    token = share(client, amy)["token"]
    now = time.time()
    monkeypatch.setattr(signing.time, "time", lambda: now + 366 * 86400)  # a year and a day later
    response = client.get(f"/click/{token}")
    assert response.status_code == 410 and "expired" in response.json()["errors"][0]["message"]


def test_only_distributors_create_links_and_only_known_kinds() -> None:
    client, amy, ben = Client(), user("amy"), user("ben")
    assert gql(client, SHARE, ben, k="product", t="p1")["data"]["createShareLink"]["errors"][0]["code"] == \
        "NOT_A_DISTRIBUTOR"
    join(client, amy)
    errors = gql(client, SHARE, amy, k="coupon", t="x")["data"]["createShareLink"]["errors"]
    assert errors[0]["field"] == "kind" and errors[0]["code"] == "INVALID"


def test_network_views_are_masked_and_uplines_follow_the_binding() -> None:
    client, amy, ben = Client(), user("amy"), user("ben")
    join(client, amy)
    token = share(client, amy)["token"]
    client.force_login(ben)  # ben clicks amy's link while signed in, then joins in one tap
    assert client.get(f"/click/{token}").status_code == 302
    client.logout()
    join(client, ben)
    assert gql(client, ME, ben)["data"]["me"]["upline"] == {"name": "a***@example.com"}
    assert gql(client, ME, amy)["data"]["me"]["downline"] == [{"name": "b***@example.com", "orders": 0}]


def test_a_distributor_cannot_read_anothers_data_through_any_field() -> None:
    client, amy, ben, boss = Client(), user("amy"), user("ben"), user("boss", staff=True)
    cat = user("cat")
    join(client, amy)
    join(client, ben)
    token = share(client, amy)["token"]
    processing.submit({"id": "k", "type": "link.clicked", "at": timezone.now().isoformat(),
                       "distributor": of_user(amy), "visitor": of_user(cat), "target": {"product": "p1"}})
    order(cat, "o1", "100.00")
    ben_view = gql(client, ME, ben)["data"]["me"]
    assert ben_view["ledger"] == [] and ben_view["customers"] == [] and ben_view["shareLinks"] == []
    assert ben_view["balances"] == []
    assert token not in str(ben_view)
    for staff_query in ('{ ledger(beneficiary: "%s") { amount } }' % of_user(amy),
                        "{ distributors { id } }", "{ ruleVersions { version } }"):
        denied = gql(client, staff_query, ben)
        assert denied["data"] is None or not any(denied["data"].values())
        assert denied["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    assert gql(client, "{ me { rank } }")["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    staff = gql(client, '{ ledger(beneficiary: "%s") { amount } }' % of_user(amy), boss)
    assert staff["data"]["ledger"] == [{"amount": "5.00"}]
    # no field of the API takes a distributor's id, except the staff-only ledger filter
    types = gql(client, "{ __schema { queryType { fields { name args { name } } } } }", ben)
    args = {f["name"]: [a["name"] for a in f["args"]] for f in types["data"]["__schema"]["queryType"]["fields"]}
    assert args["me"] == [] and "beneficiary" in args["ledger"]


def test_bad_requests_get_clear_errors() -> None:
    client = Client()
    assert client.get("/graphql/").status_code == 405
    assert client.post("/graphql/", "nope", content_type="application/json").status_code == 400
    assert client.post("/graphql/", {"query": 5}, content_type="application/json").status_code == 400
    assert Decimal("0") == 0
